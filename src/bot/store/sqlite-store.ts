// The SQLite implementation of the store (SyncStore; index.ts lifts it into the async Store): one better-sqlite3 connection per Store, WAL mode,
// every statement prepared once at open. All of spawnbot's SQL lives in this folder.
// Writes use run() and read back with a SELECT: an INSERT … RETURNING read with get() left the
// WAL unable to reset (765 MB after 20,000 inserts with better-sqlite3 12), so no RETURNING here.

import { clampLimit, listParams } from "./list-params.js";
import { toAudit, toSpawn, toStep, type AuditRow, type SpawnRow, type StepRow } from "./rows.js";
import Database from "better-sqlite3";
import { AccessTables } from "./access-tables.js";
import { ChatTables } from "./chat-tables.js";
import { PolicyCounts } from "./policy-counts.js";
import { UpkeepTables } from "./upkeep-tables.js";
import { UserTables } from "./user-tables.js";
import { protectDatabaseFiles } from "./file-modes.js";
import { migrate } from "./migrations.js";
import { OAuthTables } from "./oauth-tables.js";
import { HostTables } from "./host-tables.js";
import { LeaseTables } from "./lease-tables.js";
import { SpawnKeyTables } from "./spawn-key-tables.js";
import { IdentityTables } from "./identity-tables.js";
import { CostTables } from "./cost-tables.js";
import { SendSlotTables } from "./send-slot-tables.js";
import {
  LIVE_STATUSES,
  StoreConflictError,
  StoreLimitError,
  StoreNotFoundError,
  type IntentLimit,
  type IntentLimits,
  type AuditEntry,
  type CountScope,
  type ListOptions,
  type ListScopeQuery,
  type ModelPreference,
  type NewSpawn,
  type SpawnPatch,
  type SpawnCount,
  type SpawnRecord,
  type StepRecord,
  type StepState,
  type SyncStore,
  type TunnelTokenRecord,
  type UserKey,
  type UserRef,
} from "./types.js";

const BUSY_TIMEOUT_MS = 5000; // another process holding the write lock: wait this long before SQLITE_BUSY
const MAX_NAMESAKES = 10; // enough ids to tell namesakes apart in one refusal
const MIN_ID_PREFIX = 4; // shorter prefixes of a uuid match too much to be a useful reference
const ENDED_STATES: ReadonlySet<StepState> = new Set(["succeeded", "warned", "failed", "skipped"]);


/** SpawnPatch field -> column. updateSpawn's single statement is generated from this table. */
const PATCH_COLUMNS = {
  status: "status", serverId: "server_id", address: "address", sshUser: "ssh_user", sshPort: "ssh_port",
  hostKey: "host_key", error: "error", readyAt: "ready_at", deletedAt: "deleted_at", expiresAt: "expires_at",
  model: "model", meta: "meta",
} as const satisfies Record<keyof SpawnPatch, string>;
const PATCH_FIELDS = Object.keys(PATCH_COLUMNS) as (keyof SpawnPatch)[];

// Each column is rewritten only when its set_<field> flag is 1, so one prepared statement
// serves every patch shape.
const UPDATE_SPAWN_SQL = `UPDATE spawns SET ${PATCH_FIELDS.map(
  (f) => `${PATCH_COLUMNS[f]} = CASE WHEN @set_${f} THEN @${f} ELSE ${PATCH_COLUMNS[f]} END`,
).join(", ")} WHERE id = @id`;

// Case-insensitive (ASCII) substring match; @pattern is NULL when no filter was given.
const FILTER_SQL = `(@pattern IS NULL OR name LIKE @pattern ESCAPE '\\' OR agent LIKE @pattern ESCAPE '\\'
  OR cloud LIKE @pattern ESCAPE '\\' OR model LIKE @pattern ESCAPE '\\' OR status LIKE @pattern ESCAPE '\\')`;
const NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC";
const PAGE_SQL = "LIMIT @limit OFFSET @offset";
const SHOWN_SQL = "dismissed_at IS NULL"; // dismissed spawns keep their row, out of every list
const SCOPE_SQL = `platform = @platform AND (@workspace IS NULL OR workspace = @workspace)
  AND (@channel IS NULL OR channel = @channel)`;
/** Exported so a test can check its plan: the channel index, scanned newest first, no sort step. */
export const LIST_FOR_CHANNEL_SQL = `SELECT * FROM spawns WHERE platform = @platform AND workspace = @workspace
  AND channel = @channel AND ${SHOWN_SQL} AND ${FILTER_SQL} ${NEWEST_FIRST} ${PAGE_SQL}`;
const LIVE_SQL = `status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;

export function openSqliteStore(path: string): SyncStore {
  if (path !== ":memory:") protectDatabaseFiles(path);
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`); // first, so the pragmas below also wait
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL"); // WAL + NORMAL: durable across app crashes, not power loss
    db.pragma("foreign_keys = ON");
    // Deleted and overwritten rows (replaced keys, unsealed legacy tokens) are zeroed in the file,
    // not left in free pages.
    db.pragma("secure_delete = ON");
    migrate(db);
    if (path !== ":memory:") protectDatabaseFiles(path); // the -wal and -shm that opening made
    return new SqliteStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

function prepareStatements(db: Database.Database) {
  const p = <R>(source: string) => db.prepare<unknown[], R>(source);
  return {
    insertSpawn: p<never>(`INSERT INTO spawns (id, name, platform, workspace, channel, owner_id, owner_name,
      agent, cloud, model, size, zone, status, session, prompt, meta, created_at, expires_at, ssh_identity, options)
      VALUES (@id, @name, @platform, @workspace, @channel, @ownerId, @ownerName, @agent, @cloud, @model, @size,
      @zone, 'pending', @session, @prompt, @meta, @createdAt, @expiresAt, @sshIdentity, @options)`),
    updateSpawn: p<never>(UPDATE_SPAWN_SQL),
    getSpawn: p<SpawnRow>("SELECT * FROM spawns WHERE id = ?"),
    findById: p<SpawnRow>(`SELECT * FROM spawns WHERE id = @ref AND ${SCOPE_SQL}`),
    findByName: p<SpawnRow>(`SELECT * FROM spawns WHERE name = @ref AND ${SCOPE_SQL}
      ORDER BY coalesce(owner_id = @ownerId, 0) DESC, created_at DESC, rowid DESC LIMIT 1`),
    findAllByName: p<SpawnRow>(`SELECT * FROM spawns WHERE name = @ref AND ${SCOPE_SQL} AND ${SHOWN_SQL}
      ORDER BY coalesce(owner_id = @ownerId, 0) DESC, created_at DESC, rowid DESC LIMIT ${MAX_NAMESAKES}`),
    countListed: p<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM spawns WHERE ${SCOPE_SQL}
      AND (@ownerId IS NULL OR owner_id = @ownerId) AND ${SHOWN_SQL} AND ${FILTER_SQL} LIMIT @upTo)`),
    dismiss: p<never>("UPDATE spawns SET dismissed_at = ? WHERE id = ? AND dismissed_at IS NULL"),
    // A key range on the primary key; "+platform" keeps the planner off the platform-wide indexes.
    findByPrefix: p<SpawnRow>(`SELECT * FROM spawns WHERE id >= @low AND id < @high AND +platform = @platform
      AND (@workspace IS NULL OR workspace = @workspace) AND (@channel IS NULL OR channel = @channel) LIMIT 2`),
    listForChannel: p<SpawnRow>(LIST_FOR_CHANNEL_SQL),
    listForOwner: p<SpawnRow>(`SELECT * FROM spawns WHERE platform = @platform AND owner_id = @ownerId
      AND ${SHOWN_SQL} AND ${FILTER_SQL} ${NEWEST_FIRST} ${PAGE_SQL}`),
    listAll: p<SpawnRow>(`SELECT * FROM spawns WHERE platform = @platform AND ${SHOWN_SQL} AND ${FILTER_SQL}
      ${NEWEST_FIRST} ${PAGE_SQL}`),
    listLive: p<SpawnRow>(`SELECT * FROM spawns WHERE ${LIVE_SQL} ${NEWEST_FIRST}`),
    countSpawns: p<SpawnCount>("SELECT status, cloud, count(*) AS count FROM spawns GROUP BY status, cloud ORDER BY status, cloud"),
    readyTimes: p<{ ms: number }>(`SELECT ready_at - created_at AS ms FROM spawns WHERE ready_at IS NOT NULL
      ORDER BY ready_at DESC LIMIT ?`),
    // started_at: first "running" wins and is kept; ended_at: only while in an ended state.
    markStep: p<never>(`INSERT INTO steps (spawn_id, seq, name, state, detail, started_at, ended_at)
      VALUES (@spawnId, @seq, @name, @state, @detail, @startedAt, @endedAt)
      ON CONFLICT (spawn_id, seq) DO UPDATE SET name = excluded.name, state = excluded.state,
        detail = CASE WHEN @keepDetail THEN steps.detail ELSE excluded.detail END,
        started_at = coalesce(steps.started_at, excluded.started_at), ended_at = excluded.ended_at`),
    getStep: p<StepRow>("SELECT * FROM steps WHERE spawn_id = ? AND seq = ?"),
    listSteps: p<StepRow>("SELECT * FROM steps WHERE spawn_id = ? ORDER BY seq"),
    audit: p<never>(`INSERT INTO audit (at, platform, workspace, channel, user_id, action, spawn_id, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    listAudit: p<AuditRow>("SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT ?"),
    listAuditForSpawn: p<AuditRow>("SELECT * FROM audit WHERE spawn_id = ? ORDER BY at DESC, id DESC LIMIT ?"),
  };
}

class SqliteStore implements SyncStore {
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly access: AccessTables;
  private readonly users: UserTables;
  private readonly counts: PolicyCounts;
  readonly chat: ChatTables;
  readonly upkeep: UpkeepTables;
  readonly oauth: OAuthTables;
  readonly hosts: HostTables;
  readonly leases: LeaseTables;
  readonly spawnKeys: SpawnKeyTables;
  readonly identity: IdentityTables;
  readonly costs: CostTables;
  readonly sendSlots: SendSlotTables;

  constructor(private readonly db: Database.Database) {
    this.sql = prepareStatements(db);
    this.access = new AccessTables(db);
    this.users = new UserTables(db);
    this.counts = new PolicyCounts(db);
    this.chat = new ChatTables(db);
    this.upkeep = new UpkeepTables(db);
    this.oauth = new OAuthTables(db);
    this.hosts = new HostTables(db);
    this.leases = new LeaseTables(db);
    this.spawnKeys = new SpawnKeyTables(db);
    this.identity = new IdentityTables(db);
    this.costs = new CostTables(db);
    this.sendSlots = new SendSlotTables(db);
  }

  addShare(spawnId: string, user: UserRef, at?: number): boolean {
    return this.access.addShare(spawnId, user, at);
  }

  removeShare(spawnId: string, user: UserRef): boolean {
    return this.access.removeShare(spawnId, user);
  }

  listShares(spawnId: string): UserRef[] {
    return this.access.listShares(spawnId);
  }

  listSharedWith(user: UserRef): string[] {
    return this.access.listSharedWith(user);
  }

  countLive(scope: CountScope): number {
    return this.counts.countLive(scope);
  }

  countStartedSince(scope: CountScope, since: number): { count: number; oldest: number | null } {
    return this.counts.countStartedSince(scope, since);
  }

  saveTunnelToken(token: TunnelTokenRecord): void {
    this.access.saveTunnelToken(token);
  }

  findTunnelToken(tokenHash: string): TunnelTokenRecord | undefined {
    return this.access.findTunnelToken(tokenHash);
  }

  revokeTunnelTokens(spawnId: string, at?: number): number {
    return this.access.revokeTunnelTokens(spawnId, at);
  }

  revokeUserTunnelTokens(spawnId: string, user: UserRef, at?: number): string[] {
    return this.access.revokeUserTunnelTokens(spawnId, user, at);
  }

  recordIntent(spawn: NewSpawn, limits?: IntentLimits): SpawnRecord {
    // IMMEDIATE: the write lock is taken before the counts, so another process cannot count the
    // same free place in between.
    this.db.transaction(() => {
      if (limits) this.holdToLimits(spawn, limits);
      this.insertIntent(spawn);
    }).immediate();
    return this.getSpawn(spawn.id)!;
  }

  private holdToLimits(spawn: NewSpawn, limits: IntentLimits): void {
    const owner = { platform: spawn.platform, ownerId: spawn.ownerId };
    const workspace = { platform: spawn.platform, workspace: spawn.workspace };
    if (limits.livePerOwner > 0 && this.counts.countLive(owner) >= limits.livePerOwner) throw new StoreLimitError("live-owner", null);
    if (limits.livePerWorkspace > 0 && this.counts.countLive(workspace) >= limits.livePerWorkspace) throw new StoreLimitError("live-workspace", null);
    const starts = (scope: CountScope, limit: number, which: IntentLimit) => {
      if (limit <= 0) return;
      const { count, oldest } = this.counts.countStartedSince(scope, limits.startsSince);
      if (count >= limit) throw new StoreLimitError(which, oldest);
    };
    starts(owner, limits.startsPerOwner, "starts-owner");
    starts(workspace, limits.startsPerWorkspace, "starts-workspace");
  }

  private insertIntent(spawn: NewSpawn): void {
    this.guardName(() => spawn.name, () =>
      this.sql.insertSpawn.run({
        id: spawn.id, name: spawn.name, platform: spawn.platform, workspace: spawn.workspace,
        channel: spawn.channel, ownerId: spawn.ownerId, ownerName: spawn.ownerName, agent: spawn.agent,
        cloud: spawn.cloud, model: spawn.model, size: spawn.size, zone: spawn.zone, session: spawn.session,
        prompt: spawn.prompt, meta: JSON.stringify(spawn.meta ?? {}), createdAt: spawn.createdAt,
        expiresAt: spawn.expiresAt, sshIdentity: spawn.sshIdentity ?? null,
        options: spawn.options ? JSON.stringify(spawn.options) : null,
      }),
    );
  }

  updateSpawn(id: string, patch: SpawnPatch): SpawnRecord {
    const params: Record<string, unknown> = { id };
    for (const field of PATCH_FIELDS) {
      const value = patch[field];
      params[`set_${field}`] = value === undefined ? 0 : 1;
      params[field] = value === undefined ? null : field === "meta" ? JSON.stringify(value) : value;
    }
    const { changes } = this.guardName(
      () => this.getSpawn(id)?.name ?? id,
      () => this.sql.updateSpawn.run(params),
    );
    if (changes === 0) throw new StoreNotFoundError(`no spawn with id ${id}`);
    return this.getSpawn(id)!;
  }

  getSpawn(id: string): SpawnRecord | undefined {
    const row = this.sql.getSpawn.get(id);
    return row && toSpawn(row);
  }

  findSpawn(
    ref: string,
    opts: { owner?: UserRef; platform: string; workspace?: string; channel?: string },
  ): SpawnRecord | undefined {
    const scope = { platform: opts.platform, workspace: opts.workspace ?? null, channel: opts.channel ?? null };
    const byId = this.sql.findById.get({ ...scope, ref });
    if (byId) return toSpawn(byId);
    // A name is chosen deliberately, so it wins over an id prefix that happens to spell it.
    const ownerId = opts.owner && opts.owner.platform === opts.platform ? opts.owner.userId : null;
    const byName = this.sql.findByName.get({ ...scope, ref, ownerId });
    if (byName) return toSpawn(byName);
    if (ref.length >= MIN_ID_PREFIX && /^[0-9a-f-]+$/i.test(ref)) {
      // ids are lower-case uuids; every id starting with low sorts in [low, high).
      const low = ref.toLowerCase();
      const high = low.slice(0, -1) + String.fromCharCode(low.charCodeAt(low.length - 1) + 1);
      const matches = this.sql.findByPrefix.all({ ...scope, low, high });
      if (matches.length === 1) return toSpawn(matches[0]!);
    }
    return undefined;
  }

  findSpawnsByName(name: string, opts: { owner?: UserRef; platform: string; workspace?: string }): SpawnRecord[] {
    const ownerId = opts.owner && opts.owner.platform === opts.platform ? opts.owner.userId : null;
    return this.sql.findAllByName.all({ platform: opts.platform, workspace: opts.workspace ?? null, channel: null, ref: name, ownerId }).map(toSpawn);
  }

  countListed(scope: ListScopeQuery, filter?: string, upTo?: number): number {
    const { pattern } = listParams({ filter });
    return this.sql.countListed.get({
      platform: scope.platform, workspace: scope.workspace ?? null, channel: scope.channel ?? null, ownerId: scope.ownerId ?? null, pattern,
      upTo: upTo ?? -1, // SQLite: a negative LIMIT is no limit
    })!.n;
  }

  dismissSpawn(id: string, at = Date.now()): boolean {
    return this.sql.dismiss.run(at, id).changes > 0;
  }

  listForChannel(platform: string, workspace: string, channel: string, opts?: ListOptions): SpawnRecord[] {
    return this.sql.listForChannel.all({ platform, workspace, channel, ...listParams(opts) }).map(toSpawn);
  }

  listForOwner(owner: UserRef, opts?: ListOptions): SpawnRecord[] {
    return this.sql.listForOwner
      .all({ platform: owner.platform, ownerId: owner.userId, ...listParams(opts) })
      .map(toSpawn);
  }

  listAll(platform: string, opts?: ListOptions): SpawnRecord[] {
    return this.sql.listAll.all({ platform, ...listParams(opts) }).map(toSpawn);
  }

  listLive(): SpawnRecord[] {
    return this.sql.listLive.all().map(toSpawn);
  }

  countSpawns(): SpawnCount[] {
    return this.sql.countSpawns.all();
  }

  recentTimesToReady(limit: number): number[] {
    return this.sql.readyTimes.all(limit).map((r) => r.ms);
  }

  markStep(
    spawnId: string, seq: number, name: string, state: StepState, detail?: string | null, at: number = Date.now(),
  ): StepRecord {
    this.sql.markStep.run({
      spawnId, seq, name, state,
      detail: detail ?? null,
      keepDetail: detail === undefined ? 1 : 0,
      startedAt: state === "running" ? at : null,
      endedAt: ENDED_STATES.has(state) ? at : null,
    });
    return toStep(this.sql.getStep.get(spawnId, seq)!);
  }

  listSteps(spawnId: string): StepRecord[] {
    return this.sql.listSteps.all(spawnId).map(toStep);
  }

  setModelPreference(user: UserRef, agent: string, model: string): void {
    this.users.setModelPreference(user, agent, model);
  }

  clearModelPreference(user: UserRef, agent: string): boolean {
    return this.users.clearModelPreference(user, agent);
  }

  getModelPreference(user: UserRef, agent: string): string | undefined {
    return this.users.getModelPreference(user, agent);
  }

  listModelPreferences(user: UserRef): ModelPreference[] {
    return this.users.listModelPreferences(user);
  }

  addUserKey(user: UserRef, key: Omit<UserKey, "addedAt">): UserKey {
    return this.users.addUserKey(user, key);
  }

  listUserKeys(user: UserRef): UserKey[] {
    return this.users.listUserKeys(user);
  }

  removeUserKey(user: UserRef, fingerprint: string): boolean {
    return this.users.removeUserKey(user, fingerprint);
  }

  audit(
    entry: { platform: string; workspace?: string; channel?: string; userId: string; action: string; spawnId?: string | null; detail?: Record<string, unknown> },
    at: number = Date.now(),
  ): void {
    const detail = JSON.stringify(entry.detail ?? {});
    this.sql.audit.run(at, entry.platform, entry.workspace ?? null, entry.channel ?? null, entry.userId, entry.action, entry.spawnId ?? null, detail);
  }

  listAudit(opts: { spawnId?: string; limit?: number } = {}): AuditEntry[] {
    const limit = clampLimit(opts.limit);
    const rows =
      opts.spawnId === undefined
        ? this.sql.listAudit.all(limit)
        : this.sql.listAuditForSpawn.all(opts.spawnId, limit);
    return rows.map(toAudit);
  }

  checkpoint(): void {
    this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The partial unique index on live names is the only UNIQUE constraint on spawns. */
  private guardName<T>(nameOf: () => string, write: () => T): T {
    try {
      return write();
    } catch (err) {
      if ((err as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new StoreConflictError(
          `the owner already has a live spawn named ${JSON.stringify(nameOf())}; pick another name or delete that one first`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}
