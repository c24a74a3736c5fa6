// Dashboards on their own origins: `<token>.<tunnel domain>` names one spawn's tunnel, so no
// two dashboards (and not the bot's own pages) share an origin, a service worker or a cookie jar.

/** DNS allows 253 characters in a name; the 26-character token and its dot come first. */
const MAX_DOMAIN_CHARS = 253 - 27;
/** One DNS label (RFC 1123): letters, digits, inner hyphens, at most 63 characters. */
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export type TunnelDomainParse = { ok: true; domain: string } | { ok: false; error: string };

/** `*.tunnels.example.com` or `tunnels.example.com` → `tunnels.example.com`, lower case. */
export function parseTunnelDomain(text: string): TunnelDomainParse {
  const bad = (why: string): TunnelDomainParse => ({ ok: false, error: `${why}: give a wildcard name such as *.tunnels.example.com (or just tunnels.example.com)` });
  const domain = text.trim().toLowerCase().replace(/^\*\./, "").replace(/\.$/, "");
  if (domain === "") return bad("is empty");
  if (domain.includes("*")) return bad("may hold only one wildcard, as its first label");
  if (domain.length > MAX_DOMAIN_CHARS) return bad(`is longer than ${MAX_DOMAIN_CHARS} characters`);
  const labels = domain.split(".");
  if (labels.length < 2) return bad("needs at least two labels, so links are not under a top-level domain");
  const wrong = labels.find((l) => !LABEL_RE.test(l));
  if (wrong !== undefined) return bad(`has an invalid label "${wrong}" (letters, digits and inner hyphens only)`);
  if (/^\d+$/.test(labels.at(-1)!)) return bad("is an IP address, not a domain name");
  return { ok: true, domain };
}

/** Where a request's Host header points: a tunnel (with its first label) or anything else (the bot's own pages). */
export type HostKind = { kind: "tunnel"; label: string } | { kind: "bot" };

export function classifyHost(hostHeader: string | undefined, domain: string): HostKind {
  const name = hostName(hostHeader);
  if (name === undefined) return { kind: "bot" };
  // The domain itself and every name under it are tunnel territory: never the bot's own pages.
  if (name === domain) return { kind: "tunnel", label: "" };
  if (!name.endsWith(`.${domain}`)) return { kind: "bot" };
  return { kind: "tunnel", label: name.slice(0, -domain.length - 1) };
}

/** The host name of a Host header, without its port, in lower case, without a trailing dot. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const h = hostHeader.trim().toLowerCase();
  const name = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d*$/, "");
  return name.replace(/\.$/, "") || undefined;
}

/** A tunnel link's origin: the public URL's scheme and port, the token as the first label. */
export function tunnelOrigin(publicUrl: string, domain: string, token: string): string {
  const url = new URL(publicUrl);
  return `${url.protocol}//${token}.${domain}${url.port ? `:${url.port}` : ""}`;
}
