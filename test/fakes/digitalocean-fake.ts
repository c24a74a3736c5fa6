// A wire-level fake of DigitalOcean's API v2 under /v2: account, SSH keys, sizes and droplets
// shaped like the recorded answers in spawn-data/fixtures/digitalocean, the bearer-token check,
// paging by links.pages.next, and the faults of cloud-fake.ts. Droplets boot "new" → "active".
// Rate limits as documented: each request counts for one hour (its own timer) against 5,000 an
// hour and 250 a minute; every answer carries ratelimit-limit/-remaining/-reset (reset: when the
// oldest counted request expires), and only a burst-limit 429 also carries retry-after.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { CloudFake, Fault, FakeCall, FakeServer } from "./cloud-fake.js";
import { captureSecret } from "../support/capture.js";

export interface DigitalOceanFakeOptions {
  token?: string;
  /** How long a new droplet stays "new" before it is "active" with its public address. */
  bootDelayMs?: number;
  /** The public IPv4 every droplet gets (the test sshd listens there). */
  address?: string;
  /** DO caps per_page at 200; tests lower it to make the client follow links.pages.next. */
  maxPerPage?: number;
  /** GET /droplets/{id} of a new droplet answers 404 this many times (DO catching up). */
  notFoundReadsAfterCreate?: number;
  /** Requests per hour and token (DO: 5,000). */
  hourlyLimit?: number;
  /** The burst limit (DO: 250 a minute) and its window, which tests shorten. */
  burstLimit?: number;
  burstWindowMs?: number;
}

const HOUR_MS = 3_600_000;
const DEFAULT_HOURLY_LIMIT = 5000;
const DEFAULT_BURST_LIMIT = 250;
const DEFAULT_BURST_WINDOW_MS = 60_000;

interface FakeDroplet {
  id: number;
  name: string;
  region: string;
  size: string;
  tags: string[];
  createdAt: number;
  notFoundReadsLeft: number;
}

interface FakeKey {
  id: number;
  fingerprint: string;
  public_key: string;
  name: string;
}

/** The create request bodies the fake received, for tests that check what was sent. */
export type DropletRequest = Record<string, unknown>;

const REGIONS: Record<string, string> = { nyc1: "New York 1", nyc3: "New York 3", sfo3: "San Francisco 3", ams3: "Amsterdam 3", fra1: "Frankfurt 1", lon1: "London 1" };
const FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"];
/** [slug, MiB, vcpus, disk GiB, $/month] of a few real sizes. */
const SIZE_ROWS: [string, number, number, number, number][] = [
  ["s-1vcpu-512mb-10gb", 512, 1, 10, 4], ["s-1vcpu-1gb", 1024, 1, 25, 6], ["s-1vcpu-2gb", 2048, 1, 50, 12],
  ["s-2vcpu-2gb", 2048, 2, 60, 18], ["s-2vcpu-4gb", 4096, 2, 80, 24], ["c-2", 4096, 2, 25, 42], ["s-4vcpu-8gb", 8192, 4, 160, 48],
];
const SIZES = SIZE_ROWS.map(([slug, memory, vcpus, disk, monthly]) => ({
  available: true, description: "Basic", disk, disk_info: [{ size: { amount: disk, unit: "gib" }, type: "local" }], memory,
  networking_throughput: 2000, price_hourly: Math.round((monthly / 672) * 1e5) / 1e5, price_monthly: monthly,
  regions: Object.keys(REGIONS), slug, transfer: memory / 1024, vcpus,
}));
const IMAGE = {
  created_at: "2025-08-08T15:11:27Z", description: "Ubuntu 24.04 (LTS) x64", distribution: "Ubuntu", id: 195932981, min_disk_size: 7,
  name: "24.04 (LTS) x64", public: true, regions: Object.keys(REGIONS), size_gigabytes: 3.76, slug: "ubuntu-24-04-x64", status: "available", tags: [], type: "base",
};
const TAG_RE = /^[a-zA-Z0-9_:-]{1,255}$/;

const ERR = {
  unauthorized: { id: "unauthorized", message: "Unable to authenticate you" },
  notFound: { id: "not_found", message: "The resource you were accessing could not be found." },
  throttled: { id: "too_many_requests", message: "API Rate limit exceeded." },
  serverError: { id: "server_error", message: "Unexpected server-side error" },
  unavailable: { id: "service_unavailable", message: "The service is temporarily unavailable. Please try again later." },
};
const unprocessable = (message: string) => ({ id: "unprocessable_entity", message });

/** DO's fingerprint of a key: MD5 of the key blob as colon-separated hex pairs. */
function fingerprintOf(publicKey: string): string | undefined {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/=]+$/.test(blob)) return undefined;
  return createHash("md5").update(Buffer.from(blob, "base64")).digest("hex").match(/../g)!.join(":");
}

export class DigitalOceanFake implements CloudFake {
  readonly calls: FakeCall[] = [];
  readonly validToken: string;
  /** What GET /account answers; tests set status "locked" or lower droplet_limit. */
  readonly account = {
    droplet_limit: 25, email: "sammy@example.com", email_verified: true, floating_ip_limit: 3, name: "Sammy", reserved_ip_limit: 3,
    status: "active", status_message: "", team: { name: "My Team", uuid: "b84e0623-7d0a-4140-b075-3dd1419653f9" },
    uuid: "46a0edaf-1509-4246-9560-b3b865ca8a59", volume_limit: 5000,
  };
  readonly createRequests: DropletRequest[] = [];
  readonly keys: FakeKey[] = [];
  private readonly droplets = new Map<number, FakeDroplet>();
  private readonly faults: Fault[] = [];
  private readonly sockets = new Set<Socket>();
  /** When each request of the last hour came in: each one counts against the limits until its timer runs out. */
  private requestTimes: number[] = [];
  private nextId = 550842125;
  private server!: http.Server;
  url = "";

  private constructor(private readonly opts: DigitalOceanFakeOptions) {
    this.validToken = opts.token ?? "dop_v1_fake0123456789abcdef";
    captureSecret(this.validToken); // the suite's secret scan looks for it in everything the bot logged or sent
  }

  static async start(opts: DigitalOceanFakeOptions = {}): Promise<DigitalOceanFake> {
    const fake = new DigitalOceanFake(opts);
    fake.server = http.createServer((req, res) => void fake.handle(req, res));
    fake.server.on("connection", (s) => {
      fake.sockets.add(s);
      s.on("close", () => fake.sockets.delete(s));
    });
    await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/v2`;
    return fake;
  }

  servers(): FakeServer[] {
    return [...this.droplets.values()].map((d) => ({
      id: String(d.id), name: d.name, state: this.status(d),
      // DO tags are plain names; "key:value" ones read back as a key and a value, others as "".
      tags: Object.fromEntries(d.tags.map((t) => (t.includes(":") ? [t.slice(0, t.indexOf(":")), t.slice(t.indexOf(":") + 1)] : [t, ""]))),
    }));
  }

  /** The droplet's tag names exactly as DO stores them. */
  tagsOf(id: string): string[] | undefined {
    return this.droplets.get(Number(id))?.tags;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private status(d: FakeDroplet): "new" | "active" {
    return Date.now() - d.createdAt >= (this.opts.bootDelayMs ?? 0) ? "active" : "new";
  }

  /** As if the token had made `count` requests just now elsewhere (another tool, another bot). */
  spendRequests(count: number): void {
    const now = Date.now();
    for (let i = 0; i < count; i++) this.requestTimes.push(now);
  }

  /**
   * Count this request; a 429's headers when a limit is reached. Burst (the minute limit) gets
   * retry-after, the seconds until the oldest request of the minute expires; the hourly limit
   * gets none: the client reads ratelimit-reset.
   */
  private rateLimit(now: number): { refused: boolean; headers: Record<string, string> } {
    const hourly = this.opts.hourlyLimit ?? DEFAULT_HOURLY_LIMIT;
    const burst = this.opts.burstLimit ?? DEFAULT_BURST_LIMIT;
    const window = this.opts.burstWindowMs ?? DEFAULT_BURST_WINDOW_MS;
    this.requestTimes = this.requestTimes.filter((t) => t > now - HOUR_MS);
    const inBurst = this.requestTimes.filter((t) => t > now - window);
    const headersFor = (remaining: number) => ({
      "ratelimit-limit": String(hourly),
      "ratelimit-remaining": String(Math.max(0, remaining)),
      "ratelimit-reset": String(Math.ceil(((this.requestTimes[0] ?? now) + HOUR_MS) / 1000)),
    });
    if (this.requestTimes.length >= hourly) return { refused: true, headers: headersFor(0) };
    if (inBurst.length >= burst) {
      return { refused: true, headers: { ...headersFor(0), "retry-after": String(Math.max(1, Math.ceil((inBurst[0]! + window - now) / 1000))) } };
    }
    this.requestTimes.push(now);
    return { refused: false, headers: headersFor(hourly - this.requestTimes.length) };
  }

  private takeFault(action: string): Fault | undefined {
    const f = this.faults.find((x) => x.times > 0 && (!x.match || action.includes(x.match)) && (x.kind !== "lose-create-response" || action === "POST /droplets"));
    if (f) f.times--;
    return f;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/^\/v2(?=\/)/, "");
    const action = `${method} ${path}`;
    this.calls.push({ method, path: `${path}${url.search}`, action });
    const limit = this.rateLimit(Date.now());
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }), ...limit.headers, ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };

    const fault = this.takeFault(action);
    if (fault?.kind === "timeout") return; // accepted, never answered; close() destroys the socket
    if (limit.refused) return send(429, ERR.throttled);
    if (fault?.kind === "throttle") {
      // The burst limit's answer, as the docs' sample: remaining 0 and a retry-after.
      return send(429, ERR.throttled, { "retry-after": "1", "ratelimit-remaining": "0" });
    }
    if (fault?.kind === "server-error") return this.calls.length % 2 ? send(500, ERR.serverError) : send(503, ERR.unavailable);
    if (!url.pathname.startsWith("/v2/")) return send(404, ERR.notFound);
    if (req.headers.authorization !== `Bearer ${this.validToken}`) return send(401, ERR.unauthorized);

    let body: Record<string, unknown> = {};
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
    } catch {
      return send(400, { id: "bad_request", message: "The request body is not valid JSON." });
    }
    const [status, answer] = this.route(method, path, url.searchParams, body);
    if (fault?.kind === "lose-create-response") {
      req.socket.destroy(); // the droplet exists; the client never hears about it
      return;
    }
    send(status, answer);
  }

  private route(method: string, path: string, q: URLSearchParams, body: Record<string, unknown>): [number, unknown] {
    const dropletId = /^\/droplets\/(\d+)$/.exec(path)?.[1];
    if (method === "GET" && path === "/account") return [200, { account: this.account }];
    if (method === "GET" && path === "/account/keys") return [200, this.page("account/keys", "ssh_keys", this.keys, q)];
    if (method === "POST" && path === "/account/keys") return this.addKey(body);
    if (method === "GET" && path === "/sizes") return [200, this.page("sizes", "sizes", SIZES, q)];
    if (method === "GET" && path === "/droplets") {
      const tag = q.get("tag_name");
      const list = [...this.droplets.values()].filter((d) => !tag || d.tags.includes(tag)).map((d) => this.render(d));
      return [200, this.page("droplets", "droplets", list, q)];
    }
    if (method === "POST" && path === "/droplets") return this.createDroplet(body);
    if (dropletId && method === "GET") {
      const d = this.droplets.get(Number(dropletId));
      if (!d) return [404, ERR.notFound];
      if (d.notFoundReadsLeft > 0) {
        d.notFoundReadsLeft--;
        return [404, ERR.notFound];
      }
      return [200, { droplet: this.render(d) }];
    }
    if (dropletId && method === "DELETE") return this.droplets.delete(Number(dropletId)) ? [204, undefined] : [404, ERR.notFound];
    return [404, ERR.notFound];
  }

  private addKey(body: Record<string, unknown>): [number, unknown] {
    const publicKey = typeof body.public_key === "string" ? body.public_key : "";
    const fingerprint = fingerprintOf(publicKey);
    if (!fingerprint) return [422, unprocessable("Key invalid type, we support 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ssh-ed25519'")];
    if (typeof body.name !== "string" || !body.name) return [422, unprocessable("Name can't be blank")];
    if (this.keys.some((k) => k.fingerprint === fingerprint)) return [422, unprocessable("SSH Key is already in use on your account")];
    const key = { id: 40000000 + this.keys.length + 1, fingerprint, public_key: publicKey, name: body.name };
    this.keys.push(key);
    return [201, { ssh_key: key }];
  }

  private createDroplet(body: Record<string, unknown>): [number, unknown] {
    this.createRequests.push(body);
    const { name, region, size, image } = body;
    const tags = Array.isArray(body.tags) ? (body.tags as unknown[]) : [];
    const keys = Array.isArray(body.ssh_keys) ? (body.ssh_keys as unknown[]) : [];
    if (typeof name !== "string" || !/^[a-zA-Z0-9.-]{1,253}$/.test(name)) return [422, unprocessable("Name is invalid: only a-z, 0-9, . and - are allowed")];
    if (typeof region !== "string" || !(region in REGIONS)) return [422, unprocessable("You specified an invalid region for Droplet creation.")];
    if (typeof size !== "string" || !SIZES.some((s) => s.slug === size)) return [422, unprocessable("You specified an invalid size for Droplet creation.")];
    if (image !== IMAGE.slug) return [422, unprocessable("You specified an invalid image for Droplet creation.")];
    if (!tags.every((t) => typeof t === "string" && TAG_RE.test(t))) return [422, unprocessable("Tag name is invalid")];
    if (!keys.every((k) => this.keys.some((x) => x.fingerprint === k || x.id === k))) return [422, unprocessable("You specified invalid ssh key ids for Droplet creation.")];
    if (this.droplets.size >= this.account.droplet_limit) {
      return [422, unprocessable("creating this/these droplet(s) will exceed your droplet limit")];
    }
    const d: FakeDroplet = {
      id: this.nextId++, name, region, size, tags: [...new Set(tags as string[])], createdAt: Date.now(),
      notFoundReadsLeft: this.opts.notFoundReadsAfterCreate ?? 0,
    };
    this.droplets.set(d.id, d);
    const actionId = 3038067722 + d.id - 550842125;
    return [202, { droplet: { ...this.render(d), status: "new", networks: { v4: [], v6: [] } }, links: { actions: [{ href: `${this.url}/actions/${actionId}`, id: actionId, rel: "create" }] } }];
  }

  /** A droplet as GET /droplets/{id} shows it (fixture shape of create-server.json). */
  private render(d: FakeDroplet): Record<string, unknown> {
    const size = SIZES.find((s) => s.slug === d.size)!;
    const active = this.status(d) === "active";
    return {
      backup_ids: [], created_at: new Date(d.createdAt).toISOString().replace(/\.\d+Z$/, "Z"), disk: size.disk, disk_info: size.disk_info,
      features: ["droplet_agent"], id: d.id, image: IMAGE, kernel: null, locked: false, memory: size.memory, name: d.name,
      networks: {
        v4: active
          ? [
              { gateway: "", ip_address: "10.108.0.2", netmask: "255.255.240.0", type: "private" },
              { gateway: "127.0.0.254", ip_address: this.opts.address ?? "127.0.0.1", netmask: "255.255.240.0", type: "public" },
            ]
          : [],
        v6: [],
      },
      next_backup_window: null, region: { available: true, features: FEATURES, name: REGIONS[d.region], sizes: SIZES.map((s) => s.slug), slug: d.region },
      size, size_slug: d.size, snapshot_ids: [], status: this.status(d), tags: d.tags, vcpus: size.vcpus, volume_ids: [],
      vpc_uuid: "5f1ebc4e-0e3e-4f3e-9d9d-0b1c2d3e4f50",
    };
  }

  /** One page of a list, with DO's links.pages (first/prev/next/last) and meta.total. */
  private page<T>(resource: string, field: string, all: T[], q: URLSearchParams): Record<string, unknown> {
    const perPage = Math.min(Number(q.get("per_page")) || 20, this.opts.maxPerPage ?? 200);
    const page = Math.max(1, Number(q.get("page")) || 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number) => {
      const params = new URLSearchParams(q);
      params.set("page", String(p));
      params.set("per_page", String(perPage));
      return `${this.url}/${resource}?${params}`;
    };
    const pages: Record<string, string> = {};
    if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
    if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
    return { [field]: all.slice((page - 1) * perPage, page * perPage), links: Object.keys(pages).length ? { pages } : {}, meta: { total: all.length } };
  }
}
