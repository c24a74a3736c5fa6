// GCP Compute Engine: one Ubuntu 24.04 instance per spawn in the project's default network, reached
// over SSH as "spawnbot" with the bot's key from the instance's ssh-keys metadata. spawn shells out
// to gcloud; the mapping to the API is spawn-spec §3.5. Requests go through gcp-transport.ts (our
// timeout and credentials), retries are ours (withRetry), refusals are translated in one place
// (gcp-errors.ts), and the machine types and names the bot knows are in gcp-sizes.ts.
import { createHash } from "node:crypto";
import { FirewallsClient, GlobalOperationsClient, InstancesClient, ZoneOperationsClient, ZonesClient, type protos } from "@google-cloud/compute";
import { GceOperationError, isAlreadyExists, isNotFound, isRetryable, translateGcpError, type GcpErrorContext } from "./gcp-errors.js";
import { GCP_PRICES } from "./price-table.js";
import { priceFromTable, type PriceAnswer, type PricedPlacement } from "./prices.js";
import { formatGb, INSTANCE_NAME_RE, labelKey, labelValue, MACHINE_TYPE_RE, memoryGbOf, smallestWithMemory, ZONE_RE } from "./gcp-sizes.js";
import { GCE_RETRY, GcpTransport, NO_GAX_RETRY, REQUEST_TIMEOUT_MS, type GcpCredential, type GcpRetryPolicy } from "./gcp-transport.js";
import { pollUntil, withRetry } from "../retry.js";
import {
  BOOT_TIMEOUT_MS, BOT_TAG, CLOUD_INIT_TIMEOUT_MS, CloudError, POLL_INTERVAL_MS, SPAWN_ID_TAG,
  type Cloud, type ProviderBase, type ServerInfo, type ServerSpec,
} from "./types.js";
import { CLOUD_INIT_MARKER, renderUserData } from "./user-data.js";

export { translateGcpError } from "./gcp-errors.js";

type Instance = protos.google.cloud.compute.v1.IInstance;
type Operation = protos.google.cloud.compute.v1.IOperation;
type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;

export interface GcpCloudOptions extends ProviderBase {
  project: string;
  /** Zone when --zone is not given (spawn: us-central1-a). */
  zone: string;
  /** --size when none is given; grown to the agent's minimum memory. */
  defaultSize: string;
  /** Another Compute Engine endpoint, e.g. "http://127.0.0.1:PORT" (tests) or a private endpoint host. */
  apiEndpoint?: string;
  /** A credential with getRequestHeaders (tests: one that never calls Google); else application default credentials. */
  authClient?: unknown;
  sshWait?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** The API retry policy (tests shorten it). */
  retry?: Partial<GcpRetryPolicy>;
}

/** Canonical's image family: GCE resolves it to the newest Ubuntu 24.04 image at insert time. */
const UBUNTU_IMAGE = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64";
/** spawn's GCP_DISK_SIZE default. */
const BOOT_DISK_GB = 40;
/** Google disables root SSH on its public images, so the bot logs in as its own sudo user. */
const LOGIN_USER = "spawnbot";
const DEFAULT_SSH_PORT = 22;
const NETWORK = "global/networks/default";
const FIREWALL_RULE = "spawnbot-allow-ssh";
/** Network tag the firewall rule targets: it opens SSH on the bot's instances only. */
const NETWORK_TAG = "spawnbot-ssh";
/** A new VM needs a minute or two before sshd answers: about 3 minutes of attempts. */
const VM_SSH_WAIT = { attempts: 30, baseDelayMs: 2_000, maxDelayMs: 10_000 };
/** Instance states from which it will not become RUNNING by itself. */
const STOPPED_STATES = new Set(["STOPPING", "STOPPED", "SUSPENDING", "SUSPENDED", "TERMINATED", "REPAIRING"]);

export class GcpCloud implements Cloud {
  readonly key = "gcp";
  readonly title = "GCP Compute Engine";
  readonly description = "a new Ubuntu VM on Google Compute Engine (--size e2-medium, --zone us-central1-a)";
  readonly access = "ssh" as const;
  readonly sshWait: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly cloudInit: { timeoutMs: number };
  private readonly instances: InstancesClient;
  private readonly zoneOperations: ZoneOperationsClient;
  private readonly globalOperations: GlobalOperationsClient;
  private readonly firewalls: FirewallsClient;
  private readonly zones: ZonesClient;
  private readonly sshUser: string;
  private readonly sshPort: number;
  private readonly retry: GcpRetryPolicy;
  /** The firewall rule is shared by every spawn: once seen (or made), it is not looked up again. */
  private firewallReady = false;

  constructor(private readonly opts: GcpCloudOptions) {
    this.sshWait = opts.sshWait ?? VM_SSH_WAIT;
    this.cloudInit = { timeoutMs: opts.cloudInitTimeoutMs ?? CLOUD_INIT_TIMEOUT_MS };
    this.sshUser = opts.sshUser ?? LOGIN_USER;
    this.sshPort = opts.sshPort ?? DEFAULT_SSH_PORT;
    this.retry = { ...GCE_RETRY, ...opts.retry };
    const transport = new GcpTransport(credentialOf(opts.authClient), opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
    const clientOptions = (): ClientOptions => ({ ...endpointOptions(opts.apiEndpoint), authClient: transport as unknown as ClientOptions["authClient"] });
    this.instances = new InstancesClient(clientOptions());
    this.zoneOperations = new ZoneOperationsClient(clientOptions());
    this.globalOperations = new GlobalOperationsClient(clientOptions());
    this.firewalls = new FirewallsClient(clientOptions());
    this.zones = new ZonesClient(clientOptions());
  }

  async checkCredentials(): Promise<void> {
    const { project, zone } = this.opts;
    await this.translated({ project, zone }, () => this.call(() => this.zones.get({ project, zone }, NO_GAX_RETRY)));
  }

  checkPlacement(spec: ServerSpec): void {
    if (spec.size !== undefined && !MACHINE_TYPE_RE.test(spec.size)) {
      throw new CloudError("BAD_PLACEMENT", `'${spec.size}' is not a GCE machine type: use e.g. --size e2-medium`);
    }
    if (spec.zone !== undefined && !ZONE_RE.test(spec.zone)) {
      throw new CloudError("BAD_PLACEMENT", `'${spec.zone}' is not a GCE zone: use e.g. --zone ${this.opts.zone}`);
    }
    if (!INSTANCE_NAME_RE.test(spec.name)) {
      throw new CloudError("BAD_PLACEMENT", `'${spec.name}' cannot name a GCE instance (a lowercase letter, then up to 62 lowercase letters, digits or dashes): spawn again with another --name`);
    }
    if (spec.size === undefined) return; // the default size grows to fit the agent (serverSize)
    const memoryGb = memoryGbOf(spec.size);
    const min = spec.agent.minMemoryGb;
    if (memoryGb !== undefined && memoryGb < min) {
      throw new CloudError("BAD_PLACEMENT", `${spec.agent.name} needs at least ${min} GB of memory; ${spec.size} has ${formatGb(memoryGb)} — use --size ${smallestWithMemory(min)} or larger`);
    }
  }

  /** From the dated price table (the Billing Catalog API needs a key of its own); a zone's region is the zone without its letter. */
  async priceOf(placement: PricedPlacement): Promise<PriceAnswer> {
    const zone = placement.zone ?? this.opts.zone;
    return priceFromTable(GCP_PRICES, zone.replace(/-[a-z]$/, ""), this.serverSize(placement as ServerSpec));
  }

  async createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo> {
    const zone = spec.zone ?? this.opts.zone;
    const ctx: GcpErrorContext = { project: this.opts.project, zone, machineType: this.serverSize(spec) };
    const deadline = Date.now() + (this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS);
    return this.translated(ctx, async () => {
      this.checkPlacement(spec);
      // 1. A repeated create (a retry after a lost answer) finds this spawn's instance and waits for it.
      const existing = await this.getInstance(zone, spec.name, signal);
      if (existing && existing.labels?.[SPAWN_ID_TAG] !== labelValue(spec.spawnId)) throw nameTaken(spec.name, zone);
      try {
        if (!existing) {
          // 2. The shared firewall rule that lets SSH in, 3. the instance, 4. its insert operation.
          await this.ensureFirewall(deadline, signal);
          const op = await this.insertInstance(spec, zone, ctx.machineType!, signal);
          if (op) await this.waitForOperation(op, zone, deadline, signal);
        }
        // 5. RUNNING with an external address.
        return await this.waitForAddress(zone, spec, deadline, signal);
      } catch (err) {
        // A create that fails half-way removes its instance (only one carrying this spawn's label).
        throw await this.deleteAfterFailure(zone, spec, translateGcpError(err, ctx));
      }
    });
  }

  async getServer(serverId: string): Promise<ServerInfo | undefined> {
    const { zone, name } = this.parseServerId(serverId);
    const instance = await this.translated({ project: this.opts.project, zone }, () => this.getInstance(zone, name));
    return instance ? this.serverInfo(instance, zone) : undefined;
  }

  async deleteServer(serverId: string): Promise<void> {
    const { zone, name } = this.parseServerId(serverId);
    await this.translated({ project: this.opts.project, zone }, async () => {
      const deadline = Date.now() + (this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS);
      const op = await this.orUndefinedWhenMissing(() => this.instances.delete({ project: this.opts.project, zone, instance: name }, NO_GAX_RETRY));
      if (op) await this.waitForOperation(op[0].latestResponse as Operation, zone, deadline);
    });
  }

  async listServers(): Promise<(ServerInfo & { spawnId?: string })[]> {
    const { project, zone } = this.opts;
    return this.translated({ project, zone }, () => this.call(async () => {
      const found: (ServerInfo & { spawnId?: string })[] = [];
      // Every zone: a spawn may have been made with --zone.
      const pages = this.instances.aggregatedListAsync(
        { project, filter: `labels.${BOT_TAG.key}="${BOT_TAG.value}"`, returnPartialSuccess: true },
        { ...NO_GAX_RETRY, autoPaginate: false },
      );
      for await (const [scope, list] of pages) {
        for (const instance of list.instances ?? []) {
          const spawnId = instance.labels?.[SPAWN_ID_TAG];
          found.push({ ...this.serverInfo(instance, scope.replace(/^zones\//, "")), ...(spawnId ? { spawnId } : {}) });
        }
      }
      return found;
    }));
  }

  /** Run fn, turning what Compute Engine (or the network) said into a CloudError with what to do. */
  private async translated<T>(ctx: GcpErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateGcpError(err, ctx);
    }
  }

  /** One API call with our retries: throttling, 5xx and no answer, jittered, within a deadline. */
  private call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(() => fn(), { ...this.retry, signal, retryable: isRetryable });
  }

  private async orUndefinedWhenMissing<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.call(fn, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private serverSize(spec: ServerSpec): string {
    if (spec.size) return spec.size;
    const fallback = this.opts.defaultSize;
    const memoryGb = memoryGbOf(fallback);
    return memoryGb === undefined || memoryGb >= spec.agent.minMemoryGb ? fallback : smallestWithMemory(spec.agent.minMemoryGb);
  }

  private async getInstance(zone: string, name: string, signal?: AbortSignal): Promise<Instance | undefined> {
    const res = await this.orUndefinedWhenMissing(() => this.instances.get({ project: this.opts.project, zone, instance: name }, NO_GAX_RETRY), signal);
    return res?.[0];
  }

  /** Inbound SSH to instances with the bot's network tag, on the default network. */
  private async ensureFirewall(deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.firewallReady) return;
    const project = this.opts.project;
    const found = await this.orUndefinedWhenMissing(() => this.firewalls.get({ project, firewall: FIREWALL_RULE }, NO_GAX_RETRY), signal);
    if (!found) {
      try {
        const [op] = await this.call(() => this.firewalls.insert({
          project,
          firewallResource: {
            name: FIREWALL_RULE, network: NETWORK, direction: "INGRESS", priority: 1000,
            description: "SSH to spawnbot's servers (made by spawnbot)",
            allowed: [{ IPProtocol: "tcp", ports: [String(this.sshPort)] }],
            sourceRanges: ["0.0.0.0/0"], targetTags: [NETWORK_TAG],
          },
        }, NO_GAX_RETRY), signal);
        await this.waitForOperation(op.latestResponse as Operation, undefined, deadline, signal);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err; // another spawn (or our lost first try) made it
      }
    }
    this.firewallReady = true;
  }

  /** The insert, or undefined when the instance exists already (our own insert whose answer was lost). */
  private async insertInstance(spec: ServerSpec, zone: string, machineType: string, signal?: AbortSignal): Promise<Operation | undefined> {
    const userData = renderUserData({
      tier: spec.agent.tier, sshUser: this.sshUser, authorizedKeys: [this.opts.botPublicKey, ...(spec.ownerKeys ?? [])], nodeMajor: spec.agent.nodeMajor,
    });
    const sshKeys = [this.opts.botPublicKey, ...(spec.ownerKeys ?? [])].map((k) => k.trim()).filter((k) => k && !/[\r\n]/.test(k)).map((k) => `${this.sshUser}:${k}`);
    const labels = Object.fromEntries(
      Object.entries({ ...spec.tags, [BOT_TAG.key]: BOT_TAG.value, [SPAWN_ID_TAG]: spec.spawnId }).map(([k, v]) => [labelKey(k), labelValue(v)]),
    );
    const instanceResource: Instance = {
      name: spec.name,
      machineType: `zones/${zone}/machineTypes/${machineType}`,
      labels,
      tags: { items: [NETWORK_TAG] },
      disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: UBUNTU_IMAGE, diskSizeGb: BOOT_DISK_GB, labels } }],
      networkInterfaces: [{ network: NETWORK, accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "External NAT" }] }],
      metadata: {
        items: [
          { key: "ssh-keys", value: sshKeys.join("\n") },
          { key: "startup-script", value: runOnce(userData) },
          // OS Login projects ignore metadata keys; this instance uses them.
          { key: "enable-oslogin", value: "FALSE" },
        ],
      },
    };
    try {
      // requestId: GCE answers a repeated insert (our retry after a lost answer) with the first operation.
      const [op] = await this.call(() => this.instances.insert({ project: this.opts.project, zone, requestId: requestIdFor(spec.spawnId), instanceResource }, NO_GAX_RETRY), signal);
      return op.latestResponse as Operation;
    } catch (err) {
      if (isAlreadyExists(err)) return undefined; // waitForAddress checks that it is ours
      throw err;
    }
  }

  /** Wait (GCE's operations/wait, up to 2 minutes a call) until the operation is DONE; its errors are thrown. */
  private async waitForOperation(op: Operation, zone: string | undefined, deadline: number, signal?: AbortSignal): Promise<void> {
    const project = this.opts.project;
    let current = op;
    while (String(current.status) !== "DONE") {
      if (Date.now() > deadline || signal?.aborted) {
        throw new CloudError("TIMEOUT", `the Compute Engine ${current.operationType ?? ""} operation ${current.name} did not finish in time: check the GCE console, then spawn again`);
      }
      const operation = current.name ?? "";
      [current] = await this.call<[Operation, ...unknown[]]>(() => zone
        ? this.zoneOperations.wait({ project, zone, operation }, NO_GAX_RETRY)
        : this.globalOperations.wait({ project, operation }, NO_GAX_RETRY), signal);
    }
    const errors = current.error?.errors ?? [];
    if (errors.length) throw new GceOperationError(errors, current.operationType ?? "");
  }

  private async waitForAddress(zone: string, spec: ServerSpec, deadline: number, signal?: AbortSignal): Promise<ServerInfo> {
    const name = spec.name;
    let lastStatus = "unknown";
    try {
      return await pollUntil(async () => {
        const instance = await this.getInstance(zone, name, signal);
        if (!instance) throw new CloudError("API", `the GCE instance ${name} disappeared while starting: spawn again`);
        // An insert answered "already exists" may have lost a race with another spawn of that name.
        if (instance.labels?.[SPAWN_ID_TAG] !== labelValue(spec.spawnId)) throw nameTaken(name, zone);
        lastStatus = String(instance.status);
        if (STOPPED_STATES.has(lastStatus)) {
          throw new CloudError("API", `the GCE instance ${name} stopped while starting (${lastStatus}): spawn again, or try another --zone or --size`);
        }
        const info = this.serverInfo(instance, zone);
        return lastStatus === "RUNNING" && info.address ? info : undefined;
      }, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: this.opts.pollIntervalMs ?? POLL_INTERVAL_MS, what: `GCE instance ${name} starting`, signal });
    } catch (err) {
      if (!(err instanceof CloudError && err.code === "TIMEOUT")) throw err;
      const why = lastStatus === "RUNNING" ? "it runs but has no external IP: check the default network's external access" : `it was still ${lastStatus}: spawn again, or try another --zone`;
      throw new CloudError("TIMEOUT", `the GCE instance ${name} was not reachable in time; ${why}`);
    }
  }

  /** Delete what a failed create made; the user hears about both if that fails too. */
  private async deleteAfterFailure(zone: string, spec: ServerSpec, err: unknown): Promise<unknown> {
    try {
      const instance = await this.getInstance(zone, spec.name);
      if (instance && instance.labels?.[SPAWN_ID_TAG] === labelValue(spec.spawnId)) await this.deleteServer(`${zone}/${spec.name}`);
      return err;
    } catch (cleanup) {
      const first = err instanceof Error ? err.message : String(err);
      return new CloudError(err instanceof CloudError ? err.code : "API", `${first} (deleting the instance ${spec.name} in ${zone} failed too: ${(cleanup as Error).message}; delete it in the GCE console)`);
    }
  }

  /** serverId is "<zone>/<name>": an instance is named within its zone. */
  private parseServerId(serverId: string): { zone: string; name: string } {
    const slash = serverId.lastIndexOf("/");
    return slash < 0 ? { zone: this.opts.zone, name: serverId } : { zone: serverId.slice(0, slash), name: serverId.slice(slash + 1) };
  }

  private serverInfo(instance: Instance, zone: string): ServerInfo {
    const address = instance.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? "";
    return { serverId: `${zone}/${instance.name ?? ""}`, address, sshUser: this.sshUser, sshPort: this.sshPort };
  }
}

function nameTaken(name: string, zone: string): CloudError {
  return new CloudError("BAD_PLACEMENT", `an instance named ${name} already exists in ${zone} and belongs to another spawn: spawn again with another --name`);
}

/** The given credential, or application default credentials found the way the compute library finds them. */
function credentialOf(authClient: unknown): GcpCredential {
  if (authClient === undefined) return new InstancesClient().auth; // a GoogleAuth with Compute's scopes; no I/O until used
  if (!authClient || typeof (authClient as Partial<GcpCredential>).getRequestHeaders !== "function") {
    throw new Error("the GCP authClient must have getRequestHeaders() (an OAuth2Client, GoogleAuth or equivalent)");
  }
  return authClient as GcpCredential;
}

/** "http://127.0.0.1:8080" → host, port and protocol for gax; a bare host stays a host. */
function endpointOptions(apiEndpoint: string | undefined): Partial<ClientOptions> {
  if (!apiEndpoint) return {};
  if (!/^https?:\/\//.test(apiEndpoint)) return { apiEndpoint };
  const url = new URL(apiEndpoint);
  const protocol = url.protocol.replace(":", "");
  return { apiEndpoint: url.hostname, port: Number(url.port) || (protocol === "http" ? 80 : 443), protocol };
}

/** GCE takes a UUID as requestId: the spawn id itself, or a UUID made from its hash. */
export function requestIdFor(spawnId: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(spawnId)) return spawnId.toLowerCase();
  const h = createHash("sha256").update(`spawnbot:${spawnId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** GCE reruns startup scripts at every boot; the user-data's EXIT trap writes the marker once it ran. */
function runOnce(userData: string): string {
  const [shebang, ...rest] = userData.split("\n");
  return [shebang, `[ -f ${CLOUD_INIT_MARKER} ] && exit 0 # first boot is done; GCE runs this at every boot`, ...rest].join("\n");
}
