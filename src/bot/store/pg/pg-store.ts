// The PostgreSQL implementation of the bot's Store: one pg.Pool shared by every table group, the
// same migrations and the same answers as the SQLite store. Every check-then-write is one
// statement (the partial unique index on live names, conditional UPDATEs, ON CONFLICT) or one
// transaction holding a row lock; nothing reads, awaits, then writes on the strength of that read.
import { clampLimit, listParams } from "../list-params.js";
import {
  LIVE_STATUSES,
  StoreConflictError,
  StoreLimitError,
  StoreNotFoundError,
  type IntentLimits,
  type AuditEntry,
  type CountScope,
  type ListOptions,
  type ListScopeQuery,
  type ModelPreference,
  type NewSpawn,
  type SpawnCount,
  type SpawnPatch,
  type SpawnRecord,
  type StepRecord,
  type StepState,
  type TunnelTokenRecord,
  type UserKey,
  type UserRef,
} from "../types.js";
import { PgAccessTables } from "./access.js";
import type { Store } from "../types.js";
import { PgChatTables } from "./chat.js";
import { PgCostTables } from "./costs.js";
import { PgHostTables } from "./hosts.js";
import { PgLeaseTables } from "./leases.js";
import { migratePg } from "./migrations.js";
import { PgOAuthTables } from "./oauth.js";
import { createPool, poolDb, uniqueViolation, type Db, type PoolOptions } from "./pool.js";
import { PgIdentityTables } from "./identity.js";
import { PgSpawnKeyTables } from "./spawn-keys.js";
import { PgSendSlotTables } from "./send-slots.js";
import { toAudit, toSpawn, toStep, type AuditRow, type SpawnRow, type StepRow } from "../rows.js";
import { PgUpkeepTables } from "./upkeep.js";
import { PgUserTables } from "./users.js";
import type pg from "pg";

const MAX_NAMESAKES = 10; // enough ids to tell namesakes apart in one refusal
const MIN_ID_PREFIX = 4; // shorter prefixes of a uuid match too much to be a useful reference
const ENDED_STATES: ReadonlySet<StepState> = new Set(["succeeded", "warned", "failed", "skipped"]);
const LIVE_NAME_INDEX = "spawns_live_name"; // the partial unique index of migration 1

/** SpawnPatch field -> column; updateSpawn sets only the fields a patch names. */
const PATCH_COLUMNS = {
  status: "status", serverId: "server_id", address: "address", sshUser: "ssh_user", sshPort: "ssh_port",
  hostKey: "host_key", error: "error", readyAt: "ready_at", deletedAt: "deleted_at", expiresAt: "expires_at",
  model: "model", meta: "meta",
} as const satisfies Record<keyof SpawnPatch, string>;
const PATCH_FIELDS = Object.keys(PATCH_COLUMNS) as (keyof SpawnPatch)[];

// Case-insensitive substring match; the pattern parameter is NULL when no filter was given.
const filterSql = (p: string) => `(${p}::text IS NULL OR name ILIKE ${p} ESCAPE '\\' OR agent ILIKE ${p} ESCAPE '\\'
  OR cloud ILIKE ${p} ESCAPE '\\' OR model ILIKE ${p} ESCAPE '\\' OR status ILIKE ${p} ESCAPE '\\')`;
// row_order stands in for SQLite's rowid: the later insert of two at the same millisecond is newer.
const NEWEST_FIRST = "ORDER BY created_at DESC, row_order DESC";
const SHOWN_SQL = "dismissed_at IS NULL"; // dismissed spawns keep their row, out of every list
const LIVE_SQL = `status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;
// $1 platform, $2 workspace or NULL, $3 channel or NULL.
const SCOPE_SQL = "platform = $1 AND ($2::text IS NULL OR workspace = $2) AND ($3::text IS NULL OR channel = $3)";

export type PgStoreOptions = PoolOptions;

/** Connect, migrate (once across replicas) and return the store; the pool is closed if that fails. */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
  const pool = createPool(url, opts);
  try {
    await migratePg(poolDb(pool));
    return new PgStore(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

export class PgStore implements Store {
  private readonly db: Db;
  private readonly access: PgAccessTables;
  private readonly users: PgUserTables;
  readonly chat: PgChatTables;
  readonly upkeep: PgUpkeepTables;
  readonly oauth: PgOAuthTables;
  readonly hosts: PgHostTables;
  readonly leases: PgLeaseTables;
  readonly spawnKeys: PgSpawnKeyTables;
  readonly identity: PgIdentityTables;
  readonly costs: PgCostTables;
  readonly sendSlots: PgSendSlotTables;
  private closed?: Promise<void>;

  constructor(private readonly pool: pg.Pool) {
    this.db = poolDb(pool);
    this.access = new PgAccessTables(this.db);
    this.users = new PgUserTables(this.db);
    this.chat = new PgChatTables(this.db);
    this.upkeep = new PgUpkeepTables(this.db);
    this.oauth = new PgOAuthTables(this.db);
    this.hosts = new PgHostTables(this.db);
    this.leases = new PgLeaseTables(this.db);
    this.spawnKeys = new PgSpawnKeyTables(this.db);
    this.identity = new PgIdentityTables(this.db);
    this.costs = new PgCostTables(this.db);
    this.sendSlots = new PgSendSlotTables(this.db);
  }

  addShare(spawnId: string, user: UserRef, at?: number) { return this.access.addShare(spawnId, user, at); }
  removeShare(spawnId: string, user: UserRef) { return this.access.removeShare(spawnId, user); }
  listShares(spawnId: string) { return this.access.listShares(spawnId); }
  listSharedWith(user: UserRef) { return this.access.listSharedWith(user); }
  saveTunnelToken(token: TunnelTokenRecord) { return this.access.saveTunnelToken(token); }
  findTunnelToken(tokenHash: string) { return this.access.findTunnelToken(tokenHash); }
  revokeTunnelTokens(spawnId: string, at?: number) { return this.access.revokeTunnelTokens(spawnId, at); }
  revokeUserTunnelTokens(spawnId: string, user: UserRef, at?: number) { return this.access.revokeUserTunnelTokens(spawnId, user, at); }
  setModelPreference(user: UserRef, agent: string, model: string) { return this.users.setModelPreference(user, agent, model); }
  clearModelPreference(user: UserRef, agent: string) { return this.users.clearModelPreference(user, agent); }
  getModelPreference(user: UserRef, agent: string) { return this.users.getModelPreference(user, agent); }
  listModelPreferences(user: UserRef): Promise<ModelPreference[]> { return this.users.listModelPreferences(user); }
  addUserKey(user: UserRef, key: Omit<UserKey, "addedAt">) { return this.users.addUserKey(user, key); }
  listUserKeys(user: UserRef) { return this.users.listUserKeys(user); }
  removeUserKey(user: UserRef, fingerprint: string) { return this.users.removeUserKey(user, fingerprint); }

  async recordIntent(spawn: NewSpawn, limits?: IntentLimits): Promise<SpawnRecord> {
    if (!limits) return this.insertIntent(this.db, spawn);
    return this.db.transaction(async (tx) => {
      // One admission at a time per owner and per workspace, on every replica, so two requests
      // cannot both count the same last place. Owners are lock class 1 and workspaces class 2,
      // always taken in that order (no deadlock between two admissions).
      await tx.query("SELECT pg_advisory_xact_lock(1, hashtext($1))", [`${spawn.platform}:${spawn.ownerId}`]);
      await tx.query("SELECT pg_advisory_xact_lock(2, hashtext($1))", [`${spawn.platform}:${spawn.workspace}`]);
      const owner = { platform: spawn.platform, ownerId: spawn.ownerId };
      const workspace = { platform: spawn.platform, workspace: spawn.workspace };
      if (limits.livePerOwner > 0 && (await countLiveIn(tx, owner)) >= limits.livePerOwner) throw new StoreLimitError("live-owner", null);
      if (limits.livePerWorkspace > 0 && (await countLiveIn(tx, workspace)) >= limits.livePerWorkspace) throw new StoreLimitError("live-workspace", null);
      for (const [scope, limit, which] of [[owner, limits.startsPerOwner, "starts-owner"], [workspace, limits.startsPerWorkspace, "starts-workspace"]] as const) {
        if (limit <= 0) continue;
        const { count, oldest } = await countStartedIn(tx, scope, limits.startsSince);
        if (count >= limit) throw new StoreLimitError(which, oldest);
      }
      return this.insertIntent(tx, spawn);
    });
  }

  private async insertIntent(db: Db, spawn: NewSpawn): Promise<SpawnRecord> {
    const { rows } = await this.guardName(spawn.name, () => db.query<SpawnRow>(`INSERT INTO spawns (id, name, platform, workspace, channel,
      owner_id, owner_name, agent, cloud, model, size, zone, status, session, prompt, meta, created_at, expires_at, ssh_identity, options)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14, $15, $16, $17, $18, $19) RETURNING *`, [
      spawn.id, spawn.name, spawn.platform, spawn.workspace, spawn.channel, spawn.ownerId, spawn.ownerName, spawn.agent,
      spawn.cloud, spawn.model, spawn.size, spawn.zone, spawn.session, spawn.prompt, JSON.stringify(spawn.meta ?? {}),
      spawn.createdAt, spawn.expiresAt, spawn.sshIdentity ?? null, spawn.options ? JSON.stringify(spawn.options) : null,
    ]));
    return toSpawn(rows[0]!);
  }

  async updateSpawn(id: string, patch: SpawnPatch): Promise<SpawnRecord> {
    const params: unknown[] = [id];
    const sets: string[] = [];
    for (const field of PATCH_FIELDS) {
      const value = patch[field];
      if (value === undefined) continue;
      params.push(field === "meta" ? JSON.stringify(value) : value);
      sets.push(`${PATCH_COLUMNS[field]} = $${params.length}`);
    }
    const sql = `UPDATE spawns SET ${sets.length > 0 ? sets.join(", ") : "id = id"} WHERE id = $1 RETURNING *`;
    let name: string | undefined;
    const { rows } = await this.guardName(() => name ?? id, () => this.db.query<SpawnRow>(sql, params), async () => {
      name = (await this.getSpawn(id))?.name; // for the message only: the write has already been refused
    });
    if (rows.length === 0) throw new StoreNotFoundError(`no spawn with id ${id}`);
    return toSpawn(rows[0]!);
  }

  async getSpawn(id: string): Promise<SpawnRecord | undefined> {
    const { rows } = await this.db.query<SpawnRow>("SELECT * FROM spawns WHERE id = $1", [id]);
    return rows[0] && toSpawn(rows[0]);
  }

  async findSpawn(
    ref: string,
    opts: { owner?: UserRef; platform: string; workspace?: string; channel?: string },
  ): Promise<SpawnRecord | undefined> {
    const scope = [opts.platform, opts.workspace ?? null, opts.channel ?? null];
    const byId = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE id = $4 AND ${SCOPE_SQL}`, [...scope, ref]);
    if (byId.rows[0]) return toSpawn(byId.rows[0]);
    // A name is chosen deliberately, so it wins over an id prefix that happens to spell it.
    const ownerId = opts.owner && opts.owner.platform === opts.platform ? opts.owner.userId : null;
    const byName = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE name = $4 AND ${SCOPE_SQL}
      ORDER BY (owner_id = $5::text) IS TRUE DESC, created_at DESC, row_order DESC LIMIT 1`, [...scope, ref, ownerId]);
    if (byName.rows[0]) return toSpawn(byName.rows[0]);
    if (ref.length >= MIN_ID_PREFIX && /^[0-9a-f-]+$/i.test(ref)) {
      const matches = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE starts_with(id, $4) AND ${SCOPE_SQL} LIMIT 2`, [...scope, ref.toLowerCase()]);
      if (matches.rows.length === 1) return toSpawn(matches.rows[0]!);
    }
    return undefined;
  }

  async findSpawnsByName(name: string, opts: { owner?: UserRef; platform: string; workspace?: string }): Promise<SpawnRecord[]> {
    const ownerId = opts.owner && opts.owner.platform === opts.platform ? opts.owner.userId : null;
    const { rows } = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE name = $4 AND ${SCOPE_SQL} AND ${SHOWN_SQL}
      ORDER BY (owner_id = $5::text) IS TRUE DESC, created_at DESC, row_order DESC LIMIT ${MAX_NAMESAKES}`,
    [opts.platform, opts.workspace ?? null, null, name, ownerId]);
    return rows.map(toSpawn);
  }

  async countListed(scope: ListScopeQuery, filter?: string, upTo?: number): Promise<number> {
    const { pattern } = listParams({ filter });
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM spawns WHERE ${SCOPE_SQL}
      AND ($4::text IS NULL OR owner_id = $4) AND ${SHOWN_SQL} AND ${filterSql("$5")} LIMIT $6) AS listed`,
    [scope.platform, scope.workspace ?? null, scope.channel ?? null, scope.ownerId ?? null, pattern, upTo ?? null]);
    return rows[0]!.n;
  }

  async dismissSpawn(id: string, at = Date.now()): Promise<boolean> {
    const r = await this.db.query("UPDATE spawns SET dismissed_at = $1 WHERE id = $2 AND dismissed_at IS NULL", [at, id]);
    return (r.rowCount ?? 0) > 0;
  }

  async listForChannel(platform: string, workspace: string, channel: string, opts?: ListOptions): Promise<SpawnRecord[]> {
    const { pattern, limit, offset } = listParams(opts);
    const { rows } = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE platform = $1 AND workspace = $2 AND channel = $3
      AND ${SHOWN_SQL} AND ${filterSql("$4")} ${NEWEST_FIRST} LIMIT $5 OFFSET $6`, [platform, workspace, channel, pattern, limit, offset]);
    return rows.map(toSpawn);
  }

  async listForOwner(owner: UserRef, opts?: ListOptions): Promise<SpawnRecord[]> {
    const { pattern, limit, offset } = listParams(opts);
    const { rows } = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE platform = $1 AND owner_id = $2
      AND ${SHOWN_SQL} AND ${filterSql("$3")} ${NEWEST_FIRST} LIMIT $4 OFFSET $5`, [owner.platform, owner.userId, pattern, limit, offset]);
    return rows.map(toSpawn);
  }

  async listAll(platform: string, opts?: ListOptions): Promise<SpawnRecord[]> {
    const { pattern, limit, offset } = listParams(opts);
    const { rows } = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE platform = $1 AND ${SHOWN_SQL} AND ${filterSql("$2")}
      ${NEWEST_FIRST} LIMIT $3 OFFSET $4`, [platform, pattern, limit, offset]);
    return rows.map(toSpawn);
  }

  async listLive(): Promise<SpawnRecord[]> {
    const { rows } = await this.db.query<SpawnRow>(`SELECT * FROM spawns WHERE ${LIVE_SQL} ${NEWEST_FIRST}`);
    return rows.map(toSpawn);
  }

  async countSpawns(): Promise<SpawnCount[]> {
    const { rows } = await this.db.query<SpawnCount>(
      `SELECT status, cloud, count(*) AS count FROM spawns GROUP BY status, cloud ORDER BY status COLLATE "C", cloud COLLATE "C"`);
    return rows;
  }

  async recentTimesToReady(limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ ms: number }>(`SELECT ready_at - created_at AS ms FROM spawns WHERE ready_at IS NOT NULL
      ORDER BY ready_at DESC LIMIT $1`, [limit]);
    return rows.map((r) => r.ms);
  }

  countLive(scope: CountScope): Promise<number> {
    return countLiveIn(this.db, scope);
  }

  countStartedSince(scope: CountScope, since: number): Promise<{ count: number; oldest: number | null }> {
    return countStartedIn(this.db, scope, since);
  }

  async markStep(
    spawnId: string, seq: number, name: string, state: StepState, detail?: string | null, at: number = Date.now(),
  ): Promise<StepRecord> {
    // started_at: first "running" wins and is kept; ended_at: only while in an ended state.
    const { rows } = await this.db.query<StepRow>(`INSERT INTO steps (spawn_id, seq, name, state, detail, started_at, ended_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (spawn_id, seq) DO UPDATE SET name = excluded.name, state = excluded.state,
        detail = CASE WHEN $8::boolean THEN steps.detail ELSE excluded.detail END,
        started_at = coalesce(steps.started_at, excluded.started_at), ended_at = excluded.ended_at
      RETURNING *`, [
      spawnId, seq, name, state, detail ?? null, state === "running" ? at : null, ENDED_STATES.has(state) ? at : null, detail === undefined,
    ]);
    return toStep(rows[0]!);
  }

  async listSteps(spawnId: string): Promise<StepRecord[]> {
    const { rows } = await this.db.query<StepRow>("SELECT * FROM steps WHERE spawn_id = $1 ORDER BY seq", [spawnId]);
    return rows.map(toStep);
  }

  async audit(
    entry: { platform: string; workspace?: string; channel?: string; userId: string; action: string; spawnId?: string | null; detail?: Record<string, unknown> },
    at: number = Date.now(),
  ): Promise<void> {
    await this.db.query(`INSERT INTO audit (at, platform, workspace, channel, user_id, action, spawn_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      at, entry.platform, entry.workspace ?? null, entry.channel ?? null, entry.userId, entry.action, entry.spawnId ?? null, JSON.stringify(entry.detail ?? {}),
    ]);
  }

  async listAudit(opts: { spawnId?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const limit = clampLimit(opts.limit);
    const { rows } = opts.spawnId === undefined
      ? await this.db.query<AuditRow>("SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT $1", [limit])
      : await this.db.query<AuditRow>("SELECT * FROM audit WHERE spawn_id = $1 ORDER BY at DESC, id DESC LIMIT $2", [opts.spawnId, limit]);
    return rows.map(toAudit);
  }

  /** PostgreSQL checkpoints its own write-ahead log; nothing to do here. */
  async checkpoint(): Promise<void> {}

  /** Close the pool once; later calls wait for the same close. */
  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  /** The partial unique index on live names is the only one a caller can hit on spawns. */
  private async guardName<T>(nameOf: string | (() => string), write: () => Promise<T>, beforeRefusing?: () => Promise<void>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (uniqueViolation(err) === LIVE_NAME_INDEX) {
        await beforeRefusing?.();
        const name = typeof nameOf === "string" ? nameOf : nameOf();
        throw new StoreConflictError(
          `the owner already has a live spawn named ${JSON.stringify(name)}; pick another name or delete that one first`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}



async function countLiveIn(db: Db, scope: CountScope): Promise<number> {
  const [column, value] = "ownerId" in scope ? ["owner_id", scope.ownerId] : ["workspace", scope.workspace];
  const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM spawns WHERE platform = $1 AND ${column} = $2 AND ${LIVE_SQL}`,
    [scope.platform, value]);
  return rows[0]!.n;
}

async function countStartedIn(db: Db, scope: CountScope, since: number): Promise<{ count: number; oldest: number | null }> {
  const [column, value] = "ownerId" in scope ? ["owner_id", scope.ownerId] : ["workspace", scope.workspace];
  const { rows } = await db.query<{ n: number; oldest: number | null }>(`SELECT count(*) AS n, min(created_at) AS oldest FROM spawns
    WHERE platform = $1 AND ${column} = $2 AND created_at >= $3`, [scope.platform, value, since]);
  return { count: rows[0]!.n, oldest: rows[0]!.oldest };
}
