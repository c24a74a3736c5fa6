// SPAWNBOT_TUNNEL_DOMAIN and the Host header: which requests are a tunnel's, which are the bot's.
import { describe, expect, it } from "vitest";
import { newTunnelToken, TUNNEL_TOKEN_RE } from "./tokens.js";
import { classifyHost, parseTunnelDomain, tunnelOrigin } from "./tunnel-domain.js";

describe("parseTunnelDomain", () => {
  it("accepts a wildcard name or its bare suffix, in any case, with or without a final dot", () => {
    for (const text of ["*.tunnels.example.com", "tunnels.example.com", "*.Tunnels.Example.COM.", " tunnels.example.com "]) {
      expect(parseTunnelDomain(text)).toEqual({ ok: true, domain: "tunnels.example.com" });
    }
  });

  it("refuses what cannot be a DNS wildcard, saying what to give instead", () => {
    for (const text of ["", "*", "com", "*.com", "tunnels..example.com", "-x.example.com", "a_b.example.com", "*.*.example.com", "t.*.example.com",
      "https://tunnels.example.com", "tunnels.example.com:8443", "10.0.0.1", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(40)}.com`]) {
      const r = parseTunnelDomain(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.error).toContain("*.tunnels.example.com");
    }
  });
});

describe("tunnel tokens as DNS labels", () => {
  it("are 26 lower-case base32 characters (130 random bits) that survive a browser lowercasing the host", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { token } = newTunnelToken();
      expect(token).toMatch(TUNNEL_TOKEN_RE);
      expect(token.toLowerCase()).toBe(token);
      expect(new URL(`https://${token}.tunnels.example.com/`).hostname).toBe(`${token}.tunnels.example.com`);
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });
});

describe("classifyHost", () => {
  const domain = "tunnels.test";
  it("finds the token label of a tunnel host, with or without a port, in any case", () => {
    expect(classifyHost("abc.tunnels.test:8080", domain)).toEqual({ kind: "tunnel", label: "abc" });
    expect(classifyHost("ABC.Tunnels.Test.", domain)).toEqual({ kind: "tunnel", label: "abc" });
  });

  it("claims the domain itself and deeper names too, so the bot's pages never run there", () => {
    expect(classifyHost("tunnels.test", domain)).toEqual({ kind: "tunnel", label: "" });
    expect(classifyHost("a.b.tunnels.test", domain)).toEqual({ kind: "tunnel", label: "a.b" });
  });

  it("leaves every other host to the bot's own pages", () => {
    for (const host of ["bot.example.com", "127.0.0.1:8080", "[::1]:8080", "eviltunnels.test", undefined, ""]) {
      expect(classifyHost(host, domain), String(host)).toEqual({ kind: "bot" });
    }
  });
});

describe("tunnelOrigin", () => {
  it("takes the scheme and port from the public URL", () => {
    expect(tunnelOrigin("https://bot.example.com", "tunnels.example.com", "tok")).toBe("https://tok.tunnels.example.com");
    expect(tunnelOrigin("http://127.0.0.1:8080/base", "tunnels.test", "tok")).toBe("http://tok.tunnels.test:8080");
  });
});
