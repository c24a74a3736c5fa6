// Start-up recovery: every run a killed or stopped bot left in flight is continued from its last
// completed step (see resumeRun); one that cannot be continued is ended cleanly (what its run made
// is removed, its checklist made true, its status message redrawn, its owner told), and deletes
// left half-done are finished. A cloud that cannot be reached leaves the spawn visibly "cleanup
// pending" and is retried later; nothing is called clean unless it was removed.
import { CLEANUP_PENDING, RECOVERY_META, STEPS, readDashboardToken, type Run } from "../../orchestrator/index.js";
import type { CoreContext } from "../context.js";
import type { ChatOutlet } from "../outlet.js";
import { revokeSpawnKey, revokeUnrecordedKeys } from "../spawns/spawn-api-keys.js";
import { hostRecord, neighboursOnHost } from "../access/spawn-access.js";
import { cancelRequested, holdDeleteLease, oweLeftovers, statusViewOf } from "../spawns/spawn-removal.js";
import { buildStatusView } from "../views/status-view.js";
import { revokeTunnels } from "../spawns/tunnel-links.js";
import type { SpawnRecord } from "../store/index.js";
import { error, removalKindOf, text, type View } from "../views/views.js";
import { followRun, startSpawnRun } from "../spawns/spawn-run.js";
import { holdRunClaim } from "./run-claim.js";

import { resumedSpawnKey } from "../spawns/spawn-api-keys.js";

/** The detail of the step a restart cut short, as its checklist shows it. */
export const INTERRUPTED_DETAIL = "interrupted: the bot restarted";
// Recovery meta (RECOVERY_META) is written before anything is removed, by this module or by a run
// whose clean-up failed, so a crash during recovery is finished by the next pass.
const META_REASON = RECOVERY_META.reason;
const META_SESSION = RECOVERY_META.session;

const STEP_TITLES = new Map(STEPS.map((s) => [s.name, s.title]));

export interface RecoveryReport {
  /** Runs in flight at the crash, continued from their last completed step. */
  resumed: string[];
  /** Runs in flight at the crash that could not be continued, now failed with nothing left behind. */
  ended: string[];
  /** Deletes left half-done, now finished. */
  deleted: string[];
  /** Spawns whose cloud or host could not be reached: retried later. */
  pending: string[];
}

/**
 * Messages for platforms whose adapter has not attached its outlet yet (recovery runs before the
 * adapter takes commands): they are delivered when it attaches.
 */
export class Announcer {
  private readonly queued = new Map<string, ((outlet: ChatOutlet) => Promise<void>)[]>();

  constructor(private readonly ctx: Pick<CoreContext, "outlets" | "log">) {}

  send(platform: string, deliver: (outlet: ChatOutlet) => Promise<void>): Promise<void> {
    const outlet = this.ctx.outlets.get(platform);
    if (!outlet) {
      this.queued.set(platform, [...(this.queued.get(platform) ?? []), deliver]);
      return Promise.resolve();
    }
    return deliver(outlet).catch((err) => this.ctx.log.warn({ err, platform }, "could not deliver a recovery message"));
  }

  /** Deliver what waited for this platform's outlet, in order. */
  async flush(platform: string): Promise<void> {
    const waiting = this.queued.get(platform) ?? [];
    this.queued.delete(platform);
    for (const deliver of waiting) await this.send(platform, deliver);
  }
}

/**
 * At start-up (startUp: true) every pending, provisioning or deleting spawn without a run in this
 * process is handled; later passes retry only the leftovers owed (the cleanups_owed record).
 */
export async function recoverSpawns(ctx: CoreContext, announcer: Announcer, opts: { startUp: boolean }): Promise<RecoveryReport> {
  const report: RecoveryReport = { resumed: [], ended: [], deleted: [], pending: [] };
  const running = new Set(ctx.orchestrator.inFlight().map((r) => r.spawnId));
  const live = await ctx.store.listLive();
  const now = Date.now();
  const owed = new Set((await ctx.store.upkeep.listCleanups("leftovers")).filter((c) => c.nextAt <= now).map((c) => c.spawnId));
  // Dashboard tokens an older version kept in clear are sealed on first read: read them all now.
  if (opts.startUp) for (const rec of live) ctx.orchestrator.dashboardToken(await hostRecord(ctx, rec));
  if (opts.startUp) await revokeUnrecordedKeys(ctx, live.filter((r) => !running.has(r.id)));
  for (const found of live) {
    if (running.has(found.id) || found.status === "ready") continue;
    if (!opts.startUp && !(found.status === "deleting" && owed.has(found.id))) continue;
    let rec = found;
    if (rec.status === "pending" || rec.status === "provisioning") {
      const why = await resumeRun(ctx, announcer, rec);
      if (why === undefined) {
        report.resumed.push(rec.id);
        continue;
      }
      rec = await endInterruptedRun(ctx, rec, why);
    }
    const outcome = await removeWhatItMade(ctx, announcer, rec);
    report[outcome].push(rec.id);
  }
  if (report.resumed.length + report.ended.length + report.deleted.length + report.pending.length > 0) ctx.log.info({ ...report }, "recovery pass done");
  return report;
}

/**
 * Continue an interrupted run from its last completed step, with the same server, name and status
 * message; its status message follows it through the platform's outlet. Returns why it cannot be
 * continued, or undefined once it goes on.
 */
async function resumeRun(ctx: CoreContext, announcer: Announcer, rec: SpawnRecord): Promise<string | undefined> {
  const run = await continueRun(ctx, announcer, rec);
  return typeof run === "string" ? run : undefined;
}

/**
 * Start or continue a recorded spawn's run from its last completed step (none, for a run a replica
 * took from the queue), its status message followed through the platform's outlet. Returns why it
 * cannot be continued, or the run once it goes on.
 */
export async function continueRun(ctx: CoreContext, announcer: Announcer, rec: SpawnRecord): Promise<Run | string> {
  if (rec.options === null) return "it was started by an older version of spawnbot, which cannot continue it";
  const agent = ctx.orchestrator.agent(rec.agent);
  if (!agent || !ctx.orchestrator.cloud(rec.cloud)) return `the ${rec.agent} agent or the ${rec.cloud} cloud is no longer configured on this bot`;
  const apiKey = await resumedSpawnKey(ctx, rec);
  // An agent with its own vendor key (Cursor) never gets an OpenRouter key.
  if (!apiKey && !agent.ownKey) return "no OpenRouter key to give it is left (the owner's key was removed, or the bot's key settings changed)";
  const steps = await ctx.store.listSteps(rec.id);
  const ended = steps.filter((s) => s.state === "succeeded" || s.state === "warned" || s.state === "skipped").map((s) => s.name);
  const server = ended.includes("provision") && rec.serverId && rec.address && rec.sshUser && rec.sshPort
    ? { serverId: rec.serverId, address: rec.address, sshUser: rec.sshUser, sshPort: rec.sshPort }
    : undefined;
  if (ended.includes("provision") && !server) return "its server was not recorded";
  const run = await startSpawnRun(ctx, rec, apiKey, {
    ended, interrupted: steps.filter((s) => s.state === "running").map((s) => s.name), server, hostKey: rec.hostKey ?? undefined,
    sessionMayExist: steps.some((s) => s.name === "launch" && s.state !== "pending" && s.state !== "skipped"),
    dashboardToken: readDashboardToken(ctx.secretBox, rec.id, rec.meta)?.token,
  });
  if (steps.some((s) => s.state !== "pending")) {
    ctx.log.info({ spawnId: rec.id, ended }, "resuming a run the bot restart interrupted");
    await ctx.store.audit({ platform: rec.platform, workspace: rec.workspace, channel: rec.channel, userId: "spawnbot", action: "resume", spawnId: rec.id, detail: { name: rec.name, ended } });
  }
  const place = { workspace: rec.workspace, channel: rec.channel };
  await followRun(ctx, rec, run, {
    status: (view) => announcer.send(rec.platform, (outlet) => outlet.status(place, view)),
    whisper: (view) => announcer.send(rec.platform, (outlet) => outlet.notify(rec.ownerId, view, place)),
  });
  return run;
}

/**
 * A run this replica took from the replicas' job queue: start it, or continue it from its journal
 * when another replica left it; end it cleanly when it was cancelled before it got here or has been
 * interrupted too often. Resolves with how the run ended here: "interrupted" when this replica
 * stopped it (shutdown, or its claim was taken away), so that another replica continues it.
 */
export async function takeQueuedRun(ctx: CoreContext, announcer: Announcer, spawnId: string, opts: QueuedRunOptions): Promise<string> {
  const claim = await holdRunClaim(ctx, spawnId, { ttlMs: opts.claimTtlMs, signal: opts.signal, stopping: () => opts.stopping() });
  if (!claim) return "interrupted";
  try {
    // Its lease found taken over ends the run here like its job claim gone.
    return await takeHeldRun(ctx, announcer, spawnId, { ...opts, signal: AbortSignal.any([opts.signal, claim.lost]) });
  } finally {
    await claim.release();
  }
}

async function takeHeldRun(ctx: CoreContext, announcer: Announcer, spawnId: string, opts: QueuedRunOptions): Promise<string> {
  const rec = await ctx.store.getSpawn(spawnId);
  if (!rec) return "ended";
  if (rec.status !== "pending" && rec.status !== "provisioning") {
    // It ended on an earlier attempt whose replica stopped before its final state reached the chat.
    await showFinalStatus(ctx, rec.id, opts);
    return "ended";
  }
  const cancelled = await cancelRequested(ctx, spawnId);
  const run = cancelled ? "it was cancelled before a replica took it"
    : opts.lastAttempt ? "it was interrupted too many times"
    : await continueRun(ctx, announcer, rec);
  if (typeof run === "string") {
    const reason = cancelled ? `${rec.name} was cancelled by request; what it had made was removed` : undefined;
    await removeWhatItMade(ctx, announcer, await endInterruptedRun(ctx, rec, run, reason));
    return "failed";
  }
  // The claim went away: a cancel asked on another replica, or this replica stalled past its
  // heartbeat and the run is another's now. Either way it must stop here.
  const stop = () => void cancelRequested(ctx, spawnId).then((c) => (c ? run.cancel() : run.suspend()), () => run.suspend());
  opts.signal.addEventListener("abort", stop, { once: true });
  if (opts.signal.aborted) stop(); // gone while the run was being set up
  let outcome: string;
  try {
    outcome = (await run.done).outcome;
  } finally {
    opts.signal.removeEventListener("abort", stop);
  }
  if (outcome !== "interrupted") await showFinalStatus(ctx, spawnId, opts);
  return outcome;
}

export interface QueuedRunOptions {
  lastAttempt: boolean;
  /** The run's lease in the store lasts this long past its last renewal (see run-claim.ts). */
  claimTtlMs: number;
  /** Aborted when this replica's claim on the run is gone. */
  signal: AbortSignal;
  /** This replica is shutting down: what it could not finish goes back to the queue. */
  stopping(): boolean;
}

/**
 * The run's final state in its status message, waited for: a replica that is shutting down may no
 * longer be able to post it (its outbox is closed), and then the job goes back to the queue so
 * another replica shows it. Otherwise a failure is only logged: the chat platform is unwell, and
 * the spawn itself is done.
 */
async function showFinalStatus(ctx: CoreContext, spawnId: string, opts: QueuedRunOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const rec = await ctx.store.getSpawn(spawnId);
    const outlet = rec && ctx.outlets.get(rec.platform);
    if (!rec || !outlet) return;
    try {
      return await outlet.status({ workspace: rec.workspace, channel: rec.channel }, await statusViewOf(ctx, rec));
    } catch (err) {
      if (opts.stopping() || opts.signal.aborted) throw new Error(`the final state of ${rec.name} could not be shown before this replica stopped (${(err as Error).message})`);
      if (attempt >= FINAL_STATUS_TRIES) return ctx.log.warn({ err, spawnId }, "could not show a run's final state");
      await new Promise((r) => setTimeout(r, FINAL_STATUS_RETRY_MS * attempt));
    }
  }
}

/** A final state the platform refused (rate limits outlasting the outbox's retries, a timeout) is tried again this often, this much later each time. */
const FINAL_STATUS_TRIES = 4;
const FINAL_STATUS_RETRY_MS = 5_000;

/**
 * Replicas: a delete whose replica stopped mid-way (its spawn left "deleting", its lease expired)
 * is finished by whichever replica's pass finds it; the delete's lease keeps two from doing it.
 */
export async function finishAbandonedDeletes(ctx: CoreContext, announcer: Announcer): Promise<string[]> {
  const finished: string[] = [];
  const owed = new Set((await ctx.store.upkeep.listCleanups()).map((c) => c.spawnId));
  for (const rec of await ctx.store.listLive()) {
    if (rec.status !== "deleting" || owed.has(rec.id)) continue;
    const lease = await holdDeleteLease(ctx, rec.id);
    if (!lease) continue;
    try {
      const current = await ctx.store.getSpawn(rec.id);
      if (current?.status !== "deleting") continue;
      await removeWhatItMade(ctx, announcer, current);
      finished.push(rec.id);
    } finally {
      await lease.release();
    }
  }
  return finished;
}

/** Make the checklist true and record why the spawn will fail, before anything is removed. */
async function endInterruptedRun(ctx: CoreContext, rec: SpawnRecord, why: string, reasonText?: string): Promise<SpawnRecord> {
  const steps = await ctx.store.listSteps(rec.id);
  const cut = steps.find((s) => s.state === "running");
  // Steps overlap, so "the last one done" is the one that ended last, not the last in the list.
  const lastDone = steps.filter((s) => s.state === "succeeded" || s.state === "warned")
    .reduce<(typeof steps)[number] | undefined>((last, s) => (!last || (s.endedAt ?? 0) >= (last.endedAt ?? 0) ? s : last), undefined);
  const launchBegan = steps.some((s) => s.name === "launch" && s.state !== "pending" && s.state !== "skipped");
  const at = Date.now();
  for (const s of steps) {
    if (s.state === "running") await ctx.store.markStep(rec.id, s.seq, s.name, "failed", INTERRUPTED_DETAIL, at);
    if (s.state === "pending") await ctx.store.markStep(rec.id, s.seq, s.name, "skipped", null, at);
  }
  const title = (name: string) => STEP_TITLES.get(name) ?? name;
  const when = cut ? `during "${title(cut.name)}"` : lastDone ? `after "${title(lastDone.name)}"` : "before its run began";
  const reason = reasonText ?? `the bot restarted ${when} and could not continue it (${why}); what it had made was removed, so spawn ${rec.name} again`;
  ctx.log.info({ spawnId: rec.id, step: cut?.name }, "ending a run the bot restart interrupted");
  return ctx.store.updateSpawn(rec.id, { status: "deleting", meta: { ...rec.meta, [META_REASON]: reason, [META_SESSION]: launchBegan ? "1" : "0" } });
}

async function removeWhatItMade(ctx: CoreContext, announcer: Announcer, rec: SpawnRecord): Promise<keyof RecoveryReport> {
  const reason = rec.meta[META_REASON];
  // A user's delete (no reason recorded) was of a ready spawn: its session exists.
  const sessionMayExist = reason === undefined || rec.meta[META_SESSION] !== "0";
  const audit = (action: string, detail: Record<string, unknown>) =>
    ctx.store.audit({ platform: rec.platform, workspace: rec.workspace, channel: rec.channel, userId: "spawnbot", action, spawnId: rec.id, detail: { name: rec.name, ...detail } });
  // The spawn is ending whatever its server does: its own OpenRouter key goes first (retried if it fails).
  await revokeSpawnKey(ctx, rec.id);
  try {
    await revokeTunnels(ctx, rec.id);
    const { removed } = await ctx.orchestrator.recoverServer({ ...(await hostRecord(ctx, rec)), spawnId: rec.id, sessionMayExist }, await neighboursOnHost(ctx.store, rec));
    await audit("recover", { removed });
    await ctx.store.upkeep.settleCleanup(rec.id);
  } catch (err) {
    const message = (err as Error).message;
    const wasPending = await oweLeftovers(ctx, rec.id, message);
    const updated = await ctx.store.updateSpawn(rec.id, {
      error: `${CLEANUP_PENDING}: could not remove what ${rec.name} made on ${rec.cloud} (${message}); the bot keeps retrying, or delete it there by hand`,
    });
    ctx.log.warn({ spawnId: rec.id, err }, "recovery could not remove what a spawn made; retrying later");
    if (!wasPending) {
      await audit("recover-failed", { reason: message });
      await announce(ctx, announcer, updated, error(`${rec.name}: ${updated.error}`));
    }
    return "pending";
  }
  const now = Date.now();
  const done = reason !== undefined
    ? await ctx.store.updateSpawn(rec.id, { status: "failed", error: reason, deletedAt: now })
    : await ctx.store.updateSpawn(rec.id, { status: "deleted", error: null, deletedAt: now });
  await announce(ctx, announcer, done, reason !== undefined
    ? error(`${rec.name} failed: ${reason}`)
    : text(`${rec.name} was deleted (the delete was finished after the bot restarted)`));
  return reason !== undefined ? "ended" : "deleted";
}

/** Redraw the spawn's status message and tell its owner privately. */
async function announce(ctx: CoreContext, announcer: Announcer, rec: SpawnRecord, note: View): Promise<void> {
  const cloud = ctx.orchestrator.cloud(rec.cloud);
  const names = { agent: ctx.orchestrator.agent(rec.agent)?.name ?? rec.agent, cloud: cloud?.title ?? rec.cloud, removal: removalKindOf(cloud) };
  const view = buildStatusView(rec, await ctx.store.listSteps(rec.id), names);
  const place = { workspace: rec.workspace, channel: rec.channel };
  await announcer.send(rec.platform, async (outlet) => {
    await outlet.status(place, view);
    await outlet.notify(rec.ownerId, note, place);
  });
}
