// The OpenRouter keys made for spawns and the deletes still owed, in PostgreSQL. Counting a failed
// delete reads and writes the row under its lock in one transaction.
import type { SpawnKeyRecord, SpawnKeyState } from "../spawn-key-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

interface Row {
  spawn_id: string; key_hash: string; limit_usd: number; expires_at: number | null; created_at: number;
  revoke_at: number | null; attempts: number; last_error: string | null; deleted_at: number | null; sealed_key: string | null;
}

export class PgSpawnKeyTables implements Promised<SpawnKeyState> {
  constructor(private readonly db: Db) {}

  async recordSpawnKey(r: Pick<SpawnKeyRecord, "spawnId" | "keyHash" | "limitUsd" | "expiresAt" | "createdAt"> & { sealedKey?: string }): Promise<void> {
    await this.db.query(`INSERT INTO spawn_api_keys (spawn_id, key_hash, limit_usd, expires_at, created_at, sealed_key) VALUES ($1, $2, $3, $4, $5, $6)`,
      [r.spawnId, r.keyHash, r.limitUsd, r.expiresAt, r.createdAt, r.sealedKey ?? null]);
  }

  async getSpawnKey(spawnId: string): Promise<SpawnKeyRecord | undefined> {
    const { rows } = await this.db.query<Row>("SELECT * FROM spawn_api_keys WHERE spawn_id = $1", [spawnId]);
    return rows[0] && toRecord(rows[0]);
  }

  async setSpawnKeyExpiry(spawnId: string, expiresAt: number | null): Promise<void> {
    await this.db.query("UPDATE spawn_api_keys SET expires_at = $1 WHERE spawn_id = $2", [expiresAt, spawnId]);
  }

  async markRevokeDue(spawnId: string, at: number): Promise<void> {
    await this.db.query("UPDATE spawn_api_keys SET revoke_at = $1 WHERE spawn_id = $2 AND revoke_at IS NULL AND deleted_at IS NULL", [at, spawnId]);
  }

  recordRevokeFailure(spawnId: string, error: string, nextAt: (attempts: number) => number): Promise<SpawnKeyRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const prior = (await tx.query<Row>("SELECT * FROM spawn_api_keys WHERE spawn_id = $1 FOR UPDATE", [spawnId])).rows[0];
      if (!prior || prior.deleted_at !== null) return prior && toRecord(prior);
      const attempts = prior.attempts + 1;
      const { rows } = await tx.query<Row>(`UPDATE spawn_api_keys SET attempts = $1, revoke_at = $2, last_error = $3
        WHERE spawn_id = $4 RETURNING *`, [attempts, nextAt(attempts), error, spawnId]);
      return toRecord(rows[0]!);
    });
  }

  async markKeyDeleted(spawnId: string, at: number): Promise<void> {
    await this.db.query("UPDATE spawn_api_keys SET deleted_at = $1, last_error = NULL WHERE spawn_id = $2 AND deleted_at IS NULL", [at, spawnId]);
  }

  async listKeysToRevoke(now: number): Promise<SpawnKeyRecord[]> {
    // The status list is spelled out like the migrations': the live ones are LIVE_STATUSES.
    // NULLS FIRST: SQLite sorts NULL first ascending, and the SQLite store lists keys that way.
    const { rows } = await this.db.query<Row>(`SELECT k.* FROM spawn_api_keys k LEFT JOIN spawns s ON s.id = k.spawn_id
      WHERE k.deleted_at IS NULL AND ((k.revoke_at IS NOT NULL AND k.revoke_at <= $1)
        OR (k.revoke_at IS NULL AND (s.status IS NULL OR s.status NOT IN ('pending', 'provisioning', 'ready', 'deleting'))))
      ORDER BY k.revoke_at NULLS FIRST`, [now]);
    return rows.map(toRecord);
  }
}

function toRecord(r: Row): SpawnKeyRecord {
  return {
    spawnId: r.spawn_id, keyHash: r.key_hash, limitUsd: r.limit_usd, expiresAt: r.expires_at, createdAt: r.created_at,
    revokeAt: r.revoke_at, attempts: r.attempts, lastError: r.last_error, deletedAt: r.deleted_at, sealedKey: r.sealed_key,
  };
}
