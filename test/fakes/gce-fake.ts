// A wire-level fake of Google Compute Engine for the tests: a node:http server speaking the REST
// JSON of compute/v1 (instances, zone and global operations, firewalls, zones, aggregated list),
// with Google's error envelope ({ error: { code, message, errors[], status, details } }). It checks
// the Bearer token, keeps inserts idempotent on requestId as GCE does, runs operations PENDING →
// RUNNING → DONE, and injects faults. Instances are PROVISIONING, then STAGING (with an external
// address), then RUNNING at 127.0.0.1 (the test sshd) once bootDelayMs has passed.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFake, Fault, FakeCall, FakeServer } from "./cloud-fake.js";
import { captureSecret } from "../support/capture.js";

export const FAKE_PROJECT = "spawnbot-test-4821";
export const FAKE_ZONE = "us-central1-a";
export const FAKE_TOKEN = "ya29.a0AfB_byFakeAccessTokenForTheGceFake0123456789";
const ZONES = ["us-central1-a", "us-central1-b", "us-central1-c", "europe-west1-b", "europe-west4-a", "asia-east1-a"];
/** Machine types the fake offers in every zone (others are "invalid", as GCE answers). */
export const FAKE_MACHINE_TYPES = ["e2-micro", "e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "n2-standard-2", "n2-standard-4"];
const NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** GCE's wait returns after at most 2 minutes even when the operation is not done. */
const WAIT_CAP_MS = 120_000;

export interface GceInstance {
  id: string;
  name: string;
  zone: string;
  /** The insert body as the fake received it (metadata, disks, network interfaces…). */
  resource: Record<string, unknown>;
  labels: Record<string, string>;
  createdAt: number;
  /** When the delete operation finishes; the instance is gone from then on. */
  deletedAt?: number;
  /** Left behind by a failed insert, as GCE sometimes does. */
  broken?: boolean;
}

interface GceOperation {
  id: string;
  name: string;
  scope: string; // "zones/us-central1-a" or "global"
  operationType: string;
  targetLink: string;
  targetId: string;
  insertTime: number;
  doneAt: number;
  errors?: { code: string; message: string }[];
}

export interface GceErrorBody {
  code: number;
  message: string;
  errors?: { message: string; domain: string; reason: string }[];
  status?: string;
  details?: unknown[];
}

class GceError extends Error {
  constructor(readonly body: GceErrorBody) {
    super(body.message);
  }
}

const notFound = (what: string) => new GceError({ code: 404, message: `The resource '${what}' was not found`, errors: [{ message: `The resource '${what}' was not found`, domain: "global", reason: "notFound" }], status: "NOT_FOUND" });
const invalid = (message: string) => new GceError({ code: 400, message, errors: [{ message, domain: "global", reason: "invalid" }], status: "INVALID_ARGUMENT" });

/** Google's answer to a project whose Compute Engine API is off (403 accessNotConfigured + ErrorInfo SERVICE_DISABLED). */
export function serviceDisabledError(project: string): GceErrorBody {
  const message = `Compute Engine API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/compute.googleapis.com/overview?project=${project} then retry.`;
  return {
    code: 403, message, status: "PERMISSION_DENIED",
    errors: [{ message, domain: "usageLimits", reason: "accessNotConfigured" }],
    details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED", domain: "googleapis.com", metadata: { service: "compute.googleapis.com", consumer: `projects/${project}` } }],
  };
}

export class GceFake implements CloudFake {
  readonly calls: FakeCall[] = [];
  readonly validToken = FAKE_TOKEN;
  readonly project = FAKE_PROJECT;
  readonly zone = FAKE_ZONE;
  readonly instances = new Map<string, GceInstance>();
  readonly firewalls = new Map<string, Record<string, unknown>>();
  /** Every instance insert received: its requestId and body, in order (repeats included). */
  readonly inserts: { requestId: string | null; body: Record<string, unknown> }[] = [];
  /** How long a new instance takes to reach RUNNING. */
  bootDelayMs: number;
  /** How long an operation takes to reach DONE. */
  operationDelayMs: number;
  url = "";
  private readonly faults: Fault[] = [];
  private readonly refusals: { match: string; body: GceErrorBody | { code: number; html: string } }[] = [];
  private readonly insertFailures: { errors: { code: string; message: string }[]; leaveInstance: boolean }[] = [];
  private readonly operations = new Map<string, GceOperation>();
  private readonly byRequestId = new Map<string, GceOperation>();
  private readonly server: http.Server;

  private constructor(opts: { bootDelayMs?: number; operationDelayMs?: number }) {
    captureSecret(FAKE_TOKEN); // the suite's secret scan looks for it in everything the bot logged or sent
    this.bootDelayMs = opts.bootDelayMs ?? 0;
    this.operationDelayMs = opts.operationDelayMs ?? 20;
    this.firewalls.set("default-allow-internal", { kind: "compute#firewall", name: "default-allow-internal", network: this.link("global/networks/default"), sourceRanges: ["10.128.0.0/9"], allowed: [{ IPProtocol: "all" }] });
    this.server = http.createServer((req, res) => this.receive(req, res));
  }

  static async start(opts: { bootDelayMs?: number; operationDelayMs?: number } = {}): Promise<GceFake> {
    const fake = new GceFake(opts);
    await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  servers(): FakeServer[] {
    return this.live().map((i) => ({ id: i.id, name: i.name, tags: { ...i.labels }, state: this.status(i) }));
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** The next call whose "METHOD /path" contains `match` gets this Google error (refusals no input provokes). */
  refuseNext(match: string, body: GceErrorBody): void {
    this.refusals.push({ match, body });
  }

  /** The next matching call gets an HTML error page, as Google's front end sends for a 502. */
  errorPageNext(match: string, code = 502): void {
    const html = `<!DOCTYPE html><html lang=en><title>Error ${code} (Server Error)!!1</title><p><b>${code}.</b> <ins>That's an error.</ins><p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds. <ins>That's all we know.</ins></html>`;
    this.refusals.push({ match, body: { code, html } });
  }

  /** The next instance insert is accepted, but its operation ends DONE with these errors (quota, capacity). */
  failNextInsert(errors: { code: string; message: string }[], opts: { leaveInstance?: boolean } = {}): void {
    this.insertFailures.push({ errors, leaveInstance: opts.leaveInstance ?? false });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private live(): GceInstance[] {
    const now = Date.now();
    return [...this.instances.values()].filter((i) => i.deletedAt === undefined || now < i.deletedAt);
  }

  private status(i: GceInstance): string {
    const age = Date.now() - i.createdAt;
    if (i.broken) return "TERMINATED";
    if (i.deletedAt !== undefined) return "STOPPING";
    return age >= this.bootDelayMs ? "RUNNING" : age >= Math.min(this.operationDelayMs, this.bootDelayMs) ? "STAGING" : "PROVISIONING";
  }

  private link(rel: string): string {
    return `https://www.googleapis.com/compute/v1/projects/${this.project}/${rel}`;
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const method = req.method ?? "GET";
      const action = `${method} ${url.pathname}`;
      this.calls.push({ method, path: url.pathname, action });
      const fail = (body: GceErrorBody, headers: Record<string, string> = {}) => send(res, body.code, { error: body }, headers);
      if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
        return fail({
          code: 401, status: "UNAUTHENTICATED",
          message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
          errors: [{ message: "Invalid Credentials", domain: "global", reason: "authError" }],
        });
      }
      const isCreate = method === "POST" && /\/zones\/[^/]+\/instances$/.test(url.pathname);
      const fault = this.takeFault(action, isCreate);
      if (fault === "timeout") return; // never answer; the client's request timeout must fire
      if (fault === "throttle") {
        return fail({ code: 429, message: "Rate Limit Exceeded", errors: [{ message: "Rate Limit Exceeded", domain: "usageLimits", reason: "rateLimitExceeded" }], status: "RESOURCE_EXHAUSTED" }, { "retry-after": "1" });
      }
      if (fault === "server-error") {
        return fail({ code: 503, message: "The service is currently unavailable.", errors: [{ message: "The service is currently unavailable.", domain: "global", reason: "backendError" }], status: "UNAVAILABLE" });
      }
      const refusal = this.refusals.findIndex((r) => action.includes(r.match));
      if (refusal >= 0) {
        const body = this.refusals.splice(refusal, 1)[0]!.body;
        if ("html" in body) return void res.writeHead(body.code, { "content-type": "text/html; charset=UTF-8" }).end(body.html);
        return fail(body);
      }
      try {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        const answer = this.route(method, url, body);
        if (fault === "lose-create-response") return void req.socket.destroy(); // done, but the answer is lost
        if (answer instanceof Promise) void answer.then((a) => send(res, 200, a));
        else send(res, 200, answer);
      } catch (err) {
        if (err instanceof SyntaxError) return fail({ code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" });
        if (!(err instanceof GceError)) throw err;
        fail(err.body);
      }
    });
  }

  private takeFault(action: string, isCreate: boolean): Fault["kind"] | undefined {
    // A lost create response only happens to creates; the other faults to any call (or those matching).
    const fault = this.faults.find((f) => f.times > 0 && (!f.match || action.includes(f.match)) && (f.kind !== "lose-create-response" || isCreate));
    if (!fault) return undefined;
    fault.times--;
    return fault.kind;
  }

  private route(method: string, url: URL, body: Record<string, unknown>): unknown {
    const m = /^\/compute\/v1\/projects\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!m) throw notFound(url.pathname);
    if (m[1] !== this.project) throw notFound(`projects/${m[1]}`);
    const rest = m[2]!.split("/");
    const q = url.searchParams;
    if (rest[0] === "aggregated" && rest[1] === "instances" && rest.length === 2 && method === "GET") return this.aggregated(q);
    if (rest[0] === "global") {
      if (rest[1] === "firewalls") {
        if (rest.length === 2 && method === "POST") return this.insertFirewall(body, q.get("requestId"));
        if (rest.length === 3 && method === "GET") return this.firewalls.get(rest[2]!) ?? (() => { throw notFound(`projects/${this.project}/global/firewalls/${rest[2]}`); })();
      }
      if (rest[1] === "operations" && rest[2]) return this.operationCall(method, "global", rest[2], rest[3]);
      throw notFound(url.pathname);
    }
    if (rest[0] !== "zones" || !rest[1]) throw notFound(url.pathname);
    const zone = rest[1];
    if (!ZONES.includes(zone)) throw notFound(`projects/${this.project}/zones/${zone}`);
    if (rest.length === 2 && method === "GET") return { kind: "compute#zone", id: "2000", name: zone, status: "UP", region: this.link(`regions/${zone.slice(0, -2)}`), selfLink: this.link(`zones/${zone}`) };
    if (rest[2] === "operations" && rest[3]) return this.operationCall(method, `zones/${zone}`, rest[3], rest[4]);
    if (rest[2] !== "instances") throw notFound(url.pathname);
    if (rest.length === 3 && method === "POST") return this.insertInstance(zone, body, q.get("requestId"));
    if (rest.length === 3 && method === "GET") return { kind: "compute#instanceList", id: `projects/${this.project}/zones/${zone}/instances`, items: this.live().filter((i) => i.zone === zone && matches(q.get("filter"), i)).map((i) => this.render(i)), selfLink: this.link(`zones/${zone}/instances`) };
    const instance = this.live().find((i) => i.zone === zone && i.name === rest[3]);
    if (!instance || rest.length !== 4) throw notFound(`projects/${this.project}/zones/${zone}/instances/${rest[3]}`);
    if (method === "GET") return this.render(instance);
    if (method === "DELETE") {
      const op = this.operation(`zones/${zone}`, "delete", `zones/${zone}/instances/${instance.name}`, instance.id);
      instance.deletedAt ??= op.doneAt;
      return this.renderOperation(op);
    }
    throw notFound(url.pathname);
  }

  private insertInstance(zone: string, body: Record<string, unknown>, requestId: string | null): unknown {
    this.inserts.push({ requestId, body });
    const previous = requestId ? this.byRequestId.get(requestId) : undefined;
    if (previous) return this.renderOperation(previous);
    if (requestId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requestId)) throw invalid(`Invalid value for field 'requestId': '${requestId}'. Must be a valid UUID.`);
    const name = String((body.name as string | undefined) ?? "");
    if (!NAME_RE.test(name)) throw invalid(`Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
    const machineType = String((body.machineType as string | undefined) ?? "");
    const typeName = machineType.split("/").pop() ?? "";
    if (!FAKE_MACHINE_TYPES.includes(typeName)) {
      throw invalid(`Invalid value for field 'resource.machineType': '${machineType}'. Machine type with name '${typeName}' does not exist in zone '${zone}'.`);
    }
    const labels = (body.labels ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) {
      if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || !/^[a-z0-9_-]{0,63}$/.test(v)) throw invalid(`Invalid value for field 'resource.labels': '${k}=${v}'. Label keys and values can only contain lowercase letters, numeric characters, underscores and dashes.`);
    }
    if (this.live().some((i) => i.zone === zone && i.name === name)) {
      const what = `projects/${this.project}/zones/${zone}/instances/${name}`;
      throw new GceError({ code: 409, message: `The resource '${what}' already exists`, errors: [{ message: `The resource '${what}' already exists`, domain: "global", reason: "alreadyExists" }], status: "ALREADY_EXISTS" });
    }
    const failure = this.insertFailures.shift();
    const id = numericId();
    if (!failure || failure.leaveInstance) this.instances.set(id, { id, name, zone, resource: body, labels: { ...labels }, createdAt: Date.now(), broken: failure !== undefined });
    const op = this.operation(`zones/${zone}`, "insert", `zones/${zone}/instances/${name}`, id, failure?.errors);
    if (requestId) this.byRequestId.set(requestId, op);
    return this.renderOperation(op);
  }

  private insertFirewall(body: Record<string, unknown>, requestId: string | null): unknown {
    const previous = requestId ? this.byRequestId.get(requestId) : undefined;
    if (previous) return this.renderOperation(previous);
    const name = String((body.name as string | undefined) ?? "");
    if (!NAME_RE.test(name)) throw invalid(`Invalid value for field 'resource.name': '${name}'.`);
    if (this.firewalls.has(name)) {
      throw new GceError({ code: 409, message: `The resource 'projects/${this.project}/global/firewalls/${name}' already exists`, errors: [{ message: "already exists", domain: "global", reason: "alreadyExists" }], status: "ALREADY_EXISTS" });
    }
    this.firewalls.set(name, { kind: "compute#firewall", id: numericId(), ...body, selfLink: this.link(`global/firewalls/${name}`) });
    const op = this.operation("global", "insert", `global/firewalls/${name}`, numericId());
    if (requestId) this.byRequestId.set(requestId, op);
    return this.renderOperation(op);
  }

  private operation(scope: string, operationType: string, target: string, targetId: string, errors?: GceOperation["errors"]): GceOperation {
    const now = Date.now();
    const op: GceOperation = {
      id: numericId(), name: `operation-${now}-${randomBytes(6).toString("hex")}-${randomBytes(4).toString("hex")}`,
      scope, operationType, targetLink: this.link(target), targetId, insertTime: now, doneAt: now + this.operationDelayMs, errors,
    };
    this.operations.set(`${scope}/${op.name}`, op);
    return op;
  }

  private operationCall(method: string, scope: string, name: string, verb: string | undefined): unknown {
    const op = this.operations.get(`${scope}/${name}`);
    if (!op) throw notFound(`projects/${this.project}/${scope}/operations/${name}`);
    if (method === "GET" && verb === undefined) return this.renderOperation(op);
    if (method !== "POST" || verb !== "wait") throw notFound(`projects/${this.project}/${scope}/operations/${name}/${verb ?? ""}`);
    const delay = Math.min(Math.max(0, op.doneAt - Date.now()), WAIT_CAP_MS);
    return new Promise((r) => setTimeout(() => r(this.renderOperation(op)), delay));
  }

  private renderOperation(op: GceOperation): Record<string, unknown> {
    const now = Date.now();
    const status = now >= op.doneAt ? "DONE" : now >= op.insertTime + this.operationDelayMs / 2 ? "RUNNING" : "PENDING";
    return {
      kind: "compute#operation", id: op.id, name: op.name, operationType: op.operationType, targetLink: op.targetLink, targetId: op.targetId,
      status, user: "spawnbot@spawnbot-test-4821.iam.gserviceaccount.com", progress: status === "DONE" ? 100 : 0,
      insertTime: new Date(op.insertTime).toISOString(), startTime: new Date(op.insertTime).toISOString(),
      ...(status === "DONE" ? { endTime: new Date(op.doneAt).toISOString() } : {}),
      ...(status === "DONE" && op.errors ? { error: { errors: op.errors }, httpErrorStatusCode: 400, httpErrorMessage: "BAD REQUEST" } : {}),
      ...(op.scope === "global" ? {} : { zone: this.link(op.scope) }),
      selfLink: this.link(`${op.scope}/operations/${op.name}`),
    };
  }

  private render(i: GceInstance): Record<string, unknown> {
    const status = this.status(i);
    const addressed = status === "STAGING" || status === "RUNNING";
    const nics = (i.resource.networkInterfaces ?? []) as { network?: string; accessConfigs?: Record<string, unknown>[] }[];
    return {
      ...i.resource, kind: "compute#instance", id: i.id, name: i.name, status, labels: i.labels, labelFingerprint: "42WmSpB8rSM=",
      zone: this.link(`zones/${i.zone}`), machineType: this.link(`zones/${i.zone}/${String((i.resource.machineType as string | undefined) ?? "").replace(/^.*?machineTypes\//, "machineTypes/")}`),
      creationTimestamp: new Date(i.createdAt).toISOString(),
      metadata: { kind: "compute#metadata", fingerprint: "m7GYXDYXNJE=", ...((i.resource.metadata) ?? {}) },
      networkInterfaces: nics.map((nic, n) => ({
        kind: "compute#networkInterface", name: `nic${n}`, network: this.link("global/networks/default"), networkIP: `10.128.0.${2 + n}`,
        accessConfigs: (nic.accessConfigs ?? []).map((a) => ({ kind: "compute#accessConfig", name: "External NAT", networkTier: "PREMIUM", ...a, ...(addressed ? { natIP: "127.0.0.1" } : {}) })),
      })),
      selfLink: this.link(`zones/${i.zone}/instances/${i.name}`),
    };
  }

  private aggregated(q: URLSearchParams): unknown {
    const filter = q.get("filter");
    const items: Record<string, unknown> = {};
    for (const zone of ZONES) {
      const found = this.live().filter((i) => i.zone === zone && matches(filter, i)).map((i) => this.render(i));
      items[`zones/${zone}`] = found.length ? { instances: found } : { warning: { code: "NO_RESULTS_ON_PAGE", message: "There are no results for scope 'zones/" + zone + "' on this page.", data: [{ key: "scope", value: `zones/${zone}` }] } };
    }
    return { kind: "compute#instanceAggregatedList", id: `projects/${this.project}/aggregated/instances`, items, selfLink: this.link("aggregated/instances") };
  }
}

/** The subset of GCE's filter language the bot uses: `labels.KEY="VALUE"` terms joined by AND or spaces. */
function matches(filter: string | null, i: GceInstance): boolean {
  if (!filter) return true;
  const terms = filter.split(/\s+AND\s+|\s+(?=labels\.)/).map((t) => t.trim().replace(/^\((.*)\)$/, "$1")).filter(Boolean);
  return terms.every((t) => {
    const m = /^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$/.exec(t);
    if (!m) throw invalid(`Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
    return i.labels[m[1]!] === m[2];
  });
}

function numericId(): string {
  return (BigInt(`0x${randomBytes(7).toString("hex")}`) + 1_000_000_000_000_000n).toString();
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
