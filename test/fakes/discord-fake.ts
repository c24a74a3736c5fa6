// A wire-level fake of Discord for discord.js 14 on 127.0.0.1: the REST API v10 under /api/v10
// (point `rest: { api: fake.restApi }` at it) and the gateway WebSocket at /gateway, which
// `GET /gateway/bot` hands out. Payloads follow Discord's documented shapes (Interaction, Message,
// Channel, Guild, rate-limit headers, error bodies {code, message}) closely enough that discord.js
// builds its real structures from them: the fake is tested against a real Client, not a mock.
//
// What the real client needs (found by reading discord.js 14.28 and measuring):
// - Guild channels are only built when their guild is cached: `client.channels.fetch(id)`,
//   `thread` creation and `interaction.channel` all go through `createChannel`, which drops a
//   guild channel of an unknown guild. So READY lists the configured guild as unavailable and a
//   GUILD_CREATE (channels, roles, members) follows; that needs the Guilds intent, as on Discord.
// - Every id that takes part in rate-limit bucketing must be a 17-19 digit snowflake.
// - Interaction callbacks answer 204 unless `?with_response=true` (discord.js always sends the
//   query); webhook routes carry the interaction token in the path and no Authorization header.
// - A 429 is Discord's RatelimitedResponse: body {message, retry_after (float seconds), global,
//   code}, a Retry-After header in whole seconds (rounded up; discord.js waits by it),
//   X-RateLimit-Scope, and for a global limit X-RateLimit-Global instead of the bucket headers.
// - Interactions go over the gateway, or, once a test sets an Interactions Endpoint URL (checked as
//   the Developer Portal does: signed PING → PONG, bad signature → 401), as Ed25519-signed POSTs to
//   it (discord-interactions-http.ts); the response is the interaction's first answer. Requests that
//   answer an interaction whose POST is still in flight wait for it: Discord takes the response as
//   the answer before anything the bot sends after it.
// Deliberate simplifications: one shard; no MESSAGE_CREATE echo of the bot's own messages.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, WebSocket } from "ws";
import { captureMessage, captureSecret } from "../support/capture.js";
import { newAppKeyPair, signedPost, verifyEndpoint, type PostResult, type SignedPostOptions } from "./discord-interactions-http.js";

// Discord's payloads are deep and loosely typed; the fake treats them as plain JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = { [key: string]: any };

export interface DiscordFakeOptions {
  token?: string;
  appId?: string;
  botUserId?: string;
  botUsername?: string;
  /** HELLO's heartbeat_interval: Discord sends 41250; tests pass ~100 to see beats quickly. */
  heartbeatIntervalMs?: number;
  /** Interaction tokens (the webhook routes) stay valid 15 minutes on Discord. */
  tokenLifetimeMs?: number;
  /** Discord refuses an initial callback later than 3 s after the interaction (10062). */
  callbackWindowMs?: number;
  /** The guild sent by GUILD_CREATE after READY, with one text channel; false for none. */
  guild?: { id?: string; name?: string; channelId?: string; channelName?: string } | false;
  /** Privileged intents enabled in the "developer portal"; IDENTIFY asking for more gets 4014. */
  privilegedIntents?: number;
  /** Advertised and enforced per-bucket limit: bucketLimit requests per bucketWindowMs. */
  bucketLimit?: number;
  bucketWindowMs?: number;
}

export type UserRef = string | { id: string; username?: string; globalName?: string };
export interface FakeCall { method: string; path: string; query: string; body: unknown; time: number; status: number }
export interface FakeCallback { interactionId: string; type: number; data: Json | undefined; time: number }
export interface FakeMessage {
  id: string; channelId: string; content: string; embeds: Json[]; components: Json[]; flags: number;
  ephemeral: boolean; edits: number; deleted: boolean; raw: Json;
}
export interface FakeThread { id: string; parentId: string; name: string; starterMessageId: string | null; raw: Json }
export interface InteractionRef { id: string; token: string }
/** One interaction POSTed to the endpoint: the HTTP answer, and whether it was taken as the interaction's first answer. */
export interface HttpDelivery { interactionId: string; status: number; body: unknown; accepted: boolean; error?: string }

/** Who interacts, and where: a guild channel (default: the configured one) or a DM channel. */
export interface InteractionOpts {
  user: UserRef;
  channelId?: string;
  guildId?: string;
  /** Administrator: member.permissions has every bit, as Discord computes it for admins. */
  admin?: boolean;
  permissions?: string;
  locale?: string;
}
export interface CommandOpts extends InteractionOpts {
  name: string;
  subcommandGroup?: string;
  subcommand?: string;
  options?: Record<string, string | number | boolean>;
}

const DISCORD_EPOCH = 1_420_070_400_000n;
const EPHEMERAL = 64, LOADING = 128, HAS_THREAD = 32;
const GUILDS_INTENT = 1;
/** GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT. */
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);
const KNOWN_INTENTS = (1 << 26) - 1;
const bits = (...n: number[]) => n.reduce((acc, b) => acc | (1n << BigInt(b)), 0n).toString();
// add reactions, view channel, send, embed links, attach, history, app commands, threads, send in threads
const MEMBER_PERMS = bits(6, 10, 11, 14, 15, 16, 31, 35, 38);
const BOT_PERMS = bits(6, 10, 11, 13, 14, 15, 16, 31, 34, 35, 36, 38);
const ADMIN_PERMS = ((1n << 51n) - 1n).toString();
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace("Z", "+00:00");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly errors?: Json) {
    super(message);
  }
}
/** Discord's 50035 body: errors nested along the field path, e.g. embeds.0.description. */
function formError(path: string, code: string, message: string): ApiError {
  const errors: Json = {};
  let node = errors;
  const keys = path.split(".");
  keys.forEach((k, i) => (node = node[k] = i === keys.length - 1 ? { _errors: [{ code, message }] } : {}));
  return new ApiError(400, 50035, "Invalid Form Body", errors);
}
const notFound = (what: "Message" | "Channel" | "User" | "Member" | "Guild" | "Webhook" | "interaction" | "application command") => {
  const codes = { Message: 10008, Channel: 10003, User: 10013, Member: 10007, Guild: 10004, Webhook: 10015, interaction: 10062, "application command": 10063 };
  return new ApiError(404, codes[what], `Unknown ${what}`);
};

/** The limits Discord checks on message bodies that a chat bot is most likely to exceed. */
function validateMessage(body: Json, requireContent: boolean): void {
  if (typeof body.content === "string" && body.content.length > 2000)
    throw formError("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  const embeds: Json[] = body.embeds ?? [];
  if (embeds.length > 10) throw formError("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
  embeds.forEach((e, i) => {
    if ((e.title ?? "").length > 256) throw formError(`embeds.${i}.title`, "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length.");
    if ((e.description ?? "").length > 4096) throw formError(`embeds.${i}.description`, "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length.");
    if ((e.fields ?? []).length > 25) throw formError(`embeds.${i}.fields`, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
  });
  if ((body.components ?? []).length > 5 && !((body.flags ?? 0) & (1 << 15)))
    throw formError("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  const empty = !body.content && !embeds.length && !(body.components ?? []).length && !(body.attachments ?? []).length && !body.sticker_ids && !body.poll;
  if (requireContent && empty) throw new ApiError(400, 50006, "Cannot send an empty message");
}

interface Upload { name: string; filename: string; size: number; contentType?: string }
/** discord.js sends JSON, or multipart with a payload_json part plus files[n] when uploading. */
function parseBody(contentType: string | undefined, raw: Buffer): { json: unknown; files: Upload[] } {
  if (!raw.length) return { json: undefined, files: [] };
  const boundary = /multipart\/form-data;.*boundary=("?)([^";]+)\1/i.exec(contentType ?? "")?.[2];
  if (!boundary) {
    try {
      return { json: JSON.parse(raw.toString("utf8")), files: [] };
    } catch {
      throw new ApiError(400, 50109, "The request body contains invalid JSON.");
    }
  }
  let json: unknown = {};
  const files: Upload[] = [];
  for (const part of raw.toString("latin1").split(`--${boundary}`).slice(1, -1)) {
    const sep = part.indexOf("\r\n\r\n");
    const head = part.slice(0, sep);
    const content = part.slice(sep + 4, part.length - 2);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (name === "payload_json") json = JSON.parse(Buffer.from(content, "latin1").toString("utf8"));
    else if (filename !== undefined) files.push({ name, filename, size: content.length, contentType: /content-type:\s*(\S+)/i.exec(head)?.[1] });
  }
  return { json, files };
}

interface Req { params: string[]; query: URLSearchParams; body: Json; files: Upload[] }
interface Reply { status?: number; body?: unknown }
interface Route { method: string; re: RegExp; botAuth: boolean; handler: (req: Req) => Reply }
interface Rule { match: string; times: number; seconds?: number; ms?: number; global?: boolean }
interface MessageRow { raw: Json; edits: number; deleted: boolean }
interface InteractionRow {
  id: string; token: string; type: number; createdAt: number; expired: boolean; channel: Json;
  guildId: string | null; user: Json; componentMessageId?: string; callback?: FakeCallback;
  originalId?: string; followupIds: string[];
  /** The INTERACTION_CREATE payload as first sent, for redelivery. */
  payload?: Json;
}
interface Session { id: string; seq: number; socket: WebSocket | null; backlog: Json[] }

export class DiscordFake {
  readonly token: string;
  readonly appId: string;
  readonly botUserId: string;
  /** The configured guild and its text channel ("" when started with guild: false). */
  readonly guildId: string;
  readonly channelId: string;
  restApi = "";
  gatewayUrl = "";
  readonly calls: FakeCall[] = [];
  /** The accepted (first) callback of each interaction, by interaction id. */
  readonly callbacks = new Map<string, FakeCallback>();
  count429 = 0;
  heartbeatAcks = 0;
  resumes = 0;
  identifiedIntents: number | null = null;
  /** Exceptions thrown by the fake itself (answered 500); a test can assert this stays empty. */
  readonly internalErrors: unknown[] = [];
  /** The application's public key (hex), as the Developer Portal shows it; its private half signs HTTP interactions. */
  readonly publicKeyHex: string;
  /** Every interaction POSTed to the Interactions Endpoint URL, in order. */
  readonly httpDeliveries: HttpDelivery[] = [];
  private readonly appKey: ReturnType<typeof newAppKeyPair>["privateKey"];
  private endpointUrl: string | undefined;
  /** Interactions whose POST awaits its response, by id. */
  private readonly answering = new Map<string, Promise<void>>();

  private readonly opts: Required<Omit<DiscordFakeOptions, "guild" | "token" | "appId" | "botUserId">>;
  private readonly server = http.createServer((req, res) => void this.onRequest(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly routes: Route[] = [];
  private readonly users = new Map<string, Json>();
  private readonly guilds = new Map<string, Json>();
  private readonly members = new Map<string, Map<string, Json>>();
  private readonly channels = new Map<string, Json>();
  private readonly messages = new Map<string, MessageRow>();
  private readonly dmByUser = new Map<string, string>();
  private readonly blocked = new Set<string>();
  private readonly closedDms = new Set<string>();
  private readonly commandsByScope = new Map<string, Json[]>();
  private readonly interactions = new Map<string, InteractionRow>();
  private readonly byToken = new Map<string, InteractionRow>();
  private readonly rateLimits: Rule[] = [];
  private readonly delays: Rule[] = [];
  private readonly windows = new Map<string, { used: number; resetAt: number }>();
  private readonly sessions = new Map<string, Session>();
  private lastSnowflake = 0n;

  constructor(options: DiscordFakeOptions = {}) {
    this.token = options.token ?? "fake-bot-token";
    ({ privateKey: this.appKey, publicKeyHex: this.publicKeyHex } = newAppKeyPair());
    captureSecret(this.token); // the suite's secret scan looks for it in everything the bot logged or sent
    this.appId = options.appId ?? "100000000000000001";
    this.botUserId = options.botUserId ?? this.appId;
    this.opts = {
      botUsername: options.botUsername ?? "spawnbot",
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 15 * 60_000,
      callbackWindowMs: options.callbackWindowMs ?? 3_000,
      privilegedIntents: options.privilegedIntents ?? PRIVILEGED_INTENTS,
      bucketLimit: options.bucketLimit ?? 50,
      bucketWindowMs: options.bucketWindowMs ?? 1_000,
    };
    this.users.set(this.botUserId, {
      id: this.botUserId, username: this.opts.botUsername, discriminator: "0", global_name: null, avatar: null,
      bot: true, system: false, public_flags: 0, flags: 0, banner: null, accent_color: null,
    });
    const g = options.guild === false ? undefined : options.guild ?? {};
    this.guildId = g ? g.id ?? "300000000000000001" : "";
    this.channelId = g ? g.channelId ?? "300000000000000002" : "";
    if (g) {
      this.guilds.set(this.guildId, { id: this.guildId, name: g.name ?? "spawnbot-test", joinedAt: iso() });
      this.members.set(this.guildId, new Map([[this.botUserId, this.member(this.users.get(this.botUserId)!)]]));
      this.addChannel({ id: this.channelId, name: g.channelName ?? "general" });
    }
    this.defineRoutes();
  }

  async listen(): Promise<this> {
    this.server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (!/^\/gateway\/?$/.test(url.pathname)) return void socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, url));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.restApi = `http://127.0.0.1:${port}/api`;
    this.gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    return this;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test controls ------------------------------------------------------------------------

  /** The next `times` requests whose "METHOD /path" contains `match` answer 429. */
  rateLimitNext(match: string, retryAfterSeconds: number, times = 1, opts: { global?: boolean } = {}): void {
    this.rateLimits.push({ match, times, seconds: retryAfterSeconds, global: opts.global });
  }
  /** The next request whose "METHOD /path" contains `match` is answered `ms` later. */
  delayNext(match: string, ms: number): void {
    this.delays.push({ match, times: 1, ms });
  }
  /** Every interaction so far loses its token, as 15 minutes after it was created. */
  expireInteractionTokens(): void {
    for (const row of this.interactions.values()) row.expired = true;
  }
  blockChannel(id: string): void { this.blocked.add(id); }
  unblockChannel(id: string): void { this.blocked.delete(id); }
  /** The user has DMs from server members turned off: DMs to them fail with 50007. */
  closeDms(userId: string): void { this.closedDms.add(userId); }

  addUser(ref: UserRef): Json {
    const id = typeof ref === "string" ? ref : ref.id;
    if (!/^\d{17,20}$/.test(id)) throw new Error(`discord-fake: user id ${id} is not a snowflake`);
    const existing = this.users.get(id);
    if (existing) return existing;
    const name = typeof ref === "string" ? undefined : ref;
    const user = {
      id, username: name?.username ?? `user${id.slice(-4)}`, discriminator: "0", global_name: name?.globalName ?? null,
      avatar: null, bot: false, system: false, public_flags: 0, flags: 0, banner: null, accent_color: null,
    };
    this.users.set(id, user);
    return user;
  }
  /** Adds a guild channel (type 0 text by default) to a guild the bot is in. */
  addChannel(c: { name: string; id?: string; type?: number; guildId?: string }): Json {
    const guildId = c.guildId ?? this.guildId;
    if (!this.guilds.has(guildId)) throw new Error(`discord-fake: no guild ${guildId}`);
    const channel = {
      id: c.id ?? this.snowflake(), type: c.type ?? 0, guild_id: guildId, name: c.name, position: this.channels.size,
      permission_overwrites: [], parent_id: null, topic: null, nsfw: false, last_message_id: null,
      rate_limit_per_user: 0, default_auto_archive_duration: 1440, flags: 0,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }
  /** The DM channel between the bot and this user (created as POST /users/@me/channels would). */
  dmChannel(userId: string): Json {
    const user = this.addUser(userId);
    let id = this.dmByUser.get(userId);
    if (!id) {
      id = this.snowflake();
      this.channels.set(id, { id, type: 1, last_message_id: null, flags: 0, recipients: [user] });
      this.dmByUser.set(userId, id);
    }
    return this.channels.get(id)!;
  }

  // ---- state for assertions -----------------------------------------------------------------

  commands(guildId?: string): Json[] { return structuredClone(this.commandsByScope.get(guildId ?? "global") ?? []); }
  channel(id: string): Json | undefined { return this.channels.get(id); }
  message(id: string): FakeMessage | undefined {
    const row = this.messages.get(id);
    return row && this.view(row);
  }
  /** Messages visible in the channel, oldest first (no ephemeral or deleted ones). */
  channelMessages(channelId: string): FakeMessage[] {
    return [...this.messages.values()]
      .filter((r) => r.raw.channel_id === channelId && !r.deleted && !(r.raw.flags & EPHEMERAL))
      .map((r) => this.view(r));
  }
  dms(userId: string): FakeMessage[] {
    const id = this.dmByUser.get(userId);
    return id ? this.channelMessages(id) : [];
  }
  /** The interaction's original response (if any) then its follow-ups, ephemeral ones included. */
  webhookMessages(token: string): FakeMessage[] {
    const row = this.byToken.get(token);
    const ids = row ? [row.originalId, ...row.followupIds] : [];
    return ids.flatMap((id) => {
      const m = id ? this.messages.get(id) : undefined;
      return m && !m.deleted ? [this.view(m)] : [];
    });
  }
  get threads(): FakeThread[] {
    return [...this.channels.values()]
      .filter((c) => [10, 11, 12].includes(c.type))
      .map((c) => ({ id: c.id, parentId: c.parent_id, name: c.name, starterMessageId: this.messages.has(c.id) ? c.id : null, raw: c }));
  }

  /** Polls until `check` returns something truthy; rejects after timeoutMs. */
  async waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5_000, what = "condition"): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`discord-fake: timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(10);
    }
  }
  waitForCallback(interactionId: string, timeoutMs = 5_000): Promise<FakeCallback> {
    return this.waitFor(() => this.callbacks.get(interactionId), timeoutMs, `the callback of interaction ${interactionId}`);
  }

  // ---- interactions (INTERACTION_CREATE over the gateway) -------------------------------------

  /** A slash command; with deliver false it is only made (for a test that posts it itself). */
  chatInput(o: CommandOpts, deliver = true): InteractionRef {
    return this.interaction(2, o, this.commandData(o, undefined, true), undefined, deliver);
  }
  /** The interaction as Discord sends it (over the gateway or by POST). */
  payloadOf(interactionId: string): Json {
    const payload = this.interactions.get(interactionId)?.payload;
    if (!payload) throw new Error(`discord-fake: no interaction ${interactionId}`);
    return structuredClone(payload);
  }
  /**
   * Send an interaction's INTERACTION_CREATE again, same id and token: what a gateway resume or a
   * reconnect can replay. The bot must act on it once.
   */
  redeliver(interactionId: string): void {
    const row = this.interactions.get(interactionId);
    if (!row?.payload) throw new Error(`discord-fake: no interaction ${interactionId} to deliver again`);
    this.deliver(row);
  }

  // ---- the HTTP transport (an Interactions Endpoint URL) ----------------------------------------

  /**
   * Save the app's Interactions Endpoint URL as the Developer Portal does: it must answer a signed
   * PING with a PONG and a badly signed request with 401, else this throws the portal's refusal.
   * From then on interactions are POSTed to it instead of sent over the gateway.
   */
  async setInteractionsEndpoint(url: string): Promise<void> {
    await verifyEndpoint(url, this.appKey, () => ({
      id: this.snowflake(), application_id: this.appId, type: 1, version: 1, entitlements: [],
      token: `aW50ZXJhY3Rpb246${randomBytes(48).toString("base64url")}`,
      user: { id: "643945264868098049", username: "discord", discriminator: "0", global_name: "Discord", avatar: null, system: true },
    }));
    this.endpointUrl = url;
  }
  /** POST a payload to the endpoint, signed by the app's key unless opts say otherwise (forged, stale, unsigned). */
  postToEndpoint(payload: Json, opts: SignedPostOptions = {}): Promise<PostResult> {
    if (!this.endpointUrl) throw new Error("discord-fake: no Interactions Endpoint URL is set");
    return signedPost(this.endpointUrl, payload, this.appKey, opts);
  }
  /** Resolves once every interaction POSTed so far has its answer (or its failure) recorded. */
  async httpIdle(): Promise<void> {
    while (this.answering.size > 0) await Promise.all([...this.answering.values()]);
  }

  private deliver(row: InteractionRow): void {
    if (!this.endpointUrl) return this.dispatch("INTERACTION_CREATE", row.payload!);
    const posted = this.postToEndpoint(row.payload!, { timeoutMs: this.opts.callbackWindowMs })
      .then((res) => this.takeHttpAnswer(row, res), (err: Error) => this.httpDeliveries.push({ interactionId: row.id, status: 0, body: undefined, accepted: false, error: err.message }))
      .then(() => undefined);
    const done = posted.finally(() => {
      if (this.answering.get(row.id) === done) this.answering.delete(row.id);
    });
    this.answering.set(row.id, done);
  }

  /** The response to a POSTed interaction is its first answer, checked like a callback. */
  private takeHttpAnswer(row: InteractionRow, res: PostResult): void {
    const delivery: HttpDelivery = { interactionId: row.id, status: res.status, body: res.body, accepted: false };
    this.httpDeliveries.push(delivery);
    if (res.status !== 200) return void (delivery.error = `the endpoint answered ${res.status}`);
    try {
      this.callback({ params: [row.id, row.token], query: new URLSearchParams(), body: res.body ?? {}, files: [] });
      delivery.accepted = true;
    } catch (e) {
      delivery.error = e instanceof ApiError ? `${e.code} ${e.message}` : String(e);
    }
  }

  /** The POST still waiting for its response, if this request answers that interaction. */
  private answerInFlight(path: string): Promise<void> | undefined {
    const id = /^\/interactions\/(\d+)\//.exec(path)?.[1] ?? this.byToken.get(/^\/webhooks\/\d+\/([^/]+)/.exec(path)?.[1] ?? "")?.id;
    return id === undefined ? undefined : this.answering.get(id);
  }
  /** An autocomplete request while `focused` holds the partly typed `value`. */
  autocomplete(o: CommandOpts & { focused: string; value: string }): InteractionRef {
    return this.interaction(4, o, this.commandData({ ...o, options: { ...o.options, [o.focused]: o.value } }, o.focused));
  }
  button(o: Omit<InteractionOpts, "channelId" | "guildId"> & { messageId: string; customId: string; channelId?: string }): InteractionRef {
    const row = this.messages.get(o.messageId);
    if (!row || row.deleted) throw new Error(`discord-fake: no message ${o.messageId} to click a button on`);
    return this.interaction(3, { ...o, channelId: o.channelId ?? row.raw.channel_id }, { custom_id: o.customId, component_type: 2 }, row);
  }
  /**
   * The submit of a modal; `messageId` when the modal was opened from a component on it. Like
   * Discord, the fields come back in the layout the modal was shown with (callback type 9 with this
   * custom_id): Label components (type 18) for modals built with labels, else action rows.
   */
  modalSubmit(o: InteractionOpts & { customId: string; fields: Record<string, string>; messageId?: string }): InteractionRef {
    const shown = [...this.callbacks.values()].reverse().find((c) => c.type === 9 && c.data?.custom_id === o.customId);
    const labels = (shown?.data?.components ?? []).some((c: Json) => c.type === 18);
    const components = Object.entries(o.fields).map(([custom_id, value]) =>
      labels ? { type: 18, component: { type: 4, custom_id, value } } : { type: 1, components: [{ type: 4, custom_id, value }] });
    const row = o.messageId ? this.messages.get(o.messageId) : undefined;
    return this.interaction(5, o, { custom_id: o.customId, components }, row);
  }

  // ---- gateway --------------------------------------------------------------------------------

  /** Sends a dispatch event to every live session (buffered for sessions that may resume). */
  dispatch(t: string, d: Json): void {
    if (![...this.sessions.values()].some((s) => s.socket)) throw new Error(`discord-fake: no gateway session to send ${t} to`);
    for (const s of this.sessions.values()) this.send(s, t, d);
  }
  /** Gateway sessions whose socket is open now: Discord sends each dispatch to every one of them. */
  get openSessions(): number {
    return [...this.sessions.values()].filter((s) => s.socket?.readyState === WebSocket.OPEN).length;
  }
  /** IDENTIFYs accepted so far: one per gateway session ever opened. */
  identifies = 0;
  /** Op 7 RECONNECT: the client drops the socket and RESUMEs on resume_gateway_url. */
  requestReconnect(): void {
    for (const s of this.sessions.values()) s.socket?.send(JSON.stringify({ op: 7, d: null, s: null, t: null }));
  }

  private send(s: Session, t: string, d: Json): void {
    const payload = { op: 0, t, s: ++s.seq, d };
    s.backlog.push(payload);
    if (s.backlog.length > 200) s.backlog.shift();
    if (s.socket?.readyState === WebSocket.OPEN) s.socket.send(JSON.stringify(payload));
  }

  private onSocket(ws: WebSocket, url: URL): void {
    // @discordjs/ws connects with ?v=10&encoding=json and no compress (zlib-sync is not installed).
    if (url.searchParams.get("v") !== "10") return void ws.close(4012, "Invalid API version");
    if ((url.searchParams.get("encoding") ?? "json") !== "json") return void ws.close(4002, "Decode error");
    let session: Session | null = null;
    const frame = (op: number, d: unknown) => ws.send(JSON.stringify({ op, d, s: null, t: null }));
    frame(10, { heartbeat_interval: this.opts.heartbeatIntervalMs, _trace: ["discord-fake"] });
    ws.on("close", (code) => {
      if (session?.socket !== ws) return;
      session.socket = null;
      // A client closing with 1000/1001 ends its session; other codes (4200 Resuming) keep it.
      if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    });
    ws.on("message", (data, isBinary) => {
      let p: Json | null = null;
      try {
        p = JSON.parse(isBinary ? "" : (data as Buffer).toString());
      } catch {
        // a decode error, answered below
      }
      if (typeof p !== "object" || p === null) return void ws.close(4002, "Decode error");
      const token = typeof p.d?.token === "string" ? p.d.token.replace(/^Bot /, "") : undefined;
      switch (p.op) {
        case 1:
          frame(11, null);
          this.heartbeatAcks++;
          return;
        case 2: {
          if (session) return void ws.close(4005, "Already authenticated.");
          if (token !== this.token) return void ws.close(4004, "Authentication failed.");
          const intents = p.d.intents;
          if (!Number.isInteger(intents) || intents < 0 || (intents & ~KNOWN_INTENTS)) return void ws.close(4013, "Invalid intent(s).");
          if (intents & PRIVILEGED_INTENTS & ~this.opts.privilegedIntents) return void ws.close(4014, "Disallowed intent(s).");
          this.identifiedIntents = intents;
          this.identifies++;
          session = { id: randomBytes(16).toString("hex"), seq: 0, socket: ws, backlog: [] };
          this.sessions.set(session.id, session);
          this.ready(session, intents, p.d.shard ?? [0, 1]);
          return;
        }
        case 6: {
          if (token !== this.token) return void ws.close(4004, "Authentication failed.");
          const s = this.sessions.get(p.d.session_id);
          if (!s) return frame(9, false); // Invalid session, not resumable: the client identifies anew.
          s.socket?.close(4009, "Session resumed elsewhere");
          session = s;
          s.socket = ws;
          for (const missed of s.backlog.filter((e) => e.s > (p.d.seq ?? 0))) ws.send(JSON.stringify(missed));
          this.resumes++;
          this.send(s, "RESUMED", { _trace: ["discord-fake"] });
          return;
        }
        case 3: case 4: case 8: // presence, voice state, request members: accepted, ignored
          if (!session) ws.close(4003, "Not authenticated.");
          return;
        default:
          ws.close(4001, "Unknown opcode.");
      }
    });
  }

  private ready(s: Session, intents: number, shard: number[]): void {
    // With the Guilds intent the client waits (WaitingForGuilds) for a GUILD_CREATE per listed guild.
    const withGuilds = (intents & GUILDS_INTENT) !== 0;
    const guildIds = withGuilds ? [...this.guilds.keys()] : [];
    // Unverified bots get the *_LIMITED flag for each privileged intent they have enabled.
    const p = this.opts.privilegedIntents;
    const appFlags = (p & (1 << 8) ? 1 << 13 : 0) | (p & (1 << 1) ? 1 << 15 : 0) | (p & (1 << 15) ? 1 << 19 : 0);
    this.send(s, "READY", {
      v: 10, user_settings: {}, user: { ...this.users.get(this.botUserId), verified: true, mfa_enabled: false, email: null },
      guilds: guildIds.map((id) => ({ id, unavailable: true })), session_id: s.id, session_type: "normal",
      resume_gateway_url: this.gatewayUrl, shard, application: { id: this.appId, flags: appFlags },
      private_channels: [], relationships: [], presences: [], guild_join_requests: [], geo_ordered_rtc_regions: [], _trace: ["discord-fake"],
    });
    for (const id of guildIds) this.send(s, "GUILD_CREATE", this.guildObject(id, true));
  }

  private guildObject(id: string, full: boolean): Json {
    const g = this.guilds.get(id)!;
    const inGuild = [...this.channels.values()].filter((c) => c.guild_id === id);
    const members = [...(this.members.get(id)?.values() ?? [])];
    const everyone = {
      id, name: "@everyone", color: 0, colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false,
      icon: null, unicode_emoji: null, position: 0, permissions: MEMBER_PERMS, managed: false, mentionable: false, flags: 0,
    };
    const base = {
      id, name: g.name, icon: null, splash: null, discovery_splash: null, banner: null, description: null,
      owner_id: "300000000000000009" /* someone else: the bot is a member */, afk_channel_id: null, afk_timeout: 300, verification_level: 0,
      default_message_notifications: 0, explicit_content_filter: 0, roles: [everyone], emojis: [], stickers: [],
      features: [], mfa_level: 0, application_id: null, system_channel_id: null, system_channel_flags: 0,
      rules_channel_id: null, public_updates_channel_id: null, safety_alerts_channel_id: null, vanity_url_code: null,
      premium_tier: 0, premium_subscription_count: 0, preferred_locale: "en-US", nsfw_level: 0,
      premium_progress_bar_enabled: false, max_members: 500000, max_video_channel_users: 25,
    };
    if (!full) return base;
    return {
      ...base, joined_at: g.joinedAt, large: false, unavailable: false, member_count: members.length, members,
      channels: inGuild.filter((c) => ![10, 11, 12].includes(c.type)), threads: inGuild.filter((c) => [10, 11, 12].includes(c.type)),
      voice_states: [], presences: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
    };
  }

  private member(user: Json, permissions?: string): Json {
    return {
      user, nick: null, avatar: null, banner: null, roles: [], joined_at: iso(), premium_since: null, deaf: false, mute: false,
      flags: 0, pending: false, communication_disabled_until: null, ...(permissions ? { permissions } : {}),
    };
  }

  /**
   * The data of a command interaction; with `chosen`, an option registered with choices must hold one
   * of them (Discord's client offers nothing else, so a test cannot send what no user could).
   */
  private commandData(o: CommandOpts, focused?: string, chosen = false): Json {
    const guildId = o.guildId ?? (this.channels.get(o.channelId ?? this.channelId)?.guild_id as string | undefined);
    const cmd = [...(guildId ? this.commandsByScope.get(guildId) ?? [] : []), ...(this.commandsByScope.get("global") ?? [])]
      .find((c) => c.name === o.name && (c.type ?? 1) === 1);
    // Option types come from the registered command when there is one, else from the JS value.
    const find = (list: Json[] | undefined, name: string) => list?.find((x) => x.name === name);
    let scope: Json[] | undefined = cmd?.options;
    if (o.subcommandGroup) scope = find(scope, o.subcommandGroup)?.options;
    if (o.subcommand) scope = find(scope, o.subcommand)?.options;
    const infer = (v: unknown) => (typeof v === "boolean" ? 5 : typeof v === "number" ? (Number.isInteger(v) ? 4 : 10) : 3);
    for (const [name, value] of Object.entries(o.options ?? {})) {
      const choices: Json[] | undefined = find(scope, name)?.choices;
      if (chosen && choices && !choices.some((c) => c.value === value)) {
        throw new Error(`discord-fake: ${name}=${String(value)} is not one of the registered choices (${choices.map((c) => c.value).join(", ")})`);
      }
    }
    let options: Json[] = Object.entries(o.options ?? {}).map(([name, value]) => ({
      name, type: find(scope, name)?.type ?? infer(value), value, ...(name === focused ? { focused: true } : {}),
    }));
    if (o.subcommand) options = [{ type: 1, name: o.subcommand, options }];
    if (o.subcommandGroup) options = [{ type: 2, name: o.subcommandGroup, options }];
    return { id: cmd?.id ?? this.snowflake(), name: o.name, type: 1, options, ...(cmd?.guild_id ? { guild_id: cmd.guild_id } : {}) };
  }

  private interaction(type: number, o: InteractionOpts, data: Json, component?: MessageRow, deliver = true): InteractionRef {
    const user = this.addUser(o.user);
    const guildChannel = o.guildId && !o.channelId
      ? [...this.channels.values()].find((c) => c.guild_id === o.guildId && c.type === 0)
      : this.channels.get(o.channelId ?? this.channelId);
    const channel = guildChannel ?? (o.channelId ? undefined : this.dmChannel(user.id));
    if (!channel) throw new Error(`discord-fake: no channel ${o.channelId ?? o.guildId}`);
    const guildId: string | null = channel.guild_id ?? null;
    const id = this.snowflake();
    // Shaped like Discord's ("interaction:<id>:..." in base64); only its uniqueness matters.
    const token = `aW50ZXJhY3Rpb246${id}:${randomBytes(48).toString("base64url")}`;
    // In a guild the user comes inside `member` (with computed permissions), in a DM as `user`.
    let where: Json = { user };
    if (guildId) {
      this.members.get(guildId)?.set(user.id, this.member(user)); // guild member lists carry no permissions
      const member = this.member(user, o.permissions ?? (o.admin ? ADMIN_PERMS : MEMBER_PERMS));
      where = { guild_id: guildId, guild: { id: guildId, locale: "en-US", features: [] }, guild_locale: "en-US", member };
    }
    const row: InteractionRow = { id, token, type, createdAt: Date.now(), expired: false, channel, guildId, user, followupIds: [] };
    if (component) row.componentMessageId = component.raw.id;
    this.interactions.set(id, row);
    this.byToken.set(token, row);
    row.payload = {
      id, application_id: this.appId, type, data, token, version: 1, channel_id: channel.id,
      channel: { ...channel, permissions: BOT_PERMS }, app_permissions: BOT_PERMS, locale: o.locale ?? "en-US",
      entitlements: [], authorizing_integration_owners: { "0": guildId ?? "0" }, context: guildId ? 0 : 1,
      attachment_size_limit: 10 * 1024 * 1024, ...where, ...(component ? { message: component.raw } : {}),
    };
    if (deliver) this.deliver(row);
    return { id, token };
  }

  // ---- REST -------------------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    // discord.js percent-encodes "@original"; the fake matches and records decoded paths.
    const full = decodeURIComponent(url.pathname);
    const versioned = full.startsWith("/api/v10/");
    const path = versioned ? full.slice("/api/v10".length) : full;
    const key = `${method} ${path}`;
    const call: FakeCall = { method, path, query: url.search, body: undefined, time: Date.now(), status: 0 };
    this.calls.push(call);
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      await this.answerInFlight(path);
      const { json, files } = parseBody(req.headers["content-type"], Buffer.concat(chunks));
      call.body = json;
      if (json !== undefined) captureMessage(`discord ${key}`, json); // what the bot sent, for the secret scan
      const delay = this.take(this.delays, key);
      if (delay) await sleep(delay.ms ?? 0);
      const route = versioned ? this.routes.find((r) => r.method === method && r.re.test(path)) : undefined;
      if (!route) throw new ApiError(404, 0, "404: Not Found");
      if (route.botAuth && req.headers.authorization !== `Bot ${this.token}`) throw new ApiError(401, 0, "401: Unauthorized");
      const { hash, window } = this.bucket(method, path);
      const limit = this.opts.bucketLimit;
      const scripted = this.take(this.rateLimits, key);
      if (scripted || window.used >= limit) {
        const retryAfter = Math.round((scripted?.seconds ?? (window.resetAt - Date.now()) / 1000) * 1000) / 1000;
        const global = scripted?.global === true;
        this.count429++;
        status = 429;
        body = { message: "You are being rate limited.", retry_after: retryAfter, global, code: 0 };
        const wholeSeconds = String(Math.max(1, Math.ceil(retryAfter)));
        headers = global
          ? { "retry-after": wholeSeconds, "x-ratelimit-global": "true", "x-ratelimit-scope": "global" }
          : { ...this.rateHeaders(hash, limit, 0, Date.now() + retryAfter * 1000), "retry-after": wholeSeconds, "x-ratelimit-scope": "user" };
      } else {
        window.used++;
        headers = this.rateHeaders(hash, limit, limit - window.used, window.resetAt);
        const reply = route.handler({ params: route.re.exec(path)!.slice(1), query: url.searchParams, body: json ?? {}, files });
        body = reply.body;
        status = reply.status ?? (body === undefined ? 204 : 200);
      }
    } catch (e) {
      if (e instanceof ApiError) {
        status = e.status;
        body = { message: e.message, code: e.code, ...(e.errors ? { errors: e.errors } : {}) };
      } else {
        this.internalErrors.push(e);
        status = 500;
        body = { message: "500: Internal Server Error", code: 0 };
      }
    }
    call.status = status;
    if (body !== undefined) headers["content-type"] = "application/json";
    res.writeHead(status, headers).end(body === undefined ? undefined : JSON.stringify(body));
  }

  private take(rules: Rule[], key: string): Rule | undefined {
    const i = rules.findIndex((r) => key.includes(r.match));
    const rule = rules[i];
    if (rule && --rule.times <= 0) rules.splice(i, 1);
    return rule;
  }

  /** Buckets like Discord's: per method + route template, counted per top-level resource. */
  private bucket(method: string, path: string) {
    const major = /^\/webhooks\/(\d{17,19}\/[^/]+)/.exec(path)?.[1] ?? /^\/(?:channels|guilds|webhooks)\/(\d{17,19})/.exec(path)?.[1] ?? "global";
    const template = path.startsWith("/interactions/")
      ? "/interactions/:id/:token/callback"
      : path.replace(/\d{17,19}/g, ":id").replace(/\/webhooks\/:id\/[^/]+/, "/webhooks/:id/:token");
    const hash = createHash("sha1").update(`${method} ${template}`).digest("hex").slice(0, 32);
    let window = this.windows.get(`${hash}:${major}`);
    if (!window || Date.now() >= window.resetAt) {
      window = { used: 0, resetAt: Date.now() + this.opts.bucketWindowMs };
      this.windows.set(`${hash}:${major}`, window);
    }
    return { hash, window };
  }

  private rateHeaders(hash: string, limit: number, remaining: number, resetAt: number): Record<string, string> {
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset": (resetAt / 1000).toFixed(3),
      "x-ratelimit-reset-after": (Math.max(0, resetAt - Date.now()) / 1000).toFixed(3),
      "x-ratelimit-bucket": hash,
    };
  }

  private defineRoutes(): void {
    const on = (method: string, pattern: string, botAuth: boolean, handler: (req: Req) => Reply) =>
      this.routes.push({ method, re: new RegExp(`^${pattern.replace(/:\w+/g, "([^/]+)")}$`), botAuth, handler });
    const ok = (body: unknown, status?: number): Reply => ({ body, status });
    const bot = this.users.get(this.botUserId)!;

    on("GET", "/gateway", false, () => ok({ url: this.gatewayUrl }));
    on("GET", "/gateway/bot", true, () => ok({
      url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    }));
    on("GET", "/users/@me", true, () => ok({ ...bot, verified: true, mfa_enabled: false, email: null, locale: "en-US" }));
    on("GET", "/applications/@me", true, () => ok({
      id: this.appId, name: this.opts.botUsername, icon: null, description: "", summary: "", bot_public: true,
      bot_require_code_grant: false, verify_key: this.publicKeyHex, flags: 0, team: null, owner: bot, bot,
      approximate_guild_count: this.guilds.size, integration_types_config: { "0": {} }, tags: [],
    }));
    on("POST", "/users/@me/channels", true, ({ body }) => {
      if (!this.users.has(String(body.recipient_id))) throw new ApiError(400, 50033, "Invalid Recipient(s)");
      return ok(this.dmChannel(String(body.recipient_id)));
    });
    on("GET", "/users/:id", true, ({ params: [id] }) => ok(must(this.users.get(id!), notFound("User"))));
    on("GET", "/guilds/:guild", true, ({ params: [id] }) => ok(this.guildObject(must(this.guilds.get(id!), missingAccess()).id, false)));
    on("GET", "/guilds/:guild/members/:user", true, ({ params: [gid, uid] }) =>
      ok(must(must(this.members.get(gid!), missingAccess()).get(uid!), notFound("Member"))));

    // Application commands, global ("global" scope) and per guild.
    const scope = (app: string, guild?: string) => {
      if (app !== this.appId) throw missingAccess();
      if (guild && !this.guilds.has(guild)) throw missingAccess();
      return guild ?? "global";
    };
    for (const prefix of ["/applications/:app/commands", "/applications/:app/guilds/:guild/commands"]) {
      const at = (params: string[]) => scope(params[0]!, prefix.includes(":guild") ? params[1] : undefined);
      on("GET", prefix, true, ({ params }) => ok(this.commandsByScope.get(at(params)) ?? []));
      on("PUT", prefix, true, ({ params, body }) => {
        const s = at(params);
        if (!Array.isArray(body)) throw formError("_root", "ARRAY_TYPE_CONVERT", "Only iterables may be used in a ListType");
        const old = this.commandsByScope.get(s) ?? [];
        const names = new Set<string>();
        const next = (body as Json[]).map((c, i) => {
          const key = `${c.type ?? 1}:${c.name}`;
          if (names.has(key)) throw formError(`${i}.name`, "APPLICATION_COMMANDS_DUPLICATE_NAME", `Application command names must be unique`);
          names.add(key);
          return this.command(s, c, old.find((o) => `${o.type}:${o.name}` === key), `${i}.`);
        });
        this.commandsByScope.set(s, next);
        return ok(next);
      });
      on("POST", prefix, true, ({ params, body }) => {
        const s = at(params);
        const list = this.commandsByScope.get(s) ?? [];
        const old = list.find((o) => o.name === body.name && o.type === (body.type ?? 1));
        const cmd = this.command(s, body, old, "");
        this.commandsByScope.set(s, old ? list.map((c) => (c === old ? cmd : c)) : [...list, cmd]);
        return ok(cmd, old ? 200 : 201);
      });
      const one = (params: string[]) => {
        const s = at(params);
        const cmd = (this.commandsByScope.get(s) ?? []).find((c) => c.id === params[params.length - 1]);
        if (!cmd) throw notFound("application command");
        return { s, cmd };
      };
      on("GET", `${prefix}/:cmd`, true, ({ params }) => ok(one(params).cmd));
      on("PATCH", `${prefix}/:cmd`, true, ({ params, body }) => {
        const { s, cmd } = one(params);
        const next = this.command(s, { ...cmd, ...body }, cmd, "");
        this.commandsByScope.set(s, this.commandsByScope.get(s)!.map((c) => (c === cmd ? next : c)));
        return ok(next);
      });
      on("DELETE", `${prefix}/:cmd`, true, ({ params }) => {
        const { s, cmd } = one(params);
        this.commandsByScope.set(s, this.commandsByScope.get(s)!.filter((c) => c !== cmd));
        return ok(undefined);
      });
    }

    // Interaction responses: no Authorization, the interaction token is the credential.
    on("POST", "/interactions/:id/:token/callback", false, (req) => this.callback(req));
    on("POST", "/webhooks/:app/:token", false, ({ params: [app, token], query, body, files }) => {
      const row = this.webhookRow(app!, token!);
      // Follow-ups exist only once the interaction was acknowledged.
      if (!row.callback || ![4, 5, 6, 7].includes(row.callback.type)) throw notFound("Webhook");
      validateMessage(body, true);
      const flags = (body.flags ?? 0) & (EPHEMERAL | 4 | 4096 | 32768);
      const m = this.createMessage(row.channel, { ...body, flags }, files, this.interactionExtra(row, 0));
      row.followupIds.push(m.id);
      return query.get("wait") === "false" ? ok(undefined) : ok(m);
    });
    const webhookMessage = (app: string, token: string, id: string) => {
      const row = this.webhookRow(app, token);
      const mid = id === "@original" ? row.originalId : id;
      const m = mid && (mid === row.originalId || row.followupIds.includes(mid)) ? this.messages.get(mid) : undefined;
      if (!m || m.deleted) throw notFound("Message");
      return m;
    };
    on("GET", "/webhooks/:app/:token/messages/:id", false, ({ params: [a, t, id] }) => ok(webhookMessage(a!, t!, id!).raw));
    on("PATCH", "/webhooks/:app/:token/messages/:id", false, ({ params: [a, t, id], body, files }) =>
      ok(this.editMessage(webhookMessage(a!, t!, id!), body, files)));
    on("DELETE", "/webhooks/:app/:token/messages/:id", false, ({ params: [a, t, id] }) => {
      webhookMessage(a!, t!, id!).deleted = true;
      return ok(undefined);
    });

    // Channels, messages and threads with the bot token.
    on("GET", "/channels/:ch", true, ({ params: [id] }) => ok(this.channelOf(id!)));
    on("PATCH", "/channels/:ch", true, ({ params: [id], body }) => {
      const ch = this.channelOf(id!);
      if (typeof body.name === "string") ch.name = body.name;
      if (ch.thread_metadata) {
        for (const k of ["archived", "locked", "auto_archive_duration"]) if (k in body) ch.thread_metadata[k] = body[k];
        if ("archived" in body) ch.thread_metadata.archive_timestamp = iso();
      }
      return ok(ch);
    });
    on("GET", "/channels/:ch/messages", true, ({ params: [id], query }) => {
      this.channelOf(id!);
      const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 50)));
      const before = query.get("before"), after = query.get("after");
      let list = this.channelMessages(id!).map((m) => m.raw);
      if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
      if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after));
      list.reverse(); // newest first, as Discord returns them
      return ok(after ? list.slice(-limit) : list.slice(0, limit));
    });
    on("POST", "/channels/:ch/messages", true, ({ params: [id], body, files }) => {
      const ch = this.channelOf(id!);
      if (ch.type === 1 && this.closedDms.has(ch.recipients[0].id)) throw new ApiError(403, 50007, "Cannot send messages to this user");
      if (ch.thread_metadata?.locked) throw new ApiError(403, 50083, "Thread is archived");
      validateMessage(body, files.length === 0);
      const extra: Json = {};
      if (body.message_reference?.message_id) {
        const ref = this.messages.get(body.message_reference.message_id);
        if (!ref) throw formError("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message");
        Object.assign(extra, { type: 19, message_reference: { type: 0, channel_id: id, message_id: ref.raw.id }, referenced_message: ref.raw });
      }
      return ok(this.createMessage(ch, body, files, extra));
    });
    const channelMessage = (cid: string, mid: string) => {
      this.channelOf(cid);
      const m = this.messages.get(mid);
      if (!m || m.deleted || m.raw.channel_id !== cid || m.raw.flags & EPHEMERAL) throw notFound("Message");
      return m;
    };
    on("GET", "/channels/:ch/messages/:msg", true, ({ params: [c, m] }) => ok(channelMessage(c!, m!).raw));
    on("PATCH", "/channels/:ch/messages/:msg", true, ({ params: [c, m], body, files }) => {
      const row = channelMessage(c!, m!);
      if (row.raw.author.id !== this.botUserId) throw new ApiError(403, 50005, "Cannot edit a message authored by another user");
      return ok(this.editMessage(row, body, files));
    });
    on("DELETE", "/channels/:ch/messages/:msg", true, ({ params: [c, m] }) => {
      channelMessage(c!, m!).deleted = true;
      return ok(undefined);
    });
    on("POST", "/channels/:ch/messages/:msg/threads", true, ({ params: [c, m], body }) => {
      const parent = this.channelOf(c!);
      const starter = channelMessage(c!, m!);
      if (this.channels.has(m!)) throw new ApiError(400, 160004, "A thread has already been created for this message");
      // A thread started from a message takes the message's id, as on Discord.
      const thread = this.createThread(parent, body, m!, parent.type === 5 ? 10 : 11);
      starter.raw.flags |= HAS_THREAD;
      starter.raw.thread = thread;
      return ok(thread, 201);
    });
    on("POST", "/channels/:ch/threads", true, ({ params: [c], body }) =>
      ok(this.createThread(this.channelOf(c!), body, this.snowflake(), body.type ?? 12), 201));
  }

  private callback({ params: [id, token], query, body }: Req): Reply {
    const row = this.interactions.get(id!);
    if (!row || row.token !== token) throw notFound("interaction");
    if (row.callback) throw new ApiError(400, 40060, "Interaction has already been acknowledged.");
    if (row.expired || Date.now() - row.createdAt > this.opts.callbackWindowMs) throw notFound("interaction");
    const type = Number(body.type);
    const data: Json = body.data ?? {};
    // Which callback types each interaction type accepts (2 command, 3 component, 4 autocomplete, 5 modal).
    const allowed: Record<number, number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8], 5: [4, 5, 6, 7] };
    if (!allowed[row.type]!.includes(type)) throw formError("type", "INTERACTION_RESPONSE_TYPE_INVALID", `Invalid interaction response type ${type}`);
    let message: MessageRow | undefined;
    if (type === 4 || type === 5) {
      if (type === 4) validateMessage(data, true);
      const flags = ((data.flags ?? 0) & (EPHEMERAL | 4 | 4096 | 32768)) | (type === 5 ? LOADING : 0);
      const content = type === 4 ? data : { content: "" };
      const raw = this.createMessage(row.channel, { ...content, flags }, [], this.interactionExtra(row, row.type === 2 ? 20 : 0));
      message = this.messages.get(raw.id)!;
      row.originalId = raw.id;
    } else if (type === 6 || type === 7) {
      // Deferred update / update: the "original" becomes the message the component sits on.
      message = row.componentMessageId ? this.messages.get(row.componentMessageId) : undefined;
      if (!message) throw new ApiError(400, 40004, "Interaction has no message to update");
      if (type === 7) this.editMessage(message, data, []);
      row.originalId = message.raw.id;
    } else if (type === 8) {
      if (!Array.isArray(data.choices) || data.choices.length > 25) throw formError("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    } else if (type === 9) {
      if (!data.custom_id || !data.title || !Array.isArray(data.components) || !data.components.length)
        throw formError("data", "MODAL_INVALID", "A modal needs custom_id, title and components");
    }
    row.callback = { interactionId: row.id, type, data: body.data, time: Date.now() };
    this.callbacks.set(row.id, row.callback);
    if (query.get("with_response") !== "true") return { status: 204 };
    return {
      body: {
        interaction: {
          id: row.id, type: row.type, response_message_id: message?.raw.id, response_message_loading: type === 5,
          response_message_ephemeral: message ? (message.raw.flags & EPHEMERAL) !== 0 : undefined,
        },
        resource: { type, ...(message ? { message: message.raw } : {}) },
      },
    };
  }

  private webhookRow(app: string, token: string): InteractionRow {
    if (app !== this.appId) throw notFound("Webhook");
    const row = this.byToken.get(token);
    if (!row || row.expired || Date.now() - row.createdAt > this.opts.tokenLifetimeMs) throw new ApiError(401, 50027, "Invalid Webhook Token");
    return row;
  }

  private interactionExtra(row: InteractionRow, type: number): Json {
    return {
      type, webhook_id: this.appId, application_id: this.appId,
      interaction_metadata: {
        id: row.id, type: row.type, user: row.user, authorizing_integration_owners: { "0": row.guildId ?? "0" },
        ...(row.componentMessageId ? { interacted_message_id: row.componentMessageId } : {}),
      },
    };
  }

  private channelOf(id: string): Json {
    if (this.blocked.has(id)) throw missingAccess();
    const ch = this.channels.get(id);
    if (!ch) throw notFound("Channel");
    return ch;
  }

  private createThread(parent: Json, body: Json, id: string, type: number): Json {
    if (![0, 5].includes(parent.type)) throw new ApiError(400, 50024, "Cannot execute action on this channel type");
    if (typeof body.name !== "string" || body.name.length < 1 || body.name.length > 100)
      throw formError("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    const now = iso();
    const thread = {
      id, type, guild_id: parent.guild_id, parent_id: parent.id, owner_id: this.botUserId, name: body.name,
      last_message_id: null, rate_limit_per_user: body.rate_limit_per_user ?? 0, message_count: 0, member_count: 1,
      total_message_sent: 0, flags: 0, applied_tags: [],
      thread_metadata: {
        archived: false, auto_archive_duration: body.auto_archive_duration ?? parent.default_auto_archive_duration ?? 1440,
        archive_timestamp: now, locked: false, create_timestamp: now, ...(type === 12 ? { invitable: body.invitable ?? true } : {}),
      },
      member: { id, user_id: this.botUserId, join_timestamp: now, flags: 0 },
    };
    this.channels.set(id, thread);
    return thread;
  }

  private attachments(files: Upload[], body: Json): Json[] {
    return files.map((f, i) => {
      const id = this.snowflake();
      const declared = (body.attachments as Json[] | undefined)?.find((a) => String(a.id) === String(i));
      return {
        id, filename: declared?.filename ?? f.filename, size: f.size, content_type: f.contentType,
        url: `https://cdn.discordapp.com/attachments/0/${id}/${f.filename}`, proxy_url: `https://media.discordapp.net/attachments/0/${id}/${f.filename}`,
        ...(declared?.description ? { description: declared.description } : {}),
      };
    });
  }

  /** A full Message object as Discord returns it; stored, and returned for the response body. */
  private createMessage(channel: Json, body: Json, files: Upload[], extra: Json): Json {
    const id = this.snowflake();
    const raw: Json = {
      id, type: 0, channel_id: channel.id, author: this.users.get(this.botUserId), content: body.content ?? "",
      timestamp: iso(), edited_timestamp: null, tts: Boolean(body.tts), mention_everyone: false, mentions: [],
      mention_roles: [], attachments: this.attachments(files, body), embeds: body.embeds ?? [], pinned: false,
      flags: body.flags ?? 0, components: body.components ?? [], ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...extra,
    };
    this.messages.set(id, { raw, edits: 0, deleted: false });
    if (!(raw.flags & EPHEMERAL)) {
      channel.last_message_id = id;
      if (channel.thread_metadata) {
        channel.message_count++;
        channel.total_message_sent++;
      }
    }
    return raw;
  }

  private editMessage(row: MessageRow, body: Json, files: Upload[]): Json {
    validateMessage(body, false);
    const raw = row.raw;
    if ("content" in body) raw.content = body.content ?? "";
    if ("embeds" in body) raw.embeds = body.embeds ?? [];
    if ("components" in body) raw.components = body.components ?? [];
    if ("attachments" in body || files.length) raw.attachments = this.attachments(files, body);
    // Only SUPPRESS_EMBEDS can change on edit; the first edit of a deferred reply ends LOADING.
    if ("flags" in body) raw.flags = (raw.flags & ~4) | ((body.flags ?? 0) & 4);
    if (raw.flags & LOADING) raw.flags &= ~LOADING;
    else raw.edited_timestamp = iso();
    row.edits++;
    return raw;
  }

  private view(row: MessageRow): FakeMessage {
    const r = row.raw;
    return {
      id: r.id, channelId: r.channel_id, content: r.content, embeds: r.embeds, components: r.components, flags: r.flags,
      ephemeral: (r.flags & EPHEMERAL) !== 0, edits: row.edits, deleted: row.deleted, raw: r,
    };
  }

  private command(scope: string, body: Json, old: Json | undefined, at: string): Json {
    const type = body.type ?? 1;
    if (typeof body.name !== "string" || !(type === 1 ? /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u : /^.{1,32}$/u).test(body.name))
      throw formError(`${at}name`, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
    if (type === 1 && (typeof body.description !== "string" || body.description.length < 1 || body.description.length > 100))
      throw formError(`${at}description`, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    return {
      default_member_permissions: null, dm_permission: true, contexts: null, integration_types: [0], nsfw: false,
      description: "", name_localizations: null, description_localizations: null, ...body,
      id: old?.id ?? this.snowflake(), application_id: this.appId, version: this.snowflake(), type,
      ...(scope === "global" ? {} : { guild_id: scope }),
    };
  }

  /** Increasing snowflakes carrying the current time, so discord.js's createdAt is right. */
  private snowflake(): string {
    let id = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
    if (id <= this.lastSnowflake) id = this.lastSnowflake + 1n;
    this.lastSnowflake = id;
    return id.toString();
  }
}

function missingAccess(): ApiError {
  return new ApiError(403, 50001, "Missing Access");
}
function must<T>(value: T | undefined, error: ApiError): T {
  if (value === undefined) throw error;
  return value;
}

export async function startDiscordFake(opts: DiscordFakeOptions = {}): Promise<DiscordFake> {
  return new DiscordFake(opts).listen();
}
