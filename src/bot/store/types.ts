// The records the store keeps and the Store interface the rest of the bot calls.
// No SQL here. The methods are declared once, in the shape SQLite answers them (SyncStore);
// the Store the bot calls is their asynchronous form (Promised<SyncStore>), the seam a shared
// database (PostgreSQL) implements. sqlite-store.ts implements SyncStore and promised.ts lifts it.
import type { ChatState } from "./chat-tables.js";
import type { UpkeepState } from "./upkeep-tables.js";
import type { OAuthState } from "./oauth-tables.js";
import type { HostState } from "./host-tables.js";
import type { LeaseState } from "./lease-tables.js";
import type { SpawnKeyState } from "./spawn-key-tables.js";
import type { IdentityState } from "./identity-tables.js";
import type { CostState } from "./cost-tables.js";
import type { SendSlotState } from "./send-slot-tables.js";

export type SpawnStatus = "pending" | "provisioning" | "ready" | "failed" | "deleting" | "deleted" | "cancelled";

/** A spawn in one of these states may own a server and holds its name for its owner. */
export const LIVE_STATUSES: readonly SpawnStatus[] = ["pending", "provisioning", "ready", "deleting"];

export interface UserRef {
  platform: string;
  userId: string;
}

export interface SpawnRecord {
  id: string; // uuid, primary key
  name: string; // unique among LIVE spawns of the same owner (platform + ownerId)
  platform: string;
  workspace: string;
  channel: string;
  ownerId: string;
  ownerName: string;
  agent: string;
  cloud: string;
  model: string | null;
  size: string | null;
  zone: string | null;
  status: SpawnStatus;
  serverId: string | null;
  address: string | null;
  sshUser: string | null;
  sshPort: number | null;
  hostKey: string | null; // pinned host key, "ssh-ed25519 AAAA..." form
  session: string; // tmux session name
  prompt: string | null;
  error: string | null; // user-facing failure message
  meta: Record<string, string>; // small extra values (e.g. dashboard port); JSON column
  createdAt: number; // all times: milliseconds since epoch
  readyAt: number | null;
  deletedAt: number | null;
  expiresAt: number | null;
  /**
   * Which SSH key reaches the host: "owner" — the owner's own spawnbot key (hosts they adopted
   * with --host); "bot" — the bot's key (servers it created, hosts admins shared, and adopted
   * hosts of spawns made before per-user keys).
   */
  sshIdentity: "owner" | "bot";
  /** What the request asked for beyond the columns, kept so a restarted bot can continue the run; null on older rows. */
  options: SpawnOptions | null;
  /**
   * False for spawns recorded before the bot marked what it puts on an adopted host (the
   * authorized_keys lines it adds): their clean-up cannot tell those lines from the user's own.
   * Absent counts as true.
   */
  markedHost?: boolean;
}

export interface SpawnOptions {
  host?: { user: string; host: string; port: number };
  steps?: string[];
  /** --repo, resolved: the clone URL, the ref asked for, the folder under the login's home, and what the user typed. */
  repo?: { url: string; ref?: string; dir: string; display: string };
}

export type NewSpawn = Omit<
  SpawnRecord,
  "status" | "serverId" | "address" | "sshUser" | "sshPort" | "hostKey" | "error" | "readyAt" | "deletedAt" | "meta" | "sshIdentity" | "options"
> & { meta?: Record<string, string>; sshIdentity?: SpawnRecord["sshIdentity"]; options?: SpawnOptions };

/** Fields left out (or undefined) are kept; null clears a nullable field; meta replaces the whole map. */
export type SpawnPatch = Partial<
  Pick<
    SpawnRecord,
    | "status"
    | "serverId"
    | "address"
    | "sshUser"
    | "sshPort"
    | "hostKey"
    | "error"
    | "readyAt"
    | "deletedAt"
    | "expiresAt"
    | "model"
    | "meta"
  >
>;

export type StepState = "pending" | "running" | "succeeded" | "warned" | "failed" | "skipped";

export interface StepRecord {
  spawnId: string;
  seq: number;
  name: string;
  state: StepState;
  detail: string | null;
  startedAt: number | null;
  endedAt: number | null;
}

export interface SpawnCount {
  status: SpawnStatus;
  cloud: string;
  count: number;
}

export interface ModelPreference {
  agent: string;
  model: string;
}

export interface UserKey {
  fingerprint: string;
  publicKey: string;
  keyType: string;
  comment: string;
  addedAt: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  platform: string;
  /** Where the action was asked for; null on rows written before migration 5 or outside a chat. */
  workspace: string | null;
  channel: string | null;
  userId: string;
  action: string;
  spawnId: string | null;
  detail: Record<string, unknown>;
}

/** Whose spawns a limit counts: one owner's (on a platform) or one workspace's. */
export type CountScope = { platform: string; ownerId: string } | { platform: string; workspace: string };

/** filter: case-insensitive substring of name, agent, cloud, model or status; limit defaults to 50. */
export interface ListOptions {
  filter?: string;
  limit?: number;
  /** Rows to skip first (paging). */
  offset?: number;
}

/** Which spawns a list covers: a platform, narrowed by workspace, channel or owner when given. */
export interface ListScopeQuery {
  platform: string;
  workspace?: string;
  channel?: string;
  ownerId?: string;
}

/** The owner already has a live spawn with that name. */
export class StoreConflictError extends Error {
  override name = "StoreConflictError";
}

/**
 * Limits recordIntent holds a new spawn to, counted in the same transaction as the insert, so
 * two requests at once (on one bot or on several) cannot both take the last place. 0: no limit.
 */
export interface IntentLimits {
  livePerOwner: number;
  livePerWorkspace: number;
  startsPerOwner: number;
  startsPerWorkspace: number;
  /** Starts are counted from this time on (a rolling window). */
  startsSince: number;
}

export type IntentLimit = "live-owner" | "live-workspace" | "starts-owner" | "starts-workspace";

/** recordIntent refused: a limit is reached. oldest: the oldest start in the window (starts limits). */
export class StoreLimitError extends Error {
  override name = "StoreLimitError";
  constructor(readonly limit: IntentLimit, readonly oldest: number | null) {
    super(`spawn limit reached: ${limit}`);
  }
}

/** updateSpawn was given an id the store does not know. */
export class StoreNotFoundError extends Error {
  override name = "StoreNotFoundError";
}

/**
 * Every method of T (and of the objects it holds, like store.chat) returning a Promise of what
 * it returns. A store over a network database implements Promised<SyncStore> directly.
 */
export type Promised<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : Promised<T[K]>;
};

/** The store the bot calls: every read and write is asynchronous. */
export type Store = Promised<SyncStore>;

/** The store's methods in their synchronous form (SQLite answers them in-process). */
export interface SyncStore {
  /** Users' sealed secrets, handled deliveries and status message references (chat-tables.ts). */
  readonly chat: ChatState;
  /** Expiry reminders sent, failed deletes to retry, orphan servers seen (upkeep-tables.ts). */
  readonly upkeep: UpkeepState;
  /** Pending Connect OpenRouter sign-ins (oauth-tables.ts). */
  readonly oauth: OAuthState;
  /** Host keys pinned per host, and hosts admins share with channels (host-tables.ts). */
  readonly hosts: HostState;
  /** Named leases with a holder and an expiry: the data's single owner (lease-tables.ts). */
  readonly leases: LeaseState;
  /** The OpenRouter keys made for spawns, and the deletes still owed (spawn-key-tables.ts). */
  readonly spawnKeys: SpawnKeyState;
  /** The bot's identity every process on this data shares: its SSH key and secret-key check (identity-tables.ts). */
  readonly identity: IdentityState;
  /** Each spawn's cloud price and LLM spend, budget notices sent, month totals (cost-tables.ts). */
  readonly costs: CostState;
  /** The next free send time of each outbound chat lane, shared by replicas (send-slot-tables.ts). */
  readonly sendSlots: SendSlotState;
  /**
   * Status "pending"; throws StoreConflictError when the owner already has a live spawn with that
   * name, StoreLimitError when a limit would be crossed (checked with the insert, atomically).
   */
  recordIntent(spawn: NewSpawn, limits?: IntentLimits): SpawnRecord;
  /** Throws StoreNotFoundError if id is unknown, StoreConflictError if a status change revives a taken name. */
  updateSpawn(id: string, patch: SpawnPatch): SpawnRecord;
  getSpawn(id: string): SpawnRecord | undefined;
  /**
   * Find by exact id, by name, or by unique id prefix (>= 4 chars), in that order; among name
   * matches the owner's own spawns come first, then newest first. workspace/channel narrow the
   * scope when given. Returns undefined if nothing matches or a prefix is ambiguous.
   */
  findSpawn(
    ref: string,
    opts: { owner?: UserRef; platform: string; workspace?: string; channel?: string },
  ): SpawnRecord | undefined;
  /**
   * Every spawn with this exact name in the scope that is not dismissed, the owner's own first,
   * then newest first (at most a handful): for refusing to choose between namesakes.
   */
  findSpawnsByName(name: string, opts: { owner?: UserRef; platform: string; workspace?: string }): SpawnRecord[];
  /** Newest first; lists leave out dismissed spawns (ended ones their owner cleared away). */
  listForChannel(platform: string, workspace: string, channel: string, opts?: ListOptions): SpawnRecord[];
  /** Newest first. */
  listForOwner(owner: UserRef, opts?: ListOptions): SpawnRecord[];
  /** Newest first. */
  listAll(platform: string, opts?: ListOptions): SpawnRecord[];
  /**
   * How many spawns the list of this scope and filter holds in all (for "showing 25 of 63"),
   * counting at most upTo when given (a count walks every row: 90,000 cost ~20 ms).
   */
  countListed(scope: ListScopeQuery, filter?: string, upTo?: number): number;
  /** Hide an ended spawn from lists; its row, steps and audit stay. False if unknown or already dismissed. */
  dismissSpawn(id: string, at?: number): boolean;
  /** Status in LIVE_STATUSES, any platform, newest first. */
  listLive(): SpawnRecord[];
  /** How many spawns are in each status on each cloud (for metrics). */
  countSpawns(): SpawnCount[];
  /** Time to ready (ms) of the most recently ready spawns, newest first. */
  recentTimesToReady(limit: number): number[];
  /**
   * Upsert by (spawnId, seq). startedAt is set the first time the state is "running" and kept;
   * endedAt is set for succeeded/warned/failed/skipped and cleared otherwise. detail left
   * undefined keeps the stored detail; null clears it.
   */
  markStep(spawnId: string, seq: number, name: string, state: StepState, detail?: string | null, at?: number): StepRecord;
  /** By seq. */
  listSteps(spawnId: string): StepRecord[];
  setModelPreference(user: UserRef, agent: string, model: string): void;
  /** True if one was removed. */
  clearModelPreference(user: UserRef, agent: string): boolean;
  getModelPreference(user: UserRef, agent: string): string | undefined;
  /** By agent. */
  listModelPreferences(user: UserRef): ModelPreference[];
  /** The same fingerprint again for the same user adds nothing and returns the stored key. */
  addUserKey(user: UserRef, key: Omit<UserKey, "addedAt">): UserKey;
  /** Oldest first. */
  listUserKeys(user: UserRef): UserKey[];
  removeUserKey(user: UserRef, fingerprint: string): boolean;
  audit(
    entry: { platform: string; workspace?: string; channel?: string; userId: string; action: string; spawnId?: string | null; detail?: Record<string, unknown> },
    at?: number,
  ): void;
  /** Newest first; limit defaults to 50. */
  listAudit(opts?: { spawnId?: string; limit?: number }): AuditEntry[];
  /** Live spawns (status in LIVE_STATUSES) of an owner or a workspace; answered from an index. */
  countLive(scope: CountScope): number;
  /** Spawns recorded at or after since, in any status, and the oldest one's time; from an index. */
  countStartedSince(scope: CountScope, since: number): { count: number; oldest: number | null };
  /** Let another user see a spawn's connect details; false if they already could. */
  addShare(spawnId: string, user: UserRef, at?: number): boolean;
  /** False if the spawn was not shared with them. */
  removeShare(spawnId: string, user: UserRef): boolean;
  /** Oldest first. */
  listShares(spawnId: string): UserRef[];
  /** Ids of the spawns shared with a user. */
  listSharedWith(user: UserRef): string[];
  saveTunnelToken(token: TunnelTokenRecord): void;
  findTunnelToken(tokenHash: string): TunnelTokenRecord | undefined;
  /** Revoke every token of a spawn; returns how many were live. */
  revokeTunnelTokens(spawnId: string, at?: number): number;
  /** Revoke the tokens of a spawn given to one user; returns the hashes that were live. */
  revokeUserTunnelTokens(spawnId: string, user: UserRef, at?: number): string[];
  /**
   * Move the write-ahead log's pages into the main database file without waiting for anyone
   * (SQLite's PASSIVE checkpoint), so the main file alone is close to current. Stores without a
   * write-ahead log do nothing.
   */
  checkpoint(): void;
  close(): void;
}

export interface TunnelTokenRecord {
  /** SHA-256 hex of the token; the raw token is never stored. */
  tokenHash: string;
  spawnId: string;
  /** Who the link was given to; null for links minted before links were per user. */
  user: UserRef | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}
