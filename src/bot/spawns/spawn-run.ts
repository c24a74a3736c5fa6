// A spawn's run as the bot core starts and follows it: the plan is built from the stored record
// (so a restarted bot builds the same plan to continue it), and the status view follows the run
// wherever its status message lives — the request's conversation, or the platform's outlet.
import type { ResumePoint, Run, RunResult } from "../../orchestrator/index.js";
import type { CoreContext } from "../context.js";
import { hostAuthOf, hostPinsFor } from "../access/host-access.js";
import { revokeSpawnKey } from "./spawn-api-keys.js";
import { neighboursOnHost } from "../access/spawn-access.js";
import { oweLeftovers, statusViewOf } from "./spawn-removal.js";
import type { SpawnRecord } from "../store/index.js";
import { mintGatewayUrl } from "./tunnel-links.js";
import { agentKeyFor } from "../commands/user-settings.js";
import { repoPlanFor } from "./repos.js";
import type { ConnectView, StatusView, View } from "../views/views.js";

/** Status edits are cheap for the core; adapters coalesce them per message for the platform. */
const REDRAW_EVERY_MS = 100;

/** Start (or, with resume, continue) the run of a recorded spawn. Throws if its agent or cloud is gone from this bot. */
export async function startSpawnRun(ctx: CoreContext, rec: SpawnRecord, apiKey: string | undefined, resume?: ResumePoint): Promise<Run> {
  const agent = ctx.orchestrator.agent(rec.agent);
  const cloud = ctx.orchestrator.cloud(rec.cloud);
  if (!agent || !cloud) throw new Error(`the ${agent ? `${rec.cloud} cloud` : `${rec.agent} agent`} is not configured on this bot`);
  const owner = { platform: rec.platform, userId: rec.ownerId };
  return ctx.orchestrator.start({
    spawnId: rec.id, name: rec.name, session: rec.session, agent, cloud, model: rec.model ?? agent.defaultModel,
    size: rec.size ?? undefined, zone: rec.zone ?? undefined, host: rec.options?.host,
    steps: rec.options?.steps ?? [], prompt: rec.prompt ?? undefined,
    // An agent with its own vendor key (Cursor) gets no OpenRouter key, only the owner's own key for that vendor.
    apiKey: agent.ownKey ? undefined : apiKey, agentKey: agent.ownKey ? await agentKeyFor(ctx, owner, agent.ownKey.secret) : undefined,
    repo: await repoPlanFor(ctx, rec),
    ownerKeys: (await ctx.store.listUserKeys(owner)).map((k) => k.publicKey),
    tags: { "spawnbot-spawn-id": rec.id, "spawnbot-owner": rec.ownerId },
    sshAuth: await hostAuthOf(ctx, rec), hostPins: rec.cloud === "ssh" ? hostPinsFor(ctx, owner) : undefined,
    resume,
    agentsSharingHost: async () => (await neighboursOnHost(ctx.store, (await ctx.store.getSpawn(rec.id)) ?? rec)).map((n) => ctx.orchestrator.agent(n.agent) ?? { configFiles: [] }),
  });
}

/** Where a followed run's views go: its status message, and the owner privately. */
export interface RunAudience {
  status(view: StatusView): Promise<void>;
  whisper(view: View): Promise<void>;
}

/**
 * Keep the status message in step with the run, and give the owner the connect details when it is
 * ready. Resolves once the first status view went out; the rest is tracked as background work.
 */
export async function followRun(ctx: CoreContext, rec: SpawnRecord, run: Run, to: RunAudience): Promise<void> {
  const redraw = async () => to.status(await statusViewOf(ctx, (await ctx.store.getSpawn(rec.id))!));
  // The first status message may wait in a busy channel: follow the run meanwhile, so the post
  // carries the newest state when it goes out (the final one, if the run ended by then).
  const first = redraw();
  const updates: Promise<void>[] = [first.catch(() => undefined)];
  // Step events come in bursts (one step ends, the next starts); a view is drawn at most every
  // REDRAW_EVERY_MS per spawn, from the stored state then, so hundreds of runs do not rebuild
  // views for every event.
  let scheduled: NodeJS.Timeout | undefined;
  run.events.on("step", () => {
    scheduled ??= setTimeout(() => {
      scheduled = undefined;
      updates.push(redraw().catch((err) => ctx.log.warn({ err, spawnId: rec.id }, "status update failed")));
    }, REDRAW_EVERY_MS);
  });
  ctx.track(
    run.done.then(async (result) => {
      clearTimeout(scheduled); // the final view below shows everything
      // A run that failed or was cancelled needs no model access: its key goes at once.
      if (result.outcome === "failed" || result.outcome === "cancelled") {
        await revokeSpawnKey(ctx, rec.id);
        // Its clean-up could not remove what it made (the run left it "deleting"): owed, retried by upkeep.
        const ended = await ctx.store.getSpawn(rec.id);
        if (ended?.status === "deleting") await oweLeftovers(ctx, rec.id, ended.error ?? result.error ?? "its clean-up failed");
      }
      // The final state is drawn at once (a status message still waiting to be posted goes out
      // with it) and is the newest view every pending edit renders: always delivered, last.
      const final = redraw();
      await Promise.all(updates);
      await final;
      await deliverResult(ctx, rec, result, to);
      return result;
    }),
  );
  await first;
}

async function deliverResult(ctx: CoreContext, rec: SpawnRecord, result: RunResult, to: RunAudience): Promise<void> {
  if (result.outcome !== "ready" || !result.connect) return;
  const c = result.connect;
  const view: ConnectView = {
    kind: "connect", spawnId: rec.id, name: rec.name, attachCommand: c.attachCommand, knownHostsLine: c.knownHostsLine,
    hostKeyFingerprint: c.hostKeyFingerprint, tunnelCommand: c.dashboard?.tunnelCommand, dashboardUrl: c.dashboard?.localUrl,
    gatewayUrl: await mintGatewayUrl(ctx, (await ctx.store.getSpawn(rec.id)) ?? rec, { platform: rec.platform, userId: rec.ownerId }), promptOutput: result.prompt,
  };
  await to.whisper(view);
}
