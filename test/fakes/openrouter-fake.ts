// A wire-level fake of OpenRouter's OAuth PKCE flow on 127.0.0.1, after
// https://openrouter.ai/docs/guides/overview/auth/oauth and the API reference's
// "Exchange authorization code for API key":
//   GET  /auth?callback_url=…&code_challenge=…&code_challenge_method=S256|plain
//        stands for the sign-in and consent page: the signed-in account approves at once and the
//        browser is sent (302) to callback_url with ?code=… added.
//   POST /api/v1/auth/keys  {"code", "code_verifier", "code_challenge_method"}
//        → 200 {"key": "sk-or-v1-…", "user_id": "user_…"}; errors as OpenRouter's usual body
//        {"error": {"code", "message"}}: 400 for a malformed request, 403 for an unknown or used
//        code or a verifier that does not match the challenge. A code works once.
// Faults: failNext(status) makes the next exchange answer that status.
//
// And the Management API ("Management API Keys" guide and the API reference's API Keys
// operations; OpenAPI of the official SDK, 2026-08), every route with
// `Authorization: Bearer <management key>`:
//   GET    /api/v1/keys[?offset=&include_disabled=]  → 200 {"data": [key…]} (100 a page)
//   POST   /api/v1/keys {"name", "limit"?, "limit_reset"?, "include_byok_in_limit"?, "expires_at"?}
//          → 201 {"data": key, "key": "sk-or-v1-…"}; expires_at must be ISO 8601 in UTC
//   GET    /api/v1/keys/{hash}  → 200 {"data": key} | 404
//   PATCH  /api/v1/keys/{hash} {"name"?, "disabled"?, "limit"?, "limit_reset"?, "include_byok_in_limit"?}
//          → 200 {"data": key} | 404. The published schema has no expires_at here; the fake
//          accepts it (patchExpiry = "accept", what the bot's design assumes) or drops it like
//          any unknown field (patchExpiry = "ignore", the schema read strictly).
//   DELETE /api/v1/keys/{hash}  → 200 {"deleted": true} | 404
// A key object carries hash, name, label, disabled, limit, limit_remaining, limit_reset,
// include_byok_in_limit, usage (and daily/weekly/monthly, byok_*), created_at, updated_at,
// expires_at, creator_user_id, workspace_id. No or an unknown bearer → 401; a key the fake issued
// for completions → 403 "Only management keys can perform this operation". Errors are
// {"error": {"code", "message"}}. Faults: failManagement(status) makes the next Management API
// call answer that status (429 with Retry-After).
//
// And the model list (API reference "List all models"; no authentication needed):
//   GET /api/v1/models → 200 {"data": [model…]}, each model with id, canonical_slug, name, created,
//   description, context_length, architecture, pricing (USD per token, as strings), top_provider,
//   per_request_limits and supported_parameters. `models` holds the ids served (a realistic list of
//   current ids); failModels(status) makes the next list requests answer that status.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

interface IssuedCode { challenge?: string; method?: "S256" | "plain"; account: string; used: boolean }
export interface ExchangeCall { body: unknown; contentType: string | undefined }

/** A key as the Management API describes it (the secret itself is kept beside it, never in it). */
export interface ManagedKeyData {
  hash: string; name: string; label: string; disabled: boolean;
  limit: number | null; limit_remaining: number | null; limit_reset: string | null; include_byok_in_limit: boolean;
  usage: number; usage_daily: number; usage_weekly: number; usage_monthly: number;
  byok_usage: number; byok_usage_daily: number; byok_usage_weekly: number; byok_usage_monthly: number;
  created_at: string; updated_at: string | null; expires_at: string | null; creator_user_id: string | null; workspace_id: string;
}

/** One call to the Management API, for counting calls per spawn lifecycle. */
export interface ManagementCall { method: string; path: string; status: number; body: unknown }

const LIST_PAGE = 100; // the API's page size
const LIMIT_RESETS = ["daily", "weekly", "monthly"];
// ISO 8601 in UTC only: the API rejects other offsets ("Must be UTC, other timezones will be rejected").
const UTC_TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$/;

export class OpenRouterFake {
  /** The OpenRouter account that "signs in" on the next /auth visit. */
  account = "user_fake_alice";
  /** Every key handed out, so a test can look for it where it must not be. */
  readonly issuedKeys: string[] = [];
  readonly exchanges: ExchangeCall[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private readonly faults: number[] = [];
  private readonly http: http.Server;
  /** The bearer the Management API accepts (an admin makes it at openrouter.ai/settings/management-keys). */
  readonly managementKey = `sk-or-v1-${randomBytes(32).toString("hex")}`;
  /** Keys made through the Management API, by hash, with their secret. */
  readonly managed = new Map<string, { data: ManagedKeyData; key: string }>();
  readonly managementCalls: ManagementCall[] = [];
  /** Whether PATCH honours expires_at (see the header). */
  patchExpiry: "accept" | "ignore" = "accept";
  private readonly workspaceId = randomUUID();
  private readonly managementFaults: number[] = [];
  /** The ids GET /api/v1/models lists; a test may replace them (a model retired, a new one added). */
  models: string[] = [...FAKE_MODEL_IDS];
  /** How many times the model list was asked for (the bot caches it for a day). */
  modelListCalls = 0;
  private readonly modelFaults: number[] = [];

  private constructor() {
    this.http = http.createServer((req, res) => void this.onRequest(req, res));
  }

  static async start(): Promise<OpenRouterFake> {
    const fake = new OpenRouterFake();
    await new Promise<void>((r) => fake.http.listen(0, "127.0.0.1", () => r()));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get authUrl(): string {
    return `${this.url}/auth`;
  }

  get apiUrl(): string {
    return `${this.url}/api/v1`;
  }

  /** The next exchange answers this HTTP status with an error body. */
  failNext(status: number): void {
    this.faults.push(status);
  }

  /** The next Management API call answers this HTTP status with an error body. */
  failManagement(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.managementFaults.push(status);
  }

  /** The next `times` model list requests answer this HTTP status. */
  failModels(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.modelFaults.push(status);
  }

  /** Keys still there (not deleted), as the API shows them. */
  keys(): ManagedKeyData[] {
    return [...this.managed.values()].map((k) => k.data);
  }

  /** Spend on a key, as requests through it would (usage up, limit_remaining down). */
  spend(hash: string, usd: number): void {
    const k = this.managed.get(hash);
    if (!k) throw new Error(`no key ${hash}`);
    const d = k.data;
    d.usage += usd; d.usage_daily += usd; d.usage_weekly += usd; d.usage_monthly += usd;
    if (d.limit !== null) d.limit_remaining = Math.max(0, d.limit - d.usage);
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const raw = await readBody(req);
    if (req.method === "GET" && url.pathname === "/auth") return this.authorize(url, res);
    if (req.method === "POST" && url.pathname === "/api/v1/auth/keys") return this.exchange(req, raw, res);
    if (req.method === "GET" && url.pathname === "/api/v1/models") return this.listModels(res);
    const managed = /^\/api\/v1\/keys(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (managed) return this.manage(req, url, managed[1], raw, res);
    sendError(res, 404, "Not Found");
  }

  /** The Management API (see the header). */
  private manage(req: http.IncomingMessage, url: URL, hash: string | undefined, raw: string, res: http.ServerResponse): void {
    const method = req.method ?? "GET";
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = Symbol.for("invalid");
    }
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.managementCalls.push({ method, path: url.pathname, status, body: typeof body === "symbol" ? raw : body });
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(payload));
    };
    const fail = (status: number, message: string) => answer(status, { error: { code: status, message } }, status === 429 ? { "retry-after": "1" } : {});
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer) return fail(401, "Missing Authentication header");
    if (bearer !== this.managementKey) {
      const issued = this.issuedKeys.includes(bearer) || [...this.managed.values()].some((k) => k.key === bearer);
      return issued ? fail(403, "Only management keys can perform this operation") : fail(401, "Invalid credentials");
    }
    const fault = this.managementFaults.shift();
    if (fault !== undefined) return fail(fault, fault === 429 ? "Rate limit exceeded" : "Internal Server Error");
    const now = new Date().toISOString();
    if (hash === undefined) {
      if (method === "GET") {
        const offset = Number(url.searchParams.get("offset") ?? 0);
        const withDisabled = url.searchParams.get("include_disabled") === "true";
        if (!Number.isInteger(offset) || offset < 0) return fail(400, "Invalid request parameters");
        const all = this.keys().filter((k) => withDisabled || !k.disabled);
        return answer(200, { data: all.slice(offset, offset + LIST_PAGE) });
      }
      if (method !== "POST") return fail(405, "Method Not Allowed");
      if (!req.headers["content-type"]?.startsWith("application/json") || !isObject(body)) return fail(400, "Invalid JSON body");
      const problem = checkKeyFields(body, true);
      if (problem) return fail(400, problem);
      const key = `sk-or-v1-${randomBytes(32).toString("hex")}`;
      const limit = typeof body.limit === "number" ? body.limit : null;
      const data: ManagedKeyData = {
        hash: createHash("sha256").update(key).digest("hex"), name: body.name as string, label: `${key.slice(0, 12)}...${key.slice(-4)}`,
        disabled: false, limit, limit_remaining: limit, limit_reset: (body.limit_reset as string | null | undefined) ?? null,
        include_byok_in_limit: body.include_byok_in_limit === true,
        usage: 0, usage_daily: 0, usage_weekly: 0, usage_monthly: 0, byok_usage: 0, byok_usage_daily: 0, byok_usage_weekly: 0, byok_usage_monthly: 0,
        created_at: now, updated_at: null, expires_at: (body.expires_at as string | null | undefined) ?? null, creator_user_id: null, workspace_id: this.workspaceId,
      };
      this.managed.set(data.hash, { data, key });
      return answer(201, { data, key });
    }
    const found = this.managed.get(decodeURIComponent(hash));
    if (method === "GET") return found ? answer(200, { data: found.data }) : fail(404, "Resource not found");
    if (method === "DELETE") {
      if (!found) return fail(404, "Resource not found");
      this.managed.delete(found.data.hash);
      return answer(200, { deleted: true });
    }
    if (method !== "PATCH") return fail(405, "Method Not Allowed");
    if (!found) return fail(404, "Resource not found");
    if (!req.headers["content-type"]?.startsWith("application/json") || !isObject(body)) return fail(400, "Invalid JSON body");
    const problem = checkKeyFields(body, false);
    if (problem) return fail(400, problem);
    const d = found.data;
    if (typeof body.name === "string") d.name = body.name;
    if (typeof body.disabled === "boolean") d.disabled = body.disabled;
    if (body.limit !== undefined) {
      d.limit = body.limit as number | null;
      d.limit_remaining = d.limit === null ? null : Math.max(0, d.limit - d.usage);
    }
    if (body.limit_reset !== undefined) d.limit_reset = body.limit_reset as string | null;
    if (typeof body.include_byok_in_limit === "boolean") d.include_byok_in_limit = body.include_byok_in_limit;
    if (body.expires_at !== undefined && this.patchExpiry === "accept") d.expires_at = body.expires_at as string | null;
    d.updated_at = now;
    return answer(200, { data: d });
  }

  /** GET /api/v1/models: every model, in the documented shape. */
  private listModels(res: http.ServerResponse): void {
    this.modelListCalls++;
    const fault = this.modelFaults.shift();
    if (fault !== undefined) return sendError(res, fault, "Internal Server Error");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: this.models.map(modelEntry) }));
  }

  private authorize(url: URL, res: http.ServerResponse): void {
    const callback = url.searchParams.get("callback_url");
    if (!callback || !/^https?:\/\//.test(callback)) return sendError(res, 400, "callback_url is required");
    const challenge = url.searchParams.get("code_challenge") ?? undefined;
    const method = url.searchParams.get("code_challenge_method") ?? undefined;
    if (challenge && method !== "S256" && method !== "plain") return sendError(res, 400, "code_challenge_method must be S256 or plain");
    const code = randomBytes(18).toString("base64url");
    this.codes.set(code, { challenge, method: method as IssuedCode["method"], account: this.account, used: false });
    const back = new URL(callback);
    back.searchParams.append("code", code);
    res.writeHead(302, { location: back.href }).end();
  }

  private exchange(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    this.exchanges.push({ body, contentType: req.headers["content-type"] });
    const fault = this.faults.shift();
    if (fault !== undefined) return sendError(res, fault, "Internal Server Error");
    if (!req.headers["content-type"]?.startsWith("application/json") || !body || typeof body !== "object") return sendError(res, 400, "Invalid JSON body");
    const { code, code_verifier: verifier, code_challenge_method: method } = body as Record<string, unknown>;
    if (typeof code !== "string" || code === "") return sendError(res, 400, "code is required");
    if (method !== undefined && method !== "S256" && method !== "plain") return sendError(res, 400, "Invalid code_challenge_method");
    const issued = this.codes.get(code);
    if (!issued || issued.used) return sendError(res, 403, "Invalid code");
    if (issued.challenge !== undefined) {
      if (typeof verifier !== "string" || method !== issued.method) return sendError(res, 403, "Invalid code_verifier");
      const derived = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (derived !== issued.challenge) return sendError(res, 403, "Invalid code_verifier");
    }
    issued.used = true;
    const key = `sk-or-v1-${randomBytes(32).toString("hex")}`;
    this.issuedKeys.push(key);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ key, user_id: issued.account }));
  }
}

/** Current OpenRouter ids (December 2026), the ids the agents' defaults and the tests use among them. */
export const FAKE_MODEL_IDS: readonly string[] = [
  "openrouter/auto",
  "anthropic/claude-sonnet-4.6", "anthropic/claude-opus-4.6", "anthropic/claude-haiku-4.5", "anthropic/claude-sonnet-4.5", "anthropic/claude-opus-4.1",
  "openai/gpt-5.3-codex", "openai/gpt-5.2", "openai/gpt-5", "openai/gpt-5-mini", "openai/gpt-oss-120b",
  "google/gemini-3-pro-preview", "google/gemini-2.5-pro", "google/gemini-2.5-flash",
  "deepseek/deepseek-v3.2", "qwen/qwen3-coder", "moonshotai/kimi-k2-thinking", "z-ai/glm-4.6", "x-ai/grok-code-fast-1",
  "mistralai/devstral-medium", "meta-llama/llama-4-maverick",
];

/** One model as GET /api/v1/models describes it. */
function modelEntry(id: string, i: number) {
  const [author = "", slug = ""] = id.split("/");
  const contextLength = 128_000 + i * 8_192;
  return {
    id, canonical_slug: `${id}-20260101`, hugging_face_id: "", name: `${author}: ${slug}`, created: 1_767_225_600 - i * 86_400,
    description: `${slug} by ${author}`, context_length: contextLength,
    architecture: { modality: "text->text", input_modalities: ["text"], output_modalities: ["text"], tokenizer: "Other", instruct_type: null },
    pricing: { prompt: "0.000003", completion: "0.000015", request: "0", image: "0", web_search: "0", internal_reasoning: "0" },
    top_provider: { context_length: contextLength, max_completion_tokens: 64_000, is_moderated: false },
    per_request_limits: null,
    supported_parameters: ["max_tokens", "temperature", "tools", "tool_choice", "reasoning"],
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The documented field rules; the first problem as the API would word it, or undefined. */
function checkKeyFields(body: Record<string, unknown>, creating: boolean): string | undefined {
  if (creating || body.name !== undefined) {
    if (typeof body.name !== "string" || body.name.length < 1) return "name is required and must be a non-empty string";
  }
  if (body.limit !== undefined && body.limit !== null && (typeof body.limit !== "number" || !Number.isFinite(body.limit) || body.limit < 0)) return "limit must be a non-negative number";
  if (body.limit_reset !== undefined && body.limit_reset !== null && !LIMIT_RESETS.includes(body.limit_reset as string)) return "limit_reset must be daily, weekly or monthly";
  if (body.disabled !== undefined && typeof body.disabled !== "boolean") return "disabled must be a boolean";
  if (body.expires_at !== undefined && body.expires_at !== null) {
    if (typeof body.expires_at !== "string" || !UTC_TIMESTAMP_RE.test(body.expires_at) || Number.isNaN(Date.parse(body.expires_at))) {
      return "expires_at must be an ISO 8601 UTC timestamp; other timezones are rejected";
    }
    if (Date.parse(body.expires_at) <= Date.now()) return "expires_at must be in the future";
  }
  return undefined;
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: status, message } }));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
