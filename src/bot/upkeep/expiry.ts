// The expiry sweep: every live spawn has an expiry. Ahead of it the owner is reminded once,
// privately, with how to extend; at it the spawn is deleted through the one delete path, its
// status message redrawn and its owner told. Deletes that failed earlier are retried here when
// their backoff is up. Reminders sent are kept in the store, so a restart does not repeat them.
import type { CoreContext } from "../context.js";
import { formatDuration } from "../views/format.js";
import { removeSpawn, statusViewOf } from "../spawns/spawn-removal.js";
import { totalWorthSaying } from "../spawns/spawn-costs.js";
import type { SpawnRecord } from "../store/index.js";
import { error, text, type View } from "../views/views.js";

/** Deletes at once in one sweep: enough to clear a burst of expiries, few enough not to trip a cloud's rate limit. */
const DELETES_AT_ONCE = 4;
const ACTOR = "expiry";

/** Expired spawns whose run was already asked to stop (it ends at its next safe point): asked once. */
const cancelAsked = new WeakMap<CoreContext, Set<string>>();

export interface ExpirySettings {
  /** How long before its expiry a spawn's owner is reminded. */
  reminderMs: number;
}

export interface SweepReport {
  reminded: number;
  deleted: number;
  failed: number;
}

export async function sweepExpiry(ctx: CoreContext, settings: ExpirySettings, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { reminded: 0, deleted: 0, failed: 0 };
  const upkeep = ctx.store.upkeep;
  const reminded = await upkeep.remindedExpiries();
  const retries = new Map((await upkeep.listCleanups("delete")).map((r) => [r.spawnId, r]));
  const toDelete: SpawnRecord[] = [];
  const running = new Set(ctx.orchestrator.inFlight().map((r) => r.spawnId));
  let asked = cancelAsked.get(ctx);
  if (!asked) cancelAsked.set(ctx, (asked = new Set()));
  for (const id of asked) if (!running.has(id)) asked.delete(id);
  for (const rec of await ctx.store.listLive()) {
    if (asked.has(rec.id)) continue;
    const retry = retries.get(rec.id);
    retries.delete(rec.id);
    if (retry && retry.actor === ACTOR && rec.expiresAt !== null && rec.expiresAt > now) {
      // Extended after its expiry delete failed: the owner wants it kept.
      await upkeep.settleCleanup(rec.id);
      await ctx.store.updateSpawn(rec.id, { error: null });
    } else if (retry) {
      if (retry.nextAt <= now) toDelete.push(rec);
      continue; // a spawn whose delete failed is not reminded: it is going anyway
    }
    // "deleting" is a delete in flight here, or one a stopped process left (and clean-ups still
    // pending): start-up recovery and its retries own those, with the reason they keep.
    if (rec.status === "deleting") continue;
    if (rec.expiresAt === null) continue;
    if (rec.expiresAt <= now) {
      toDelete.push(rec);
    } else if (rec.expiresAt - settings.reminderMs <= now && reminded.get(rec.id) !== rec.expiresAt) {
      if (await notifyOwner(ctx, rec, reminder(rec, now))) {
        await upkeep.markReminded(rec.id, rec.expiresAt, now);
        report.reminded++;
      }
    }
  }
  for (const stale of retries.keys()) await upkeep.settleCleanup(stale); // its spawn ended another way
  await forEachLimited(toDelete, DELETES_AT_ONCE, async (rec) => {
    const outcome = await expire(ctx, rec, now);
    if (outcome === "deleted") report.deleted++;
    if (outcome === "failed") report.failed++;
  });
  return report;
}

function reminder(rec: SpawnRecord, now: number): View {
  return text([
    `${rec.name} expires in ${formatDuration(rec.expiresAt! - now)} and will then be deleted with its server.`,
    `To keep it, run \`extend ${rec.name}\` (for example \`extend ${rec.name} 12h\`) or press Extend on its status message.`,
  ], "Spawn expiring soon");
}

/** Delete one expired (or retried) spawn and tell its owner how it went. */
async function expire(ctx: CoreContext, rec: SpawnRecord, now: number): Promise<string> {
  const expired = rec.expiresAt !== null && rec.expiresAt <= now;
  const outcome = await removeSpawn(ctx, rec, { platform: rec.platform, userId: ACTOR }, now);
  if (outcome.kind === "deleted") {
    await redraw(ctx, outcome.rec);
    const total = totalWorthSaying(outcome.rec, await ctx.store.costs.getCost(rec.id), now);
    const said = expired ? `${rec.name} expired and was deleted with its server` : `${rec.name} was deleted with its server (an earlier delete did not finish; this retry did)`;
    await notifyOwner(ctx, rec, text(`${said}${total ? `; ${total}` : ""}.`));
  } else if (outcome.kind === "failed") {
    ctx.log.warn({ spawnId: rec.id, reason: outcome.reason }, "delete failed; it will be retried");
    // Told once, on the first failure: later retries only log, so an outage does not flood the owner.
    if ((await ctx.store.upkeep.getCleanup(rec.id))?.attempts === 1) {
      await notifyOwner(ctx, rec, error(`${rec.name} ${expired ? "expired but " : ""}could not be deleted: ${outcome.reason}; the bot keeps trying every few minutes`));
    }
  } else if (outcome.kind === "cancelling") {
    cancelAsked.get(ctx)?.add(rec.id);
    await notifyOwner(ctx, rec, text(`${rec.name} expired while it was being made; its run stops and removes what it made`));
  }
  return outcome.kind;
}

/** A private message to a spawn's owner through its platform's outlet; false when there is no way to send it. */
export async function notifyOwner(ctx: CoreContext, rec: SpawnRecord, view: View): Promise<boolean> {
  const outlet = ctx.outlets.get(rec.platform);
  if (!outlet) return false;
  try {
    await outlet.notify(rec.ownerId, view, { workspace: rec.workspace, channel: rec.channel });
    return true;
  } catch (err) {
    ctx.log.warn({ err, spawnId: rec.id }, "could not message the spawn's owner");
    return false;
  }
}

/** Redraw a spawn's status message where it was asked for. */
export async function redraw(ctx: CoreContext, rec: SpawnRecord): Promise<void> {
  try {
    await ctx.outlets.get(rec.platform)?.status({ workspace: rec.workspace, channel: rec.channel }, await statusViewOf(ctx, rec));
  } catch (err) {
    ctx.log.warn({ err, spawnId: rec.id }, "could not redraw the spawn's status message");
  }
}

/** Run fn over items, at most limit at a time. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
