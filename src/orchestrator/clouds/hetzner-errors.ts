// The one place that reads Hetzner's error body, { "error": { "code", "message", "details" } },
// and turns it into a CloudError with a message that says what to do.
// Codes: https://docs.hetzner.cloud/reference/cloud#errors
import { HttpError, NetworkError } from "./rest-client.js";
import { KNOWN_LOCATIONS } from "./hetzner-sizes.js";
import { CloudError } from "./types.js";

export const AUTH_MESSAGE = "the Hetzner token was refused: set HCLOUD_TOKEN to a read/write API token of the project";

interface HetznerErrorBody {
  error?: { code?: string; message?: string; details?: { fields?: { name?: string }[] } };
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

/** Out of servers, cores or Primary IPs: the cases where freeing our orphaned Primary IPs may help. */
export function isProjectLimit(err: unknown): boolean {
  const code = hetznerErrorCode(err);
  if (code === "resource_limit_exceeded" || code === "limit_exceeded" || code === "primary_ip_limit") return true;
  return err instanceof HttpError && /primary_ip_limit/.test(hetznerMessage(err));
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
  if (err.status === 401 || code === "unauthorized") return cloudError("AUTH", AUTH_MESSAGE);
  if (code === "token_readonly" || code === "forbidden") {
    return cloudError("AUTH", `the Hetzner token may not do this (${said}): set HCLOUD_TOKEN to a read/write API token of the project`);
  }
  if (isProjectLimit(err)) {
    return cloudError("QUOTA", `the Hetzner project is at a limit (${said}): delete servers or Primary IPs you no longer need, or ask Hetzner to raise the limit`);
  }
  if (code === "resource_unavailable" || code === "placement_error" || code === "no_space_left_in_location") {
    return cloudError("CAPACITY", `Hetzner has no room for ${place} right now (${said}): try another --zone (${KNOWN_LOCATIONS.join(", ")}) or --size`);
  }
  if (code === "invalid_input" && (invalidFields(err).some((f) => f === "server_type" || f === "location") || /server.?type|location/i.test(said))) {
    return cloudError("BAD_PLACEMENT", `Hetzner does not offer ${place} (${said}): pick a --size and --zone from https://www.hetzner.com/cloud`);
  }
  // "locked" alone means another action is running on the resource, not a locked account.
  if (code === "payment_required" || /payment|billing|unpaid|account (is )?(locked|blocked|suspended)/i.test(said)) {
    return cloudError("BILLING", `Hetzner will not create servers for this project until billing is settled (${said}): check the billing page of https://console.hetzner.cloud, then spawn again`);
  }
  if (code === "rate_limit_exceeded") {
    return cloudError("API", `Hetzner kept rate-limiting the bot while ${ctx.what}: wait a minute and spawn again`);
  }
  return cloudError("API", `Hetzner refused ${ctx.what}: ${said}${code ? ` (${code})` : ""}`);
}
