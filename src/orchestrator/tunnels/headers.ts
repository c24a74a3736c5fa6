// What the dashboard sees of a tunnelled request, and what the browser sees of its answer.
// The dashboard must look reached over `ssh -L`: a loopback Host, no trace of the token; and what
// it sets in the browser (cookies, service workers) must stay inside its own tunnel.
import type { IncomingMessage } from "node:http";

/** Headers that belong to one hop (RFC 9110 §7.6.1), never forwarded as they are. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"]);
/** Client-supplied forwarding claims: a loopback dashboard may trust them, so they are dropped. */
const FORWARDING_CLAIMS = new Set(["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-prefix", "x-real-ip"]);

export interface TunnelContext {
  token: string;
  remotePort: number;
  /** `/t/<token>` in the path form (no tunnel domain); undefined when the tunnel is its own host. */
  prefix?: string;
}

type Pair = [name: string, value: string];

function pairs(raw: string[]): Pair[] {
  const out: Pair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function connectionTokens(raw: Pair[]): Set<string> {
  const named = raw.filter(([n]) => n.toLowerCase() === "connection").flatMap(([, v]) => v.split(","));
  return new Set(named.map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** The upstream's own origin, which it would see from a browser on the far end of `ssh -L`. */
function upstreamOrigin(ctx: TunnelContext): string {
  return `http://127.0.0.1:${ctx.remotePort}`;
}

/** A Referer pointing into this tunnel, rewritten to the upstream's view; undefined = drop it. */
function rewriteReferer(value: string, ctx: TunnelContext, publicHost: string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.includes(ctx.token) ? undefined : value;
  }
  const { prefix } = ctx;
  if (prefix === undefined) {
    if (publicHost !== undefined && url.host === publicHost.toLowerCase()) return `${upstreamOrigin(ctx)}${url.pathname}${url.search}`;
  } else if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
    return `${upstreamOrigin(ctx)}${url.pathname.slice(prefix.length) || "/"}${url.search}`;
  }
  return value.includes(ctx.token) ? undefined : value;
}

/**
 * The request headers to send upstream, in their original order and case. For a WebSocket
 * upgrade the Connection/Upgrade pair is kept; everything else hop-by-hop is dropped.
 */
export function upstreamRequestHeaders(req: IncomingMessage, ctx: TunnelContext, upgrade: boolean): Pair[] {
  const raw = pairs(req.rawHeaders);
  const dropped = connectionTokens(raw);
  const publicHost = req.headers.host;
  const out: Pair[] = [["Host", `127.0.0.1:${ctx.remotePort}`]];
  for (const [name, value] of raw) {
    const lower = name.toLowerCase();
    if (lower === "host" || FORWARDING_CLAIMS.has(lower)) continue;
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) {
      if (upgrade && (lower === "connection" || lower === "upgrade")) out.push([name, lower === "connection" ? "Upgrade" : value]);
      continue;
    }
    let v: string | undefined = value;
    if (lower === "referer") v = rewriteReferer(value, ctx, publicHost);
    // Same-origin requests look same-origin to the dashboard too; cross-site ones keep their
    // Origin so the dashboard's own CSRF checks still refuse them.
    else if (lower === "origin" && publicHost !== undefined && originHost(value) === publicHost) v = upstreamOrigin(ctx);
    if (v === undefined || v.includes(ctx.token)) continue; // the token never leaves the gateway
    out.push([name, v]);
  }
  return out;
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The upstream's redirect target, kept inside the tunnel. */
function rewriteLocation(value: string, ctx: TunnelContext): string {
  const prefix = ctx.prefix ?? "";
  if (value.startsWith("/") && !value.startsWith("//")) return `${prefix}${value}`;
  try {
    const url = new URL(value);
    const local = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) && url.port === String(ctx.remotePort);
    if (local) return `${prefix}${url.pathname}${url.search}${url.hash}`;
  } catch {
    // a relative reference: the browser resolves it inside the tunnel already
  }
  return value;
}

/**
 * A Set-Cookie kept to this tunnel. Domain is dropped in both forms: a host-only cookie reaches
 * neither the parent domain nor other tunnels. In the path form every Path attribute is replaced
 * by one under the prefix: browsers use the LAST Path (RFC 6265 §5.3 step 7), so rewriting only
 * the first would let `Path=/x; Path=/` escape to every tunnel and the bot's own pages.
 */
export function rewriteSetCookie(value: string, ctx: TunnelContext): string {
  const [pair = "", ...attrs] = value.split(";");
  const kept: string[] = [];
  let path: string | undefined;
  for (const raw of attrs) {
    const attr = raw.trim();
    if (attr === "") continue;
    const eq = attr.indexOf("=");
    const name = (eq < 0 ? attr : attr.slice(0, eq)).trim().toLowerCase();
    if (name === "domain") continue;
    if (name === "path") path = eq < 0 ? "" : attr.slice(eq + 1).trim();
    else kept.push(attr);
  }
  if (ctx.prefix !== undefined) {
    // A missing or malformed Path would mean the request's directory; the tunnel's root is the safe stand-in.
    kept.unshift(`Path=${ctx.prefix}${path?.startsWith("/") ? path : "/"}`);
  } else if (path !== undefined) {
    kept.unshift(`Path=${path}`);
  }
  return [pair.trim(), ...kept].join("; ");
}

/** Response headers for the browser: hop-by-hop ones dropped, redirects and cookies kept in the tunnel. */
export function downstreamResponseHeaders(rawHeaders: string[], ctx: TunnelContext): Record<string, string | string[]> {
  const raw = pairs(rawHeaders);
  const dropped = connectionTokens(raw);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of raw) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) continue;
    // In the path form all tunnels share one origin: a worker allowed a scope above its own
    // folder could control every other tunnel's pages, so the scope stays the worker's folder.
    if (lower === "service-worker-allowed" && ctx.prefix !== undefined) continue;
    const v = lower === "location" ? rewriteLocation(value, ctx) : lower === "set-cookie" ? rewriteSetCookie(value, ctx) : value;
    const prev = out[lower];
    out[lower] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** A raw HTTP/1.1 request head, for piping a WebSocket upgrade byte for byte. */
export function requestHead(method: string, path: string, headers: Pair[]): string {
  return `${method} ${path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
}
