// The bot's background upkeep: the expiry sweep, the reconciler, the spend refresh, the retry of clean-ups that
// start-up recovery left pending and the store's WAL checkpoint, each run once at start and then on its own interval. A pass that is still running when the next is due is not doubled;
// stop() ends the schedule and waits (bounded) for the pass in flight.
import type { CoreContext } from "../context.js";
import { sweepExpiry, type ExpirySettings } from "./expiry.js";
import { reconcile, type ReconcileSettings } from "./reconciler.js";
import { refreshSpend } from "../spawns/spawn-spend.js";
import { sweepIdle } from "./idle.js";

export interface UpkeepSettings extends ExpirySettings, ReconcileSettings {
  sweepIntervalMs: number;
  reconcileIntervalMs: number;
  /** How often owed leftovers (a cloud or host that was unreachable) are tried again (the cleanups_owed record). */
  cleanupRetryMs: number;
  /** Default WAL_CHECKPOINT_INTERVAL_MS; tests shorten it. */
  walCheckpointMs?: number;
  /** How often live spawns' own OpenRouter keys are read for their spend (SPEND_REFRESH_MS unless set). */
  spendRefreshMs?: number;
  /** SPAWNBOT_IDLE_AFTER: idle spawns are treated as expiring (see idle.ts); off when absent. */
  idleAfterMs?: number;
  /** Replicas: how often every live run's job is checked for (the lease period); no sweep without a run queue. */
  runsSweepMs?: number;
}

/** How a pass is repeated: a timer in this process, or the replicas' job queue (once per period across them). */
export interface UpkeepSchedule {
  every(name: string, intervalMs: number, pass: () => Promise<unknown>): Upkeep;
}

/**
 * How often each live spawn's own key is read: one GET per spawn per pass. Five minutes keeps the
 * 80 % warning timely for a looping agent while 100 live spawns make 1,200 reads an hour.
 */
export const SPEND_REFRESH_MS = 5 * 60_000;

/**
 * How often the store's write-ahead log is checkpointed into the main file. SQLite does it by
 * itself only once the log passes 1,000 pages (~4 MB), so a quiet bot's changes could sit in
 * spawnbot.db-wal for weeks, where a plain copy of spawnbot.db misses them. PASSIVE never blocks.
 */
export const WAL_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** Shutdown waits this long for a pass in flight (a cloud call may take its full retry deadline). */
const STOP_WAIT_MS = 10_000;

export interface Upkeep {
  /** End the schedule; resolves when the pass in flight ends, or after STOP_WAIT_MS. */
  stop(): Promise<void>;
}

export function startUpkeep(
  ctx: CoreContext, settings: UpkeepSettings, retryCleanups: () => Promise<unknown>,
  schedule: UpkeepSchedule = { every: (name, intervalMs, pass) => everyHere(ctx, name, intervalMs, pass) },
  runsSweep?: { intervalMs: number; pass: () => Promise<unknown> },
): Upkeep {
  const every = schedule.every.bind(schedule);
  const jobs = [
    ...(runsSweep ? [every("runs sweep", runsSweep.intervalMs, runsSweep.pass)] : []),
    every("cleanup retry", settings.cleanupRetryMs, retryCleanups),
    every("expiry sweep", settings.sweepIntervalMs, () => sweepExpiry(ctx, settings)),
    every("reconcile", settings.reconcileIntervalMs, () => reconcile(ctx, settings)),
    // The idle check follows each spend read, so it judges LLM use on fresh numbers.
    every("spend refresh", settings.spendRefreshMs ?? SPEND_REFRESH_MS, async () => ({
      spend: await refreshSpend(ctx),
      idle: settings.idleAfterMs ? await sweepIdle(ctx, { idleAfterMs: settings.idleAfterMs, reminderMs: settings.reminderMs }) : undefined,
    })),
    every("wal checkpoint", settings.walCheckpointMs ?? WAL_CHECKPOINT_INTERVAL_MS, async () => ctx.store.checkpoint()),
  ];
  return { stop: async () => void (await Promise.all(jobs.map((j) => j.stop()))) };
}

function everyHere(ctx: CoreContext, name: string, intervalMs: number, pass: () => Promise<unknown>): Upkeep {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return; // the last pass is still going: this one is skipped, not queued
    const started = Date.now();
    running = pass()
      .then((result) => ctx.log.debug({ job: name, ms: Date.now() - started, result }, "upkeep pass done"))
      .catch((err) => ctx.log.error({ err, job: name }, "upkeep pass failed"))
      .finally(() => { running = undefined; });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    },
  };
}
