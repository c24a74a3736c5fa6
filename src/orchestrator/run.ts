// Runs one spawn: walks the step list, persisting each step's state as it happens and emitting
// events for the status view. A fatal failure or a cancel removes what the run had made.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { STEPS, type StepDef, type StepOutcome } from "./steps.js";
import { cleanUpAdoptedHost } from "./host-cleanup.js";
import { tmuxKillCommand } from "./launch.js";
import { cleanupPending } from "./leftovers.js";
import { isRetryable } from "./retryable.js";
import { backoffMs } from "./retry.js";

import type { RunContext, RunDeps, RunJournal, RunPlan, RunResult, StepEvent, StepState } from "./run-types.js";

const CANCELLED_MESSAGE = "cancelled by request";

export interface Run {
  spawnId: string;
  /** "step" events carry a StepEvent. */
  events: EventEmitter;
  done: Promise<RunResult>;
  /** Stop at the next safe point (between steps) and remove what was made. */
  cancel(): void;
  /** Shutdown: stop at the next step boundary and keep the run's state for recovery at start-up. */
  suspend(): void;
}

/** A step's own tries wait at most this long between them (steps have 1-3 attempts: it is never reached today). */
const MAX_STEP_RETRY_DELAY_MS = 60_000;

/** What the status view says on a step that a restart cut short and the new process runs again. */
export const RESUMED_DETAIL = "resumed after the bot restarted";

class StepTimeout extends Error {
  constructor(step: StepDef, timeoutMs: number) {
    super(`step ${step.name} did not finish within ${Math.round(timeoutMs / 1000)} s`);
  }
}

export function startRun(plan: RunPlan, deps: RunDeps): Run {
  const events = new EventEmitter();
  const controller = new AbortController();
  let suspended = false;
  // A run's end never rejects: a journal write that throws (disk full, SQLITE_BUSY past the busy
  // timeout) is logged with an id and the run ends failed, instead of an unhandled rejection that
  // would take the process and every other run with it.
  const done = execute(plan, { ...deps, journal: inOrder(deps.journal) }, events, controller.signal, () => suspended).catch((err: unknown): RunResult => {
    const id = randomBytes(4).toString("hex");
    deps.logger.error({ err, errorId: id, spawnId: plan.spawnId }, "run crashed outside its steps");
    return { spawnId: plan.spawnId, outcome: "failed", error: `internal error (id ${id}); the bot log has the details` };
  });
  return { spawnId: plan.spawnId, events, done, cancel: () => controller.abort(), suspend: () => { suspended = true; } };
}

/**
 * The run's journal with its writes applied one after another, in the order the run made them:
 * a step's "running" never lands after its "succeeded", whatever store stands behind. Once a write
 * fails every later one fails too, so the run's last write (awaited) reports a broken journal.
 */
function inOrder(journal: RunJournal): RunJournal {
  let last: Promise<unknown> = Promise.resolve();
  const queue = <T>(write: () => Promise<T>): Promise<T> => {
    const next = last.then(write);
    last = next;
    return next;
  };
  return {
    markStep: (...args) => queue(() => journal.markStep(...args)),
    updateSpawn: (...args) => queue(() => journal.updateSpawn(...args)),
  };
}

async function execute(plan: RunPlan, deps: RunDeps, events: EventEmitter, signal: AbortSignal, suspended: () => boolean): Promise<RunResult> {
  const log = deps.logger.child({ spawnId: plan.spawnId });
  const emit = (step: string, stepSeq: number, state: StepState, message?: string) => {
    const at = Date.now();
    // Not awaited here; inOrder keeps the writes in order and the run's last write awaits them all.
    void deps.journal.markStep(plan.spawnId, stepSeq, step, state, message ?? null, at).catch(() => undefined);
    const ev: StepEvent = { spawnId: plan.spawnId, seq: stepSeq, step, state, message, at };
    events.emit("step", ev);
  };
  const resume = plan.resume;
  const ctx: RunContext = {
    plan, deps, log, signal,
    progress: () => undefined, // each step gets its own (see stepContext)
    // A resumed run starts from what its journal says it had: the server and its pinned key. Its
    // host connection died with the old process; the next step that needs it connects again.
    server: resume?.server, hostKey: resume?.hostKey, sessionStarted: resume?.sessionMayExist,
  };
  /** The run's context as one step sees it: shared state, but progress reported under this step. */
  const stepContext = (step: StepDef, i: number): RunContext => new Proxy(ctx, {
    get: (target, key) => key === "progress"
      ? (message: string) => {
        log.info({ step: step.name }, message);
        // Kept as the step's detail, so every redraw (and a status view drawn later) shows it.
        void deps.journal.markStep(plan.spawnId, i, step.name, "running", message).catch(() => undefined);
        events.emit("step", { spawnId: plan.spawnId, seq: i, step: step.name, state: "running", message, at: Date.now() } satisfies StepEvent);
      }
      : (Reflect.get(target, key) as unknown),
  });
  await deps.journal.updateSpawn(plan.spawnId, { status: "provisioning" });
  // A step starts as soon as the steps it needs have ended (succeeded, warned or skipped), so
  // independent steps overlap and the critical path, not the sum, sets the time to ready.
  const ended = new Set<string>(resume?.ended ?? []);
  const interrupted = new Set(resume?.interrupted ?? []);
  // Steps that do not apply to this plan (no --prompt, no dashboard) show as skipped from the start;
  // a resumed run keeps the checklist of what already ended.
  STEPS.forEach((s, i) => {
    if (!ended.has(s.name)) void deps.journal.markStep(plan.spawnId, i, s.name, s.applies && !s.applies(ctx) ? "skipped" : "pending", null).catch(() => undefined);
  });
  const waiting = STEPS.map((step, i) => ({ step, i, needs: needsOf(step, i) })).filter((w) => !ended.has(w.step.name));
  const running = new Map<string, Promise<void>>();
  let stop: { outcome: "failed" | "cancelled"; message: string } | undefined;
  let crashed: { step: string; err: unknown } | undefined;
  let suspending = false; // shutdown: start nothing new, and leave the run for start-up recovery

  const runStep = async (step: StepDef, i: number): Promise<void> => {
    try {
      if (step.applies && !step.applies(ctx)) {
        emit(step.name, i, "skipped");
        ended.add(step.name);
        return;
      }
      emit(step.name, i, "running", interrupted.has(step.name) ? RESUMED_DETAIL : undefined);
      log.info({ step: step.name, resumed: interrupted.has(step.name) }, "step started");
      const started = Date.now();
      let outcome: StepOutcome;
      try {
        outcome = await attempt(step, stepContext(step, i));
      } catch (err) {
        deps.metrics?.observeStep(step.name, Date.now() - started);
        // A cancel aborts the step in flight: the run was cancelled, the step did not fail on its own.
        if (signal.aborted) {
          emit(step.name, i, "failed", CANCELLED_MESSAGE);
          log.info({ step: step.name }, "step stopped by a cancel");
          stop ??= { outcome: "cancelled", message: CANCELLED_MESSAGE };
          return;
        }
        const message = errorMessage(err);
        if (step.fatal) {
          emit(step.name, i, "failed", message);
          log.info({ step: step.name, reason: message }, "step failed");
          stop ??= { outcome: "failed", message };
          return;
        }
        emit(step.name, i, "warned", message);
        log.warn({ step: step.name, reason: message }, "step warned");
        ended.add(step.name);
        return;
      }
      const warn = typeof outcome === "object" && outcome !== null ? outcome.warn : undefined;
      const said = typeof outcome === "string" ? outcome : warn;
      // The checklist keeps saying which step a restart cut short, after it ended too.
      const detail = interrupted.has(step.name) ? (said ? `${said} (${RESUMED_DETAIL})` : RESUMED_DETAIL) : said;
      emit(step.name, i, warn ? "warned" : "succeeded", detail);
      log.info({ step: step.name, ms: Date.now() - started, warn }, "step ended");
      deps.metrics?.observeStep(step.name, Date.now() - started);
      ended.add(step.name);
    } catch (err) {
      crashed ??= { step: step.name, err };
    }
  };

  if (resume?.server && !plan.cloud.adopted) {
    // A server removed behind the bot's back while it restarted cannot be continued on.
    const gone = await plan.cloud.getServer(resume.server.serverId).then((found) => !found, (err: unknown) => {
      log.warn({ err }, "could not check the resumed run's server; going on");
      return false;
    });
    if (gone) {
      ctx.server = undefined; // nothing left to delete
      return await finish(ctx, "failed", `its server ${resume.server.serverId} was removed while the bot restarted; spawn again`);
    }
  }

  for (;;) {
    if (!stop && !crashed && signal.aborted) stop = { outcome: "cancelled", message: CANCELLED_MESSAGE };
    if (!stop && !crashed && suspended()) suspending = true;
    if (!stop && !crashed && !suspending) {
      for (const w of [...waiting]) {
        if (!w.needs.every((n) => ended.has(n))) continue;
        waiting.splice(waiting.indexOf(w), 1);
        running.set(w.step.name, runStep(w.step, w.i).finally(() => running.delete(w.step.name)));
      }
    }
    // Nothing in flight: either every step ended, or the run stops once the running ones ended.
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (crashed) {
    const id = randomBytes(4).toString("hex");
    log.error({ err: crashed.err, errorId: id, step: crashed.step }, "run crashed");
    return finish(ctx, "failed", `internal error (id ${id}) in step ${crashed.step}; the bot log has the details`);
  }
  if (stop) return await finish(ctx, stop.outcome, stop.message);
  if (suspending && waiting.length > 0) return await leaveForRecovery(ctx, waiting[0]!.step.name);
  if (waiting.length > 0) {
    const id = randomBytes(4).toString("hex");
    log.error({ steps: waiting.map((w) => w.step.name), errorId: id }, "steps whose needs never ended");
    return finish(ctx, "failed", `internal error (id ${id}) in step ${waiting[0]!.step.name}; the bot log has the details`);
  }
  return await finish(ctx, "ready");
}

/** What a step waits for: its declared needs, or else the step before it (the list's order). */
function needsOf(step: StepDef, i: number): readonly string[] {
  if (step.needs) return step.needs;
  return i === 0 ? [] : [STEPS[i - 1]!.name];
}

async function attempt(step: StepDef, ctx: RunContext): Promise<StepOutcome> {
  let lastError: unknown;
  const timeoutMs = ctx.deps.stepTimeoutsMs?.[step.name] ?? step.timeoutMs;
  for (let n = 1; n <= step.attempts; n++) {
    let timer: NodeJS.Timeout | undefined;
    // One signal per try: the run's cancel or this try's timeout stops its cloud calls, SSH
    // commands and poll loops, so a timed-out step does not go on working behind the run's back.
    const expired = new AbortController();
    const signal = AbortSignal.any([ctx.signal, expired.signal]);
    const tryCtx = new Proxy(ctx, { get: (target, key) => (key === "signal" ? signal : (Reflect.get(target, key) as unknown)) });
    try {
      return await Promise.race([
        step.run(tryCtx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new StepTimeout(step, timeoutMs);
            expired.abort(err);
            reject(err);
          }, timeoutMs);
        }),
      ]);
    } catch (err) {
      lastError = err;
      // Refusals (bad input, a changed host key, no credentials) will not change on retry.
      if (!isRetryable(err) || err instanceof StepTimeout || n === step.attempts || ctx.signal.aborted) throw err;
      ctx.log.info({ step: step.name, attempt: n, err }, "retrying step");
      await new Promise((r) => setTimeout(r, backoffMs({ baseDelayMs: step.retryDelayMs, maxDelayMs: MAX_STEP_RETRY_DELAY_MS }, n)));
    } finally {
      clearTimeout(timer);
    }
  }
  throw lastError;
}

async function finish(ctx: RunContext, outcome: "ready" | "failed" | "cancelled", error?: string): Promise<RunResult> {
  const { plan, deps, log } = ctx;
  const leftover = outcome !== "ready" ? await cleanUp(ctx) : undefined;
  await ctx.host?.close().catch(() => undefined);
  const now = Date.now();
  await deps.journal.updateSpawn(plan.spawnId, outcome === "ready"
    ? { status: "ready", readyAt: now, error: null }
    : leftover !== undefined ? cleanupPending(error ?? outcome, leftover, Boolean(ctx.sessionStarted))
    : { status: outcome, error: error ?? null, deletedAt: now });
  log.info({ outcome }, "run ended");
  return { spawnId: plan.spawnId, outcome, error, connect: outcome === "ready" ? ctx.connect : undefined, prompt: ctx.prompt };
}

/** Shutdown reached a step boundary: nothing is removed; the next start-up's recovery ends the run. */
async function leaveForRecovery(ctx: RunContext, next: string): Promise<RunResult> {
  await ctx.host?.close().catch(() => undefined);
  ctx.log.info({ next }, "run suspended for shutdown");
  return { spawnId: ctx.plan.spawnId, outcome: "interrupted", error: `the bot shut down before step ${next}` };
}

/**
 * Remove what a failed or cancelled run made: on an adopted host everything it put there (see
 * host-cleanup.ts); on VM clouds its session and its server (whose delete stops the session anyway). Returns what could not be removed, for a "cleanup pending" retry.
 */
async function cleanUp(ctx: RunContext): Promise<string | undefined> {
  const { plan, log } = ctx;
  try {
    if (plan.cloud.adopted && ctx.host) {
      await cleanUpAdoptedHost(ctx.host, {
        spawnId: plan.spawnId, session: plan.session, agent: plan.agent, killSession: Boolean(ctx.sessionStarted),
        keys: plan.cloud.access === "ssh", marked: true, otherAgents: (await plan.agentsSharingHost?.()) ?? [plan.agent],
      });
      return undefined;
    }
    if (ctx.host && ctx.sessionStarted) {
      await ctx.host.run(tmuxKillCommand(plan.session)).catch((err: unknown) => {
        if (plan.cloud.adopted) throw err;
        log.warn({ err }, "could not stop the session; deleting the server stops it");
      });
    }
    if (ctx.server) await plan.cloud.deleteServer(ctx.server.serverId);
    return undefined;
  } catch (err) {
    log.error({ err }, "clean-up after a failed run did not finish; recovery retries it");
    return errorMessage(err);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
