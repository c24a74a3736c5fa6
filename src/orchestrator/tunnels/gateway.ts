// The bot-hosted tunnel gateway: `<token>.<tunnel domain>` (or, with no tunnel domain, the
// fallback `<public url>/t/<token>/…`) is proxied to a spawn's dashboard through an SSH
// forwardOut channel on that spawn's one shared connection (see ssh-pool.ts).
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { downstreamResponseHeaders, requestHead, upstreamRequestHeaders, type TunnelContext } from "./headers.js";
import { OpenStreams } from "./open-streams.js";
import { TokenRateLimit } from "./rate-limit.js";
import { SshPool } from "./ssh-pool.js";
import { hashTunnelToken, isPathToken, TUNNEL_TOKEN_RE } from "./tokens.js";
import { classifyHost } from "./tunnel-domain.js";
import { TunnelError, type TunnelFailureCode, type TunnelGatewayOptions, type TunnelLogger, type TunnelTarget } from "./types.js";

/** A dashboard page load is tens of requests; 10 a second sustained is plenty for one person. */
const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
const TUNNEL_PREFIX = "/t/";

/** One line per expected failure: what happened, and what to do next. */
const FAILURES: Record<TunnelFailureCode, { status: number; body: string }> = {
  NOT_FOUND: { status: 404, body: "this tunnel link is unknown or has expired: ask the bot for a new link" },
  RATE_LIMITED: { status: 429, body: "too many requests through this tunnel: wait a moment, then retry" },
  HOST_UNREACHABLE: { status: 502, body: "the spawn's host is not reachable: check that the spawn is running, then retry" },
  HOST_KEY_CHANGED: {
    status: 502,
    body: "the spawn's host presented a different SSH host key, so the tunnel is refused: if the server was rebuilt on purpose, delete the spawn and spawn again",
  },
  DASHBOARD_DOWN: { status: 502, body: "the dashboard on the spawn's host did not answer: check that the agent is running, then retry" },
  SHUTTING_DOWN: { status: 503, body: "the tunnel gateway is shutting down: retry in a moment" },
};

type Route =
  | { kind: "not-ours" }
  | { kind: "fail"; code: TunnelFailureCode; retryAfter?: number }
  | { kind: "internal"; id: string }
  | { kind: "redirect"; location: string }
  | { kind: "proxy"; target: TunnelTarget; ctx: TunnelContext; path: string }
  | { kind: "lookup"; token: string; where: () => { path: string; prefix?: string } | { redirect: string } };

type ProxyRoute = Extract<Route, { kind: "proxy" }>;

export class TunnelGateway {
  private readonly pool: SshPool;
  private readonly limit: TokenRateLimit;
  /** Streams open through each link, cut when the link is revoked (unshare). */
  private readonly streams = new OpenStreams();
  private readonly logger: TunnelLogger | undefined;
  private closed = false;

  constructor(private readonly opts: TunnelGatewayOptions) {
    this.logger = opts.logger;
    this.pool = new SshPool(opts.logger);
    this.limit = new TokenRateLimit(opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE);
  }

  /**
   * True if it handled the request: any request to a tunnel host (with a tunnel domain), or a
   * `/t/…` path. Lets the caller serve the bot's own pages on the same server for the rest.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const found = this.route(req);
    if (found.kind === "not-ours") return false;
    void this.lookUp(found).then(async (route) => {
      if (route.kind !== "proxy") {
        req.resume(); // the body goes nowhere: drain it so the connection can be reused
        return writeAnswer(res, answerFor(route));
      }
      await this.proxyHttp(req, res, route).catch((err: unknown) => this.internalError(res, route.target.spawnId, err));
    }).catch((err: unknown) => {
      // Even writing the answer failed (the client went away): never an unhandled rejection, which would end the bot.
      this.logInternal(undefined, err);
      res.destroy();
    });
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const found = this.route(req);
    if (found.kind === "not-ours") return false;
    socket.on("error", () => socket.destroy()); // a browser leaving mid-handshake is not an error of ours
    void this.lookUp(found).then(async (route) => {
      if (route.kind !== "proxy") return writeRawAnswer(socket, answerFor(route));
      await this.proxyUpgrade(req, socket, head, route).catch((err: unknown) => {
        const id = this.logInternal(route.target.spawnId, err);
        writeRawAnswer(socket, internalAnswer(id));
      });
    }).catch((err: unknown) => {
      this.logInternal(undefined, err);
      socket.destroy();
    });
    return true;
  }

  /** Close a spawn's SSH connection (on delete, expiry, token revocation). */
  closeSpawn(spawnId: string): Promise<void> {
    return this.pool.closeSpawn(spawnId);
  }

  /**
   * Cut what is open now through these links (revoked by unshare): their streaming responses and
   * WebSockets. The spawn's SSH connection stays for its other links; new requests through a
   * revoked link are refused by the lookup.
   */
  async closeTokens(tokenHashes: readonly string[]): Promise<void> {
    const cut = this.streams.cut(tokenHashes);
    if (cut) this.logger?.info({ streams: cut }, "cut streams of revoked tunnel links");
  }

  /** Streams (responses, WebSockets) open through links now (for tests and metrics). */
  openStreams(): number {
    return this.streams.size();
  }

  /** How many SSH connections are open now (for tests and metrics). */
  openConnections(): number {
    return this.pool.size();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.closeAll();
  }

  /** Everything short of contacting the VM: which tunnel, token shape, lookup, trailing slash, rate limit. */
  private route(req: IncomingMessage): Route {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const domain = this.opts.tunnelDomain;
    if (domain !== undefined) {
      const host = classifyHost(req.headers.host, domain);
      // The path goes upstream as it is: root-absolute assets, fetch('/api') and /ws just work.
      // Only origin-form targets: an absolute URL or `*` would name a different host than the one routed.
      if (host.kind === "tunnel") return this.routeToken(host.label, TUNNEL_TOKEN_RE.test(host.label) && url.startsWith("/"), () => ({ path: url }));
      // Tokens never work on the bot's own host, so no dashboard runs on its origin.
      if (pathname.startsWith(TUNNEL_PREFIX)) return this.closed ? { kind: "fail", code: "SHUTTING_DOWN" } : { kind: "fail", code: "NOT_FOUND" };
      return { kind: "not-ours" };
    }
    if (!pathname.startsWith(TUNNEL_PREFIX)) return { kind: "not-ours" };
    const slash = pathname.indexOf("/", TUNNEL_PREFIX.length);
    const token = pathname.slice(TUNNEL_PREFIX.length, slash < 0 ? undefined : slash);
    const prefix = `${TUNNEL_PREFIX}${token}`;
    return this.routeToken(token, isPathToken(token), () =>
      slash < 0 ? { redirect: `${pathname}/${url.slice(pathname.length)}` } : { path: url.slice(slash), prefix },
    );
  }

  private routeToken(token: string, wellFormed: boolean, where: () => { path: string; prefix?: string } | { redirect: string }): Route {
    if (this.closed) return { kind: "fail", code: "SHUTTING_DOWN" };
    if (!wellFormed) return { kind: "fail", code: "NOT_FOUND" };
    return { kind: "lookup", token, where };
  }

  /** A well-formed token's route: its target from the store (asynchronous), then the rate limit. */
  private async lookUp(route: Exclude<Route, { kind: "not-ours" }>): Promise<Exclude<Route, { kind: "not-ours" | "lookup" }>> {
    if (route.kind !== "lookup") return route;
    const { token, where } = route;
    const hash = hashTunnelToken(token);
    let target: TunnelTarget | undefined;
    try {
      target = await this.opts.resolve(hash);
    } catch (err) {
      return { kind: "internal", id: this.logInternal(undefined, err) };
    }
    if (!target) return { kind: "fail", code: "NOT_FOUND" };
    // Counted only for live tokens, so random tokens cannot grow the limiter's table.
    const retryAfter = this.limit.take(hash);
    if (retryAfter !== undefined) return { kind: "fail", code: "RATE_LIMITED", retryAfter };
    const to = where();
    if ("redirect" in to) return { kind: "redirect", location: to.redirect };
    return { kind: "proxy", target, ctx: { token, remotePort: target.remotePort, prefix: to.prefix }, path: to.path };
  }

  private async proxyHttp(req: IncomingMessage, res: ServerResponse, route: ProxyRoute): Promise<void> {
    const { target, ctx } = route;
    let clientGone = false;
    res.once("close", () => (clientGone = true));
    let channel;
    try {
      channel = await this.pool.forward(target);
    } catch (err) {
      return this.failed(res, target.spawnId, err);
    }
    if (clientGone) return void channel.close();
    const opened = channel;
    const release = this.streams.track(hashTunnelToken(ctx.token), () => {
      opened.close();
      res.destroy();
    });
    res.once("close", release);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of upstreamRequestHeaders(req, ctx, false)) {
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    const upstream = http.request({ method: req.method, path: route.path, headers, createConnection: () => opened });
    upstream.on("response", (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, downstreamResponseHeaders(up.rawHeaders, ctx));
      res.flushHeaders(); // server-sent events: the browser needs the headers before the first event
      up.on("error", () => res.destroy());
      up.pipe(res);
    });
    upstream.on("error", (err) => this.failed(res, target.spawnId, new TunnelError("DASHBOARD_DOWN", err.message, { cause: err })));
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy(); // the browser left: stop the upstream too
    });
    req.pipe(upstream);
  }

  /** A WebSocket (or any upgrade) is piped raw: our request head, then bytes both ways. */
  private async proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, route: ProxyRoute): Promise<void> {
    const { target, ctx } = route;
    let channel;
    try {
      channel = await this.pool.forward(target);
    } catch (err) {
      return writeRawAnswer(socket, this.answerForError(target.spawnId, err));
    }
    if (socket.destroyed) return void channel.close();
    const opened = channel;
    const release = this.streams.track(hashTunnelToken(ctx.token), () => {
      opened.close();
      socket.destroy();
    });
    socket.once("close", release);
    channel.write(requestHead(req.method ?? "GET", route.path, upstreamRequestHeaders(req, ctx, true)));
    if (head.length > 0) channel.write(head);
    channel.on("error", () => socket.destroy());
    // A clean end is passed on by pipe (letting buffered bytes flush); a dropped link cuts the socket.
    channel.once("close", () => socket.writableEnded || socket.destroy());
    socket.once("close", () => channel.close());
    socket.pipe(channel);
    channel.pipe(socket);
  }

  private failed(res: ServerResponse, spawnId: string, err: unknown): void {
    const answer = this.answerForError(spawnId, err);
    if (res.headersSent) res.destroy(); // mid-stream: all we can do is cut it
    else writeAnswer(res, answer);
  }

  private internalError(res: ServerResponse, spawnId: string, err: unknown): void {
    const id = this.logInternal(spawnId, err);
    if (res.headersSent) res.destroy();
    else writeAnswer(res, internalAnswer(id));
  }

  private answerForError(spawnId: string, err: unknown): Answer {
    if (!(err instanceof TunnelError)) return internalAnswer(this.logInternal(spawnId, err));
    if (err.code === "DASHBOARD_DOWN") this.logger?.warn({ spawnId, err: err.message }, "tunnelled request failed upstream");
    return answerFor({ kind: "fail", code: err.code });
  }

  /** Unexpected errors are logged once with an id the user can quote. Never the token. */
  private logInternal(spawnId: string | undefined, err: unknown): string {
    const id = randomBytes(4).toString("hex");
    this.logger?.warn({ spawnId, id, err: err instanceof Error ? err.message : String(err) }, "tunnel gateway internal error");
    return id;
  }
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

function answerFor(route: Exclude<Route, { kind: "not-ours" | "proxy" | "lookup" }>): Answer {
  if (route.kind === "internal") return internalAnswer(route.id);
  if (route.kind === "redirect") return { status: 308, body: "moved: follow the Location header", headers: { Location: route.location } };
  const { status, body } = FAILURES[route.code];
  return { status, body, headers: route.retryAfter !== undefined ? { "Retry-After": String(route.retryAfter) } : undefined };
}

function internalAnswer(id: string): Answer {
  return { status: 500, body: `internal error (id ${id}): retry, and report the id if it persists` };
}

function writeAnswer(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { ...a.headers, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
  res.end(`${a.body}\n`);
}

/** The same answers on an upgrade socket, which has no ServerResponse. */
function writeRawAnswer(socket: Duplex, a: Answer): void {
  if (socket.destroyed) return;
  const body = `${a.body}\n`;
  const headers = { ...a.headers, "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), Connection: "close" };
  const lines = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`);
  socket.end(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? ""}\r\n${lines.join("")}\r\n${body}`);
}
