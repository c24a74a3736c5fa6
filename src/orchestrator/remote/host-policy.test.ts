// The network policy of --host: which addresses the bot refuses to SSH into, what an admin's
// allow and deny lists change, and that a name is resolved exactly once.
import os from "node:os";
import { describe, expect, it } from "vitest";
import { HostUnreachableError, NO_SSH_SERVER_MESSAGE } from "./errors.js";
import { HostPolicy, normalizeAddress, parseNetworks, resolveHostAddress, type LookupAll } from "./host-policy.js";

const nets = (text: string) => {
  const { networks, problems } = parseNetworks(text);
  expect(problems).toEqual([]);
  return networks;
};
/** A policy that knows only these own addresses, so the tests do not depend on the machine's interfaces. */
const policy = (opts: { allow?: string; deny?: string; own?: string[] } = {}) =>
  new HostPolicy({ allow: nets(opts.allow ?? ""), deny: nets(opts.deny ?? ""), ownAddresses: () => opts.own ?? ["127.0.0.1", "::1"] });

describe("parsing CIDR lists", () => {
  it("reads IPv4 and IPv6 ranges and single addresses, skipping empty entries", () => {
    expect(parseNetworks(" 10.0.0.0/8 ,, 2001:db8::/32, 192.0.2.7 ,fe80::1").networks).toEqual([
      { family: "ipv4", address: "10.0.0.0", prefix: 8, text: "10.0.0.0/8" },
      { family: "ipv6", address: "2001:db8::", prefix: 32, text: "2001:db8::/32" },
      { family: "ipv4", address: "192.0.2.7", prefix: 32, text: "192.0.2.7" },
      { family: "ipv6", address: "fe80::1", prefix: 128, text: "fe80::1" },
    ]);
  });

  it("names every bad entry and what to write instead", () => {
    expect(parseNetworks("10.0.0.0/33,10.1.0.0/8,lan,fe80::1%eth0,::ffff:10.0.0.0/104,2001:db8::1/32,10.0.0.0/x").problems).toEqual([
      "'10.0.0.0/33' has a bad prefix length; use /0 to /32 for IPv4",
      "'10.1.0.0/8' has bits set after the first 8; write the network address of the range",
      "'lan' is not an IP address or CIDR range (write it like 10.0.0.0/8 or 2001:db8::/32)",
      "'fe80::1%eth0' is not an IP address or CIDR range (write it like 10.0.0.0/8 or 2001:db8::/32)",
      "'::ffff:10.0.0.0/104' is an IPv4-mapped IPv6 address; write the IPv4 range itself (e.g. 127.0.0.0/8)",
      "'2001:db8::1/32' has bits set after the first 32; write the network address of the range",
      "'10.0.0.0/x' has a bad prefix length; use /0 to /32 for IPv4",
    ]);
  });

  it("accepts the edges: /0 and full-length prefixes", () => {
    expect(nets("0.0.0.0/0,::/0,203.0.113.9/32,2001:db8::9/128").map((n) => n.prefix)).toEqual([0, 0, 32, 128]);
  });
});

describe("the default policy", () => {
  it("refuses loopback, unspecified, link-local, metadata, multicast and broadcast addresses", () => {
    const p = policy();
    for (const address of ["127.0.0.1", "127.8.9.10", "0.0.0.0", "0.1.2.3", "169.254.169.254", "169.254.1.1", "224.0.0.1", "239.255.255.250",
      "255.255.255.255", "::1", "::", "fe80::1", "febf::1", "ff02::1", "fd00:ec2::254"]) {
      expect(p.refusal(address), address).toBeDefined();
    }
    expect(p.refusal("169.254.169.254")).toMatch(/link-local \(cloud metadata services answer at 169\.254\.169\.254\); an admin can allow it with SPAWNBOT_SSH_ALLOW_NETWORKS/);
  });

  it("refuses the IPv4-mapped IPv6 forms of those, in dotted and hex notation", () => {
    const p = policy();
    for (const address of ["::ffff:127.0.0.1", "::ffff:7f00:1", "::FFFF:169.254.169.254", "::ffff:a9fe:a9fe", "::ffff:0.0.0.0", "0:0:0:0:0:ffff:7f00:0001"]) {
      expect(p.refusal(address), address).toMatch(/loopback|link-local|unspecified/);
    }
    expect(normalizeAddress("::ffff:7f00:1")).toEqual({ address: "127.0.0.1", family: "ipv4" });
  });

  it("refuses the other IPv6 spellings that lead to an IPv4 host it refuses: IPv4-compatible and NAT64", () => {
    const p = policy();
    expect(p.refusal("::127.0.0.1")).toMatch(/IPv4-compatible/);
    expect(p.refusal("::7f00:1")).toMatch(/IPv4-compatible/);
    expect(p.refusal("64:ff9b::169.254.169.254")).toMatch(/^64:ff9b::169\.254\.169\.254 reaches 169\.254\.169\.254 through NAT64: 169\.254\.169\.254 is link-local/);
    expect(p.refusal("64:ff9b::7f00:1")).toMatch(/reaches 127\.0\.0\.1 through NAT64/);
    expect(p.refusal("64:ff9b::cb00:710a")).toBeUndefined(); // 203.0.113.10, an ordinary host
  });

  it("refuses the bot's own interface addresses, as os.networkInterfaces() lists them", () => {
    const own = Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
    expect(own.length).toBeGreaterThan(0);
    const p = new HostPolicy();
    for (const address of own) expect(p.refusal(address), address).toBeDefined();
    const injected = policy({ own: ["198.51.100.20", "2001:db8::20", "fe80::20%eth0"] });
    expect(injected.refusal("198.51.100.20")).toBe("198.51.100.20 is one of the bot's own addresses; an admin can allow it with SPAWNBOT_SSH_ALLOW_NETWORKS");
    expect(injected.refusal("::ffff:198.51.100.20")).toMatch(/bot's own addresses/);
    expect(injected.refusal("2001:db8:0::20")).toMatch(/bot's own addresses/);
    expect(injected.refusal("198.51.100.21")).toBeUndefined();
  });

  it("lets ordinary public and private addresses through", () => {
    const p = policy();
    for (const address of ["203.0.113.10", "10.1.2.3", "192.168.1.5", "100.64.0.1", "2001:db8::1", "fd12:3456::1", "::ffff:203.0.113.10"]) {
      expect(p.refusal(address), address).toBeUndefined();
    }
  });

  it("refuses what is not an IP address at all", () => {
    expect(policy().refusal("example.com")).toBe("example.com is not an IP address");
  });
});

describe("an admin's allow and deny lists", () => {
  it("allow opens a default-refused range, including the bot's own address", () => {
    const p = policy({ allow: "127.0.0.0/8" });
    expect(p.refusal("127.0.0.1")).toBeUndefined();
    expect(p.refusal("::ffff:127.0.0.1")).toBeUndefined();
    expect(p.refusal("::1")).toBeDefined();
    expect(p.refusal("169.254.169.254")).toBeDefined();
  });

  it("deny closes ordinary ranges, and wins over allow", () => {
    const p = policy({ allow: "10.0.0.0/8,127.0.0.0/8", deny: "10.9.0.0/16,127.0.0.1,2001:db8::/32" });
    expect(p.refusal("10.1.2.3")).toBeUndefined();
    expect(p.refusal("10.9.8.7")).toBe("10.9.8.7 is in SPAWNBOT_SSH_DENY_NETWORKS");
    expect(p.refusal("127.0.0.1")).toBe("127.0.0.1 is in SPAWNBOT_SSH_DENY_NETWORKS");
    expect(p.refusal("127.0.0.2")).toBeUndefined();
    expect(p.refusal("2001:db8:1::5")).toBe("2001:db8:1::5 is in SPAWNBOT_SSH_DENY_NETWORKS");
  });
});

describe("resolving --host once", () => {
  const target = (host: string) => ({ user: "dev", host, port: 22 });
  const fakeDns = (answers: Record<string, string[]>) => {
    const calls: string[] = [];
    const lookup: LookupAll = async (name) => {
      calls.push(name);
      const found = answers[name];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
      return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
    return { lookup, calls };
  };
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HostUnreachableError);
    expect((err as Error).message).toBe(NO_SSH_SERVER_MESSAGE);
    return err as HostUnreachableError;
  };

  it("returns the address to connect to, IPv4 first, after one lookup", async () => {
    const dns = fakeDns({ "box.example": ["2001:db8::5", "203.0.113.5"] });
    expect(await resolveHostAddress(target("box.example"), policy(), dns.lookup)).toBe("203.0.113.5");
    expect(dns.calls).toEqual(["box.example"]);
  });

  it("connects to an IPv4-mapped address as the IPv4 address it reaches", async () => {
    const dns = fakeDns({ "::ffff:203.0.113.5": ["::ffff:203.0.113.5"] });
    expect(await resolveHostAddress(target("::ffff:203.0.113.5"), policy(), dns.lookup)).toBe("203.0.113.5");
  });

  it("refuses a name with any refused address among its answers", async () => {
    const dns = fakeDns({ "rebind.example": ["203.0.113.5", "169.254.169.254"] });
    const err = await failure(resolveHostAddress(target("rebind.example"), policy(), dns.lookup));
    expect(err.reason).toMatch(/^refused by the network policy: 169\.254\.169\.254 is link-local/);
    expect(err.target).toBe("dev@rebind.example:22");
  });

  it("gives a name that does not resolve the same message as a refused address, the cause for the log", async () => {
    const dns = fakeDns({});
    const err = await failure(resolveHostAddress(target("nowhere.example"), policy(), dns.lookup));
    expect(err.reason).toBe("name lookup failed: ENOTFOUND");
    await failure(resolveHostAddress(target("127.0.0.1"), policy(), fakeDns({ "127.0.0.1": ["127.0.0.1"] }).lookup));
  });

  it("resolves real names through the system resolver (localhost from /etc/hosts) and refuses loopback", async () => {
    const err = await failure(resolveHostAddress(target("localhost"), new HostPolicy()));
    expect(err.reason).toMatch(/loopback/);
    expect(await resolveHostAddress(target("localhost"), new HostPolicy({ allow: nets("127.0.0.0/8,::1") }))).toBe("127.0.0.1");
  });
});
