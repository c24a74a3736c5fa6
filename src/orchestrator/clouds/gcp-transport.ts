// How the Compute Engine clients reach Google: the `authClient` google-gax's REST transport calls
// for every request. It takes the Authorization header from a credential (application default
// credentials, or the one given) and does the HTTP itself with Node's fetch, for two reasons:
// gax's REST transport enforces no timeout (a hung connection would hang a spawn), and a fetch
// Response makes gax raise gRPC-coded GoogleErrors instead of GaxiosErrors (test-harness.md).
// Retries are ours (withRetry in gcp.ts); gax's are switched off per call with NO_GAX_RETRY.
import { API_RETRY, type RetryOptions } from "../retry.js";

/** Anything that can sign a request: google-auth-library's GoogleAuth/OAuth2Client, or a test's stub. */
export interface GcpCredential {
  getRequestHeaders(url?: string | URL): Promise<Headers | Record<string, string>>;
}

/** What gax's REST stub hands the authClient's fetch. */
interface StubRequest {
  method?: string;
  headers?: HeadersInit;
  body?: string | Buffer;
  signal?: AbortSignal;
}

/** spawn's request timeout; a hung connection is abandoned and retried. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** GCE answers operations/wait within 2 minutes even when the operation is not done yet. */
export const OPERATION_WAIT_CAP_MS = 120_000;

/**
 * Six attempts: the contract's worst case is two throttles, a 5xx and a timeout on one call.
 * The shared API deadline bounds the total.
 */
export type GcpRetryPolicy = Pick<RetryOptions, "attempts" | "baseDelayMs" | "maxDelayMs" | "deadlineMs">;
export const GCE_RETRY: GcpRetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, deadlineMs: API_RETRY.deadlineMs };

/** gax call options: no retries of its own (a `maxRetries` option would corrupt later calls' settings). */
export const NO_GAX_RETRY = { retry: null };

export class GcpTransport implements GcpCredential {
  constructor(private readonly credential: GcpCredential, private readonly timeoutMs: number) {}

  getRequestHeaders(url?: string | URL): Promise<Headers | Record<string, string>> {
    return this.credential.getRequestHeaders(url);
  }

  async fetch(url: string | URL, init: StubRequest = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const auth = new Headers(await this.credential.getRequestHeaders(url));
    auth.forEach((value, key) => headers.set(key, value));
    // A wait may legitimately take GCE's full 2 minutes; every other call gets the request timeout.
    const waits = new URL(url).pathname.endsWith("/wait");
    const timeout = AbortSignal.timeout(this.timeoutMs + (waits ? OPERATION_WAIT_CAP_MS : 0));
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      body: init.body?.toString(), // gax's JSON, as a string or a Buffer of it
      signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
    if (res.ok || (res.headers.get("content-type") ?? "").includes("json")) return res;
    // A front end's HTML error page (a 502 from a load balancer) would make gax fail on JSON.parse
    // and lose the status; Google's error envelope keeps it, so 5xx pages are retried like 5xx.
    const text = (await res.text()).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
    const error = { code: res.status, message: `HTTP ${res.status} ${res.statusText}${text ? `: ${text}` : ""}` };
    return new Response(JSON.stringify({ error }), { status: res.status, statusText: res.statusText, headers: { "content-type": "application/json" } });
  }
}
