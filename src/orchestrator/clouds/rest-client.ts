// A small JSON-over-HTTPS client for the REST clouds (Hetzner, DigitalOcean): a bearer token,
// a timeout per request, retries of 429/5xx/network errors honouring the wait the service asks
// for (Retry-After by default; a provider reads its own headers), and errors that keep the HTTP
// status and the service's own error body for the provider to translate.
import { API_RETRY, withRetry, type RetryOptions } from "../retry.js";

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
  /** The wait a failed answer asks for, in ms; default: a whole-second Retry-After header. */
  retryAfterMs?: (headers: Headers, now: number) => number | undefined;
  /** Which refusals are worth another try; default: 429 and 5xx (network errors always are). */
  retryable?: (err: HttpError) => boolean;
}

/** Retry-After in whole seconds (RFC 9110 also allows an HTTP date; no cloud here sends one). */
export function retryAfterHeaderMs(headers: Headers): number | undefined {
  const ra = headers.get("retry-after");
  return ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
}

const retryableStatus = (err: HttpError) => err.status === 429 || err.status >= 500;

export class RestClient {
  constructor(private readonly opts: RestClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const retry = { ...API_RETRY, ...this.opts.retry };
    return withRetry(() => this.once<T>(method, path, body, signal), {
      ...retry,
      signal,
      retryable: (err) => err instanceof NetworkError || (err instanceof HttpError && (this.opts.retryable ?? retryableStatus)(err)),
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
      const retryAfterMs = this.opts.retryAfterMs ? this.opts.retryAfterMs(res.headers, Date.now()) : retryAfterHeaderMs(res.headers);
      throw new HttpError(res.status, parsed, retryAfterMs, method, path);
    }
    return parsed as T;
  }
}
