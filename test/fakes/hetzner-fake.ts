// A wire-level fake of the Hetzner Cloud API (https://docs.hetzner.cloud) under /v1 on 127.0.0.1:
// SSH keys, server types, servers with labels, label selectors and pagination, Primary IPs, the
// bearer token check and the error body { "error": { "code", "message" } }. Its JSON follows the
// recorded responses in spawn-data/fixtures/hetzner. Every server's IPv4 is 127.0.0.1, where the
// tests run their sshd. Faults per cloud-fake.ts, plus scripted API errors (rejectNext).
// As documented: every answer carries RateLimit-Limit/-Remaining/-Reset (never Retry-After), the
// budget refills evenly over the hour; invalid_input is 422; 5xx are server_error 500,
// unavailable 503 and timeout 504; a read-only token gets 401 token_readonly on anything but GET.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFake, FakeCall, FakeServer, Fault } from "./cloud-fake.js";
import { captureSecret } from "../support/capture.js";

type Json = Record<string, unknown>;

/** Types as GET /server_types lists them (name, cores, memory GB, disk GB, architecture, EUR an hour net in the EU locations). */
const SERVER_TYPES: [number, string, number, number, number, string, number][] = [
  [22, "cpx11", 2, 2, 40, "x86", 0.0076], [23, "cpx21", 3, 4, 80, "x86", 0.0129], [24, "cpx31", 4, 8, 160, "x86", 0.0233],
  [45, "cax11", 2, 4, 40, "arm", 0.0062], [93, "cax21", 4, 8, 80, "arm", 0.0104],
  [96, "ccx13", 2, 8, 80, "x86", 0.0208], [97, "ccx23", 4, 16, 160, "x86", 0.0408],
  [108, "cx22", 2, 2, 40, "x86", 0.006], [114, "cx23", 2, 4, 40, "x86", 0.0056], [115, "cx33", 4, 8, 80, "x86", 0.0088],
];
/** The US location costs more, as Hetzner's own price list does; gross adds Germany's 19 % VAT. */
const LOCATION_PRICE_FACTOR: Record<string, number> = { fsn1: 1, nbg1: 1, hel1: 1, ash: 1.2 };
const VAT = 1.19;
/** Hetzner writes prices as decimal strings with ten places ("0.0056000000"). */
const decimal = (n: number) => n.toFixed(10);
const net = (n: number) => ({ net: decimal(n), gross: decimal(n * VAT) });
const LOCATIONS: Json = {
  fsn1: { id: 1, name: "fsn1", city: "Falkenstein", country: "DE", description: "Falkenstein DC Park 1", network_zone: "eu-central" },
  nbg1: { id: 2, name: "nbg1", city: "Nuremberg", country: "DE", description: "Nuremberg DC Park 1", network_zone: "eu-central" },
  hel1: { id: 3, name: "hel1", city: "Helsinki", country: "FI", description: "Helsinki DC Park 1", network_zone: "eu-central" },
  ash: { id: 4, name: "ash", city: "Ashburn, VA", country: "US", description: "Ashburn, VA", network_zone: "us-east" },
};
const LABEL_RE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

function serverType(name: string): Json | undefined {
  const t = SERVER_TYPES.find((x) => x[1] === name);
  return t && {
    id: t[0], name: t[1], description: t[1].toUpperCase(), cores: t[2], memory: t[3], disk: t[4], architecture: t[5], cpu_type: "shared", deprecated: false, deprecation: null, storage_type: "local",
    // prices[] per location as the API lists them (docs.hetzner.cloud: server_types[].prices).
    prices: Object.entries(LOCATION_PRICE_FACTOR).map(([location, factor]) => ({
      location, price_hourly: net(t[6] * factor), price_monthly: net(Math.round(t[6] * factor * 672 * 100) / 100),
      included_traffic: 21990232555520, price_per_tb_traffic: net(1),
    })),
  };
}

interface ServerRow { id: number; name: string; labels: Record<string, string>; createdAt: number; type: Json; location: Json; ipId: number; userData: string }
interface PrimaryIpRow { id: number; labels: Record<string, string>; assigneeId: number | null; autoDelete: boolean }
interface SshKeyRow { id: number; name: string; publicKey: string; fingerprint: string; labels: Record<string, string> }
/** A scripted refusal: the next matching calls answer with this status and Hetzner error code. */
export interface ScriptedError { match: string; status: number; code: string; message: string; times?: number; details?: Json }

export function md5OfKey(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? "", "base64");
  return createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Hetzner's label selector: comma-separated `k=v`, `k==v`, `k!=v`, `k`, `!k`. */
function matchesSelector(labels: Record<string, string>, sel: string | null): boolean {
  if (!sel) return true;
  return sel.split(",").every((term) => {
    const neq = /^([^!=]+)!=(.*)$/.exec(term);
    if (neq) return labels[neq[1]!] !== neq[2];
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return labels[eq[1]!] === eq[2];
    return term.startsWith("!") ? !(term.slice(1) in labels) : term in labels;
  });
}

class HttpAnswer extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Json = {}) {
    super(message);
  }
}

/** invalid_input as the API sends it: 422 with the offending field in details.fields. */
function invalidInput(field: string, message: string): HttpAnswer {
  return new HttpAnswer(422, "invalid_input", `invalid input in field '${field}': ${message}`, { fields: [{ name: field, messages: [message] }] });
}

/** Hetzner's default budget: 3600 requests per hour and project, refilled one a second. */
const DEFAULT_RATE_LIMIT_PER_HOUR = 3600;
const HOUR_MS = 3_600_000;

/** How a listing's pagination misbehaves, for clients that must not loop on it. */
export type PagingFault = "repeat-next-page" | "no-meta";

export class HetznerFake implements CloudFake {
  readonly calls: FakeCall[] = [];
  readonly validToken = "hcloud-test-token-0123456789";
  /** Request bodies of every POST /servers, as sent. */
  readonly createBodies: Json[] = [];
  /** Hetzner's limit of Primary IPs per project; creates beyond it fail like the real API. */
  primaryIpLimit = Infinity;
  /** A token of the same project made read-only: GETs work, anything else is 401 token_readonly. */
  readonly readOnlyToken = "hcloud-readonly-token-9876543210";
  /** GET /servers pages: "repeat-next-page" names the same page again, "no-meta" leaves out meta. */
  pagingFault: PagingFault | undefined;
  private readonly rate: { limit: number; remaining: number; at: number; enforce: boolean };
  private readonly http: http.Server;
  private readonly servers_ = new Map<number, ServerRow>();
  private readonly primaryIps_ = new Map<number, PrimaryIpRow>();
  private readonly sshKeys_ = new Map<number, SshKeyRow>();
  private readonly faults: Fault[] = [];
  private readonly scripted: ScriptedError[] = [];
  private nextId = 120_704_776;
  url = "";

  private constructor(private readonly opts: { bootDelayMs: number; createDelayMs: number; rateLimitPerHour?: number }) {
    captureSecret(this.validToken); // the suite's secret scan looks for it in everything the bot logged or sent
    captureSecret(this.readOnlyToken);
    // The benchmarks make more than 3600 calls an hour on purpose: the budget is only enforced
    // when a test sets it, but the headers always report it.
    const limit = opts.rateLimitPerHour ?? DEFAULT_RATE_LIMIT_PER_HOUR;
    this.rate = { limit, remaining: limit, at: Date.now(), enforce: opts.rateLimitPerHour !== undefined };
    this.http = http.createServer((req, res) => void this.onRequest(req, res));
  }

  /** bootDelayMs: a new server shows "initializing" that long; createDelayMs: POST /servers answers
   * after that long (the server's boot starts when the answer goes out), for the benchmarks;
   * rateLimitPerHour: enforce that budget with 429 rate_limit_exceeded (default: report 3600, never refuse). */
  static async start(opts: { bootDelayMs?: number; createDelayMs?: number; rateLimitPerHour?: number } = {}): Promise<HetznerFake> {
    const fake = new HetznerFake({ bootDelayMs: opts.bootDelayMs ?? 0, createDelayMs: opts.createDelayMs ?? 0, rateLimitPerHour: opts.rateLimitPerHour });
    await new Promise<void>((r) => fake.http.listen(0, "127.0.0.1", () => r()));
    fake.url = `http://127.0.0.1:${(fake.http.address() as AddressInfo).port}/v1`;
    return fake;
  }

  servers(): FakeServer[] {
    return [...this.servers_.values()].map((s) => ({ id: String(s.id), name: s.name, tags: { ...s.labels }, state: this.status(s) }));
  }

  primaryIps(): { id: number; labels: Record<string, string>; assigneeId: number | null; autoDelete: boolean }[] {
    return [...this.primaryIps_.values()].map((p) => ({ ...p }));
  }

  sshKeys(): { id: number; name: string; fingerprint: string; publicKey: string }[] {
    return [...this.sshKeys_.values()].map((k) => ({ ...k }));
  }

  /** A Primary IP as a person or an older bot might have left it; returns its id. */
  addPrimaryIp(ip: { labels?: Record<string, string>; assigneeId?: number | null; autoDelete?: boolean }): number {
    const id = this.nextId++;
    this.primaryIps_.set(id, { id, labels: ip.labels ?? {}, assigneeId: ip.assigneeId ?? null, autoDelete: ip.autoDelete ?? false });
    return id;
  }

  /** Change a Primary IP as the console would (PUT /primary_ips/{id} in the real API). */
  updatePrimaryIp(id: number, patch: { labels?: Record<string, string>; autoDelete?: boolean }): void {
    const ip = this.primaryIps_.get(id)!;
    if (patch.labels) ip.labels = patch.labels;
    if (patch.autoDelete !== undefined) ip.autoDelete = patch.autoDelete;
  }

  /** A server made outside the bot's view (another bot, the console), already running. */
  addServer(name: string, labels: Record<string, string>): number {
    return this.makeServer({ name, labels, server_type: "cx23", location: "nbg1" }, Date.now() - this.opts.bootDelayMs).id;
  }

  /** The primary IPv4 id of a server. */
  primaryIpOf(serverId: string): number {
    return this.servers_.get(Number(serverId))!.ipId;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  rejectNext(error: ScriptedError): void {
    this.scripted.push({ times: 1, ...error });
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  /** Spend the rate budget now, as the whole request answers that it used up everything left. */
  exhaustRateLimit(): void {
    this.refill();
    this.rate.remaining = 0;
  }

  /** The budget refills evenly: limit per hour, so 3600/h gives one request back each second. */
  private refill(): void {
    const now = Date.now();
    this.rate.remaining = Math.min(this.rate.limit, this.rate.remaining + ((now - this.rate.at) * this.rate.limit) / HOUR_MS);
    this.rate.at = now;
  }

  /** Takes one request from the budget; false when none is left. */
  private spend(): boolean {
    this.refill();
    if (this.rate.remaining < 1) return !this.rate.enforce;
    this.rate.remaining -= 1;
    return true;
  }

  private rateHeaders(): Record<string, string> {
    const { limit, remaining } = this.rate;
    const untilFullMs = ((limit - remaining) * HOUR_MS) / limit;
    return {
      "ratelimit-limit": String(limit),
      "ratelimit-remaining": String(Math.floor(remaining)),
      "ratelimit-reset": String(Math.ceil((Date.now() + untilFullMs) / 1000)),
    };
  }

  private status(s: ServerRow): string {
    return Date.now() - s.createdAt >= this.opts.bootDelayMs ? "running" : "initializing";
  }

  private takeFault(action: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.times > 0 && (f.match === undefined || action.includes(f.match)) && (f.kind !== "lose-create-response" || action === "POST /servers"));
    if (i < 0) return undefined;
    const fault = this.faults[i]!;
    if (--fault.times === 0) this.faults.splice(i, 1);
    return fault;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname.replace(/^\/v1/, "");
    const method = req.method ?? "GET";
    const action = `${method} ${path}`;
    this.calls.push({ method, path, action });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...this.rateHeaders(), ...headers });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    const fail = (status: number, code: string, message: string, details: Json = {}) => send(status, { error: { code, message, details } });
    const fault = this.takeFault(action);
    if (fault?.kind === "timeout") return; // hold the request; the client's timeout must fire
    if (fault?.kind === "throttle") this.exhaustRateLimit();
    // Every request counts, authenticated or not (the docs' "Rate Limiting").
    if (!this.spend() || fault?.kind === "throttle") return fail(429, "rate_limit_exceeded", "rate limit exceeded");
    if (fault?.kind === "server-error") return fail(503, "unavailable", "service temporarily unavailable");
    const readOnly = req.headers.authorization === `Bearer ${this.readOnlyToken}`;
    if (req.headers.authorization !== `Bearer ${this.validToken}` && !readOnly) return fail(401, "unauthorized", "unable to authenticate");
    if (readOnly && method !== "GET") return fail(401, "token_readonly", "the token is only allowed to perform GET requests");
    const scripted = this.scripted.find((e) => (e.times ?? 1) > 0 && action.includes(e.match));
    if (scripted) {
      scripted.times = (scripted.times ?? 1) - 1;
      return fail(scripted.status, scripted.code, scripted.message, scripted.details);
    }
    if (action === "POST /servers" && this.opts.createDelayMs > 0) await new Promise((r) => setTimeout(r, this.opts.createDelayMs));
    try {
      let body: Json = {};
      try {
        body = raw ? (JSON.parse(raw) as Json) : {};
      } catch {
        throw new HttpAnswer(400, "json_error", "invalid JSON in request body");
      }
      const [status, answer] = this.route(method, path, url.searchParams, body);
      if (fault?.kind === "lose-create-response") {
        req.socket.destroy(); // the create happened; its answer never arrives
        return;
      }
      send(status, answer);
    } catch (err) {
      if (err instanceof HttpAnswer) return fail(err.status, err.code, err.message, err.details);
      fail(500, "server_error", (err as Error).message);
    }
  }

  private route(method: string, path: string, q: URLSearchParams, body: Json): [number, unknown] {
    const byId = /^\/(servers|primary_ips)\/(\d+)$/.exec(path);
    if (method === "GET" && path === "/ssh_keys") {
      const keys = [...this.sshKeys_.values()].filter((k) => (!q.get("fingerprint") || k.fingerprint === q.get("fingerprint")) && (!q.get("name") || k.name === q.get("name")));
      return [200, { ssh_keys: keys.map((k) => this.sshKeyJson(k)), meta: this.pagination(1, 25, keys.length) }];
    }
    if (method === "POST" && path === "/ssh_keys") return [201, { ssh_key: this.sshKeyJson(this.addSshKey(body)) }];
    if (method === "GET" && path === "/server_types") {
      const types = SERVER_TYPES.map((t) => serverType(t[1])!).filter((t) => !q.get("name") || t.name === q.get("name"));
      return [200, { server_types: types, meta: this.pagination(1, 50, types.length) }];
    }
    if (method === "GET" && path === "/servers") {
      const all = [...this.servers_.values()].filter((s) => matchesSelector(s.labels, q.get("label_selector")));
      const perPage = Math.min(50, Number(q.get("per_page") ?? 25));
      const page = Number(q.get("page") ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const meta = this.pagination(page, perPage, all.length) as { pagination: Json };
      if (this.pagingFault === "repeat-next-page") meta.pagination.next_page = page; // a broken proxy or cache
      return [200, { servers: slice.map((s) => this.serverJson(s)), ...(this.pagingFault === "no-meta" ? {} : { meta }) }];
    }
    if (method === "POST" && path === "/servers") {
      this.createBodies.push(body);
      const server = this.makeServer(body, Date.now());
      return [201, { server: this.serverJson(server), action: this.action("create_server", server.id), next_actions: [this.action("start_server", server.id)], root_password: null }];
    }
    if (byId?.[1] === "servers") {
      const server = this.servers_.get(Number(byId[2]));
      if (!server) throw new HttpAnswer(404, "not_found", `server with ID '${byId[2]}' not found`);
      if (method === "GET") return [200, { server: this.serverJson(server) }];
      if (method === "DELETE") {
        this.servers_.delete(server.id);
        for (const ip of this.primaryIps_.values()) {
          if (ip.assigneeId !== server.id) continue;
          if (ip.autoDelete) this.primaryIps_.delete(ip.id);
          else ip.assigneeId = null;
        }
        return [200, { action: this.action("delete_server", server.id) }];
      }
    }
    if (method === "GET" && path === "/primary_ips") {
      const ips = [...this.primaryIps_.values()].filter((p) => matchesSelector(p.labels, q.get("label_selector")));
      return [200, { primary_ips: ips.map((p) => this.primaryIpJson(p)), meta: this.pagination(1, 25, ips.length) }];
    }
    if (byId?.[1] === "primary_ips") {
      const ip = this.primaryIps_.get(Number(byId[2]));
      if (!ip) throw new HttpAnswer(404, "not_found", `primary_ip with ID '${byId[2]}' not found`);
      if (method === "GET") return [200, { primary_ip: this.primaryIpJson(ip) }];
      if (method === "DELETE") {
        if (ip.assigneeId !== null) throw new HttpAnswer(422, "primary_ip_assigned", "primary ip must be unassigned before deletion");
        this.primaryIps_.delete(ip.id);
        return [204, undefined];
      }
    }
    throw new HttpAnswer(404, "not_found", `no route for ${method} ${path}`);
  }

  private addSshKey(body: Json): SshKeyRow {
    const publicKey = String((body.public_key as string | undefined) ?? "").trim();
    if (!/^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+( .*)?$/.test(publicKey)) {
      throw invalidInput("public_key", "is not a valid public key");
    }
    const fingerprint = md5OfKey(publicKey);
    for (const k of this.sshKeys_.values()) {
      if (k.name === body.name || k.fingerprint === fingerprint) throw new HttpAnswer(409, "uniqueness_error", "SSH key with the same fingerprint or name already exists");
    }
    const key = { id: this.nextId++, name: String(body.name), publicKey, fingerprint, labels: (body.labels as Record<string, string>) ?? {} };
    this.sshKeys_.set(key.id, key);
    return key;
  }

  private makeServer(body: Json, createdAt: number): ServerRow {
    const type = serverType(String(body.server_type));
    if (!type) throw invalidInput("server_type", `server type ${String(body.server_type)} not found`);
    const location = LOCATIONS[String((body.location as string | undefined) ?? "nbg1")] as Json | undefined;
    if (!location) throw invalidInput("location", `location ${String(body.location)} not found`);
    const name = String((body.name as string | undefined) ?? "");
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/.test(name)) throw invalidInput("name", "is not a valid hostname");
    const labels = (body.labels ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_RE.test(k) || k === "" || !LABEL_RE.test(v)) throw invalidInput("labels", `invalid label ${k}=${v}`);
    }
    for (const id of (body.ssh_keys ?? []) as number[]) {
      if (!this.sshKeys_.has(id)) throw invalidInput("ssh_keys", `ssh_key with ID '${id}' not found`);
    }
    if ([...this.servers_.values()].some((s) => s.name === name)) throw new HttpAnswer(409, "uniqueness_error", "server name is already used");
    if (this.primaryIps_.size >= this.primaryIpLimit) throw new HttpAnswer(403, "resource_limit_exceeded", "project limit exceeded", { limits: [{ name: "primary_ip_limit" }] });
    const id = this.nextId++;
    const ipId = this.nextId++;
    // Hetzner makes the server's Primary IPv4 itself: unlabelled, deleted with the server.
    this.primaryIps_.set(ipId, { id: ipId, labels: {}, assigneeId: id, autoDelete: true });
    const server = { id, name, labels, createdAt, type, location, ipId, userData: String((body.user_data as string | undefined) ?? "") };
    this.servers_.set(id, server);
    return server;
  }

  private serverJson(s: ServerRow): Json {
    const ip = this.primaryIps_.get(s.ipId);
    return {
      id: s.id, name: s.name, status: this.status(s), created: iso(s.createdAt), labels: { ...s.labels },
      public_net: { ipv4: ip ? { id: ip.id, ip: "127.0.0.1", blocked: false, dns_ptr: "localhost" } : null, ipv6: null, floating_ips: [], firewalls: [] },
      private_net: [], server_type: s.type, location: s.location,
      datacenter: { id: s.location.id, name: `${String(s.location.name)}-dc3`, description: `${String(s.location.city)} virtual DC 3`, location: s.location },
      image: { id: 161547269, type: "system", status: "available", name: "ubuntu-24.04", description: "Ubuntu 24.04", os_flavor: "ubuntu", os_version: "24.04", architecture: "x86", rapid_deploy: true },
      iso: null, rescue_enabled: false, locked: false, backup_window: null, outgoing_traffic: 0, ingoing_traffic: 0, included_traffic: 0,
      protection: { delete: false, rebuild: false }, load_balancers: [], volumes: [], primary_disk_size: s.type.disk, placement_group: null,
    };
  }

  private primaryIpJson(p: PrimaryIpRow): Json {
    return {
      id: p.id, name: `primary_ip-${p.id}`, ip: "127.0.0.1", type: "ipv4", assignee_id: p.assigneeId, assignee_type: "server",
      auto_delete: p.autoDelete, blocked: false, labels: { ...p.labels }, created: iso(Date.now()), dns_ptr: [{ ip: "127.0.0.1", dns_ptr: "localhost" }],
      datacenter: { id: 2, name: "nbg1-dc3", location: LOCATIONS.nbg1 }, protection: { delete: false },
    };
  }

  private sshKeyJson(k: SshKeyRow): Json {
    return { id: k.id, name: k.name, fingerprint: k.fingerprint, public_key: k.publicKey, labels: { ...k.labels }, created: iso(Date.now()) };
  }

  private action(command: string, serverId: number): Json {
    return { id: this.nextId++, command, status: "running", progress: 0, started: iso(Date.now()), finished: null, error: null, resources: [{ id: serverId, type: "server" }] };
  }

  private pagination(page: number, perPage: number, total: number): Json {
    const last = Math.max(1, Math.ceil(total / perPage));
    return { pagination: { page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: total } };
  }
}
