// The DigitalOcean cloud: droplets over API v2 with the bot's registered SSH key, first-boot
// user-data, and tags (spawnbot-managed, spawnbot-spawn-id:<uuid>) that make create idempotent.
import {
  accountBlocked, basicSizeWithMemory, DO_IMAGE, DO_MAX_PAGES, DO_PAGE_SIZE, doRetryAfterMs, isAlreadyRegistered, isHourlyLimit, md5Fingerprint, memoryGbFromSlug,
  publicV4, REGION_RE, SIZE_RE, tagName, tagValue, translateDoError,
  type DoAccount, type DoDroplet, type DoPages, type DoSize, type DoSshKey,
} from "./digitalocean-api.js";
import { HttpError, NetworkError, RestClient } from "./rest-client.js";
import { API_RETRY, pollUntil } from "../retry.js";
import { renderUserData } from "./user-data.js";
import { priceUnknownBecause, type PriceAnswer, type PricedPlacement } from "./prices.js";
import {
  BOOT_TIMEOUT_MS, BOT_TAG, CLOUD_INIT_TIMEOUT_MS, CloudError, POLL_INTERVAL_MS, SPAWN_ID_TAG,
  type Cloud, type ProviderBase, type ServerInfo, type ServerSpec,
} from "./types.js";

export interface DigitalOceanOptions extends ProviderBase {
  token: string;
  /** https://api.digitalocean.com/v2 (DIGITALOCEAN_API_URL) */
  apiUrl: string;
  /** Region when the spawn gives no --zone (nyc3). */
  region: string;
  /** Size when the spawn gives no --size (s-2vcpu-2gb); moved up for agents that need more memory. */
  defaultSize: string;
  sshWait?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** First backoff after a 5xx or a dropped request, doubling (1 s; tests make it short). */
  retryBaseDelayMs?: number;
}

/** A droplet answers SSH about a minute after it is active; 30 tries with backoff cover ~4 min. */
const SSH_WAIT = { attempts: 30, baseDelayMs: 2_000, maxDelayMs: 10_000 };
/**
 * Tries per request: DO throttles per token (250 requests a minute), so a burst of 429s followed
 * by a 5xx or a dropped connection must not end a spawn; API_RETRY's deadline still bounds it.
 */
const API_ATTEMPTS = 6;
/** Tries of POST /droplets, each after checking by tag that the last one made nothing. */
const CREATE_ATTEMPTS = API_ATTEMPTS;
/** States a droplet does not leave by itself: waiting for "active" is pointless. */
const DEAD_STATES = new Set(["off", "archive"]);

export class DigitalOceanCloud implements Cloud {
  readonly key = "digitalocean";
  readonly title = "DigitalOcean";
  readonly description = "an Ubuntu 24.04 droplet in your DigitalOcean account (DIGITALOCEAN_ACCESS_TOKEN)";
  readonly access = "ssh" as const;
  readonly sshWait: Cloud["sshWait"];
  readonly cloudInit: { timeoutMs: number };
  /** Every call but the create: retries throttling, 5xx and network errors. */
  private readonly api: RestClient;
  /** POST /droplets only, one attempt: DO does not deduplicate creates, so a blind retry could make two. */
  private readonly createApi: RestClient;
  private readonly sshUser: string;
  private readonly sshPort: number;
  private readonly retryBaseDelayMs: number;
  private keyFingerprint?: Promise<string>;
  /** GiB of sizes whose slug does not say (c-2), from GET /sizes. */
  private readonly sizeMemory = new Map<string, number>();

  constructor(private readonly opts: DigitalOceanOptions) {
    const client = { baseUrl: opts.apiUrl, token: opts.token, timeoutMs: opts.requestTimeoutMs ?? 30_000, retryAfterMs: doRetryAfterMs };
    this.retryBaseDelayMs = opts.retryBaseDelayMs ?? API_RETRY.baseDelayMs;
    this.api = new RestClient({ ...client, retry: { attempts: API_ATTEMPTS, baseDelayMs: this.retryBaseDelayMs } });
    this.createApi = new RestClient({ ...client, retry: { attempts: 1, baseDelayMs: this.retryBaseDelayMs } });
    this.sshWait = opts.sshWait ?? SSH_WAIT;
    this.cloudInit = { timeoutMs: opts.cloudInitTimeoutMs ?? CLOUD_INIT_TIMEOUT_MS };
    this.sshUser = opts.sshUser ?? "root";
    this.sshPort = opts.sshPort ?? 22;
  }

  async checkCredentials(): Promise<void> {
    const { account } = await this.call<{ account: DoAccount }>("GET", "/account", "checking the account");
    // spawn: a locked or warned account cannot create droplets until its billing is settled.
    if (account.status === "locked" || account.status === "warning") throw accountBlocked(account.status, account.status_message);
  }

  async checkPlacement(spec: ServerSpec): Promise<void> {
    await this.placement(spec);
  }

  /** GET /sizes: the size's price_hourly, in US dollars (DO bills in USD). The default size moves up for the agent as createServer's does. */
  async priceOf(placement: PricedPlacement): Promise<PriceAnswer> {
    let size: string;
    let sizes: DoSize[];
    try {
      ({ size } = await this.placement(placement as ServerSpec));
      sizes = await this.all<DoSize>("/sizes", "sizes", "reading prices");
    } catch (err) {
      return priceUnknownBecause(err);
    }
    const perHour = sizes.find((s) => s.slug === size)?.price_hourly;
    if (typeof perHour !== "number" || !Number.isFinite(perHour) || perHour < 0) return { kind: "unknown", why: `DigitalOcean lists no hourly price for ${size}` };
    return { kind: "priced", price: { perHour, currency: "USD", source: "DigitalOcean API" } };
  }

  async createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo> {
    // 1. Check --size/--zone and pick the size (the default moves up for OpenClaw).
    const { size, region } = await this.placement(spec);
    // 2. A droplet already tagged with this spawn id is this spawn's server: reuse it.
    const spawnTag = tagName(SPAWN_ID_TAG, spec.spawnId);
    let droplet = await this.findBySpawnTag(spawnTag, signal);
    if (!droplet) {
      // 3. Register the bot key (once per account) and create the droplet with it and the user-data.
      const fingerprint = await this.botKeyFingerprint(signal);
      const tags = [...new Set([tagName(BOT_TAG.key), spawnTag, ...Object.entries(spec.tags).map(([k, v]) => tagName(k, v))])];
      const userData = renderUserData({
        tier: spec.agent.tier, sshUser: this.sshUser, nodeMajor: spec.agent.nodeMajor,
        authorizedKeys: [this.opts.botPublicKey, ...(spec.ownerKeys ?? [])],
      });
      droplet = await this.postDroplet({
        name: spec.name, region, size, image: DO_IMAGE, ssh_keys: [fingerprint],
        backups: false, monitoring: false, ipv6: false, user_data: userData, tags,
      }, spawnTag, signal);
    }
    // 4. Wait for "active" with a public IPv4; a droplet that does not get there is removed.
    try {
      return await this.waitUntilActive(droplet.id, signal);
    } catch (err) {
      const id = String(droplet.id);
      const removed = await this.deleteServer(id).then(() => true, () => false);
      if (removed || !(err instanceof CloudError)) throw err;
      // Say so rather than leave a droplet costing money unnoticed.
      throw new CloudError(err.code, `${err.message}; droplet ${id} could not be removed: delete it at https://cloud.digitalocean.com/droplets`);
    }
  }

  async getServer(serverId: string): Promise<ServerInfo | undefined> {
    if (!/^\d+$/.test(serverId)) return undefined; // not a droplet id: no such droplet
    const d = await this.getDroplet(Number(serverId));
    return d && this.info(d);
  }

  async deleteServer(serverId: string): Promise<void> {
    if (!/^\d+$/.test(serverId)) return;
    try {
      await this.api.request("DELETE", `/droplets/${serverId}`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return; // already gone
      throw translateDoError(err, `deleting droplet ${serverId}`);
    }
  }

  async listServers(): Promise<(ServerInfo & { spawnId?: string })[]> {
    const droplets = await this.all<DoDroplet>(`/droplets?tag_name=${encodeURIComponent(tagName(BOT_TAG.key))}`, "droplets", "listing droplets");
    return droplets.map((d) => ({ ...this.info(d), spawnId: tagValue(d.tags ?? [], SPAWN_ID_TAG) }));
  }

  /** The size and region a spawn gets, or a BAD_PLACEMENT error saying what to give instead. */
  private async placement(spec: ServerSpec): Promise<{ size: string; region: string }> {
    const region = spec.zone ?? this.opts.region;
    if (!REGION_RE.test(region)) {
      throw new CloudError("BAD_PLACEMENT", `'${region}' is not a DigitalOcean region: use a region slug such as nyc3, sfo3 or ams3 as --zone`);
    }
    let size = spec.size ?? this.opts.defaultSize;
    if (!SIZE_RE.test(size)) {
      throw new CloudError("BAD_PLACEMENT", `'${size}' is not a DigitalOcean size: use a size slug such as s-2vcpu-4gb as --size`);
    }
    const needGb = spec.agent.minMemoryGb;
    const hasGb = await this.memoryGb(size);
    if (hasGb < needGb) {
      const bigger = basicSizeWithMemory(needGb);
      if (spec.size !== undefined) {
        throw new CloudError("BAD_PLACEMENT", `${spec.agent.name} needs ${needGb} GB of memory and ${size} has ${formatGb(hasGb)}: use --size ${bigger} or larger`);
      }
      size = bigger; // the default is ours to move up, as spawn does for OpenClaw
    }
    return { size, region };
  }

  private async memoryGb(size: string): Promise<number> {
    const fromSlug = memoryGbFromSlug(size);
    if (fromSlug !== undefined) return fromSlug;
    if (!this.sizeMemory.has(size)) {
      for (const s of await this.all<DoSize>("/sizes", "sizes", "listing sizes")) this.sizeMemory.set(s.slug, s.memory / 1024);
    }
    const gb = this.sizeMemory.get(size);
    if (gb === undefined) throw new CloudError("BAD_PLACEMENT", `DigitalOcean has no size '${size}': use a size slug such as s-2vcpu-4gb as --size`);
    return gb;
  }

  /** The MD5 fingerprint of the bot key, registered with the account if it is not yet. */
  private botKeyFingerprint(signal?: AbortSignal): Promise<string> {
    this.keyFingerprint ??= this.registerBotKey(signal).catch((err: unknown) => {
      this.keyFingerprint = undefined; // try again on the next spawn
      throw err;
    });
    return this.keyFingerprint;
  }

  private async registerBotKey(signal?: AbortSignal): Promise<string> {
    const fingerprint = md5Fingerprint(this.opts.botPublicKey);
    const registered = async () => (await this.all<DoSshKey>("/account/keys", "ssh_keys", "listing SSH keys", signal)).some((k) => k.fingerprint === fingerprint);
    if (await registered()) return fingerprint;
    const name = `spawnbot-${fingerprint.replace(/:/g, "").slice(0, 8)}`;
    try {
      await this.api.request("POST", "/account/keys", { name, public_key: this.opts.botPublicKey.trim() }, signal);
    } catch (err) {
      // "already in use": another bot, or our own retry after a lost answer, registered it meanwhile.
      if (!isAlreadyRegistered(err) || !(await registered())) throw translateDoError(err, "registering the bot's SSH key");
    }
    return fingerprint;
  }

  /**
   * POST /droplets, at most once per answer we did not get: after a lost answer or a 5xx the
   * droplet may exist, so look for it by the spawn tag before trying again.
   */
  private async postDroplet(body: Record<string, unknown>, spawnTag: string, signal?: AbortSignal): Promise<DoDroplet> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.createApi.request<{ droplet: DoDroplet }>("POST", "/droplets", body, signal)).droplet;
      } catch (err) {
        const throttled = err instanceof HttpError && err.status === 429; // refused: nothing was made
        const unsure = err instanceof NetworkError || (err instanceof HttpError && err.status >= 500);
        // An hourly-limit 429 asks for up to an hour: say so rather than wait.
        if (!(throttled || unsure) || isHourlyLimit(err) || signal?.aborted) throw translateDoError(err, "creating the droplet");
        const backoff = Math.min(API_RETRY.maxDelayMs, this.retryBaseDelayMs * 2 ** (attempt - 1));
        // The wait also gives DO time to list a droplet whose answer was lost.
        await new Promise((r) => setTimeout(r, (err instanceof HttpError ? err.retryAfterMs : undefined) ?? backoff));
        if (unsure) {
          const made = await this.findBySpawnTag(spawnTag, signal);
          if (made) return made;
        }
        if (attempt >= CREATE_ATTEMPTS) throw translateDoError(err, "creating the droplet");
      }
    }
  }

  private async waitUntilActive(id: number, signal?: AbortSignal): Promise<ServerInfo> {
    return pollUntil(async () => {
      const d = await this.getDroplet(id, signal); // a 404 right after the create is DO catching up
      if (d && DEAD_STATES.has(d.status)) throw new CloudError("API", `droplet ${id} is ${d.status} instead of booting: spawn again`);
      return d?.status === "active" && publicV4(d) ? this.info(d) : undefined;
    }, {
      timeoutMs: this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS, intervalMs: this.opts.pollIntervalMs ?? POLL_INTERVAL_MS,
      what: `droplet ${id} becoming active with a public address`, signal,
    });
  }

  private async getDroplet(id: number, signal?: AbortSignal): Promise<DoDroplet | undefined> {
    try {
      return (await this.api.request<{ droplet: DoDroplet }>("GET", `/droplets/${id}`, undefined, signal)).droplet;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw translateDoError(err, `reading droplet ${id}`);
    }
  }

  private async findBySpawnTag(spawnTag: string, signal?: AbortSignal): Promise<DoDroplet | undefined> {
    const found = await this.all<DoDroplet>(`/droplets?tag_name=${encodeURIComponent(spawnTag)}`, "droplets", "looking for the spawn's droplet", signal);
    return found.sort((a, b) => a.id - b.id)[0];
  }

  /** Every item of a paged list, following links.pages.next (only its page number: never another host). */
  private async all<T>(path: string, field: string, doing: string, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = [];
    const sep = path.includes("?") ? "&" : "?";
    let page = 1;
    for (let n = 0; n < DO_MAX_PAGES; n++) {
      const pagePart = page === 1 ? "" : `&page=${page}`;
      const res = await this.call<Record<string, unknown> & { links?: DoPages }>("GET", `${path}${sep}per_page=${DO_PAGE_SIZE}${pagePart}`, doing, signal);
      items.push(...((res[field] as T[] | undefined) ?? []));
      const next = res.links?.pages?.next;
      const nextPage = next ? Number(new URL(next, "http://do.invalid").searchParams.get("page")) : NaN;
      if (!Number.isInteger(nextPage) || nextPage <= page) break;
      page = nextPage;
    }
    return items;
  }

  private async call<T>(method: string, path: string, doing: string, signal?: AbortSignal): Promise<T> {
    try {
      return await this.api.request<T>(method, path, undefined, signal);
    } catch (err) {
      throw translateDoError(err, doing);
    }
  }

  private info(d: DoDroplet): ServerInfo {
    return { serverId: String(d.id), address: publicV4(d) ?? "", sshUser: this.sshUser, sshPort: this.sshPort };
  }
}

function formatGb(gb: number): string {
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}
