// The cloud interface every provider implements: local and ssh now, AWS, GCP, Hetzner and
// DigitalOcean next. A cloud makes and removes servers; the pipeline does the rest over SSH.
import type { AgentSpec } from "../agents/types.js";
import type { RemoteHost } from "../remote/types.js";
import type { SshWaitPolicy } from "../remote/ssh-host.js";
import type { PriceAnswer, PricedPlacement } from "./prices.js";

export interface ServerSpec {
  spawnId: string;
  name: string;
  agent: AgentSpec;
  size?: string;
  zone?: string;
  /** For the ssh cloud: the host to adopt. */
  host?: { user: string; host: string; port: number };
  /** The owner's SSH public keys; VM clouds put them in the user-data (see user-data.ts). */
  ownerKeys?: string[];
  /** Tags every resource carries before it can cost money (spawn id, owner). */
  tags: Record<string, string>;
}

export interface ServerInfo {
  serverId: string;
  address: string;
  sshUser: string;
  sshPort: number;
}

export interface Cloud {
  readonly key: string;
  readonly title: string;
  readonly description: string;
  /** Check that the cloud can be used (credentials, settings); throws CloudError with what to do. */
  checkCredentials(): Promise<void>;
  /** Check a --size/--zone against the cloud's rules and the agent's minimum memory. */
  checkPlacement(spec: ServerSpec): void | Promise<void>;
  /**
   * Make the server, tagged with spec.tags, and wait until it has a public address.
   * Idempotent per spawnId: a repeated create (a retry after a lost response) finds the first
   * server instead of making a second. A create that fails half-way removes what it made.
   */
  createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo>;
  /** Undefined when the server does not exist (any more). */
  getServer(serverId: string): Promise<ServerInfo | undefined>;
  /** Delete; a server that is already gone counts as deleted. */
  deleteServer(serverId: string): Promise<void>;
  /** Every server carrying the bot's tag, with the spawn id it was tagged with. */
  listServers(): Promise<(ServerInfo & { spawnId?: string })[]>;
  /** Clouds that boot with our user-data: how long to wait for its completion marker. */
  readonly cloudInit?: { timeoutMs: number };
  /** Clouds that are not reached over SSH (local) open the host themselves. */
  openHost?(server: ServerInfo): Promise<RemoteHost>;
  /** How long to keep trying SSH: a new VM needs minutes to boot, an adopted host is up or not. */
  readonly sshWait: SshWaitPolicy;
  /**
   * Hosts a person names (ssh): resolve the name once, check the address against the network
   * policy and return the address to connect to (wait-ssh connects to it and records it, so no
   * later connection resolves the name again). Throws HostUnreachableError: the same message as
   * a closed port.
   */
  resolveAddress?(server: ServerInfo): Promise<string>;
  /**
   * True for hosts the bot adopts rather than makes (local, ssh): deleting a spawn stops its
   * session there and keeps the host. VM clouds leave it unset: their server is deleted.
   */
  readonly adopted?: boolean;
  /**
   * What the server of this placement costs an hour: from the provider's API where it publishes
   * prices, else from the dated price table; "free" for hosts the bot does not pay for. Never
   * throws: a failed lookup is "unknown" with the reason.
   */
  priceOf(placement: PricedPlacement): Promise<PriceAnswer>;
  /** How a person reaches the agent: "ssh" for hosts, "local" for the bot's own machine. */
  readonly access: "ssh" | "local";
}

/**
 * An expected refusal by a cloud, with the one-line message the user sees. Codes used by the
 * providers: AUTH, QUOTA, CAPACITY, BAD_PLACEMENT, BILLING, NOT_CONFIGURED, API (anything else
 * the cloud said no to), TIMEOUT.
 */
export class CloudError extends Error {
  /** A provider's "try again later" (TIMEOUT, CAPACITY) may pass; its refusals will not. */
  readonly retryable: boolean;
  constructor(readonly code: string, message: string) {
    super(message);
    this.retryable = code === "TIMEOUT" || code === "CAPACITY";
  }
}

/** The tag (label) every resource the bot makes carries, with the spawn id beside it. */
export const BOT_TAG = { key: "spawnbot-managed", value: "true" } as const;
export const SPAWN_ID_TAG = "spawnbot-spawn-id";
export const OWNER_TAG = "spawnbot-owner";

/** What every VM provider is given at start-up besides its own settings. */
export interface ProviderBase {
  /** The bot's public key line, registered with the cloud or placed in metadata. */
  botPublicKey: string;
  /** SSH port of the servers (22; tests point it at their own sshd). */
  sshPort?: number;
  /** Overrides the image's login user (tests use their own Unix user). */
  sshUser?: string;
  /** How long createServer may wait for a running server with an address. */
  bootTimeoutMs?: number;
  /** Polling interval while waiting (tests make it short). */
  pollIntervalMs?: number;
  /** Timeout of one API request (tests make it short to test timeouts). */
  requestTimeoutMs?: number;
  /** How long the pipeline waits for the cloud-init marker before it warns and goes on. */
  cloudInitTimeoutMs?: number;
}

/** Defaults for ProviderBase's waits. */
export const BOOT_TIMEOUT_MS = 5 * 60_000; // spawn: 60 polls of 5 s
export const POLL_INTERVAL_MS = 5_000;
export const CLOUD_INIT_TIMEOUT_MS = 10 * 60_000;
