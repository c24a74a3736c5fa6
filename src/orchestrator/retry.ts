// The one way spawnbot tries again: a named RetryPolicy (attempts, a doubling backoff from
// baseDelayMs up to maxDelayMs, an optional deadline) used by cloud API calls, the EC2 SDK's
// strategy, SSH connects, a run's step attempts and the bot's delete retries; and pollUntil for
// waiting on a state. Only failures the caller calls retryable are tried again.
import { CloudError } from "./clouds/types.js";

export interface RetryPolicy {
  attempts: number;
  /** The first wait; each later one doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The wait before try `attempt + 1` (attempt counts from 1). With jitter, half fixed and half
 * random, so many spawns throttled together do not retry in step.
 */
export function backoffMs(policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, attempt: number, jitter = false): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return jitter ? Math.round(backoff / 2 + Math.random() * (backoff / 2)) : backoff;
}

export interface RetryOptions extends RetryPolicy {
  /** Give up when the next wait would pass this many ms after the first try. */
  deadlineMs: number;
  /** True for errors worth another try (throttling, 5xx, network). */
  retryable(err: unknown): boolean;
  /** A delay the service asked for (Retry-After), if any. */
  retryAfterMs?(err: unknown): number | undefined;
  signal?: AbortSignal;
}

/** Defaults for one API request (spawn: 3 attempts, 2 s doubling, capped at 30 s). */
export const API_RETRY = { attempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000, deadlineMs: 120_000 } as const;

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const start = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retryable(err) || opts.signal?.aborted) throw err;
      const wait = opts.retryAfterMs?.(err) ?? backoffMs(opts, attempt, true);
      if (Date.now() - start + wait > opts.deadlineMs) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Poll until check() returns a value, or throw after timeoutMs. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: { timeoutMs: number; intervalMs: number; what: string; signal?: AbortSignal }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + opts.intervalMs > deadline || opts.signal?.aborted) {
      throw new CloudError("TIMEOUT", `${opts.what} did not happen within ${Math.round(opts.timeoutMs / 1000)} s`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
