// DigitalOcean's side of the wire, kept apart from the provider's steps: the shapes of the API
// v2 answers we read, tag names, size facts and the one table that turns DO's errors into ours.
import { createHash } from "node:crypto";
import { HttpError, NetworkError, retryAfterHeaderMs } from "./rest-client.js";
import { API_RETRY } from "../retry.js";
import { CloudError } from "./types.js";

/** One droplet as GET/POST /droplets answer it (only the fields we read). */
export interface DoDroplet {
  id: number;
  name: string;
  /** new → active; off and archive are droplets that will not come up. */
  status: string;
  networks: { v4: { ip_address: string; type: string }[]; v6: unknown[] };
  tags: string[];
  size_slug?: string;
  region?: { slug: string };
}

export interface DoPages {
  pages?: { next?: string; last?: string };
}

export interface DoSshKey {
  id: number;
  fingerprint: string;
  public_key: string;
  name: string;
}

export interface DoSize {
  slug: string;
  /** MiB */
  memory: number;
  available: boolean;
  regions: string[];
  /** USD an hour (the API's price_hourly). */
  price_hourly?: number;
}

export interface DoAccount {
  status: string;
  status_message?: string;
  droplet_limit?: number;
}

/** DO's error body: `{ "id": "unprocessable_entity", "message": "…" }`. */
export interface DoErrorBody {
  id?: string;
  message?: string;
}

/** The Ubuntu image spawn uses on DigitalOcean. */
export const DO_IMAGE = "ubuntu-24-04-x64";
/** DO caps per_page at 200; one page covers any bot's droplets, the rest follow links.pages.next. */
export const DO_PAGE_SIZE = 200;
/** A runaway links.pages.next chain stops here (200 × 50 = 10,000 droplets). */
export const DO_MAX_PAGES = 50;

/**
 * Size slugs: lowercase words joined by dashes (s-2vcpu-2gb, c-2, so1_5-2vcpu-16gb; real slugs
 * carry underscores too). Regions: three letters and a digit (nyc3, fra1).
 */
export const SIZE_RE = /^[a-z0-9_]+(-[a-z0-9_]+)+$/;
export const REGION_RE = /^[a-z]{3}[0-9]$/;

/** Basic sizes in memory order: the default moves up this list for agents that need more. */
export const BASIC_SIZES = ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb", "s-8vcpu-16gb"] as const;

/** Memory in GiB when the slug says it (s-2vcpu-4gb, s-1vcpu-512mb-10gb); c-2 and friends do not. */
export function memoryGbFromSlug(slug: string): number | undefined {
  const m = /^[a-z0-9_]+-\d+vcpu-(\d+)(gb|mb)(?:-|$)/.exec(slug);
  if (!m) return undefined;
  return m[2] === "gb" ? Number(m[1]) : Number(m[1]) / 1024;
}

/** The smallest basic size with at least minGb (spawn moves OpenClaw from s-2vcpu-2gb to s-2vcpu-4gb). */
export function basicSizeWithMemory(minGb: number): string {
  return BASIC_SIZES.find((s) => (memoryGbFromSlug(s) ?? 0) >= minGb) ?? "s-8vcpu-16gb";
}

/** DO tags are plain names (`^[a-zA-Z0-9_:\-]+$`, ≤255), so a key/value tag becomes "key:value". */
export const DO_TAG_MAX = 255;

export function tagName(key: string, value?: string): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, "_");
  return (value === undefined ? clean(key) : `${clean(key)}:${clean(value)}`).slice(0, DO_TAG_MAX);
}

/** The value of a "key:value" tag among a droplet's tags. */
export function tagValue(tags: readonly string[], key: string): string | undefined {
  const prefix = `${key}:`;
  return tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
}

/** The public IPv4 address DO lists in networks.v4 (private ones are for the VPC). */
export function publicV4(d: DoDroplet): string | undefined {
  return d.networks?.v4?.find((n) => n.type === "public")?.ip_address;
}

/** DO's key fingerprint: MD5 of the key blob, as colon-separated hex pairs. */
export function md5Fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) throw new Error("the bot public key has no key data");
  return createHash("md5").update(Buffer.from(blob, "base64")).digest("hex").match(/../g)!.join(":");
}

/**
 * How long DO asks us to wait. A burst-limit 429 (250 a minute) carries retry-after; an
 * hourly-limit 429 (5,000 an hour) does not, and its ratelimit-reset is when the oldest request
 * of the hour expires, the first moment one more request is allowed. Undefined while requests
 * remain, for a plain backoff.
 */
export function doRetryAfterMs(headers: Headers, now: number): number | undefined {
  const burst = retryAfterHeaderMs(headers);
  if (burst !== undefined) return burst;
  const reset = Number(headers.get("ratelimit-reset") ?? NaN);
  if (headers.get("ratelimit-remaining") !== "0" || !Number.isFinite(reset)) return undefined;
  return Math.max(0, reset * 1000 - now);
}

/** A 429 whose wait is longer than a request's retries may take: the hourly budget is spent. */
export function isHourlyLimit(err: unknown): boolean {
  return err instanceof HttpError && err.status === 429 && (err.retryAfterMs ?? 0) > API_RETRY.deadlineMs;
}

const BILLING_URL = "https://cloud.digitalocean.com/account/billing";
export const AUTH_MESSAGE = "the DigitalOcean token was refused: set DIGITALOCEAN_ACCESS_TOKEN to a read/write token";

/** One line for the user about a locked or warned account (account.status). */
export function accountBlocked(status: string, statusMessage?: string): CloudError {
  const why = statusMessage ? ` (${statusMessage.replace(/\s+/g, " ").trim()})` : "";
  return new CloudError("BILLING", `the DigitalOcean account is ${status}${why}: settle its billing at ${BILLING_URL}, then spawn again`);
}

/**
 * The one translation of DigitalOcean's refusals into CloudErrors the user can act on; `doing`
 * says what we were doing ("creating the droplet"). Anything unknown becomes an API error that
 * keeps DO's own words.
 */
export function translateDoError(err: unknown, doing: string): unknown {
  if (err instanceof CloudError) return err;
  if (err instanceof NetworkError) {
    const code = /timed out/.test(err.message) ? "TIMEOUT" : "API";
    return new CloudError(code, `DigitalOcean did not answer while ${doing} (${err.message}); try again in a minute`);
  }
  if (!(err instanceof HttpError)) return err;
  const body = (typeof err.body === "object" && err.body !== null ? err.body : {}) as DoErrorBody;
  const id = body.id ?? "";
  const said = (body.message ?? "").replace(/\s+/g, " ").trim();
  const text = `${id} ${said}`.toLowerCase();
  if (err.status === 401 || id === "unauthorized") return new CloudError("AUTH", AUTH_MESSAGE);
  if (err.status === 403 || id === "forbidden") {
    return new CloudError("AUTH", `the DigitalOcean token may not do this (${doing}): set DIGITALOCEAN_ACCESS_TOKEN to a read/write token`);
  }
  if (/payment|billing|credit card|past due|account (is )?(locked|suspended)/.test(text)) {
    return new CloudError("BILLING", `DigitalOcean refused ${doing} over billing ("${said}"): settle it at ${BILLING_URL}, then spawn again`);
  }
  if (/droplet limit|exceeds? (your|the) .*limit/.test(text)) {
    return new CloudError("QUOTA", `the DigitalOcean account is at its droplet limit ("${said}"): delete a spawn or ask DigitalOcean to raise the limit`);
  }
  if (/(region|size|image).*(not available|unavailable|capacity)|(not available|unavailable).*(region|size)/.test(text)) {
    return new CloudError("CAPACITY", `DigitalOcean cannot place the droplet ("${said}"): try another --zone (nyc1, sfo3, ams3) or --size`);
  }
  if (err.status === 422 && /(invalid|unknown).*(region|size)|(region|size).*(invalid|unknown)/.test(text)) {
    return new CloudError("BAD_PLACEMENT", `DigitalOcean does not know that placement ("${said}"): try another --zone (nyc3, sfo3, ams3) or --size (s-2vcpu-4gb)`);
  }
  if (isHourlyLimit(err)) {
    const minutes = Math.ceil((err.retryAfterMs ?? 0) / 60_000);
    return new CloudError("API", `the DigitalOcean token has used its 5,000 API requests of the last hour (while ${doing}): the next one is allowed in about ${minutes} min, spawn again then`);
  }
  if (err.status === 429 || err.status >= 500) {
    return new CloudError("API", `DigitalOcean kept failing while ${doing} (HTTP ${err.status}); try again in a few minutes`);
  }
  return new CloudError("API", `DigitalOcean refused ${doing}: ${said || `HTTP ${err.status}`}${id ? ` (${id})` : ""}`);
}

/** DO says a key is already registered: "SSH Key is already in use on your account", "has already been taken". */
export function isAlreadyRegistered(err: unknown): boolean {
  if (!(err instanceof HttpError) || err.status !== 422) return false;
  const msg = ((err.body as DoErrorBody | undefined)?.message ?? "").toLowerCase();
  return /already (been taken|in use)/.test(msg);
}
