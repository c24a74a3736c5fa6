// Runs one spawn: walks the step list, persisting each step's state as it happens and emitting
// events for the status view. A fatal failure or a cancel removes what the run had made.
import { EventEmitter } from "node:events";
import { STEPS, type StepDef, type StepOutcome } from "./steps.js";
import { tmuxKillCommand } from "./launch.js";
import { cleanupPending } from "./recovery.js";
import type { RunContext, RunDeps, RunPlan, RunResult, StepEvent, StepState } from "./run-types.js";

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

class StepTimeout extends Error {
  constructor(step: StepDef) {
    super(`step ${step.name} did not finish within ${Math.round(step.timeoutMs / 1000)} s`);
  }
}

export function startRun(plan: RunPlan, deps: RunDeps): Run {
  const events = new EventEmitter();
  const controller = new AbortController();
  let suspended = false;
  const done = execute(plan, deps, events, controller.signal, () => suspended);
  return { spawnId: plan.spawnId, events, done, cancel: () => controller.abort(), suspend: () => { suspended = true; } };
}

async function execute(plan: RunPlan, deps: RunDeps, events: EventEmitter, signal: AbortSignal, suspended: () => boolean): Promise<RunResult> {
  const log = deps.logger.child({ spawnId: plan.spawnId });
  let seq = 0;
  let current = "";
  const emit = (step: string, stepSeq: number, state: StepState, message?: string) => {
    const at = Date.now();
    deps.journal.markStep(plan.spawnId, stepSeq, step, state, message ?? null, at);
    const ev: StepEvent = { spawnId: plan.spawnId, seq: stepSeq, step, state, message, at };
    events.emit("step", ev);
  };
  const ctx: RunContext = {
    plan, deps, log, signal,
    progress: (message) => {
      log.info({ step: current }, message);
      events.emit("step", { spawnId: plan.spawnId, seq, step: current, state: "running", message, at: Date.now() } satisfies StepEvent);
    },
  };
  deps.journal.updateSpawn(plan.spawnId, { status: "provisioning" });
  // Steps that do not apply to this plan (no --prompt, no dashboard) show as skipped from the start.
  STEPS.forEach((s, i) => deps.journal.markStep(plan.spawnId, i, s.name, s.applies && !s.applies(ctx) ? "skipped" : "pending", null));
  try {
    for (const [i, step] of STEPS.entries()) {
      seq = i;
      current = step.name;
      if (signal.aborted) return await finish(ctx, "cancelled", "cancelled by request");
      if (suspended()) return await leaveForRecovery(ctx, step.name);
      if (step.applies && !step.applies(ctx)) {
        emit(step.name, i, "skipped");
        continue;
      }
      emit(step.name, i, "running");
      log.info({ step: step.name }, "step started");
      const started = Date.now();
      try {
        const outcome = await attempt(step, ctx);
        const warn = typeof outcome === "object" && outcome !== null ? outcome.warn : undefined;
        const detail = typeof outcome === "string" ? outcome : warn;
        emit(step.name, i, warn ? "warned" : "succeeded", detail);
        log.info({ step: step.name, ms: Date.now() - started, warn }, "step ended");
      } catch (err) {
        const message = errorMessage(err);
        if (step.fatal) {
          emit(step.name, i, "failed", message);
          log.info({ step: step.name, reason: message }, "step failed");
          return await finish(ctx, "failed", message);
        }
        emit(step.name, i, "warned", message);
        log.warn({ step: step.name, reason: message }, "step warned");
      }
    }
    return await finish(ctx, "ready");
  } catch (err) {
    log.error({ err }, "run crashed");
    return finish(ctx, "failed", `internal error in step ${current}; see the bot log for spawn ${plan.spawnId}`);
  }
}

async function attempt(step: StepDef, ctx: RunContext): Promise<StepOutcome> {
  let lastError: unknown;
  for (let n = 1; n <= step.attempts; n++) {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        step.run(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StepTimeout(step)), step.timeoutMs);
        }),
      ]);
    } catch (err) {
      lastError = err;
      // Refusals (bad input, a changed host key, no credentials) will not change on retry.
      if (hasCode(err) || err instanceof StepTimeout || n === step.attempts || ctx.signal.aborted) throw err;
      ctx.log.info({ step: step.name, attempt: n, err }, "retrying step");
      await new Promise((r) => setTimeout(r, step.retryDelayMs * 2 ** (n - 1)));
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
  deps.journal.updateSpawn(plan.spawnId, outcome === "ready"
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
 * Remove what a failed or cancelled run made: its session, and its server on VM clouds (whose
 * delete stops the session anyway). Returns what could not be removed, for a "cleanup pending" retry.
 */
async function cleanUp(ctx: RunContext): Promise<string | undefined> {
  const { plan, log } = ctx;
  try {
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

function hasCode(err: unknown): boolean {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string" && /^[A-Z_]+$/.test((err as { code: string }).code);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
