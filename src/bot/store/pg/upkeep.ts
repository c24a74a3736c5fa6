// Expiry reminders sent, failed deletes to retry and orphan servers seen, in PostgreSQL. Counting a
// failed delete's attempts reads and writes its row inside one transaction that holds the row lock.
import type { CleanupKind, CleanupOwed, OrphanServer, UpkeepState } from "../upkeep-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

interface OwedRow { spawn_id: string; what: CleanupKind; actor: string; attempts: number; next_at: number; last_error: string }
interface OrphanRow { cloud: string; server_id: string; spawn_id: string | null; first_seen: number; reported_at: number | null }

export class PgUpkeepTables implements Promised<UpkeepState> {
  constructor(private readonly db: Db) {}

  async remindedExpiries(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ spawn_id: string; expires_at: number }>("SELECT spawn_id, expires_at FROM expiry_reminders");
    return new Map(rows.map((r) => [r.spawn_id, r.expires_at]));
  }

  async markReminded(spawnId: string, expiresAt: number, at: number): Promise<void> {
    await this.db.query(`INSERT INTO expiry_reminders (spawn_id, expires_at, sent_at) VALUES ($1, $2, $3)
      ON CONFLICT (spawn_id) DO UPDATE SET expires_at = excluded.expires_at, sent_at = excluded.sent_at`, [spawnId, expiresAt, at]);
  }

  oweCleanup(spawnId: string, what: CleanupKind, actor: string, error: string, nextAt: (attempts: number) => number): Promise<CleanupOwed> {
    return this.db.transaction(async (tx) => {
      // A zero-attempt row first (invisible to others until commit), so the row lock below always
      // has a row to hold even when this is the first failure.
      await tx.query(`INSERT INTO cleanups_owed (spawn_id, what, actor, attempts, next_at, last_error) VALUES ($1, $2, $3, 0, 0, '')
        ON CONFLICT (spawn_id) DO NOTHING`, [spawnId, what, actor]);
      const prior = (await tx.query<OwedRow>("SELECT * FROM cleanups_owed WHERE spawn_id = $1 FOR UPDATE", [spawnId])).rows[0]!;
      const same = prior.what === what;
      const attempts = (same ? prior.attempts : 0) + 1;
      const { rows } = await tx.query<OwedRow>(`UPDATE cleanups_owed SET what = $2, actor = $3, attempts = $4, next_at = $5, last_error = $6
        WHERE spawn_id = $1 RETURNING *`, [spawnId, what, same ? prior.actor : actor, attempts, nextAt(attempts), error]);
      return toOwed(rows[0]!);
    });
  }

  async settleCleanup(spawnId: string): Promise<void> {
    await this.db.query("DELETE FROM cleanups_owed WHERE spawn_id = $1", [spawnId]);
  }

  async getCleanup(spawnId: string): Promise<CleanupOwed | undefined> {
    const { rows } = await this.db.query<OwedRow>("SELECT * FROM cleanups_owed WHERE spawn_id = $1", [spawnId]);
    return rows[0] && toOwed(rows[0]);
  }

  async listCleanups(what?: CleanupKind): Promise<CleanupOwed[]> {
    const { rows } = await this.db.query<OwedRow>("SELECT * FROM cleanups_owed WHERE $1::text IS NULL OR what = $1 ORDER BY next_at, spawn_id COLLATE \"C\"", [what ?? null]);
    return rows.map(toOwed);
  }

  async seeOrphan(cloud: string, serverId: string, spawnId: string | null, at: number): Promise<OrphanServer> {
    await this.db.query(`INSERT INTO orphan_servers (cloud, server_id, spawn_id, first_seen) VALUES ($1, $2, $3, $4)
      ON CONFLICT (cloud, server_id) DO NOTHING`, [cloud, serverId, spawnId, at]);
    const { rows } = await this.db.query<OrphanRow>("SELECT * FROM orphan_servers WHERE cloud = $1 AND server_id = $2", [cloud, serverId]);
    return toOrphan(rows[0]!);
  }

  async markOrphanReported(cloud: string, serverId: string, at: number): Promise<void> {
    await this.db.query("UPDATE orphan_servers SET reported_at = $1 WHERE cloud = $2 AND server_id = $3", [at, cloud, serverId]);
  }

  async forgetOrphan(cloud: string, serverId: string): Promise<void> {
    await this.db.query("DELETE FROM orphan_servers WHERE cloud = $1 AND server_id = $2", [cloud, serverId]);
  }

  async listOrphans(cloud: string): Promise<OrphanServer[]> {
    const { rows } = await this.db.query<OrphanRow>("SELECT * FROM orphan_servers WHERE cloud = $1 ORDER BY first_seen", [cloud]);
    return rows.map(toOrphan);
  }
}

function toOwed(r: OwedRow): CleanupOwed {
  return { spawnId: r.spawn_id, what: r.what, actor: r.actor, attempts: r.attempts, nextAt: r.next_at, lastError: r.last_error };
}

function toOrphan(r: OrphanRow): OrphanServer {
  return { cloud: r.cloud, serverId: r.server_id, spawnId: r.spawn_id, firstSeen: r.first_seen, reportedAt: r.reported_at };
}
