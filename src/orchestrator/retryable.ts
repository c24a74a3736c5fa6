// Whether a failed step is worth another try, decided from what the error says about itself: an
// error made where the failure is understood carries `retryable`; Node's network errors (a reset,
// a refused or timed-out connection) are retryable; any other error with a stable code is a
// refusal (bad input, a cloud's no, a changed host key) that will not change on a retry.

/** Node's codes for a network that failed on the way, not a service that said no. */
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ECONNABORTED"]);

export interface Classified {
  /** Set where the error is made: true for network resets, timeouts and 5xx; false for refusals. */
  readonly retryable?: boolean;
}

export function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return true;
  const { retryable, code } = err as { retryable?: unknown; code?: unknown };
  if (typeof retryable === "boolean") return retryable;
  if (typeof code === "string") return NETWORK_CODES.has(code) || !/^[A-Z_]+$/.test(code);
  return true; // a plain failure (a command's non-zero exit): the step's attempts decide
}
