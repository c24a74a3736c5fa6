// A wire-level fake of Slack on 127.0.0.1 for the real @slack/bolt, @slack/web-api and
// @slack/socket-mode clients: the Web API under /api/<method> (form or JSON bodies, bearer or
// `token` field), response URLs under /response/<id>, and Socket Mode on /link/ (a `ws` server
// on the same port, reached through apps.connections.open). Shapes follow Slack's method
// reference (docs.slack.dev/reference/methods/*, mirrored in slack-ruby/slack-api-ref) and the
// Socket Mode guide (docs.slack.dev/apis/events-api/using-socket-mode). The exported builders
// produce what Slack sends to an app: slash command forms, block_actions / view_submission
// payloads, event_callback bodies, and the v0 request signature. Blocks and views over Block
// Kit's documented limits are refused (slack-block-kit.ts): chat methods with invalid_blocks,
// views methods with invalid_arguments, each naming the problems in response_metadata.messages.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { captureMessage, captureSecret } from "../support/capture.js";
import { blockKitErrors, viewErrors, type Surface } from "./slack-block-kit.js";

type Json = Record<string, unknown>;

export const SLACK_FAKE_DEFAULTS = {
  botToken: "xoxb-fake-bot-token", appToken: "xapp-fake-app-token", teamId: "T0FAKE", teamDomain: "fake-team",
  botUserId: "U0BOT", botId: "B0BOT", appId: "A0FAKE", userId: "U0ALICE", userName: "alice", channelId: "C0GENERAL", channelName: "general",
} as const;
const D = SLACK_FAKE_DEFAULTS;
/** Where the standalone builders point response_url when none is given: a closed local port, so
 * a forgotten URL fails fast and never leaves the machine. Use fake.responseUrl() for real ones. */
const UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset";

// ---------------------------------------------------------------------------------------------
// Rate limits (docs.slack.dev/apis/web-api/rate-limits; tiers per method from the method pages).
// Slack publishes minimums ("Tier 3: 50+ per minute ... sporadic bursts are welcome", "Tier 4:
// 100+ per minute ... generous burst behavior", chat.postMessage "generally allows posting one
// message per second per channel ... short bursts >1 allowed"), not an algorithm. The fake uses a
// token bucket per key that refills at the published rate and holds `burst` tokens, so a client
// pacing itself at the published rate never sees a 429 and a tight loop soon does.
// ---------------------------------------------------------------------------------------------
interface Limit { perMinute: number; burst: number }
const TIER_3: Limit = { perMinute: 50, burst: 10 };
const TIER_4: Limit = { perMinute: 100, burst: 20 };
/** chat.postMessage: 1 per second per channel, a burst of 2 (the workspace-wide cap is not modelled). */
const POST_MESSAGE: Limit = { perMinute: 60, burst: 2 };
const METHOD_LIMITS: Record<string, Limit> = {
  "chat.update": TIER_3, "chat.delete": TIER_3, "conversations.open": TIER_3, "apps.connections.open": TIER_3,
  "chat.postEphemeral": TIER_4, "views.open": TIER_4, "views.update": TIER_4, "views.push": TIER_4, "views.publish": TIER_4, "users.info": TIER_4,
};

class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly limit: Limit) { this.tokens = limit.burst; }
  /** Takes a token: 0 when granted, else the whole seconds until one is back (the Retry-After). */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.perMinute) / 60_000);
    this.last = now;
    if (this.tokens >= 1) { this.tokens -= 1; return 0; }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 60) / this.limit.perMinute));
  }
}

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------
export interface SlackFakeOptions { botToken?: string; appToken?: string; teamId?: string; enforceLimits?: boolean }
/** One Web API request as received. `args` has JSON-string fields (blocks, attachments, view) decoded. */
export interface ApiCall { method: string; args: Json; time: number; status: number; ok: boolean; error?: string }
export interface StoredMessage { channel: string; ts: string; thread_ts?: string; text?: string; blocks?: unknown; attachments?: unknown; user: string; bot_id: string; edits: number }
export interface EphemeralMessage { channel: string; user: string; text?: string; blocks?: unknown; thread_ts?: string; message_ts: string }
/** A POST to a response URL (what Bolt's respond() sends). */
export interface ResponsePost { id: string; body: Json; time: number }
export interface OpenedView { method: "views.open" | "views.push" | "views.update"; id: string; hash: string; trigger_id?: string; view: Json }
export interface SocketAck { envelope_id: string; payload?: Json }
export type EnvelopeType = "events_api" | "slash_commands" | "interactive";
export interface EnvelopeOptions { retryAttempt?: number; retryReason?: string; envelopeId?: string; acceptsResponsePayload?: boolean; timeoutMs?: number }
export interface FakeUser { id: string; name: string; real_name: string; tz: string; is_admin: boolean }

/** A refusal; `messages` are the lines Slack adds under response_metadata.messages, `errors` the bare ones of invalid_blocks. */
class SlackApiError extends Error {
  constructor(code: string, readonly messages: string[] = [], readonly errors?: string[]) { super(code); }
}
const asErrors = (problems: string[]) => problems.map((p) => `[ERROR] ${p}`);
const fail = (code: string, messages: string[] = []): never => { throw new SlackApiError(code, messages); };

/** chat.*: blocks over Block Kit's limits are invalid_blocks, listed under errors and response_metadata. */
function checkBlocks(a: Json, surface: Surface): void {
  if (a.blocks === undefined) return;
  const problems = blockKitErrors(a.blocks, surface);
  if (problems.length) throw new SlackApiError("invalid_blocks", asErrors(problems), problems);
}

/** views.*: the same problems in a view are invalid_arguments, listed under response_metadata. */
function checkView(view: Json): void {
  const problems = viewErrors(view);
  if (problems.length) fail("invalid_arguments", asErrors(problems));
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Slack's `ts`: seconds.microseconds, unique and increasing within this process. */
let lastMicros = 0;
export function nextTs(): string {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, "0")}`;
}

/** A trigger_id as the fake mints it: the first segment is the mint time in ms, so views.open can
 * apply Slack's rules (valid 3 s, usable once) without the builders knowing the fake. */
export function triggerId(): string {
  return `${Date.now()}.${String(Math.floor(Math.random() * 1e12)).padStart(12, "0")}.${randomBytes(16).toString("hex")}`;
}
const TRIGGER_TTL_MS = 3000;
/** Slack: a response_url may be used up to 5 times within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;

function viewHash(): string { return `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString("hex")}`; }

/** Form or JSON body → args, decoding the fields Slack documents as "JSON-based ... URL-encoded string". */
function parseArgs(contentType: string, raw: string, query: URLSearchParams): Json {
  const args: Json = Object.fromEntries(query);
  if (contentType.startsWith("application/json")) {
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) fail("json_not_object");
    Object.assign(args, parsed);
  } else if (raw) {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  }
  for (const key of ["blocks", "attachments", "view", "metadata"]) {
    const v = args[key];
    if (typeof v === "string" && /^\s*[[{]/.test(v)) {
      try { args[key] = JSON.parse(v); } catch { fail(key === "blocks" ? "invalid_blocks_format" : "invalid_arguments"); }
    }
  }
  return args;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
const hasContent = (a: Json) => str(a.text) !== undefined || (Array.isArray(a.blocks) && a.blocks.length > 0) || (Array.isArray(a.attachments) && a.attachments.length > 0);

interface Script { method: string; kind: "ratelimit" | "fail" | "delay"; value: number | string; times: number }
interface AckWaiter { resolve: (ack: SocketAck) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }
interface ViewRow { id: string; hash: string; view: Json; external_id?: string }

export class SlackFake {
  readonly calls: ApiCall[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly responses: ResponsePost[] = [];
  readonly homeViews = new Map<string, Json>();
  readonly openedViews: OpenedView[] = [];
  /** Every ack a Socket Mode client sent, in order. */
  readonly acks: SocketAck[] = [];
  count429 = 0;
  /** WebSocket connections ever accepted (a reconnect makes it grow). */
  socketConnectsTotal = 0;
  apiUrl = "";
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  enforceLimits: boolean;

  private readonly server = http.createServer((req, res) => void this.onRequest(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly socketWaiters: (() => void)[] = [];
  private readonly ackWaiters = new Map<string, AckWaiter[]>();
  private readonly msgs = new Map<string, StoredMessage[]>();
  private readonly blocked = new Map<string, string>();
  private readonly absent = new Set<string>();
  /** Conversations opened with conversations.open, keyed by their sorted member list. */
  private readonly opened = new Map<string, string>();
  private readonly views = new Map<string, ViewRow>();
  private readonly users = new Map<string, FakeUser>();
  private readonly usedTriggers = new Set<string>();
  private readonly tickets = new Set<string>();
  private readonly responseUses = new Map<string, { count: number; first: number }>();
  private readonly buckets = new Map<string, TokenBucket>();
  private scripts: Script[] = [];
  private seq = 1;
  private roundRobin = 0;
  private port = 0;
  private pinger?: NodeJS.Timeout;

  constructor(opts: SlackFakeOptions = {}) {
    this.botToken = opts.botToken ?? D.botToken;
    this.appToken = opts.appToken ?? D.appToken;
    // The suite's secret scan looks for these tokens in everything the bot logged or sent.
    captureSecret(this.botToken);
    captureSecret(this.appToken);
    this.teamId = opts.teamId ?? D.teamId;
    this.enforceLimits = opts.enforceLimits ?? false;
    this.server.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    this.apiUrl = `http://127.0.0.1:${this.port}/api/`;
    // Slack pings every connection; the client then expects a ping within serverPingTimeout (30 s).
    this.pinger = setInterval(() => { for (const ws of this.sockets) ws.ping(); }, 5000).unref();
    return this;
  }

  // ---- state for tests ------------------------------------------------------------------------
  /** Root and thread messages of a channel (a DM's id, or a user id for their DM), in ts order. */
  messages(channel: string): StoredMessage[] {
    return (this.msgs.get(this.resolveChannel(channel)) ?? []).map((m) => ({ ...m }));
  }
  /** A thread as conversations.replies lists it: the root first, then its replies. */
  thread(channel: string, ts: string): StoredMessage[] {
    return this.messages(channel).filter((m) => m.ts === ts || m.thread_ts === ts);
  }
  /** Messages in the DM between the bot and `user`. */
  dms(user: string): StoredMessage[] { return this.messages(this.dmFor(user)); }
  /** A click on a button of the Home tab published for `o.user`: the payload Slack would send. */
  homeClick(o: HomeActionOptions): Json {
    const view = this.homeViews.get(o.user ?? D.userId);
    if (!view) throw new Error(`no Home tab was published for ${o.user ?? D.userId}`);
    return homeBlockActionsPayload(view, o);
  }
  /** The DM channel id conversations.open returns for `user`. */
  dmFor(user: string): string { return `D${user.replace(/^[UW]/, "")}`; }
  /** Make a channel unavailable: chat.* in it answer `error` (channel_not_found, is_archived, not_in_channel...). */
  blockChannel(channel: string, error = "channel_not_found"): void { this.blocked.set(channel, error); }
  unblockChannel(channel: string): void { this.blocked.delete(channel); }
  /** chat.postEphemeral to `user` in `channel` answers user_not_in_channel. */
  removeFromChannel(channel: string, user: string): void { this.absent.add(`${channel}/${user}`); }
  setUser(user: Partial<FakeUser> & { id: string }): void {
    this.users.set(user.id, { ...this.user(user.id), ...user });
  }
  /** A response URL on this fake; POSTs to it land in `responses`. */
  responseUrl(): string { return `http://127.0.0.1:${this.port}/response/R${String(this.seq++).padStart(6, "0")}`; }
  get socketConnections(): number { return [...this.sockets].filter((s) => s.readyState === WebSocket.OPEN).length; }

  /** Forget recorded traffic, scripted faults and rate-limit buckets; messages and views stay. */
  reset(): void {
    this.calls.length = 0; this.ephemerals.length = 0; this.responses.length = 0; this.acks.length = 0; this.openedViews.length = 0;
    this.count429 = 0; this.scripts = []; this.buckets.clear();
  }

  // ---- scripted faults ------------------------------------------------------------------------
  /** The next `times` calls of `method` ("*" for any) get HTTP 429 with this Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds: number, times = 1): void { this.scripts.push({ method, kind: "ratelimit", value: retryAfterSeconds, times }); }
  /** The next `times` calls of `method` answer HTTP 200 `{ok:false, error}`. */
  failNext(method: string, error: string, times = 1): void { this.scripts.push({ method, kind: "fail", value: error, times }); }
  /** The next `times` calls of `method` are held `ms` before being handled. */
  delayNext(method: string, ms: number, times = 1): void { this.scripts.push({ method, kind: "delay", value: ms, times }); }

  private takeScript(method: string, kind: Script["kind"]): Script | undefined {
    const s = this.scripts.find((x) => x.kind === kind && x.times > 0 && (x.method === method || x.method === "*"));
    if (s && --s.times === 0) this.scripts.splice(this.scripts.indexOf(s), 1);
    return s;
  }

  // ---- HTTP -----------------------------------------------------------------------------------
  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname.startsWith("/api/")) return this.onApi(url.pathname.slice(5), req, url, raw, res);
    if (req.method === "POST" && url.pathname.startsWith("/response/")) return this.onResponseUrl(url.pathname.slice(10), req, raw, res);
    res.writeHead(404, { "content-type": "text/plain" }).end("not_found");
  }

  private async onApi(method: string, req: http.IncomingMessage, url: URL, raw: string, res: http.ServerResponse): Promise<void> {
    const call: ApiCall = { method, args: {}, time: Date.now(), status: 200, ok: false };
    this.calls.push(call);
    const reply = (status: number, body: Json, headers: Record<string, string> = {}) => {
      call.status = status; call.ok = body.ok === true;
      if (typeof body.error === "string") call.error = body.error;
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(body));
    };
    try {
      call.args = parseArgs(String(req.headers["content-type"] ?? ""), raw, url.searchParams);
    } catch (err) {
      return reply(200, { ok: false, error: err instanceof SlackApiError ? err.message : "invalid_json" });
    }
    const handler = this.handlers[method];
    if (!handler) return reply(200, { ok: false, error: "unknown_method", req_method: method });

    // Tokens: the Authorization header, or a `token` field (not for apps.connections.open, whose
    // docs say a POST parameter is an error). A known token of the other kind is the wrong type.
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
    const token = bearer ?? (method === "apps.connections.open" ? undefined : str(call.args.token));
    delete call.args.token;
    captureMessage(`slack ${method}`, call.args); // what the bot sent, for the suite's secret scan
    const wanted = method === "apps.connections.open" ? this.appToken : this.botToken;
    if (!token) return reply(200, { ok: false, error: "not_authed" });
    if (token !== wanted) return reply(200, { ok: false, error: token === this.appToken || token === this.botToken ? "not_allowed_token_type" : "invalid_auth" });

    const delay = this.takeScript(method, "delay");
    if (delay) await sleep(Number(delay.value));
    const limited = this.takeScript(method, "ratelimit");
    const retryAfter = limited ? Number(limited.value) : this.enforceLimits ? this.throttle(method, call.args) : 0;
    if (retryAfter > 0) {
      this.count429++;
      return reply(429, { ok: false, error: "ratelimited" }, { "retry-after": String(retryAfter) });
    }
    const failure = this.takeScript(method, "fail");
    if (failure) return reply(200, { ok: false, error: String(failure.value) });
    try {
      reply(200, { ok: true, ...handler(call.args) });
    } catch (err) {
      if (err instanceof SlackApiError) {
        const detail = { ...(err.errors ? { errors: err.errors } : {}), ...(err.messages.length ? { response_metadata: { messages: err.messages } } : {}) };
        return reply(200, { ok: false, error: err.message, ...detail });
      }
      reply(500, { ok: false, error: "internal_error", detail: String(err) });
    }
  }

  private throttle(method: string, args: Json): number {
    const limit = method === "chat.postMessage" ? POST_MESSAGE : METHOD_LIMITS[method];
    if (!limit) return 0;
    const key = method === "chat.postMessage" ? `${method}/${this.resolveChannel(str(args.channel) ?? "")}` : method;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(limit)));
    return bucket.take();
  }

  /** Response URLs answer like Slack's hooks: 200 with the body "ok". */
  private onResponseUrl(id: string, req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const uses = this.responseUses.get(id) ?? { count: 0, first: Date.now() };
    this.responseUses.set(id, uses);
    // Past the documented 5 uses / 30 minutes the URL stops working (the error text is the fake's).
    if (uses.count >= RESPONSE_URL_USES || Date.now() - uses.first > RESPONSE_URL_TTL_MS) {
      res.writeHead(404, { "content-type": "text/plain" }).end("used_url");
      return;
    }
    uses.count++;
    let body: Json;
    try {
      const ct = String(req.headers["content-type"] ?? "");
      body = ct.startsWith("application/json") ? (JSON.parse(raw) as Json) : (JSON.parse(new URLSearchParams(raw).get("payload") ?? "{}") as Json);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload");
      return;
    }
    this.responses.push({ id, body, time: Date.now() });
    captureMessage("slack response_url", body);
    res.writeHead(200, { "content-type": "text/html" }).end("ok");
  }

  // ---- Web API methods ------------------------------------------------------------------------
  private readonly handlers: Record<string, (a: Json) => Json> = {
    "auth.test": () => ({
      url: `https://${D.teamDomain}.slack.com/`, team: "Fake Team", user: "spawnbot", team_id: this.teamId,
      user_id: D.botUserId, bot_id: D.botId, is_enterprise_install: false,
    }),
    "apps.connections.open": () => {
      const ticket = randomUUID();
      this.tickets.add(ticket);
      return { url: `ws://127.0.0.1:${this.port}/link/?ticket=${ticket}&app_id=${D.appId}` };
    },
    "chat.postMessage": (a) => {
      const channel = this.writableChannel(a);
      if (!hasContent(a)) fail("no_text");
      checkBlocks(a, "message");
      const thread = str(a.thread_ts);
      const m: StoredMessage = { channel, ts: nextTs(), user: D.botUserId, bot_id: D.botId, edits: 0, ...this.content(a), ...(thread ? { thread_ts: thread } : {}) };
      const list = this.msgs.get(channel) ?? [];
      this.msgs.set(channel, [...list, m]);
      return { channel, ts: m.ts, message: this.messageJson(m) };
    },
    "chat.update": (a) => {
      const channel = this.writableChannel(a);
      const m = this.msgs.get(channel)?.find((x) => x.ts === str(a.ts));
      if (!m) return fail("message_not_found");
      if (!hasContent(a) && !Array.isArray(a.blocks)) fail("no_text");
      checkBlocks(a, "message");
      Object.assign(m, this.content(a));
      m.edits++;
      return { channel, ts: m.ts, text: m.text ?? "", message: { ...this.messageJson(m), edited: { user: D.botUserId, ts: nextTs() } } };
    },
    "chat.delete": (a) => {
      const channel = this.writableChannel(a);
      const list = this.msgs.get(channel) ?? [];
      const i = list.findIndex((x) => x.ts === str(a.ts));
      if (i < 0) return fail("message_not_found");
      list.splice(i, 1);
      return { channel, ts: str(a.ts) };
    },
    "chat.postEphemeral": (a) => {
      const channel = this.writableChannel(a);
      const user = str(a.user) ?? fail("user_not_found");
      if (this.absent.has(`${channel}/${user}`)) fail("user_not_in_channel");
      if (!hasContent(a)) fail("no_text");
      checkBlocks(a, "message");
      const e: EphemeralMessage = { channel, user, message_ts: nextTs(), ...this.content(a) };
      const thread = str(a.thread_ts);
      if (thread) e.thread_ts = thread;
      this.ephemerals.push(e);
      return { message_ts: e.message_ts };
    },
    "conversations.open": (a) => {
      const existing = str(a.channel);
      if (existing) return { channel: { id: existing } };
      const users = (str(a.users) ?? "").split(",").map((u) => u.trim()).filter(Boolean);
      if (users.length === 0) fail("users_list_not_supplied");
      if (users.length > 8) fail("too_many_users");
      const key = users.slice().sort().join(",");
      const already = this.opened.has(key);
      const id = this.opened.get(key) ?? (users.length === 1 ? this.dmFor(users[0]!) : `G${String(this.seq++).padStart(8, "0")}`);
      this.opened.set(key, id);
      const full = { id, created: Math.floor(Date.now() / 1000), is_im: users.length === 1, is_mpim: users.length > 1, is_open: true, user: users.length === 1 ? users[0] : undefined, last_read: "0000000000.000000", latest: null, unread_count: 0, unread_count_display: 0, priority: 0 };
      const channel = a.return_im === true || a.return_im === "true" || already ? full : { id };
      return already ? { no_op: true, already_open: true, channel } : { channel };
    },
    "views.open": (a) => this.openView("views.open", a),
    "views.push": (a) => this.openView("views.push", a),
    "views.update": (a) => {
      const id = str(a.view_id);
      const row = id ? this.views.get(id) : [...this.views.values()].find((v) => v.external_id !== undefined && v.external_id === str(a.external_id));
      if (!row) return fail("not_found");
      if (str(a.hash) && str(a.hash) !== row.hash) fail("hash_conflict");
      checkView(this.viewArg(a));
      const view = this.viewJson(row.id, this.viewArg(a));
      Object.assign(row, { hash: String(view.hash), view });
      this.openedViews.push({ method: "views.update", id: row.id, hash: row.hash, view: this.viewArg(a) });
      return { view };
    },
    "views.publish": (a) => {
      const user = str(a.user_id) ?? fail("invalid_arguments", ["invalid `user_id`"]);
      const input = this.viewArg(a);
      if (input.type !== "home") fail("invalid_arguments", asErrors(["must be home [json-pointer:/view/type]"]));
      checkView(input);
      const current = this.homeViews.get(user);
      if (current && str(a.hash) && str(a.hash) !== current.hash) fail("hash_conflict");
      const view = this.viewJson(typeof current?.id === "string" ? current.id : this.viewId(), input);
      this.homeViews.set(user, view);
      return { view };
    },
    "users.info": (a) => {
      const id = str(a.user) ?? fail("user_not_found");
      if (!/^[UW][A-Z0-9]+$/.test(id)) fail("user_not_found");
      const u = this.user(id);
      return { user: { ...u, team_id: this.teamId, deleted: false, is_bot: id === D.botUserId, is_owner: false, tz_label: u.tz, tz_offset: 0, profile: { real_name: u.real_name, display_name: u.name, team: this.teamId } } };
    },
  };

  private user(id: string): FakeUser {
    return this.users.get(id) ?? { id, name: id === D.botUserId ? "spawnbot" : id.toLowerCase(), real_name: id === D.botUserId ? "spawnbot" : `User ${id}`, tz: "Europe/Berlin", is_admin: false };
  }

  /** A user id as channel means their DM (Slack opens it for chat.postMessage). */
  private resolveChannel(channel: string): string { return /^[UW]/.test(channel) ? this.dmFor(channel) : channel; }

  private writableChannel(a: Json): string {
    const raw = str(a.channel) ?? fail("channel_not_found");
    const channel = this.resolveChannel(raw);
    const blocked = this.blocked.get(raw) ?? this.blocked.get(channel);
    if (blocked) fail(blocked);
    return channel;
  }

  private content(a: Json): Pick<StoredMessage, "text" | "blocks" | "attachments"> {
    const c: Pick<StoredMessage, "text" | "blocks" | "attachments"> = {};
    if (str(a.text) !== undefined) c.text = str(a.text);
    if (a.blocks !== undefined) c.blocks = a.blocks;
    if (a.attachments !== undefined) c.attachments = a.attachments;
    return c;
  }

  private messageJson(m: StoredMessage): Json {
    return {
      type: "message", text: m.text ?? "", user: m.user, bot_id: m.bot_id, app_id: D.appId, team: this.teamId, ts: m.ts,
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}), ...(m.attachments !== undefined ? { attachments: m.attachments } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts, parent_user_id: D.botUserId } : {}),
    };
  }

  private viewId(): string { return `V${String(this.seq++).padStart(10, "0")}`; }
  private viewArg(a: Json): Json {
    const v = a.view;
    if (typeof v !== "object" || v === null || Array.isArray(v)) return fail("invalid_arguments");
    return v as Json;
  }
  private viewJson(id: string, input: Json): Json {
    return {
      id, team_id: this.teamId, type: input.type, title: input.title ?? null, submit: input.submit ?? null, close: input.close ?? null,
      blocks: input.blocks ?? [], private_metadata: input.private_metadata ?? "", callback_id: input.callback_id ?? "", external_id: input.external_id ?? "",
      state: { values: {} }, hash: viewHash(), clear_on_close: input.clear_on_close ?? false, notify_on_close: input.notify_on_close ?? false,
      root_view_id: id, previous_view_id: null, app_id: D.appId, app_installed_team_id: this.teamId, bot_id: D.botId,
    };
  }

  /** views.open / views.push: Slack's trigger rules — minted here, at most 3 s old, used once. */
  private openView(method: "views.open" | "views.push", a: Json): Json {
    const trigger = str(a.trigger_id) ?? fail("invalid_trigger_id");
    const minted = Number(trigger.split(".")[0]);
    if (!/^\d{13}\.\d+\.[0-9a-f]+$/.test(trigger) || !Number.isFinite(minted)) fail("invalid_trigger_id");
    if (this.usedTriggers.has(trigger)) fail("exchanged_trigger_id");
    if (Date.now() - minted > TRIGGER_TTL_MS) fail("expired_trigger_id");
    const input = this.viewArg(a);
    if (input.type !== "modal") fail("invalid_arguments", asErrors(["must be modal [json-pointer:/view/type]"]));
    checkView(input);
    this.usedTriggers.add(trigger);
    const view = this.viewJson(this.viewId(), input);
    const row: ViewRow = { id: String(view.id), hash: String(view.hash), view };
    if (typeof input.external_id === "string" && input.external_id) row.external_id = input.external_id;
    this.views.set(row.id, row);
    this.openedViews.push({ method, id: row.id, hash: row.hash, trigger_id: trigger, view: input });
    return { view };
  }

  // ---- Socket Mode ----------------------------------------------------------------------------
  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const ticket = url.searchParams.get("ticket") ?? "";
    // Tickets are single use: a reconnect must call apps.connections.open again, as with Slack.
    if (!/^\/link\/?$/.test(url.pathname) || !this.tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    this.socketConnectsTotal++;
    ws.on("close", () => this.sockets.delete(ws));
    ws.on("error", () => this.sockets.delete(ws));
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.onSocketMessage((Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString("utf8"));
    });
    ws.send(JSON.stringify({
      type: "hello", num_connections: this.sockets.size, connection_info: { app_id: D.appId },
      debug_info: { host: "applink-fake-1", started: new Date().toISOString().replace("T", " ").slice(0, 23), build_number: 1, approximate_connection_time: 18060 },
    }));
    for (const wake of this.socketWaiters.splice(0)) wake();
  }

  private onSocketMessage(text: string): void {
    let msg: unknown;
    try { msg = JSON.parse(text); } catch { return; }
    if (typeof msg !== "object" || msg === null || typeof (msg as Json).envelope_id !== "string") return;
    const ack: SocketAck = { envelope_id: String((msg as Json).envelope_id) };
    const payload = (msg as Json).payload;
    if (typeof payload === "object" && payload !== null) ack.payload = payload as Json;
    this.acks.push(ack);
    for (const w of this.ackWaiters.get(ack.envelope_id) ?? []) { clearTimeout(w.timer); w.resolve(ack); }
    this.ackWaiters.delete(ack.envelope_id);
  }

  /** Resolves once at least one Socket Mode connection is open. */
  async waitForSocket(timeoutMs = 5000): Promise<void> {
    if (this.socketConnections > 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`)), timeoutMs);
      this.socketWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /**
   * Delivers an envelope to one open connection (round robin, waiting for one if none is open)
   * and resolves with the client's ack; rejects when no ack arrives within timeoutMs (5 s).
   * Redeliver by calling again with the same envelopeId and retryAttempt > 0.
   */
  async sendEnvelope(type: EnvelopeType, payload: object, opts: EnvelopeOptions = {}): Promise<SocketAck> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const started = Date.now();
    await this.waitForSocket(timeoutMs);
    const envelopeId = opts.envelopeId ?? randomUUID();
    const envelope: Json = { envelope_id: envelopeId, type, accepts_response_payload: opts.acceptsResponsePayload ?? type !== "events_api", payload };
    // Events carry their retry counters always; other types only when a test asks for them.
    if (type === "events_api" || opts.retryAttempt !== undefined) Object.assign(envelope, { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? "" });
    const open = [...this.sockets].filter((s) => s.readyState === WebSocket.OPEN);
    const ws = open[this.roundRobin++ % open.length]!;
    return new Promise<SocketAck>((resolve, reject) => {
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      const waiter: AckWaiter = { resolve, reject, timer: setTimeout(() => {
        const list = this.ackWaiters.get(envelopeId) ?? [];
        list.splice(list.indexOf(waiter), 1);
        reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, left) };
      this.ackWaiters.set(envelopeId, [...(this.ackWaiters.get(envelopeId) ?? []), waiter]);
      ws.send(JSON.stringify(envelope));
    });
  }

  /** Sends Slack's disconnect message to every connection; clients reconnect by themselves. */
  disconnectSockets(reason: "refresh_requested" | "warning" | "link_disabled" = "refresh_requested"): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-fake-1" } }));
  }
  /** Cuts every connection without a close frame, like a network failure. */
  dropSockets(): void { for (const ws of this.sockets) ws.terminate(); }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const [, list] of this.ackWaiters) for (const w of list) { clearTimeout(w.timer); w.reject(new Error("slack fake closed")); }
    this.ackWaiters.clear();
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  return new SlackFake(opts).listen();
}

// ---------------------------------------------------------------------------------------------
// What Slack sends to an app (HTTP mode bodies; the same objects ride in Socket Mode envelopes)
// ---------------------------------------------------------------------------------------------
export interface SlashCommandFields {
  token: string; team_id: string; team_domain: string; channel_id: string; channel_name: string; user_id: string; user_name: string;
  command: string; text: string; api_app_id: string; is_enterprise_install: string; response_url: string; trigger_id: string;
  enterprise_id?: string; enterprise_name?: string;
}

/** A slash command as the object Socket Mode carries (all values strings, as in the form). */
export function slashCommand(fields: Partial<SlashCommandFields> = {}): SlashCommandFields {
  return {
    token: "fake-verification-token", team_id: D.teamId, team_domain: D.teamDomain, channel_id: D.channelId, channel_name: D.channelName,
    user_id: D.userId, user_name: D.userName, command: "/spawn", text: "", api_app_id: D.appId, is_enterprise_install: "false",
    response_url: UNSET_RESPONSE_URL, trigger_id: triggerId(), ...fields,
  };
}
/** The same slash command as the form body Slack POSTs in HTTP mode. */
export function slashCommandBody(fields: Partial<SlashCommandFields> = {}): string {
  return new URLSearchParams(Object.entries(slashCommand(fields)).filter((e): e is [string, string] => typeof e[1] === "string")).toString();
}

const userObj = (id: string, name: string) => ({ id, username: name, name, team_id: D.teamId });

export interface BlockActionsOptions {
  actionId: string; value?: string; blockId?: string; user?: string; userName?: string; channel?: string; channelName?: string;
  messageTs?: string; message?: Json; responseUrl?: string; triggerId?: string; buttonText?: string;
}
/** A block_actions payload for a button click on a bot message. */
export function blockActionsPayload(o: BlockActionsOptions): Json {
  const channel = o.channel ?? D.channelId;
  const ts = o.messageTs ?? nextTs();
  return {
    type: "block_actions", user: userObj(o.user ?? D.userId, o.userName ?? D.userName), api_app_id: D.appId, token: "fake-verification-token",
    container: { type: "message", message_ts: ts, channel_id: channel, is_ephemeral: false },
    trigger_id: o.triggerId ?? triggerId(), team: { id: D.teamId, domain: D.teamDomain }, enterprise: null, is_enterprise_install: false,
    channel: { id: channel, name: o.channelName ?? D.channelName },
    message: o.message ?? { type: "message", user: D.botUserId, bot_id: D.botId, app_id: D.appId, text: "", ts, team: D.teamId },
    state: { values: {} }, response_url: o.responseUrl ?? UNSET_RESPONSE_URL,
    actions: [{
      action_id: o.actionId, block_id: o.blockId ?? "actions", text: { type: "plain_text", text: o.buttonText ?? "Button", emoji: true },
      value: o.value ?? "", type: "button", action_ts: nextTs(),
    }],
  };
}

export interface HomeActionOptions { actionId: string; value?: string; blockId?: string; user?: string; userName?: string; triggerId?: string; buttonText?: string }
/**
 * A block_actions payload for a button click on a Home tab, as Slack sends it: the container is
 * the view (`container.type: "view"`), `view` is the published home view, and there is no
 * channel, message or response_url (a Home tab has none). `view` is what views.publish returned.
 */
export function homeBlockActionsPayload(view: Json, o: HomeActionOptions): Json {
  if (view.type !== "home") throw new Error("a Home click needs the published home view");
  return {
    type: "block_actions", user: userObj(o.user ?? D.userId, o.userName ?? D.userName), api_app_id: D.appId, token: "fake-verification-token",
    container: { type: "view", view_id: view.id }, trigger_id: o.triggerId ?? triggerId(),
    team: { id: D.teamId, domain: D.teamDomain }, enterprise: null, is_enterprise_install: false,
    view, state: { values: {} },
    actions: [{
      action_id: o.actionId, block_id: o.blockId ?? "actions", text: { type: "plain_text", text: o.buttonText ?? "Button", emoji: true },
      value: o.value ?? "", type: "button", action_ts: nextTs(),
    }],
  };
}

export interface ViewSubmissionOptions { callbackId: string; user?: string; userName?: string; privateMetadata?: string; values?: Json; viewId?: string; hash?: string; triggerId?: string }
/** A view_submission payload; `values` is state.values ({block_id: {action_id: {type, value}}}). */
export function viewSubmissionPayload(o: ViewSubmissionOptions): Json {
  const id = o.viewId ?? "V0000000001";
  return {
    type: "view_submission", team: { id: D.teamId, domain: D.teamDomain }, user: userObj(o.user ?? D.userId, o.userName ?? D.userName),
    api_app_id: D.appId, token: "fake-verification-token", trigger_id: o.triggerId ?? triggerId(),
    view: {
      id, team_id: D.teamId, type: "modal", blocks: [], private_metadata: o.privateMetadata ?? "", callback_id: o.callbackId,
      state: { values: o.values ?? {} }, hash: o.hash ?? viewHash(), title: { type: "plain_text", text: "Modal" }, clear_on_close: false,
      notify_on_close: false, close: null, submit: { type: "plain_text", text: "Submit" }, previous_view_id: null, root_view_id: id,
      app_id: D.appId, external_id: "", app_installed_team_id: D.teamId, bot_id: D.botId,
    },
    response_urls: [], is_enterprise_install: false, enterprise: null,
  };
}

/** An Events API event_callback body around `event` (POSTed as JSON; Socket Mode's events_api payload). */
export function eventCallback(event: Json, opts: { eventId?: string } = {}): Json {
  return {
    token: "fake-verification-token", team_id: D.teamId, context_team_id: D.teamId, context_enterprise_id: null, api_app_id: D.appId,
    event: { event_ts: nextTs(), ...event }, type: "event_callback", event_id: opts.eventId ?? `Ev${randomBytes(5).toString("hex").toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000), authorizations: [{ enterprise_id: null, team_id: D.teamId, user_id: D.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}
/** app_home_opened for `user` (tab "home"), wrapped in event_callback. */
export function appHomeOpenedEvent(user: string, opts: { tab?: "home" | "messages"; eventId?: string } = {}): Json {
  return eventCallback({ type: "app_home_opened", user, channel: `D${user.replace(/^[UW]/, "")}`, tab: opts.tab ?? "home" }, opts);
}

/** Interactive payloads go as the form field `payload=<json>`. */
export function interactiveBody(payload: Json): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Slack's v0 signature: "v0=" + hex HMAC-SHA256 of "v0:<timestamp>:<raw body>". */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface SignedPostOptions { timestamp?: number; retryNum?: number; retryReason?: string; badSignature?: boolean }
/** POSTs `body` to an app's request URL the way Slack does, signed with `signingSecret`. */
export async function signedPost(url: string, body: string, contentType: string, signingSecret: string, opts: SignedPostOptions = {}): Promise<Response> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  let signature = slackSignature(signingSecret, timestamp, body);
  if (opts.badSignature) signature = signature.slice(0, -1) + (signature.endsWith("0") ? "1" : "0");
  const headers: Record<string, string> = {
    "content-type": contentType, "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature,
  };
  if (opts.retryNum !== undefined) headers["x-slack-retry-num"] = String(opts.retryNum);
  if (opts.retryReason !== undefined) headers["x-slack-retry-reason"] = opts.retryReason;
  return fetch(url, { method: "POST", headers, body });
}
