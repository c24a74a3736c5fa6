// Where `--host` may point: the name is resolved once here and the address is checked against the
// network policy, so a person cannot make the bot SSH into its own machine, a cloud metadata
// service or a neighbour on its link, and a name cannot resolve one way now and another at connect.
import { BlockList, isIPv4, isIPv6 } from "node:net";
import dns from "node:dns";
import os from "node:os";
import { HostUnreachableError } from "./errors.js";

export type IpFamily = "ipv4" | "ipv6";

/** One range of a network list: `10.0.0.0/8`, `2001:db8::/32`, or a single address. */
export interface Network {
  family: IpFamily;
  /** The network address as written. */
  address: string;
  prefix: number;
  /** The entry as the admin wrote it, for messages. */
  text: string;
}

/**
 * Refused unless an admin allows them: nothing a person's own server lives at. Private ranges
 * (10/8, 192.168/16, fc00::/7) stay open: a team's build box on its office network is a real use;
 * an admin who does not want that denies them with SPAWNBOT_SSH_DENY_NETWORKS.
 */
const DEFAULT_REFUSED: readonly { cidr: string; what: string }[] = [
  { cidr: "0.0.0.0/8", what: "unspecified (Linux connects 0.0.0.0 to the bot's own host)" },
  { cidr: "127.0.0.0/8", what: "loopback" },
  { cidr: "169.254.0.0/16", what: "link-local (cloud metadata services answer at 169.254.169.254)" },
  { cidr: "224.0.0.0/4", what: "multicast" },
  { cidr: "255.255.255.255/32", what: "broadcast" },
  { cidr: "::/128", what: "unspecified" },
  { cidr: "::1/128", what: "loopback" },
  { cidr: "::/96", what: "IPv4-compatible IPv6 (deprecated; it can reach IPv4 hosts such as 127.0.0.1)" },
  { cidr: "fe80::/10", what: "link-local" },
  { cidr: "ff00::/8", what: "multicast" },
  { cidr: "fd00:ec2::254/128", what: "a cloud metadata service (AWS over IPv6)" },
];

const BITS: Record<IpFamily, number> = { ipv4: 32, ipv6: 128 };

/** The 4 or 16 bytes of an IP address (no zone id), valid as node:net's isIP says. */
function addressBytes(address: string, family: IpFamily): number[] {
  if (family === "ipv4") return address.split(".").map(Number);
  // A trailing dotted quad (::ffff:127.0.0.1) becomes the two groups it stands for.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const [head, tail] = text.split("::") as [string, string | undefined];
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** NAT64's well-known prefix (RFC 6052): 64:ff9b::a.b.c.d reaches a.b.c.d through the network's translator. */
const NAT64 = (() => {
  const list = new BlockList();
  list.addSubnet("64:ff9b::", 96, "ipv6");
  return list;
})();

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which reaches that IPv4 host. */
function unmapped(address: string): string | undefined {
  const b = addressBytes(address, "ipv6");
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? b.slice(12).join(".") : undefined;
}

/** An address as the policy sees it: zone id dropped, IPv4-mapped IPv6 as the IPv4 address it reaches. */
export function normalizeAddress(raw: string): { address: string; family: IpFamily } | undefined {
  const address = raw.replace(/%.*$/, "");
  if (isIPv4(address)) return { address, family: "ipv4" };
  if (!isIPv6(address)) return undefined;
  const v4 = unmapped(address);
  return v4 ? { address: v4, family: "ipv4" } : { address: address.toLowerCase(), family: "ipv6" };
}

function parseNetwork(entry: string): Network | string {
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const prefixText = slash < 0 ? undefined : entry.slice(slash + 1);
  const family: IpFamily | undefined = isIPv4(address) ? "ipv4" : isIPv6(address) && !address.includes("%") ? "ipv6" : undefined;
  if (!family) return `'${entry}' is not an IP address or CIDR range (write it like 10.0.0.0/8 or 2001:db8::/32)`;
  if (family === "ipv6" && unmapped(address)) return `'${entry}' is an IPv4-mapped IPv6 address; write the IPv4 range itself (e.g. 127.0.0.0/8)`;
  const bits = BITS[family];
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return `'${entry}' has a bad prefix length; use /0 to /${bits} for ${family === "ipv4" ? "IPv4" : "IPv6"}`;
  const bytes = addressBytes(address, family);
  const hostBitsSet = bytes.some((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return (byte & (0xff >> keep)) !== 0;
  });
  if (hostBitsSet) return `'${entry}' has bits set after the first ${prefix}; write the network address of the range`;
  return { family, address, prefix, text: entry };
}

/** A comma-separated list of CIDR ranges (a bare address is one host); one problem per bad entry. */
export function parseNetworks(text: string): { networks: Network[]; problems: string[] } {
  const networks: Network[] = [];
  const problems: string[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const parsed = parseNetwork(entry);
    if (typeof parsed === "string") problems.push(parsed);
    else networks.push(parsed);
  }
  return { networks, problems };
}

function blockListOf(networks: readonly Network[]): BlockList {
  const list = new BlockList();
  for (const n of networks) list.addSubnet(n.address, n.prefix, n.family);
  return list;
}

/** The bot's own addresses, read at each check: interfaces come and go (VPNs, containers). */
function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export interface HostPolicySettings {
  /** SPAWNBOT_SSH_ALLOW_NETWORKS: ranges that may be reached even if refused by default. */
  allow?: readonly Network[];
  /** SPAWNBOT_SSH_DENY_NETWORKS: ranges never reached; wins over allow. */
  deny?: readonly Network[];
  /** The bot's own addresses (tests give their own list); os.networkInterfaces() by default. */
  ownAddresses?: () => string[];
}

export class HostPolicy {
  private readonly allow: BlockList;
  private readonly deny: BlockList;
  private readonly refused = DEFAULT_REFUSED.map(({ cidr, what }) => {
    const parsed = parseNetworks(cidr).networks[0]!;
    return { list: blockListOf([parsed]), what };
  });
  private readonly ownAddresses: () => string[];

  constructor(settings: HostPolicySettings = {}) {
    this.allow = blockListOf(settings.allow ?? []);
    this.deny = blockListOf(settings.deny ?? []);
    this.ownAddresses = settings.ownAddresses ?? interfaceAddresses;
  }

  /** Why the bot must not connect to this address, or undefined when it may (for the log, not the user). */
  refusal(raw: string): string | undefined {
    const norm = normalizeAddress(raw);
    if (!norm) return `${raw} is not an IP address`;
    const { address, family } = norm;
    if (this.deny.check(address, family)) return `${address} is in SPAWNBOT_SSH_DENY_NETWORKS`;
    if (this.allow.check(address, family)) return undefined;
    if (family === "ipv6" && NAT64.check(address, "ipv6")) {
      const embedded = addressBytes(address, "ipv6").slice(12).join(".");
      const why = this.refusal(embedded);
      if (why) return `${address} reaches ${embedded} through NAT64: ${why}`;
    }
    const range = this.refused.find((r) => r.list.check(address, family));
    if (range) return `${address} is ${range.what}; an admin can allow it with SPAWNBOT_SSH_ALLOW_NETWORKS`;
    const own = blockListOf(this.ownAddresses().flatMap((a) => {
      const n = normalizeAddress(a);
      return n ? [{ ...n, prefix: BITS[n.family], text: a }] : [];
    }));
    if (own.check(address, family)) return `${address} is one of the bot's own addresses; an admin can allow it with SPAWNBOT_SSH_ALLOW_NETWORKS`;
    return undefined;
  }
}

/** getaddrinfo with every address; tests give a fake resolver. */
export type LookupAll = (name: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: LookupAll = (name) => dns.promises.lookup(name, { all: true });

/**
 * Resolve `host` once and return the one address to connect to. Every address the name has must
 * pass the policy: a name that mixes a public address with an internal one is refused outright.
 * IPv4 comes first (a bot without an IPv6 route still reaches a dual-stack host). Every failure,
 * DNS or policy, is a HostUnreachableError: the user sees the same words as for a closed port.
 */
export async function resolveHostAddress(target: { host: string; port: number; user: string }, policy: HostPolicy, lookup: LookupAll = systemLookup): Promise<string> {
  const where = `${target.user}@${target.host}:${target.port}`;
  let found: { address: string; family: number }[];
  try {
    found = await lookup(target.host);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new HostUnreachableError(where, `name lookup failed: ${e.code ?? e.message}`);
  }
  if (found.length === 0) throw new HostUnreachableError(where, "name lookup found no address");
  const addresses = found.map((a) => normalizeAddress(a.address)?.address ?? a.address);
  for (const address of addresses) {
    const why = policy.refusal(address);
    if (why) throw new HostUnreachableError(where, `refused by the network policy: ${why}`);
  }
  return addresses.find((a) => isIPv4(a)) ?? addresses[0]!;
}
