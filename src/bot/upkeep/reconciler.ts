// The reconciler: on start and on a schedule, list every configured VM cloud's servers carrying
// the bot's tag and compare them with the live spawns. A server no live spawn owns is an orphan:
// the admins are told once, and in "delete" mode it is deleted once it has been an orphan for the
// grace period (first-seen times are kept in the store, so a restart does not reset them). A ready
// spawn whose server is gone is marked failed and its owner told. A cloud whose list call fails
// is skipped for this pass: an error never reads as "every server is gone".
import type { Cloud } from "../../orchestrator/index.js";
import { secrets } from "../../secrets.js";
import type { CoreContext } from "../context.js";
import { notifyOwner, redraw } from "./expiry.js";
import { formatDuration } from "../views/format.js";
import type { SpawnRecord } from "../store/index.js";
import { text, type View } from "../views/views.js";

const ACTOR = "reconciler";
/** Orphans are no one's spawn: their audit lines carry this platform. */
const BOT_PLATFORM = "bot";

export interface ReconcileSettings {
  /** "delete": orphans are deleted after the grace period; "report": the admins are only told. */
  mode: "delete" | "report";
  graceMs: number;
}

export interface CloudPass {
  cloud: string;
  /** Set when the cloud could not be listed and was skipped. */
  skipped?: string;
  servers: number;
  orphans: number;
  deleted: number;
  vanished: number;
}

export async function reconcile(ctx: CoreContext, settings: ReconcileSettings, now = Date.now()): Promise<CloudPass[]> {
  const passes: CloudPass[] = [];
  for (const cloud of ctx.orchestrator.clouds) {
    if (cloud.adopted) continue; // hosts the bot adopted are not its to list or delete
    passes.push(await reconcileCloud(ctx, cloud, settings, now));
  }
  return passes;
}

async function reconcileCloud(ctx: CoreContext, cloud: Cloud, settings: ReconcileSettings, now: number): Promise<CloudPass> {
  const pass: CloudPass = { cloud: cloud.key, servers: 0, orphans: 0, deleted: 0, vanished: 0 };
  let servers: Awaited<ReturnType<Cloud["listServers"]>>;
  try {
    servers = await cloud.listServers();
  } catch (err) {
    pass.skipped = (err as Error).message;
    ctx.log.warn({ cloud: cloud.key, reason: pass.skipped }, "could not list the cloud's servers; skipping it this pass");
    return pass;
  }
  pass.servers = servers.length;
  // Read after the list: a spawn's intent is recorded before its server is made, so every listed
  // server of a spawn being made already has its live record here.
  const live = (await ctx.store.listLive()).filter((r) => r.cloud === cloud.key);
  const byServer = new Map(live.filter((r) => r.serverId).map((r) => [r.serverId!, r]));
  const beingMade = new Set(live.filter((r) => !r.serverId).map((r) => r.id));
  const upkeep = ctx.store.upkeep;
  const seen = new Set<string>();
  for (const server of servers) {
    seen.add(server.serverId);
    if (byServer.has(server.serverId) || (server.spawnId && beingMade.has(server.spawnId))) continue;
    pass.orphans++;
    const orphan = await upkeep.seeOrphan(cloud.key, server.serverId, server.spawnId ?? null, now);
    const deleteAt = orphan.firstSeen + settings.graceMs;
    if (orphan.reportedAt === null) {
      await tellAdmins(ctx, orphanReport(cloud, server, settings, deleteAt - now));
      await upkeep.markOrphanReported(cloud.key, server.serverId, now);
    }
    if (settings.mode !== "delete" || now < deleteAt) continue;
    const detail = { cloud: cloud.key, serverId: server.serverId, firstSeen: orphan.firstSeen };
    const audit = (action: string, extra: Record<string, unknown> = {}) =>
      ctx.store.audit({ platform: BOT_PLATFORM, userId: ACTOR, action, spawnId: server.spawnId ?? null, detail: { ...detail, ...extra } }, now);
    try {
      await cloud.deleteServer(server.serverId); // an already-gone server counts as deleted
      await upkeep.forgetOrphan(cloud.key, server.serverId);
      await audit("orphan-deleted");
      pass.deleted++;
    } catch (err) {
      await audit("orphan-delete-failed", { reason: secrets.redact((err as Error).message) });
      ctx.log.warn({ cloud: cloud.key, serverId: server.serverId, reason: (err as Error).message }, "could not delete an orphan server; trying again next pass");
    }
  }
  for (const o of await upkeep.listOrphans(cloud.key)) if (!seen.has(o.serverId)) await upkeep.forgetOrphan(cloud.key, o.serverId);
  for (const rec of live) {
    if (rec.status !== "ready" || !rec.serverId || seen.has(rec.serverId)) continue;
    if (await vanished(ctx, cloud, rec)) {
      await markVanished(ctx, cloud, rec, now);
      pass.vanished++;
    }
  }
  return pass;
}

/** The list lacks the server: ask for it by id before believing it is gone (a list can lag). */
async function vanished(ctx: CoreContext, cloud: Cloud, rec: SpawnRecord): Promise<boolean> {
  try {
    return (await cloud.getServer(rec.serverId!)) === undefined;
  } catch (err) {
    ctx.log.warn({ cloud: cloud.key, spawnId: rec.id, reason: (err as Error).message }, "could not look up a spawn's server; checking again next pass");
    return false;
  }
}

async function markVanished(ctx: CoreContext, cloud: Cloud, rec: SpawnRecord, now: number): Promise<void> {
  const reason = `its server vanished from ${cloud.title} (deleted outside the bot?)`;
  const marked = await ctx.store.updateSpawn(rec.id, { status: "failed", error: reason });
  await ctx.store.audit({ platform: rec.platform, workspace: rec.workspace, channel: rec.channel, userId: ACTOR, action: "server-vanished", spawnId: rec.id, detail: { name: rec.name, cloud: cloud.key, serverId: rec.serverId } }, now);
  await redraw(ctx, marked);
  await notifyOwner(ctx, rec, text(`${rec.name} is no longer usable: ${reason}. Start a new one with \`spawn ${rec.agent} ${rec.cloud}\`.`));
}

function orphanReport(cloud: Cloud, server: { serverId: string; address: string; spawnId?: string }, settings: ReconcileSettings, untilDelete: number): View {
  const what = `${cloud.title} server ${server.serverId}${server.address ? ` (${server.address})` : ""} carries spawnbot's tag${server.spawnId ? ` for spawn ${server.spawnId}` : ""}, but no live spawn owns it.`;
  const next = settings.mode === "delete"
    ? `It will be deleted ${untilDelete > 0 ? `in ${formatDuration(untilDelete)}` : "now"} unless a live spawn turns out to own it.`
    : "It is left alone (SPAWNBOT_RECONCILE_MODE=report): delete it in the cloud's console if nobody needs it.";
  return text([what, next], "Orphan server");
}

/** A private message to every admin through every attached outlet. */
async function tellAdmins(ctx: CoreContext, view: View): Promise<void> {
  for (const outlet of ctx.outlets.values()) {
    for (const admin of ctx.settings.admins) {
      try {
        await outlet.notify(admin, view);
      } catch (err) {
        ctx.log.warn({ err, platform: outlet.platform }, "could not tell an admin about an orphan server");
      }
    }
  }
}
