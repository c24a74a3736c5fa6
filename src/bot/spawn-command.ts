// `spawn`: resolve the request into a plan (model: flag > saved preference > agent default),
// show it for --dry-run, or record the intent, start the run and follow it in a status view.
import { randomBytes, randomUUID } from "node:crypto";
import type { AgentSpec, RunResult } from "../orchestrator/index.js";
import type { SpawnCommand } from "./commands.js";
import type { CoreContext, Invocation } from "./context.js";
import { auditAction } from "./audit-trail.js";
import { formatDuration } from "./format.js";
import { decideSpawn, refuse } from "./policy.js";
import { buildStatusView } from "./status-view.js";
import { mintGatewayUrl } from "./tunnel-links.js";
import { agentKeyFor, apiKeyFor } from "./user-settings.js";
import { adoptionKey, hostPinsFor } from "./host-access.js";
import { StoreConflictError, type SpawnRecord } from "./store/index.js";
import { error, text, type ConnectView, type PlanView } from "./views.js";

const REDRAW_EVERY_MS = 100;

/** Status edits are cheap for the core; adapters coalesce them per message for the platform. */
export async function handleSpawn(ctx: CoreContext, inv: Invocation, cmd: SpawnCommand): Promise<void> {
  const agent = ctx.orchestrator.agent(cmd.agent);
  const cloud = ctx.orchestrator.cloud(cmd.cloud);
  if (!agent) return inv.conv.whisper(error(`the ${cmd.agent} agent is not available on this bot; see \`agents\``));
  if (!cloud) {
    const have = ctx.orchestrator.clouds.map((c) => c.key).join(", ");
    return inv.conv.whisper(error(`the ${cmd.cloud} cloud is not set up on this bot (an admin can ${ctx.cloudSetup[cmd.cloud] ?? "configure it"}); available clouds: ${have}`));
  }
  // Dry runs are held to the same policy: a plan that would be refused says so now.
  const refusal = decideSpawn(ctx, inv, agent.key, cloud.key);
  if (refusal) return refuse(ctx, inv, refusal, { action: cmd.dryRun ? "spawn-dry-run" : "spawn", detail: { agent: agent.key, cloud: cloud.key } });
  const { model, source } = resolveModel(ctx, inv, cmd, agent);
  const name = cmd.name ?? `${agent.key}-${randomBytes(2).toString("hex")}`;
  const ttlMs = cmd.ttlMs ?? ctx.settings.defaultTtlMs;

  if (cmd.dryRun) {
    const plan: PlanView = {
      kind: "plan", agent: agent.name, cloud: cloud.title, model, modelSource: source, name,
      size: cmd.size ?? "cloud default", zone: cmd.zone ?? "cloud default", steps: cmd.steps ?? [],
      prompt: cmd.prompt !== undefined, ttl: formatDuration(ttlMs),
    };
    return inv.conv.whisper(plan);
  }

  // An agent with its own vendor key (Cursor) never gets an OpenRouter key: only the user's own one for that vendor.
  const { ownKey } = agent;
  const apiKey = ownKey ? undefined : apiKeyFor(ctx, inv.user);
  if (!ownKey && !apiKey) return inv.conv.whisper(error("no OpenRouter API key: add yours with `settings` (a private form), or ask an admin to set OPENROUTER_API_KEY for the bot"));
  const agentKey = ownKey ? agentKeyFor(ctx, inv.user, ownKey.secret) : undefined;

  // An existing host is reached with the requester's own key, or the bot's for a host an admin shared here.
  const adoption = cmd.host ? adoptionKey(ctx, inv, cmd.host) : undefined;
  let rec: SpawnRecord;
  const now = Date.now();
  // No await since decideSpawn above: its counts still hold when the intent is recorded.
  try {
    rec = ctx.store.recordIntent({
      id: randomUUID(), name, platform: inv.req.platform, workspace: inv.req.workspace, channel: inv.req.channel,
      ownerId: inv.user.userId, ownerName: inv.req.user.name, agent: agent.key, cloud: cloud.key, model,
      size: cmd.size ?? null, zone: cmd.zone ?? null, session: name, prompt: cmd.prompt ?? null,
      createdAt: now, expiresAt: now + ttlMs, sshIdentity: adoption?.sshIdentity,
    });
  } catch (err) {
    if (err instanceof StoreConflictError) return inv.conv.whisper(error(`you already have a live spawn named ${name}; pick another --name or delete it first`));
    throw err;
  }
  auditAction(ctx, inv, "spawn", { spawnId: rec.id, detail: { agent: agent.key, cloud: cloud.key, model, name } });

  const ownerKeys = ctx.store.listUserKeys(inv.user).map((k) => k.publicKey);
  if (ownerKeys.length === 0 && cloud.access === "ssh") {
    await inv.conv.whisper(text(`you have no SSH key on file, so you cannot log in to ${name} yet: add yours with \`keys add <contents of ~/.ssh/id_ed25519.pub>\` and it is installed on ${name} too`));
  }
  if (ownKey && !agentKey) {
    await inv.conv.whisper(text(`${agent.name} never gets the OpenRouter key and you have no ${ownKey.label} saved, so ${name} starts without one: save yours in \`settings\`, or log in from its session`));
  }
  const run = ctx.orchestrator.start({
    spawnId: rec.id, name, session: name, agent, cloud, model, size: cmd.size, zone: cmd.zone, host: cmd.host,
    steps: cmd.steps ?? [], prompt: cmd.prompt, apiKey, agentKey,
    ownerKeys,
    tags: { "spawnbot-spawn-id": rec.id, "spawnbot-owner": inv.user.userId },
    sshAuth: adoption?.sshAuth, hostPins: adoption ? hostPinsFor(ctx, inv.user) : undefined,
  });
  const names = { agent: agent.name, cloud: cloud.title };
  const redraw = () => inv.conv.status(buildStatusView(ctx.store.getSpawn(rec.id)!, ctx.store.listSteps(rec.id), names));
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
      // The final state is drawn at once (a status message still waiting to be posted goes out
      // with it) and is the newest view every pending edit renders: always delivered, last.
      const final = redraw();
      await Promise.all(updates);
      await final;
      await deliverResult(ctx, inv, rec, result);
      return result;
    }),
  );
  await first;
}

function resolveModel(ctx: CoreContext, inv: Invocation, cmd: SpawnCommand, agent: AgentSpec): { model: string; source: PlanView["modelSource"] } {
  if (cmd.model) return { model: cmd.model, source: "flag" };
  const saved = ctx.store.getModelPreference(inv.user, agent.key);
  if (saved) return { model: saved, source: "preference" };
  return { model: agent.defaultModel, source: "default" };
}

async function deliverResult(ctx: CoreContext, inv: Invocation, rec: SpawnRecord, result: RunResult): Promise<void> {
  if (result.outcome !== "ready" || !result.connect) return;
  const c = result.connect;
  const view: ConnectView = {
    kind: "connect", spawnId: rec.id, name: rec.name, attachCommand: c.attachCommand, knownHostsLine: c.knownHostsLine,
    hostKeyFingerprint: c.hostKeyFingerprint, tunnelCommand: c.dashboard?.tunnelCommand, dashboardUrl: c.dashboard?.localUrl,
    gatewayUrl: mintGatewayUrl(ctx, ctx.store.getSpawn(rec.id) ?? rec), promptOutput: result.prompt,
  };
  await inv.conv.whisper(view);
}
