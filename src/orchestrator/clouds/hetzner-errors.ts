// The one place that reads Hetzner's error body, { "error": { "code", "message", "details" } },
// and turns it into a CloudError with a message that says what to do; also which refusals are
// worth another try and how long its rate limit asks us to wait.
// Codes: https://docs.hetzner.cloud/reference/cloud#errors (and hcloud-go's ErrorCode list).
import { HttpError, NetworkError } from "./rest-client.js";
import { KNOWN_LOCATIONS } from "./hetzner-sizes.js";
import { CloudError } from "./types.js";

export const AUTH_MESSAGE = "the Hetzner token was refused: set HCLOUD_TOKEN to a read/write API token of the project";
export const READONLY_MESSAGE = "the Hetzner token is read-only (token_readonly), so it may list servers but not create or delete them: make a Read & Write token under Security → API tokens in the project and set HCLOUD_TOKEN to it";

interface HetznerErrorBody {
  error?: { code?: string; message?: string; details?: { fields?: { name?: string }[]; limits?: { name?: string }[] } };
}

/**
 * Refusals worth another try: 429 rate_limit_exceeded, 5xx (server_error 500, unavailable 503,
 * timeout 504, and any proxy's), conflict 409 ("the resource has changed during the request,
 * please retry") and locked 423 (another Action is running on it). service_error is a 422 and
 * not retried: the same request would fail the same way.
 */
export function isRetryableHetznerError(err: HttpError): boolean {
  if (err.status === 429 || err.status >= 500) return true;
  const code = (err.body as HetznerErrorBody | undefined)?.error?.code;
  return code === "conflict" || code === "locked";
}

/**
 * How long Hetzner's rate limit asks us to wait. It sends no Retry-After: every answer carries
 * RateLimit-Limit (requests per hour), RateLimit-Remaining and RateLimit-Reset (the UNIX second
 * when the budget is full again). The budget refills evenly (3600/h: one a second), so with
 * nothing remaining the next request is free after (Reset − now) / (Limit − Remaining), not at
 * Reset itself, which can be an hour away. Undefined while requests remain (a plain backoff).
 */
export function hetznerRetryAfterMs(headers: Headers, now: number): number | undefined {
  const reset = Number(headers.get("ratelimit-reset") ?? NaN);
  const remaining = Number(headers.get("ratelimit-remaining") ?? NaN);
  if (!Number.isFinite(reset) || !(remaining < 1)) return undefined;
  const untilFull = Math.max(0, reset * 1000 - now);
  const limit = Number(headers.get("ratelimit-limit") ?? NaN);
  const missing = Number.isFinite(limit) && limit > remaining ? limit - remaining : 1;
  return Math.ceil(untilFull / missing);
}

/** Hetzner's own error code of a failed request ("uniqueness_error", …), if it gave one. */
export function hetznerErrorCode(err: unknown): string | undefined {
  return err instanceof HttpError ? (err.body as HetznerErrorBody | undefined)?.error?.code : undefined;
}

function hetznerMessage(err: HttpError): string {
  return (err.body as HetznerErrorBody | undefined)?.error?.message ?? err.message;
}

function invalidFields(err: HttpError): string[] {
  return ((err.body as HetznerErrorBody | undefined)?.error?.details?.fields ?? []).map((f) => f.name ?? "");
}

/** The names of the limits a resource_limit_exceeded names (details.limits[].name: "primary_ip_limit", …). */
function exceededLimits(err: HttpError): string[] {
  return ((err.body as HetznerErrorBody | undefined)?.error?.details?.limits ?? []).map((l) => l.name ?? "").filter(Boolean);
}

/** Out of servers, cores or Primary IPs (resource_limit_exceeded, 403): where freeing our orphaned Primary IPs may help. */
export function isProjectLimit(err: unknown): boolean {
  return hetznerErrorCode(err) === "resource_limit_exceeded";
}

export function isNotFound(err: unknown): boolean {
  return err instanceof HttpError && (err.status === 404 || hetznerErrorCode(err) === "not_found");
}

export interface ErrorContext {
  /** What the bot was doing, for the message: "creating the server". */
  what: string;
  size?: string;
  location?: string;
}

/** Turn any failure of a Hetzner request into a CloudError (CloudErrors pass through). */
export function translateHetznerError(err: unknown, ctx: ErrorContext): CloudError {
  if (err instanceof CloudError) return err;
  const cloudError = (code: string, message: string) => Object.assign(new CloudError(code, message), { cause: err });
  if (err instanceof NetworkError) {
    const timedOut = /timed out/.test(err.message);
    return cloudError(timedOut ? "TIMEOUT" : "API", `the Hetzner API did not answer while ${ctx.what} (${err.message}): check https://status.hetzner.com and spawn again`);
  }
  if (!(err instanceof HttpError)) return cloudError("API", `${ctx.what} on Hetzner failed: ${(err as Error).message ?? String(err)}`);
  const code = hetznerErrorCode(err) ?? "";
  const said = hetznerMessage(err);
  const place = `${ctx.size ?? "this size"} in ${ctx.location ?? "this location"}`;
  // token_readonly is a 401 too, so it is told apart before the generic refusal.
  if (code === "token_readonly") return cloudError("AUTH", READONLY_MESSAGE);
  if (err.status === 401 || code === "unauthorized") return cloudError("AUTH", AUTH_MESSAGE);
  if (code === "forbidden") {
    return cloudError("AUTH", `the Hetzner token may not do this (${said}): set HCLOUD_TOKEN to a read/write API token of the project`);
  }
  if (isProjectLimit(err)) {
    const limits = exceededLimits(err);
    const which = limits.length ? `${limits.join(", ")}: ` : "";
    return cloudError("QUOTA", `the Hetzner project is at a limit (${which}${said}): delete servers or Primary IPs you no longer need, or ask Hetzner to raise the limit`);
  }
  // resource_locked: Hetzner has locked the project or account ("the caller should contact
  // support"), most often over an unpaid invoice or an unverified account. Not the same as
  // `locked` (423), which only means another Action is running and is retried.
  if (code === "resource_locked") {
    return cloudError("BILLING", `Hetzner has locked this project (${said}): check the billing page of https://console.hetzner.cloud and contact Hetzner support, then spawn again`);
  }
  if (code === "resource_unavailable" || code === "placement_error" || code === "no_space_left_in_location") {
    return cloudError("CAPACITY", `Hetzner has no room for ${place} right now (${said}): try another --zone (${KNOWN_LOCATIONS.join(", ")}) or --size`);
  }
  if ((code === "invalid_input" || code === "invalid_server_type") && (code === "invalid_server_type" || invalidFields(err).some((f) => f === "server_type" || f === "location") || /server.?type|location/i.test(said))) {
    return cloudError("BAD_PLACEMENT", `Hetzner does not offer ${place} (${said}): pick a --size and --zone from https://www.hetzner.com/cloud`);
  }
  if (code === "maintenance") {
    return cloudError("API", `Hetzner is in maintenance and cannot do this now (${said}): check https://status.hetzner.com and spawn again later`);
  }
  // Hetzner has no billing error code; an account it will not serve shows up in the message.
  if (/payment|billing|unpaid|account (is )?(locked|blocked|suspended)/i.test(said)) {
    return cloudError("BILLING", `Hetzner will not create servers for this project until billing is settled (${said}): check the billing page of https://console.hetzner.cloud, then spawn again`);
  }
  if (code === "rate_limit_exceeded") {
    return cloudError("API", `Hetzner kept rate-limiting the bot while ${ctx.what}: wait a minute and spawn again`);
  }
  if (code === "locked" || code === "conflict") {
    return cloudError("API", `Hetzner was busy with another action on this resource while ${ctx.what} (${said}): wait a minute and try again`);
  }
  if (err.status >= 500) {
    return cloudError("API", `the Hetzner API kept failing while ${ctx.what} (${code || `HTTP ${err.status}`}: ${said}): check https://status.hetzner.com and spawn again`);
  }
  return cloudError("API", `Hetzner refused ${ctx.what}: ${said}${code ? ` (${code})` : ""}`);
}
