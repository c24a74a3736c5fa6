// The gateway's header rewriting, one rule at a time: what the dashboard is told about the
// request, and what the browser may keep (cookies, redirects, service-worker scope) from the answer.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { downstreamResponseHeaders, rewriteSetCookie, upstreamRequestHeaders, type TunnelContext } from "./headers.js";

const TOKEN = "abcdefghijklmnopqrstuvwxyz";
const PORT = 7681;
/** The path form: every tunnel under one origin, this one at /t/<token>. */
const PATH_FORM: TunnelContext = { token: TOKEN, remotePort: PORT, prefix: `/t/${TOKEN}` };
/** The subdomain form: this tunnel is the whole origin `<token>.tunnels.test`. */
const HOST_FORM: TunnelContext = { token: TOKEN, remotePort: PORT };
const TUNNEL_HOST = `${TOKEN}.tunnels.test:8443`;

function request(host: string, headers: Array<[string, string]>): IncomingMessage {
  const all: Array<[string, string]> = [["Host", host], ...headers];
  return { rawHeaders: all.flat(), headers: { host } } as unknown as IncomingMessage;
}

function response(headers: Array<[string, string]>, ctx: TunnelContext): Record<string, string | string[]> {
  return downstreamResponseHeaders(headers.flat(), ctx);
}

describe("Set-Cookie in the path form", () => {
  it("puts a root cookie under the tunnel's prefix", () => {
    expect(rewriteSetCookie("sid=abc; Path=/; HttpOnly", PATH_FORM)).toBe(`sid=abc; Path=/t/${TOKEN}/; HttpOnly`);
  });

  it("refuses the escape through a second Path attribute (browsers use the last one)", () => {
    const out = rewriteSetCookie("sid=abc; Path=/x; Secure; Path=/", PATH_FORM);
    expect(out).toBe(`sid=abc; Path=/t/${TOKEN}/; Secure`);
    expect(out.match(/path=/gi)).toHaveLength(1);
  });

  it("keeps a deeper path, in any case of the attribute name", () => {
    expect(rewriteSetCookie("a=1; pAtH=/app/x", PATH_FORM)).toBe(`a=1; Path=/t/${TOKEN}/app/x`);
  });

  it("scopes a cookie without a Path, or with a malformed one, to the tunnel's root", () => {
    expect(rewriteSetCookie("a=1", PATH_FORM)).toBe(`a=1; Path=/t/${TOKEN}/`);
    expect(rewriteSetCookie("a=1; Path=relative", PATH_FORM)).toBe(`a=1; Path=/t/${TOKEN}/`);
    expect(rewriteSetCookie("a=1; Path", PATH_FORM)).toBe(`a=1; Path=/t/${TOKEN}/`);
  });

  it("drops the Domain attribute, so the cookie stays host-only", () => {
    expect(rewriteSetCookie("a=1; Domain=example.com; Path=/", PATH_FORM)).toBe(`a=1; Path=/t/${TOKEN}/`);
  });

  it("keeps the cookie's value as it is, even with '=' and spaces inside", () => {
    expect(rewriteSetCookie("blob=a=b=c; Max-Age=60", PATH_FORM)).toBe(`blob=a=b=c; Path=/t/${TOKEN}/; Max-Age=60`);
  });
});

describe("Set-Cookie in the subdomain form", () => {
  it("drops every Domain attribute, so neither the parent domain nor another tunnel gets the cookie", () => {
    expect(rewriteSetCookie("a=1; Domain=tunnels.test; Path=/; domain=.tunnels.test; HttpOnly", HOST_FORM)).toBe("a=1; Path=/; HttpOnly");
  });

  it("leaves Path alone: the whole origin is this tunnel's", () => {
    expect(rewriteSetCookie("a=1; Path=/api; SameSite=Lax", HOST_FORM)).toBe("a=1; Path=/api; SameSite=Lax");
    expect(rewriteSetCookie("__Host-s=1; Path=/; Secure", HOST_FORM)).toBe("__Host-s=1; Path=/; Secure");
  });
});

describe("response headers", () => {
  it("drops Service-Worker-Allowed in the path form, so a worker cannot claim the shared origin", () => {
    const out = response([["Service-Worker-Allowed", "/"], ["Content-Type", "text/javascript"]], PATH_FORM);
    expect(out["service-worker-allowed"]).toBeUndefined();
    expect(out["content-type"]).toBe("text/javascript");
  });

  it("keeps Service-Worker-Allowed in the subdomain form, where the origin is the tunnel's alone", () => {
    expect(response([["Service-Worker-Allowed", "/"]], HOST_FORM)["service-worker-allowed"]).toBe("/");
  });

  it("rewrites every Set-Cookie of an answer", () => {
    const out = response([["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2; Path=/x; Path=/"]], PATH_FORM);
    expect(out["set-cookie"]).toEqual([`a=1; Path=/t/${TOKEN}/`, `b=2; Path=/t/${TOKEN}/`]);
  });

  it("keeps redirects inside the tunnel in both forms", () => {
    expect(response([["Location", "/login?next=%2F"]], PATH_FORM).location).toBe(`/t/${TOKEN}/login?next=%2F`);
    expect(response([["Location", `http://127.0.0.1:${PORT}/a?b#c`]], PATH_FORM).location).toBe(`/t/${TOKEN}/a?b#c`);
    expect(response([["Location", "/login?next=%2F"]], HOST_FORM).location).toBe("/login?next=%2F");
    expect(response([["Location", `http://localhost:${PORT}/a?b#c`]], HOST_FORM).location).toBe("/a?b#c");
    expect(response([["Location", "https://openrouter.ai/auth"]], HOST_FORM).location).toBe("https://openrouter.ai/auth");
  });

  it("drops hop-by-hop headers and the ones Connection names", () => {
    const out = response([["Connection", "close, X-Private"], ["X-Private", "1"], ["Keep-Alive", "timeout=5"], ["X-Public", "2"]], HOST_FORM);
    expect(Object.keys(out)).toEqual(["x-public"]);
  });
});

describe("request headers in the subdomain form", () => {
  it("shows the dashboard a loopback Host and a loopback Origin for same-origin requests", () => {
    const out = new Map(upstreamRequestHeaders(request(TUNNEL_HOST, [["Origin", `https://${TUNNEL_HOST}`]]), HOST_FORM, false));
    expect(out.get("Host")).toBe(`127.0.0.1:${PORT}`);
    expect(out.get("Origin")).toBe(`http://127.0.0.1:${PORT}`);
  });

  it("keeps a cross-site Origin, so the dashboard's own CSRF checks still refuse it", () => {
    const other = "https://bcdefghijklmnopqrstuvwxyza.tunnels.test:8443";
    const out = new Map(upstreamRequestHeaders(request(TUNNEL_HOST, [["Origin", other]]), HOST_FORM, false));
    expect(out.get("Origin")).toBe(other);
  });

  it("rewrites the tunnel's own Referer to the loopback view and drops anything carrying the token", () => {
    const out = new Map(
      upstreamRequestHeaders(request(TUNNEL_HOST, [["Referer", `https://${TUNNEL_HOST}/page?x=1`], ["X-Debug", `see ${TOKEN}`], ["X-Forwarded-Host", "evil"]]), HOST_FORM, false),
    );
    expect(out.get("Referer")).toBe(`http://127.0.0.1:${PORT}/page?x=1`);
    expect(out.has("X-Debug")).toBe(false);
    expect(out.has("X-Forwarded-Host")).toBe(false);
    expect(JSON.stringify([...out])).not.toContain(TOKEN);
  });

  it("keeps the WebSocket upgrade pair only for an upgrade", () => {
    const req = request(TUNNEL_HOST, [["Connection", "Upgrade"], ["Upgrade", "websocket"]]);
    expect(new Map(upstreamRequestHeaders(req, HOST_FORM, true)).get("Upgrade")).toBe("websocket");
    expect(new Map(upstreamRequestHeaders(req, HOST_FORM, false)).has("Upgrade")).toBe(false);
  });
});
