// The Hetzner Cloud provider over its REST API (https://docs.hetzner.cloud): registers the bot's
// key once, makes one labelled server per spawn (idempotent by label and by the unique name),
// and cleans up the Primary IPs that would otherwise keep costing money.
import { createHash } from "node:crypto";
import { hetznerErrorCode, hetznerRetryAfterMs, isNotFound, isProjectLimit, isRetryableHetznerError, translateHetznerError } from "./hetzner-errors.js";
import { KNOWN_SERVER_TYPES, LOCATION_RE, SERVER_TYPE_RE, labelValue, smallestWithMemory } from "./hetzner-sizes.js";
import { REQUEST_TIMEOUT_MS, RestClient } from "./rest-client.js";
import { API_RETRY, pollUntil } from "../retry.js";
import { renderUserData } from "./user-data.js";
import { parseDecimal, priceUnknownBecause, type PriceAnswer, type PricedPlacement } from "./prices.js";
import {
  BOOT_TIMEOUT_MS, BOT_TAG, CLOUD_INIT_TIMEOUT_MS, CloudError, POLL_INTERVAL_MS, SPAWN_ID_TAG,
  type Cloud, type ProviderBase, type ServerInfo, type ServerSpec,
} from "./types.js";

/** The image every server boots (spawn's choice; cloud-init runs our user-data once). */
export const HETZNER_IMAGE = "ubuntu-24.04";
/** Hetzner bills in euros (GET /pricing answers "currency": "EUR"); server_types prices carry no currency of their own. */
export const HETZNER_CURRENCY = "EUR";
/** Hetzner's largest page (the default is 25). */
const PAGE_SIZE = 50;
/** A runaway next_page chain stops here (50 × 200 = 10,000 servers, far beyond any project's limit). */
const MAX_PAGES = 200;
/**
 * One more try than the default: a throttle (Hetzner refills 1 request/s), a 5xx and a timeout
 * in a row still leave a try that can succeed; API_RETRY's deadline keeps the total bounded.
 */
const HETZNER_ATTEMPTS = 5;
/** SSH to a new server: 30 tries, backoff capped at 10 s, about 5 minutes (a VM boots in ~1). */
const SSH_WAIT = { attempts: 30, baseDelayMs: 2000, maxDelayMs: 10_000 } as const;
/** How long a deleted server's Primary IP may take to come free before we give up on it. */
const PRIMARY_IP_RELEASE_TIMEOUT_MS = 60_000;

type RetryTuning = { attempts?: number; baseDelayMs?: number; maxDelayMs?: number; deadlineMs?: number };

export interface HetznerOptions extends ProviderBase {
  token: string;
  /** https://api.hetzner.cloud/v1, or a fake's URL. */
  apiUrl: string;
  /** Default location (HETZNER_LOCATION, spawn: nbg1). */
  location: string;
  /** Default server type (HETZNER_SERVER_TYPE, spawn: cx23). */
  defaultSize: string;
  sshWait?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Overrides of the per-request retry (tests shorten the backoff). */
  apiRetry?: RetryTuning;
}

/** The fields of a Hetzner server the bot reads (see fixtures/hetzner/servers.json). */
interface HServer {
  id: number;
  name: string;
  status: string;
  labels: Record<string, string>;
  public_net: { ipv4: { ip: string } | null };
}

interface HPrimaryIp {
  id: number;
  assignee_id: number | null;
  auto_delete: boolean;
}

interface Page {
  meta?: { pagination?: { next_page: number | null } };
}

/** Hetzner's fingerprint of a public key: MD5 of the key blob, as colon-separated hex. */
export function md5Fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1] ?? "";
  return createHash("md5").update(Buffer.from(blob, "base64")).digest("hex").match(/../g)!.join(":");
}

/** The name the bot registers its key under: stable per key, so a second bot finds it. */
export function sshKeyName(publicKey: string): string {
  const typeAndBlob = publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
  return `spawnbot-${createHash("sha256").update(typeAndBlob).digest("hex").slice(0, 8)}`;
}

function selector(key: string, value: string): string {
  return new URLSearchParams({ label_selector: `${key}=${labelValue(value)}` }).toString();
}

export class HetznerCloud implements Cloud {
  readonly key = "hetzner";
  readonly title = "Hetzner Cloud";
  readonly description = "a Hetzner Cloud server (HCLOUD_TOKEN); --size cx23, --zone nbg1";
  readonly access = "ssh" as const;
  readonly sshWait: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly cloudInit: { timeoutMs: number };
  private readonly api: RestClient;
  private readonly sshUser: string;
  private readonly sshPort: number;

  constructor(private readonly opts: HetznerOptions) {
    this.sshWait = opts.sshWait ?? { ...SSH_WAIT };
    this.cloudInit = { timeoutMs: opts.cloudInitTimeoutMs ?? CLOUD_INIT_TIMEOUT_MS };
    this.sshUser = opts.sshUser ?? "root";
    this.sshPort = opts.sshPort ?? 22;
    const retry = { ...API_RETRY, attempts: HETZNER_ATTEMPTS, ...opts.apiRetry };
    this.api = new RestClient({
      baseUrl: opts.apiUrl, token: opts.token, timeoutMs: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, retry,
      retryAfterMs: hetznerRetryAfterMs, retryable: isRetryableHetznerError,
    });
  }

  async checkCredentials(): Promise<void> {
    try {
      await this.api.request("GET", "/servers?per_page=1");
    } catch (err) {
      throw translateHetznerError(err, { what: "checking the token" }); // 401 → AUTH_MESSAGE
    }
  }

  async checkPlacement(spec: ServerSpec): Promise<void> {
    const size = spec.size ?? this.opts.defaultSize;
    const location = spec.zone ?? this.opts.location;
    if (!SERVER_TYPE_RE.test(size)) {
      throw new CloudError("BAD_PLACEMENT", `${JSON.stringify(size)} is not a Hetzner server type: use a name like cx23, cpx31 or cax11`);
    }
    if (!LOCATION_RE.test(location)) {
      throw new CloudError("BAD_PLACEMENT", `${JSON.stringify(location)} is not a Hetzner location: use one like nbg1, fsn1, hel1, ash, hil or sin`);
    }
    const memoryGb = KNOWN_SERVER_TYPES.get(size) ?? (await this.serverTypeMemory(size));
    if (memoryGb < spec.agent.minMemoryGb) {
      const bigger = smallestWithMemory(size, spec.agent.minMemoryGb);
      throw new CloudError("BAD_PLACEMENT", `${size} has ${memoryGb} GB of memory but ${spec.agent.name} needs ${spec.agent.minMemoryGb} GB: spawn with --size ${bigger ?? "a larger type"}`);
    }
  }

  /**
   * GET /server_types?name=…: its prices[] per location, price_hourly.net (Hetzner lists prices
   * net and gross of VAT as decimal strings, in EUR, the currency it bills in).
   */
  async priceOf(placement: PricedPlacement): Promise<PriceAnswer> {
    const size = placement.size ?? this.opts.defaultSize;
    const location = placement.zone ?? this.opts.location;
    let res: { server_types: { name: string; prices?: { location: string; price_hourly?: { net?: unknown } }[] }[] };
    try {
      res = await this.api.request("GET", `/server_types?${new URLSearchParams({ name: size })}`);
    } catch (err) {
      return priceUnknownBecause(translateHetznerError(err, { what: `reading the price of ${size}`, size }));
    }
    const type = res.server_types.find((t) => t.name === size);
    if (!type) return { kind: "unknown", why: `Hetzner lists no server type ${size}` };
    const perHour = parseDecimal(type.prices?.find((p) => p.location === location)?.price_hourly?.net);
    if (perHour === undefined) return { kind: "unknown", why: `Hetzner lists no price for ${size} in ${location}` };
    return { kind: "priced", price: { perHour, currency: HETZNER_CURRENCY, source: "Hetzner API, net of VAT" } };
  }

  /** Make (or find) the spawn's server and wait until it runs with a public IPv4 address. */
  async createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo> {
    const size = spec.size ?? this.opts.defaultSize;
    const location = spec.zone ?? this.opts.location;
    const ctx = { what: "creating the server", size, location };
    let server: HServer;
    try {
      // 1. A server already labelled with this spawn id is ours from an earlier try.
      // 2. Otherwise register the key and create; a name clash is the lost-response case.
      server = (await this.findBySpawnId(spec.spawnId, signal)) ?? (await this.postServer(spec, size, location, signal));
    } catch (err) {
      throw translateHetznerError(err, ctx);
    }
    // 3. Wait until it runs with an address; a server that never gets there is removed.
    try {
      return await this.waitUntilRunning(server, signal);
    } catch (err) {
      return await this.removeHalfMade(server.id, translateHetznerError(err, ctx));
    }
  }

  async getServer(serverId: string): Promise<ServerInfo | undefined> {
    const server = await this.fetchServer(serverId);
    return server && this.toInfo(server);
  }

  /** Delete the server, then any Primary IP of its spawn that Hetzner keeps (auto_delete off). */
  async deleteServer(serverId: string): Promise<void> {
    const server = await this.fetchServer(serverId);
    if (!server) return;
    try {
      await this.api.request("DELETE", `/servers/${server.id}`);
    } catch (err) {
      if (!isNotFound(err)) throw translateHetznerError(err, { what: `deleting server ${server.id}` });
    }
    const spawnId = server.labels[SPAWN_ID_TAG];
    if (spawnId) await this.deleteLeftoverPrimaryIps(spawnId, server.id);
  }

  async listServers(): Promise<(ServerInfo & { spawnId?: string })[]> {
    const found: (ServerInfo & { spawnId?: string })[] = [];
    try {
      const seen = new Set<number>();
      for (let page: number | null = 1; page !== null; ) {
        seen.add(page);
        const res: { servers: HServer[] } & Page = await this.api.request("GET", `/servers?${selector(BOT_TAG.key, BOT_TAG.value)}&per_page=${PAGE_SIZE}&page=${page}`);
        for (const s of res.servers) found.push({ ...this.toInfo(s), spawnId: s.labels[SPAWN_ID_TAG] });
        // Stop on a missing next_page and on one already read: a looping answer must not spin forever.
        const next: number | null | undefined = res.meta?.pagination?.next_page;
        page = typeof next === "number" && !seen.has(next) && seen.size < MAX_PAGES ? next : null;
      }
    } catch (err) {
      throw translateHetznerError(err, { what: "listing servers" });
    }
    return found;
  }

  private async serverTypeMemory(size: string): Promise<number> {
    let res: { server_types: { name: string; memory: number }[] };
    try {
      res = await this.api.request("GET", `/server_types?${new URLSearchParams({ name: size })}`);
    } catch (err) {
      throw translateHetznerError(err, { what: `looking up server type ${size}`, size });
    }
    const type = res.server_types.find((t) => t.name === size);
    if (!type) throw new CloudError("BAD_PLACEMENT", `Hetzner has no server type ${size}: pick one from https://www.hetzner.com/cloud (cx23, cpx31, cax11, …)`);
    return type.memory;
  }

  private async findBySpawnId(spawnId: string, signal?: AbortSignal): Promise<HServer | undefined> {
    const res = await this.api.request<{ servers: HServer[] }>("GET", `/servers?${selector(SPAWN_ID_TAG, spawnId)}`, undefined, signal);
    return res.servers[0];
  }

  private async postServer(spec: ServerSpec, size: string, location: string, signal?: AbortSignal): Promise<HServer> {
    const sshKeyId = await this.ensureSshKey(signal);
    const labels: Record<string, string> = { [BOT_TAG.key]: BOT_TAG.value };
    for (const [k, v] of Object.entries(spec.tags)) labels[k] = labelValue(v);
    const body = {
      name: spec.name, server_type: size, location, image: HETZNER_IMAGE, ssh_keys: [sshKeyId],
      user_data: renderUserData({ tier: spec.agent.tier, sshUser: this.sshUser, authorizedKeys: [this.opts.botPublicKey, ...(spec.ownerKeys ?? [])], nodeMajor: spec.agent.nodeMajor }),
      labels, start_after_create: true, public_net: { enable_ipv4: true, enable_ipv6: false },
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.api.request<{ server: HServer }>("POST", "/servers", body, signal)).server;
      } catch (err) {
        if (hetznerErrorCode(err) === "uniqueness_error") {
          // The name is taken: by our own first try whose answer was lost, or by someone else.
          const ours = await this.findBySpawnId(spec.spawnId, signal);
          if (ours) return ours;
          throw new CloudError("API", `a server named ${spec.name} already exists in the Hetzner project: spawn again with another --name`);
        }
        // spawn #2902/#2905: orphaned Primary IPs count against the limit; free ours and try once more.
        if (attempt === 1 && isProjectLimit(err) && (await this.deleteUnattachedPrimaryIps(signal)) > 0) continue;
        throw err;
      }
    }
  }

  /** The id of the bot's key in the project, registering it the first time. */
  private async ensureSshKey(signal?: AbortSignal): Promise<number> {
    const publicKey = this.opts.botPublicKey.trim();
    const lookUp = async () => {
      const res = await this.api.request<{ ssh_keys: { id: number }[] }>("GET", `/ssh_keys?${new URLSearchParams({ fingerprint: md5Fingerprint(publicKey) })}`, undefined, signal);
      return res.ssh_keys[0]?.id;
    };
    const known = await lookUp();
    if (known !== undefined) return known;
    try {
      const res = await this.api.request<{ ssh_key: { id: number } }>("POST", "/ssh_keys", { name: sshKeyName(publicKey), public_key: publicKey, labels: { [BOT_TAG.key]: BOT_TAG.value } }, signal);
      return res.ssh_key.id;
    } catch (err) {
      if (hetznerErrorCode(err) !== "uniqueness_error") throw err;
      // Another bot (or an earlier lost answer) registered it meanwhile.
      const id = await lookUp();
      if (id === undefined) throw new CloudError("API", `an SSH key named ${sshKeyName(publicKey)} exists in the Hetzner project with another key: delete it there, then spawn again`);
      return id;
    }
  }

  private async waitUntilRunning(created: HServer, signal?: AbortSignal): Promise<ServerInfo> {
    const timeoutMs = this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
    let known: HServer | undefined = created; // the create's own answer is the first look
    try {
      return await pollUntil(async () => {
        const server = known ?? (await this.fetchServer(String(created.id), signal));
        known = undefined;
        if (!server) throw new CloudError("API", `Hetzner server ${created.id} disappeared while starting: spawn again`);
        return server.status === "running" && server.public_net.ipv4?.ip ? this.toInfo(server) : undefined;
      }, { timeoutMs, intervalMs: this.opts.pollIntervalMs ?? POLL_INTERVAL_MS, what: `Hetzner server ${created.id} running`, signal });
    } catch (err) {
      if (err instanceof CloudError && err.code === "TIMEOUT") {
        throw new CloudError("TIMEOUT", `the Hetzner server did not start within ${Math.round(timeoutMs / 1000)} s and was removed: spawn again or try another --zone`);
      }
      throw err;
    }
  }

  /** A create that fails after the server exists removes it, so nothing is left costing money. */
  private async removeHalfMade(serverId: number, err: CloudError): Promise<never> {
    try {
      await this.deleteServer(String(serverId));
    } catch (cleanupErr) {
      throw new CloudError(err.code, `${err.message}; removing the half-made server ${serverId} failed too (${(cleanupErr as Error).message}): delete it in the Hetzner console`);
    }
    throw err;
  }

  private async fetchServer(serverId: string, signal?: AbortSignal): Promise<HServer | undefined> {
    if (!/^\d+$/.test(serverId)) return undefined; // not a Hetzner id, so no such server
    try {
      return (await this.api.request<{ server: HServer }>("GET", `/servers/${serverId}`, undefined, signal)).server;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw translateHetznerError(err, { what: `reading server ${serverId}` });
    }
  }

  /** Unattached Primary IPs carrying the bot's label (never anyone else's); returns how many went. */
  private async deleteUnattachedPrimaryIps(signal?: AbortSignal): Promise<number> {
    const res = await this.api.request<{ primary_ips: HPrimaryIp[] }>("GET", `/primary_ips?${selector(BOT_TAG.key, BOT_TAG.value)}`, undefined, signal);
    const orphans = res.primary_ips.filter((ip) => ip.assignee_id === null);
    for (const ip of orphans) await this.deletePrimaryIp(ip.id);
    return orphans.length;
  }

  /** Primary IPs of a deleted server's spawn that Hetzner keeps because auto_delete is off. */
  private async deleteLeftoverPrimaryIps(spawnId: string, serverId: number): Promise<void> {
    const what = { what: `removing the Primary IPs of server ${serverId}` };
    try {
      const res = await this.api.request<{ primary_ips: HPrimaryIp[] }>("GET", `/primary_ips?${selector(SPAWN_ID_TAG, spawnId)}`);
      for (const ip of res.primary_ips.filter((p) => !p.auto_delete)) {
        if (ip.assignee_id !== null && ip.assignee_id !== serverId) continue; // moved to another server: not ours to drop
        if (ip.assignee_id === serverId) {
          // The delete action releases the IP shortly after DELETE /servers answers.
          await pollUntil(async () => {
            const now = await this.api.request<{ primary_ip: HPrimaryIp }>("GET", `/primary_ips/${ip.id}`);
            return now.primary_ip.assignee_id === null ? true : undefined;
          }, { timeoutMs: PRIMARY_IP_RELEASE_TIMEOUT_MS, intervalMs: this.opts.pollIntervalMs ?? POLL_INTERVAL_MS, what: `Primary IP ${ip.id} released` });
        }
        await this.deletePrimaryIp(ip.id);
      }
    } catch (err) {
      throw translateHetznerError(err, what);
    }
  }

  private async deletePrimaryIp(id: number): Promise<void> {
    try {
      await this.api.request("DELETE", `/primary_ips/${id}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private toInfo(server: HServer): ServerInfo {
    return { serverId: String(server.id), address: server.public_net.ipv4?.ip ?? "", sshUser: this.sshUser, sshPort: this.sshPort };
  }
}
