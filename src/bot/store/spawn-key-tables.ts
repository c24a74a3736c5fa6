// The OpenRouter keys the bot made for spawns with the management key: which key (by OpenRouter's
// hash; the key itself only sealed, so a restarted bot can continue a run that had not written it to
// its host yet) belongs to which spawn, its limit and expiry, and the deletes still owed with their
// backoff. The SQL for that table.
import type Database from "better-sqlite3";

export interface SpawnKeyRecord {
  spawnId: string;
  /** OpenRouter's id of the key (GET/PATCH/DELETE /keys/{hash}). */
  keyHash: string;
  limitUsd: number;
  expiresAt: number | null;
  createdAt: number;
  /** Set once the key must be deleted: when the next try is due. */
  revokeAt: number | null;
  attempts: number;
  lastError: string | null;
  deletedAt: number | null;
  /** The key sealed with the bot's secret box (null on rows a test wrote without it). */
  sealedKey: string | null;
}

export interface SpawnKeyState {
  recordSpawnKey(rec: Pick<SpawnKeyRecord, "spawnId" | "keyHash" | "limitUsd" | "expiresAt" | "createdAt"> & { sealedKey?: string }): void;
  getSpawnKey(spawnId: string): SpawnKeyRecord | undefined;
  setSpawnKeyExpiry(spawnId: string, expiresAt: number | null): void;
  /** The key must go: due at `at` unless a delete is already scheduled. Written before the delete call. */
  markRevokeDue(spawnId: string, at: number): void;
  /** A delete failed: attempts counts up and the next try is due at nextAt(attempts). */
  recordRevokeFailure(spawnId: string, error: string, nextAt: (attempts: number) => number): SpawnKeyRecord | undefined;
  markKeyDeleted(spawnId: string, at: number): void;
  /**
   * Keys to delete now: the ones due, and the ones whose spawn ended without asking (a bot killed
   * between a run's end and the delete) — no key outlives its spawn for want of a reminder.
   */
  listKeysToRevoke(now: number): SpawnKeyRecord[];
}

interface Row {
  spawn_id: string; key_hash: string; limit_usd: number; expires_at: number | null; created_at: number;
  revoke_at: number | null; attempts: number; last_error: string | null; deleted_at: number | null; sealed_key: string | null;
}

export class SpawnKeyTables implements SpawnKeyState {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      insert: p<never>(`INSERT INTO spawn_api_keys (spawn_id, key_hash, limit_usd, expires_at, created_at, sealed_key) VALUES (?, ?, ?, ?, ?, ?)`),
      get: p<Row>("SELECT * FROM spawn_api_keys WHERE spawn_id = ?"),
      expiry: p<never>("UPDATE spawn_api_keys SET expires_at = ? WHERE spawn_id = ?"),
      due: p<never>("UPDATE spawn_api_keys SET revoke_at = ? WHERE spawn_id = ? AND revoke_at IS NULL AND deleted_at IS NULL"),
      failed: p<never>("UPDATE spawn_api_keys SET attempts = ?, revoke_at = ?, last_error = ? WHERE spawn_id = ? AND deleted_at IS NULL"),
      deleted: p<never>("UPDATE spawn_api_keys SET deleted_at = ?, last_error = NULL WHERE spawn_id = ? AND deleted_at IS NULL"),
      // The status list is spelled out like the migrations': the live ones are LIVE_STATUSES.
      toRevoke: p<Row>(`SELECT k.* FROM spawn_api_keys k LEFT JOIN spawns s ON s.id = k.spawn_id
        WHERE k.deleted_at IS NULL AND ((k.revoke_at IS NOT NULL AND k.revoke_at <= ?)
          OR (k.revoke_at IS NULL AND (s.status IS NULL OR s.status NOT IN ('pending', 'provisioning', 'ready', 'deleting'))))
        ORDER BY k.revoke_at`),
    };
  }

  recordSpawnKey(r: Pick<SpawnKeyRecord, "spawnId" | "keyHash" | "limitUsd" | "expiresAt" | "createdAt"> & { sealedKey?: string }): void {
    this.sql.insert.run(r.spawnId, r.keyHash, r.limitUsd, r.expiresAt, r.createdAt, r.sealedKey ?? null);
  }

  getSpawnKey(spawnId: string): SpawnKeyRecord | undefined {
    const r = this.sql.get.get(spawnId);
    return r && toRecord(r);
  }

  setSpawnKeyExpiry(spawnId: string, expiresAt: number | null): void {
    this.sql.expiry.run(expiresAt, spawnId);
  }

  markRevokeDue(spawnId: string, at: number): void {
    this.sql.due.run(at, spawnId);
  }

  recordRevokeFailure(spawnId: string, error: string, nextAt: (attempts: number) => number): SpawnKeyRecord | undefined {
    const prior = this.sql.get.get(spawnId);
    if (!prior || prior.deleted_at !== null) return prior && toRecord(prior);
    const attempts = prior.attempts + 1;
    this.sql.failed.run(attempts, nextAt(attempts), error, spawnId);
    return toRecord(this.sql.get.get(spawnId)!);
  }

  markKeyDeleted(spawnId: string, at: number): void {
    this.sql.deleted.run(at, spawnId);
  }

  listKeysToRevoke(now: number): SpawnKeyRecord[] {
    return this.sql.toRevoke.all(now).map(toRecord);
  }
}

function toRecord(r: Row): SpawnKeyRecord {
  return {
    spawnId: r.spawn_id, keyHash: r.key_hash, limitUsd: r.limit_usd, expiresAt: r.expires_at, createdAt: r.created_at,
    revokeAt: r.revoke_at, attempts: r.attempts, lastError: r.last_error, deletedAt: r.deleted_at, sealedKey: r.sealed_key,
  };
}
