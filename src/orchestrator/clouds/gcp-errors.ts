// Compute Engine's refusals turned into CloudErrors with one line saying what happened and what to
// do: the one table of GCP messages. Errors reach us in three shapes (test-harness.md, "GCP"):
// google-gax's GoogleError with a gRPC code and the ErrorInfo reason; google-auth-library's
// GaxiosError with the HTTP status and the raw JSON body as its message; and an operation that
// ended DONE with error.errors[] (quota and capacity are reported there). gceFacts reads all three.
import { CloudError } from "./types.js";

export interface GcpErrorContext {
  project: string;
  zone: string;
  /** The machine type of a create, for capacity and placement messages. */
  machineType?: string;
}

/** An operation that finished with errors (GCE reports quota and capacity refusals this way). */
export class GceOperationError extends Error {
  constructor(readonly errors: { code?: string | null; message?: string | null }[], readonly operationType: string) {
    super(`the ${operationType} operation failed: ${errors.map((e) => `${e.code ?? "ERROR"}: ${e.message ?? ""}`).join("; ")}`);
  }
}

/** What an error says, whatever its shape. */
export interface GceErrorFacts {
  /** HTTP status (a gRPC code is mapped to the status Google pairs it with). */
  status?: number;
  /** Every code, reason and message the error carries, for matching. */
  text: string;
  /** The service's own message, for quoting. */
  message: string;
  /** No answer at all: refused, reset, timed out. */
  network?: "timeout" | "unreachable";
}

/** google.rpc.Code → HTTP status (cloud.google.com/apis/design/errors#handling_errors). */
const GRPC_TO_HTTP: Record<number, number> = {
  1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
};
const NETWORK_CODES = /ECONNRESET|ECONNREFUSED|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|other side closed|fetch failed/;
const MAX_QUOTED_CHARS = 160;

interface ErrorLike {
  name?: string;
  code?: number | string;
  status?: number | string;
  message?: string;
  reason?: string;
  cause?: { code?: string; message?: string };
  response?: { status?: number; data?: unknown };
}

export function gceFacts(err: unknown): GceErrorFacts {
  if (err instanceof GceOperationError) {
    return { text: err.errors.map((e) => `${e.code} ${e.message}`).join(" "), message: err.errors.map((e) => e.message ?? e.code).join("; ") };
  }
  const e = (err && typeof err === "object" ? err : { message: String(err) }) as ErrorLike;
  if (e.name === "TimeoutError" || e.name === "AbortError") return { text: e.name, message: "no answer in time", network: "timeout" };
  const causeText = `${e.cause?.code ?? ""} ${e.cause?.message ?? ""}`;
  if (typeof e.code !== "number" && !e.response && NETWORK_CODES.test(`${e.code ?? ""} ${e.message ?? ""} ${causeText}`)) {
    return { text: `${e.message} ${causeText}`, message: causeText.trim() || (e.message ?? ""), network: "unreachable" };
  }
  // GaxiosError: the body is in response.data or, as gax passes it on, the message is the raw JSON.
  const body = parseBody(e.response?.data) ?? parseBody(e.message);
  const httpStatus = typeof e.response?.status === "number" ? e.response.status : typeof e.status === "number" ? e.status : undefined;
  const code = typeof e.code === "number" ? (e.code >= 100 ? e.code : GRPC_TO_HTTP[e.code]) : undefined;
  const status = body?.code ?? httpStatus ?? code;
  const message = body?.message ?? e.message ?? "";
  const text = [e.reason, typeof e.code === "string" ? e.code : "", message, body?.status, ...(body?.reasons ?? [])].filter(Boolean).join(" ");
  return { status, text, message };
}

interface ParsedBody { code?: number; message?: string; status?: string; reasons: string[] }

/** Google's error envelope { error: { code, message, status, errors[].reason, details[].reason } }, or OAuth's { error, error_description }. */
function parseBody(raw: unknown): ParsedBody | undefined {
  let json: unknown = raw;
  if (typeof raw === "string") {
    if (!raw.trimStart().startsWith("{")) return undefined;
    try {
      json = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!json || typeof json !== "object") return undefined;
  const outer = json as { error?: unknown; error_description?: string };
  if (typeof outer.error === "string") return { message: `${outer.error}: ${outer.error_description ?? ""}`, reasons: [outer.error], code: 401 };
  const inner = outer.error as { code?: number; message?: string; status?: string; errors?: { reason?: string }[]; details?: { reason?: string }[] } | undefined;
  if (!inner || typeof inner !== "object") return undefined;
  const reasons = [...(inner.errors ?? []), ...(inner.details ?? [])].map((d) => d?.reason).filter((r): r is string => typeof r === "string");
  return { code: inner.code, message: inner.message, status: inner.status, reasons };
}

export function isNotFound(err: unknown): boolean {
  return !(err instanceof GceOperationError) && gceFacts(err).status === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return !(err instanceof GceOperationError) && gceFacts(err).status === 409;
}

/** Throttling, 5xx and no answer: worth another try. Quota (also 429/RESOURCE_EXHAUSTED) is not. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof CloudError || err instanceof GceOperationError) return false;
  const f = gceFacts(err);
  if (f.network) return true;
  if (QUOTA_RE.test(f.text)) return false;
  return f.status === 429 || (f.status !== undefined && f.status >= 500) || /rateLimitExceeded|RATE_LIMIT_EXCEEDED/.test(f.text);
}

const QUOTA_RE = /QUOTA_EXCEEDED|quotaExceeded|Quota '[^']*' exceeded/i;
const BILLING_RE = /BILLING_DISABLED|billingNotEnabled|requires billing|billing (account|to be enabled|is disabled)/i;
const DISABLED_RE = /SERVICE_DISABLED|accessNotConfigured|API has not been used|it is disabled/i;
const CAPACITY_RE = /ZONE_RESOURCE_POOL_EXHAUSTED|does not have enough resources available/i;
const MACHINE_TYPE_RE = /machineType|Machine type with name/i;
const NO_CREDENTIALS_RE = /Could not load the default credentials|Unable to detect a Project Id|GOOGLE_APPLICATION_CREDENTIALS/i;
const CREDENTIALS_HINT = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file of the project and restart the bot";

function quote(message: string): string {
  const line = message.replace(/\s+/g, " ").trim();
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 1)}…` : line;
}

/**
 * Translate an error from the Compute Engine client (or an operation) into a CloudError with a
 * stable code and a one-line message; errors that are not Google's or the network's (bugs) are
 * returned unchanged.
 */
export function translateGcpError(err: unknown, ctx: GcpErrorContext): unknown {
  if (err instanceof CloudError || !err || typeof err !== "object") return err;
  const { project, zone } = ctx;
  const size = ctx.machineType ?? "that machine type";
  if (err instanceof Error && NO_CREDENTIALS_RE.test(err.message)) return new CloudError("AUTH", `no GCP credentials found: ${CREDENTIALS_HINT}`);
  const f = gceFacts(err);
  if (f.network === "timeout") {
    return new CloudError("TIMEOUT", "Compute Engine did not answer in time, even after retries: check the bot's network and status.cloud.google.com, then spawn again");
  }
  if (f.network) return new CloudError("API", `could not reach Compute Engine (${quote(f.message)}): check the bot's network and its GCP endpoint setting, then spawn again`);
  if (f.status === undefined && !(err instanceof GceOperationError)) return err;

  if (BILLING_RE.test(f.text)) {
    return new CloudError("BILLING", `GCP project ${project} has no active billing account: link one at console.cloud.google.com/billing/linkedaccount?project=${project}, then spawn again`);
  }
  if (DISABLED_RE.test(f.text)) {
    return new CloudError("NOT_CONFIGURED", `the Compute Engine API is off in GCP project ${project}: enable the Compute Engine API for project ${project} at console.cloud.google.com/apis/library/compute.googleapis.com?project=${project}, wait a minute, then spawn again`);
  }
  if (QUOTA_RE.test(f.text)) {
    return new CloudError("QUOTA", `GCP project ${project} reached a Compute Engine quota (${quote(f.message)}): delete a spawn you no longer need, or request more quota under IAM & Admin → Quotas`);
  }
  if (CAPACITY_RE.test(f.text)) {
    return new CloudError("CAPACITY", `Compute Engine has no ${size} capacity in ${zone} right now (ZONE_RESOURCE_POOL_EXHAUSTED): try another --zone (e.g. ${siblingZone(zone)}), another --size, or again in a few minutes`);
  }
  if (f.status === 400 && MACHINE_TYPE_RE.test(f.text)) {
    return new CloudError("BAD_PLACEMENT", `Compute Engine has no machine type ${size} in ${zone}: pick another --size, e.g. e2-medium`);
  }
  if (f.status === 404 && f.text.includes(`zones/${zone}'`)) {
    return new CloudError("BAD_PLACEMENT", `Compute Engine has no zone ${zone} in project ${project}: use --zone with a zone such as us-central1-a, or fix the bot's GCP zone setting`);
  }
  if (f.status === 404 && f.text.includes(`projects/${project}'`)) {
    return new CloudError("NOT_CONFIGURED", `GCP project ${project} does not exist or the bot cannot see it: fix the bot's GCP project setting, then restart it`);
  }
  if (f.status === 401) return new CloudError("AUTH", `Google refused the bot's GCP credentials (${quote(f.message)}): ${CREDENTIALS_HINT}`);
  if (f.status === 403) {
    return new CloudError("AUTH", `the bot's GCP credentials lack a Compute Engine permission in project ${project} (${quote(f.message)}): grant its service account the Compute Instance Admin (v1) and Compute Security Admin roles`);
  }
  if (isRetryable(err)) return new CloudError("API", `Compute Engine kept failing or throttling the bot's calls (${quote(f.message)}), even after retries: try again in a few minutes`);
  return new CloudError("API", `Compute Engine refused the request (${quote(f.message)}): fix what it names, or ask the bot's admin`);
}

/** Another zone of the same region to suggest: us-central1-a → us-central1-b. */
function siblingZone(zone: string): string {
  const last = zone.slice(-1);
  return `${zone.slice(0, -1)}${last === "b" ? "c" : "b"}`;
}
