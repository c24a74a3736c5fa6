// The one way a live spawn is deleted, whoever asks: the `delete` command, the expiry sweep or
// the reconciler. A spawn is recorded deleted only when its cloud confirmed the delete (or said
// the server was already gone); a failed delete keeps the spawn visible with its error and is
// queued for the expiry sweep to try again, with a backoff that doubles up to a ceiling. The
// spawn's own OpenRouter key (if the bot made one) is deleted with it.
import { randomUUID } from "node:crypto";
import { backoffMs } from "../../orchestrator/index.js";
import { secrets } from "../../secrets.js";
import type { CoreContext, RunQueue } from "../context.js";
import { budgetStopNotice } from "./spawn-spend.js";
import { costLine, nowOf } from "./spawn-costs.js";
import { revokeSpawnKey } from "./spawn-api-keys.js";
import { hostRecord, neighboursOnHost } from "../access/spawn-access.js";
import { buildStatusView } from "../views/status-view.js";
import { revokeTunnels } from "./tunnel-links.js";
import type { SpawnRecord } from "../store/index.js";
import { removalKindOf, type StatusView } from "../views/views.js";

/** First retry of a failed delete after a minute (a cloud's 5xx rarely lasts longer), doubling. */
export const DELETE_RETRY_BASE_MS = 60_000;
/** Never wait longer than this between tries: a server left running costs money every hour. */
export const DELETE_RETRY_MAX_MS = 30 * 60_000;

/** Who asked: a user on a platform (and where), or the bot itself ("expiry", "reconciler") on the spawn's platform. */
export interface RemovalActor {
  platform: string;
  userId: string;
  /** Where the request came from; the spawn's own place when the bot itself acts. */
  workspace?: string;
  channel?: string;
}

export type RemovalOutcome =
  | { kind: "cancelling" } // a run was in flight: it stops at its next safe point and removes what it made
  | { kind: "ended"; rec: SpawnRecord } // already deleted, failed or cancelled: nothing to delete
  | { kind: "busy" } // a delete of it is going on in this process right now
  | { kind: "deleted"; rec: SpawnRecord }
  | { kind: "failed"; rec: SpawnRecord; reason: string; retryAt: number };

/**
 * A delete holds a lease on its spawn in the store, so a second click, an overlapping sweep or
 * another replica does not start another. A process killed mid-delete leaves the lease to expire:
 * longer than any delete takes (the clouds' calls time out well within it).
 */
const DELETE_LEASE_MS = 10 * 60_000;
const deleteLease = (spawnId: string) => `delete:${spawnId}`;

/**
 * A cancel asked on one replica of a run another replica holds: a mark in the store (the leases
 * table: one named row, written atomically) that the run's holder reads when its claim is taken
 * away, and that a replica taking the run later reads before starting it. It outlives any run.
 */
const CANCEL_MARK_MS = 24 * 3600_000;
const cancelMark = (spawnId: string) => `cancel:${spawnId}`;

/** Whether someone asked to cancel this spawn's run (on any replica). */
export async function cancelRequested(ctx: CoreContext, spawnId: string, now = Date.now()): Promise<boolean> {
  const mark = await ctx.store.leases.get(cancelMark(spawnId));
  return mark !== undefined && mark.expiresAt > now;
}

/**
 * The runs sweep's look at one live run (replicas): queue it if it has no job, once it was recorded
 * at least `settledMs` ago (the replica recording a spawn still makes its OpenRouter key before it
 * queues the run, and a run taken in between would find no key and fail; a replica that died there
 * is caught by the next pass). A run with a cancel mark gets its claim taken away again, which
 * finishes a cancel whose replica died between the mark and the cancel; with no job left and the
 * mark older than a delete's lease, the replica that was cancelling it died too, and the run is
 * queued so that the replica taking it ends it.
 */
export async function sweepQueuedRun(ctx: Pick<CoreContext, "store">, queue: RunQueue, rec: Pick<SpawnRecord, "id" | "createdAt">, settledMs: number, now = Date.now()): Promise<void> {
  const spawnId = rec.id;
  const mark = await ctx.store.leases.get(cancelMark(spawnId));
  if (mark === undefined || mark.expiresAt <= now) return now - rec.createdAt >= settledMs ? queue.enqueueRun(spawnId) : undefined;
  if ((await queue.cancelRun(spawnId)) === "none" && now - mark.acquiredAt > DELETE_LEASE_MS) await queue.enqueueRun(spawnId);
}

export function retryDelay(attempts: number): number {
  return backoffMs({ baseDelayMs: DELETE_RETRY_BASE_MS, maxDelayMs: DELETE_RETRY_MAX_MS }, attempts);
}

export async function removeSpawn(ctx: CoreContext, rec: SpawnRecord, actor: RemovalActor, now = Date.now()): Promise<RemovalOutcome> {
  const audit = (action: string, detail: Record<string, unknown> = {}) =>
    ctx.store.audit({
      platform: actor.platform, workspace: actor.workspace ?? rec.workspace, channel: actor.channel ?? rec.channel, userId: actor.userId,
      action, spawnId: rec.id, detail: secrets.redactDeep({ name: rec.name, ...detail }),
    });
  if (ctx.orchestrator.cancel(rec.id)) {
    await audit("cancel");
    return { kind: "cancelling" };
  }
  if (rec.status === "deleted" || rec.status === "failed" || rec.status === "cancelled") return { kind: "ended", rec };
  if (ctx.runQueue && (rec.status === "pending" || rec.status === "provisioning")) {
    // Its run is queued or runs on another replica: that replica cancels it (and removes what it made).
    // Asked before (a second click): the first request is under way, and the runs sweep sees it through.
    if ((await ctx.store.leases.get(cancelMark(rec.id))) === undefined) {
      await ctx.store.leases.acquire(cancelMark(rec.id), actor.userId, CANCEL_MARK_MS, now);
      // No job at all (the replica that recorded it died before queueing it): queue it, to be ended.
      if ((await ctx.runQueue.cancelRun(rec.id)) === "none") await ctx.runQueue.enqueueRun(rec.id);
      await audit("cancel");
    }
    return { kind: "cancelling" };
  }
  const lease = await holdDeleteLease(ctx, rec.id, now);
  if (!lease) return { kind: "busy" };
  try {
    // Read again under the lease: a delete that just finished elsewhere leaves nothing to do.
    const current = await ctx.store.getSpawn(rec.id);
    if (!current || current.status === "deleted" || current.status === "failed" || current.status === "cancelled") return { kind: "ended", rec: current ?? rec };
    // A spawn left "deleting" by a process that stopped mid-delete goes back to "ready" if this try fails.
    const before = rec.status === "deleting" ? "ready" : rec.status;
    await ctx.store.updateSpawn(rec.id, { status: "deleting" });
    await revokeTunnels(ctx, rec.id); // links die with the spawn, even if the server delete must be retried
    try {
      await ctx.orchestrator.teardown(await hostRecord(ctx, rec), await neighboursOnHost(ctx.store, rec));
    } catch (err) {
      const reason = secrets.redact((err as Error).message); // it is stored, audited and shown
      const retry = await ctx.store.upkeep.oweCleanup(rec.id, "delete", actor.userId, reason, (n) => now + retryDelay(n));
      const kept = await ctx.store.updateSpawn(rec.id, { status: before, error: `delete failed: ${reason}` });
      await audit("delete-failed", { reason, attempts: retry.attempts });
      return { kind: "failed", rec: kept, reason, retryAt: retry.nextAt };
    }
    await ctx.store.upkeep.settleCleanup(rec.id);
    const deleted = await ctx.store.updateSpawn(rec.id, { status: "deleted", deletedAt: now, error: null });
    await audit("delete");
    await revokeSpawnKey(ctx, rec.id, now); // never throws: a failed delete of the key is retried on its own
    return { kind: "deleted", rec: deleted };
  } finally {
    await lease.release();
  }
}

/** Take the delete lease of a spawn (undefined: another delete holds it); release() never throws. */
export async function holdDeleteLease(ctx: CoreContext, spawnId: string, now = Date.now()): Promise<{ release(): Promise<void> } | undefined> {
  const holder = randomUUID(); // this removal alone: not even this process's other deletes share it
  if (!(await ctx.store.leases.acquire(deleteLease(spawnId), holder, DELETE_LEASE_MS, now)).ok) return undefined;
  return {
    release: () => ctx.store.leases.release(deleteLease(spawnId), holder).then(() => undefined,
      (err: unknown) => ctx.log.warn({ err, spawnId }, "could not release a delete's lease; it expires by itself")),
  };
}

/**
 * What a spawn's run made could not be removed (its cloud or host unreachable): owe it, due at the
 * next clean-up pass (SPAWNBOT_CLEANUP_RETRY sets their pace). Returns whether it was owed already.
 */
export async function oweLeftovers(ctx: CoreContext, spawnId: string, problem: string, now = Date.now()): Promise<boolean> {
  const before = await ctx.store.upkeep.getCleanup(spawnId);
  await ctx.store.upkeep.oweCleanup(spawnId, "leftovers", "spawnbot", problem, () => now);
  return before?.what === "leftovers";
}

/** The spawn's status view as its status message shows it. */
export async function statusViewOf(ctx: CoreContext, rec: SpawnRecord, facts?: string[]): Promise<StatusView> {
  const cloud = ctx.orchestrator.cloud(rec.cloud);
  const names = { agent: ctx.orchestrator.agent(rec.agent)?.name ?? rec.agent, cloud: cloud?.title ?? rec.cloud, removal: removalKindOf(cloud) };
  // The cost comes first among the facts: the price an hour while it lives, the totals once it ended.
  const cost = await ctx.store.costs.getCost(rec.id);
  const view = buildStatusView(rec, await ctx.store.listSteps(rec.id), names, [costLine(rec, cost, nowOf(ctx)), ...(facts ?? [])]);
  const stop = budgetStopNotice(rec, cost);
  if (stop) view.warnings = [...view.warnings, stop];
  return view;
}
