// What the bot's background upkeep remembers across restarts: which expiry reminders went out,
// which clean-ups are owed to a cloud or host and when to try them again, and which orphan
// servers the reconciler has seen (since when, and whether the admins were told). The SQL for
// those three tables.
import type Database from "better-sqlite3";

/**
 * What a spawn still owes its cloud or host: "delete" — a delete someone asked for (a user,
 * "expiry", "reconciler") failed; "leftovers" — its run ended and what it made is not removed yet.
 */
export type CleanupKind = "delete" | "leftovers";

/** One clean-up owed: what, for which spawn, how many tries so far, and when the next is due. */
export interface CleanupOwed {
  spawnId: string;
  what: CleanupKind;
  /** Who asked first: a user id, "expiry", "reconciler", or "spawnbot" for leftovers. */
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
  /**
   * A clean-up of this spawn is owed (its try just failed): attempts counts up from the stored row
   * of the same kind (from 1 for a new kind), the first actor is kept. Returns the stored row.
   */
  oweCleanup(spawnId: string, what: CleanupKind, actor: string, error: string, nextAt: (attempts: number) => number): CleanupOwed;
  /** The clean-up is done (or nothing is owed any more). */
  settleCleanup(spawnId: string): void;
  getCleanup(spawnId: string): CleanupOwed | undefined;
  /** Soonest due first; one kind, or all. */
  listCleanups(what?: CleanupKind): CleanupOwed[];
  /** Insert when new (first seen now); an existing row keeps its first-seen time. Returns the stored row. */
  seeOrphan(cloud: string, serverId: string, spawnId: string | null, at: number): OrphanServer;
  markOrphanReported(cloud: string, serverId: string, at: number): void;
  forgetOrphan(cloud: string, serverId: string): void;
  listOrphans(cloud: string): OrphanServer[];
}

interface OwedRow { spawn_id: string; what: CleanupKind; actor: string; attempts: number; next_at: number; last_error: string }
interface OrphanRow { cloud: string; server_id: string; spawn_id: string | null; first_seen: number; reported_at: number | null }

export class UpkeepTables implements UpkeepState {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      reminded: p<{ spawn_id: string; expires_at: number }>("SELECT spawn_id, expires_at FROM expiry_reminders"),
      remind: p<never>(`INSERT INTO expiry_reminders (spawn_id, expires_at, sent_at) VALUES (?, ?, ?)
        ON CONFLICT (spawn_id) DO UPDATE SET expires_at = excluded.expires_at, sent_at = excluded.sent_at`),
      getOwed: p<OwedRow>("SELECT * FROM cleanups_owed WHERE spawn_id = ?"),
      putOwed: p<never>(`INSERT INTO cleanups_owed (spawn_id, what, actor, attempts, next_at, last_error) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (spawn_id) DO UPDATE SET what = excluded.what, actor = excluded.actor, attempts = excluded.attempts, next_at = excluded.next_at, last_error = excluded.last_error`),
      settleOwed: p<never>("DELETE FROM cleanups_owed WHERE spawn_id = ?"),
      listOwed: p<OwedRow>("SELECT * FROM cleanups_owed WHERE ? IS NULL OR what = ? ORDER BY next_at, spawn_id"),
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

  oweCleanup(spawnId: string, what: CleanupKind, actor: string, error: string, nextAt: (attempts: number) => number): CleanupOwed {
    const prior = this.sql.getOwed.get(spawnId);
    const same = prior?.what === what ? prior : undefined;
    const attempts = (same?.attempts ?? 0) + 1;
    this.sql.putOwed.run(spawnId, what, same?.actor ?? actor, attempts, nextAt(attempts), error);
    return toOwed(this.sql.getOwed.get(spawnId)!);
  }

  settleCleanup(spawnId: string): void {
    this.sql.settleOwed.run(spawnId);
  }

  getCleanup(spawnId: string): CleanupOwed | undefined {
    const r = this.sql.getOwed.get(spawnId);
    return r && toOwed(r);
  }

  listCleanups(what?: CleanupKind): CleanupOwed[] {
    return this.sql.listOwed.all(what ?? null, what ?? null).map(toOwed);
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

function toOwed(r: OwedRow): CleanupOwed {
  return { spawnId: r.spawn_id, what: r.what, actor: r.actor, attempts: r.attempts, nextAt: r.next_at, lastError: r.last_error };
}

function toOrphan(r: OrphanRow): OrphanServer {
  return { cloud: r.cloud, serverId: r.server_id, spawnId: r.spawn_id, firstSeen: r.first_seen, reportedAt: r.reported_at };
}
