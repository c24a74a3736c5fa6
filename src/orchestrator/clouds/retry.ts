// Retries for cloud API calls: jittered exponential backoff within a deadline, for throttling,
// 5xx and network errors only. A refusal (bad request, auth, quota) is never retried.
import { CloudError } from "./types.js";
export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
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
      const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      // Full jitter keeps many bots (or many spawns) from retrying in step.
      const wait = opts.retryAfterMs?.(err) ?? Math.round(backoff / 2 + Math.random() * (backoff / 2));
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
