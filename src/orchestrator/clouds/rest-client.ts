// A small JSON-over-HTTPS client for the REST clouds (Hetzner, DigitalOcean): a bearer token,
// a timeout per request, retries of 429/5xx/network errors honouring Retry-After, and errors
// that keep the HTTP status and the service's own error body for the provider to translate.
import { API_RETRY, withRetry, type RetryOptions } from "./retry.js";

/** Every request gets this long before it is abandoned (spawn: 30 s). */
export const REQUEST_TIMEOUT_MS = 30_000;

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly retryAfterMs: number | undefined, method: string, path: string) {
    super(`${method} ${path} answered ${status}`);
  }
}

/** A request that never got an answer (refused, reset, timed out). */
export class NetworkError extends Error {}

export interface RestClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  retry?: Partial<Pick<RetryOptions, "attempts" | "baseDelayMs" | "maxDelayMs" | "deadlineMs">>;
  /** Counts calls, for the numbers a provider reports (calls per spawn). */
  onCall?: (method: string, path: string) => void;
}

export class RestClient {
  constructor(private readonly opts: RestClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const retry = { ...API_RETRY, ...this.opts.retry };
    return withRetry(() => this.once<T>(method, path, body, signal), {
      ...retry,
      signal,
      retryable: (err) => err instanceof NetworkError || (err instanceof HttpError && (err.status === 429 || err.status >= 500)),
      retryAfterMs: (err) => (err instanceof HttpError ? err.retryAfterMs : undefined),
    });
  }

  private async once<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    this.opts.onCall?.(method, path);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(`${this.opts.baseUrl.replace(/\/$/, "")}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.opts.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new NetworkError(`${method} ${path} got no answer: ${(err as Error).name === "TimeoutError" ? "timed out" : (err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const ra = res.headers.get("retry-after");
      const retryAfterMs = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
      throw new HttpError(res.status, parsed, retryAfterMs, method, path);
    }
    return parsed as T;
  }
}
