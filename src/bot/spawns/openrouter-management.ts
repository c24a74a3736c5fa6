// A small client of OpenRouter's Management API (keys made, read, changed and deleted with a
// management key): https://openrouter.ai/docs/guides/overview/auth/management-api-keys and the
// API reference's "API Keys" operations. Answers are validated; an error never holds a key.
import * as v from "valibot";
import { secrets } from "../../secrets.js";
import { OPENROUTER_KEY_RE } from "../commands/user-settings.js";

/** GET /keys answers at most this many keys a page (the API's page size). */
const LIST_PAGE = 100;
/** Pages read at most in one listing: 2,000 keys is far beyond one bot's live spawns. */
const MAX_LIST_PAGES = 20;
/** A spawn waits on these calls (create before its run, delete at its end): a stuck API must not hold it long. */
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ERROR_TEXT = 200;

const KeyData = v.object({
  hash: v.pipe(v.string(), v.minLength(1)),
  name: v.string(),
  disabled: v.boolean(),
  limit: v.nullable(v.number()),
  limit_remaining: v.nullable(v.number()),
  usage: v.number(),
  expires_at: v.optional(v.nullable(v.string()), null),
});
const KeyList = v.object({ data: v.array(KeyData) });
const Created = v.object({ data: KeyData, key: v.pipe(v.string(), v.regex(OPENROUTER_KEY_RE)) });
const OneKey = v.object({ data: KeyData });
const Deleted = v.object({ deleted: v.literal(true) });
const ErrorBody = v.object({ error: v.object({ message: v.optional(v.string()) }) });

/** What the bot reads of a managed key. */
export interface ManagedKey {
  hash: string;
  name: string;
  disabled: boolean;
  /** Spend limit in USD; null for none. */
  limit: number | null;
  limitRemaining: number | null;
  /** USD spent through the key. */
  usage: number;
  /** ISO 8601 in UTC, or null when it never expires. */
  expiresAt: string | null;
}

/** A call that failed: status 0 when OpenRouter could not be reached or did not answer in time. */
export class ManagementApiError extends Error {
  override name = "ManagementApiError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class OpenRouterManagement {
  private readonly base: string;

  constructor(apiUrl: string, private readonly managementKey: string) {
    this.base = `${apiUrl.replace(/\/$/, "")}/keys`;
  }

  /** POST /keys: the new key's secret (shown once) and its record. */
  async createKey(spec: { name: string; limitUsd: number; expiresAt: number | null }): Promise<{ key: string; data: ManagedKey }> {
    const body = { name: spec.name, limit: spec.limitUsd, expires_at: spec.expiresAt === null ? null : new Date(spec.expiresAt).toISOString() };
    const created = parse(Created, await this.call("POST", "", body), "create");
    secrets.add(created.key); // before anything could log it
    return { key: created.key, data: toKey(created.data) };
  }

  /** GET /keys, page after page (disabled keys too). */
  async listKeys(): Promise<ManagedKey[]> {
    const out: ManagedKey[] = [];
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const { data } = parse(KeyList, await this.call("GET", "", undefined, `?include_disabled=true&offset=${page * LIST_PAGE}`), "list");
      out.push(...data.map(toKey));
      if (data.length < LIST_PAGE) break;
    }
    return out;
  }

  /** GET /keys/{hash}. */
  async getKey(hash: string): Promise<ManagedKey> {
    return toKey(parse(OneKey, await this.call("GET", hash), "read").data);
  }

  /**
   * PATCH /keys/{hash}. expires_at is not in OpenRouter's published schema for this call: the
   * answer says whether it took (compare its expiresAt with what was asked).
   */
  async updateKey(hash: string, patch: { expiresAt?: number | null; disabled?: boolean; limitUsd?: number | null; name?: string }): Promise<ManagedKey> {
    const body: Record<string, unknown> = {};
    if (patch.expiresAt !== undefined) body.expires_at = patch.expiresAt === null ? null : new Date(patch.expiresAt).toISOString();
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    if (patch.limitUsd !== undefined) body.limit = patch.limitUsd;
    if (patch.name !== undefined) body.name = patch.name;
    return toKey(parse(OneKey, await this.call("PATCH", hash, body), "update").data);
  }

  /** DELETE /keys/{hash}: "gone" when OpenRouter no longer knows the key (deleted before, or expired and removed). */
  async deleteKey(hash: string): Promise<"deleted" | "gone"> {
    try {
      parse(Deleted, await this.call("DELETE", hash), "delete");
      return "deleted";
    } catch (err) {
      if (err instanceof ManagementApiError && err.status === 404) return "gone";
      throw err;
    }
  }

  private async call(method: string, hash: string, body?: unknown, query = ""): Promise<unknown> {
    const url = `${hash ? `${this.base}/${encodeURIComponent(hash)}` : this.base}${query}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.managementKey}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      throw new ManagementApiError(0, timedOut ? "OpenRouter did not answer in time" : "OpenRouter could not be reached");
    }
    let answer: unknown;
    try {
      answer = await res.json();
    } catch {
      answer = undefined;
    }
    if (res.ok) return answer;
    const said = v.safeParse(ErrorBody, answer);
    const text = said.success && said.output.error.message ? `: ${secrets.redact(said.output.error.message).slice(0, MAX_ERROR_TEXT)}` : "";
    throw new ManagementApiError(res.status, `OpenRouter's key API answered HTTP ${res.status}${text}`);
  }
}

function parse<S extends v.GenericSchema>(schema: S, answer: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, answer);
  if (!r.success) throw new ManagementApiError(200, `OpenRouter's answer to the key ${what} was not understood`);
  return r.output;
}

function toKey(d: v.InferOutput<typeof KeyData>): ManagedKey {
  return { hash: d.hash, name: d.name, disabled: d.disabled, limit: d.limit, limitRemaining: d.limit_remaining, usage: d.usage, expiresAt: d.expires_at ?? null };
}
