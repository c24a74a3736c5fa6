// What the bot's background upkeep remembers across restarts: which expiry reminders went out,
// which deletes failed and when to try them again, and which orphan servers the reconciler has
// seen (since when, and whether the admins were told). The SQL for those three tables.
import type Database from "better-sqlite3";

export interface DeleteRetry {
  spawnId: string;
  /** Who asked for the delete first: a user id, "expiry" or "reconciler". */
  actor: string;
  attempts: number;
  nextAt: number;
  lastError: string;
}

export interface OrphanServer {
  cloud: string;
  serverId: string;
  /** The spawn id the server was tagged with, when it carried one. */
  spawnId: string | null;
  firstSeen: number;
  reportedAt: number | null;
}

export interface UpkeepState {
  /** The expiry each spawn's owner was last reminded of (one query for a whole sweep). */
  remindedExpiries(): Map<string, number>;
  markReminded(spawnId: string, expiresAt: number, at: number): void;
  /** Record a failed delete; attempts counts up from the stored row. Returns the stored row. */
  recordDeleteFailure(spawnId: string, actor: string, error: string, nextAt: (attempts: number) => number): DeleteRetry;
  clearDeleteRetry(spawnId: string): void;
  getDeleteRetry(spawnId: string): DeleteRetry | undefined;
  listDeleteRetries(): DeleteRetry[];
  /** Insert when new (first seen now); an existing row keeps its first-seen time. Returns the stored row. */
  seeOrphan(cloud: string, serverId: string, spawnId: string | null, at: number): OrphanServer;
  markOrphanReported(cloud: string, serverId: string, at: number): void;
  forgetOrphan(cloud: string, serverId: string): void;
  listOrphans(cloud: string): OrphanServer[];
}

interface RetryRow { spawn_id: string; actor: string; attempts: number; next_at: number; last_error: string }
interface OrphanRow { cloud: string; server_id: string; spawn_id: string | null; first_seen: number; reported_at: number | null }

export class UpkeepTables implements UpkeepState {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      reminded: p<{ spawn_id: string; expires_at: number }>("SELECT spawn_id, expires_at FROM expiry_reminders"),
      remind: p<never>(`INSERT INTO expiry_reminders (spawn_id, expires_at, sent_at) VALUES (?, ?, ?)
        ON CONFLICT (spawn_id) DO UPDATE SET expires_at = excluded.expires_at, sent_at = excluded.sent_at`),
      getRetry: p<RetryRow>("SELECT * FROM delete_retries WHERE spawn_id = ?"),
      putRetry: p<never>(`INSERT INTO delete_retries (spawn_id, actor, attempts, next_at, last_error) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (spawn_id) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`),
      clearRetry: p<never>("DELETE FROM delete_retries WHERE spawn_id = ?"),
      listRetries: p<RetryRow>("SELECT * FROM delete_retries ORDER BY next_at"),
      seeOrphan: p<never>(`INSERT INTO orphan_servers (cloud, server_id, spawn_id, first_seen) VALUES (?, ?, ?, ?)
        ON CONFLICT (cloud, server_id) DO NOTHING`),
      getOrphan: p<OrphanRow>("SELECT * FROM orphan_servers WHERE cloud = ? AND server_id = ?"),
      reportOrphan: p<never>("UPDATE orphan_servers SET reported_at = ? WHERE cloud = ? AND server_id = ?"),
      forgetOrphan: p<never>("DELETE FROM orphan_servers WHERE cloud = ? AND server_id = ?"),
      listOrphans: p<OrphanRow>("SELECT * FROM orphan_servers WHERE cloud = ? ORDER BY first_seen"),
    };
  }

  remindedExpiries(): Map<string, number> {
    return new Map(this.sql.reminded.all().map((r) => [r.spawn_id, r.expires_at]));
  }

  markReminded(spawnId: string, expiresAt: number, at: number): void {
    this.sql.remind.run(spawnId, expiresAt, at);
  }

  recordDeleteFailure(spawnId: string, actor: string, error: string, nextAt: (attempts: number) => number): DeleteRetry {
    const prior = this.sql.getRetry.get(spawnId);
    const attempts = (prior?.attempts ?? 0) + 1;
    this.sql.putRetry.run(spawnId, prior?.actor ?? actor, attempts, nextAt(attempts), error);
    return toRetry(this.sql.getRetry.get(spawnId)!);
  }

  clearDeleteRetry(spawnId: string): void {
    this.sql.clearRetry.run(spawnId);
  }

  getDeleteRetry(spawnId: string): DeleteRetry | undefined {
    const r = this.sql.getRetry.get(spawnId);
    return r && toRetry(r);
  }

  listDeleteRetries(): DeleteRetry[] {
    return this.sql.listRetries.all().map(toRetry);
  }

  seeOrphan(cloud: string, serverId: string, spawnId: string | null, at: number): OrphanServer {
    this.sql.seeOrphan.run(cloud, serverId, spawnId, at);
    return toOrphan(this.sql.getOrphan.get(cloud, serverId)!);
  }

  markOrphanReported(cloud: string, serverId: string, at: number): void {
    this.sql.reportOrphan.run(at, cloud, serverId);
  }

  forgetOrphan(cloud: string, serverId: string): void {
    this.sql.forgetOrphan.run(cloud, serverId);
  }

  listOrphans(cloud: string): OrphanServer[] {
    return this.sql.listOrphans.all(cloud).map(toOrphan);
  }
}

function toRetry(r: RetryRow): DeleteRetry {
  return { spawnId: r.spawn_id, actor: r.actor, attempts: r.attempts, nextAt: r.next_at, lastError: r.last_error };
}

function toOrphan(r: OrphanRow): OrphanServer {
  return { cloud: r.cloud, serverId: r.server_id, spawnId: r.spawn_id, firstSeen: r.first_seen, reportedAt: r.reported_at };
}
