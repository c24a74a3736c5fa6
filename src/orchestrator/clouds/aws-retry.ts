// The EC2 client's retry policy: the SDK classifies each failure (throttling, transient network or
// timeout, 5xx) and this strategy decides: jittered exponential backoff, a cap on attempts and a
// deadline for the whole call. A refusal (bad request, auth, quota) is never retried. RunInstances
// may be retried safely because it carries a ClientToken: EC2 answers a repeat with the first result.
import type { EC2ClientConfig } from "@aws-sdk/client-ec2";
import { API_RETRY, backoffMs, type RetryPolicy } from "../retry.js";

/** The SDK's retry-strategy interface (RetryStrategyV2), named through the client's own config type. */
type RetryStrategyV2 = Extract<NonNullable<EC2ClientConfig["retryStrategy"]>, { acquireInitialRetryToken: unknown }>;
type RetryErrorInfo = Parameters<RetryStrategyV2["refreshRetryTokenForRetry"]>[1];

export interface AwsRetryPolicy extends RetryPolicy {
  /** No retry starts later than this many ms after the first attempt. */
  deadlineMs: number;
}

/**
 * Six attempts: the contract's worst case is two throttles, a 5xx and a timeout on one call, and
 * EC2 throttles in bursts. The SDK's own standard mode starts at 100 ms; throttled accounts need
 * more, so the backoff starts at 500 ms and the shared API deadline bounds the total.
 */
export const EC2_RETRY: AwsRetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, deadlineMs: API_RETRY.deadlineMs };

/**
 * Server-side refusals that another try seconds later will not fix: EC2 reports a full zone as a
 * 500, but the user should hear at once and pick another --zone or --size.
 */
const NOT_RETRIED = new Set(["InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity"]);

class Ec2RetryToken {
  constructor(readonly count: number, readonly delayMs: number, readonly startedAt: number) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delayMs;
  }
}

export function ec2RetryStrategy(policy: AwsRetryPolicy): RetryStrategyV2 {
  return {
    async acquireInitialRetryToken() {
      return new Ec2RetryToken(0, 0, Date.now());
    },
    async refreshRetryTokenForRetry(previous, info: RetryErrorInfo) {
      const token = previous as Ec2RetryToken;
      if (info.errorType === "CLIENT_ERROR" || NOT_RETRIED.has(info.error?.name ?? "")) throw new Error("not retryable");
      const count = token.count + 1;
      if (count >= policy.attempts) throw new Error("out of attempts");
      const delay = info.retryAfterHint ? Math.max(0, info.retryAfterHint.getTime() - Date.now()) : backoffMs(policy, count, true);
      if (Date.now() - token.startedAt + delay > policy.deadlineMs) throw new Error("past the deadline");
      return new Ec2RetryToken(count, delay, token.startedAt);
    },
    recordSuccess() {},
  };
}
