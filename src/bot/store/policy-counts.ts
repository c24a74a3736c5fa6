// The counts behind the spawn limits: live spawns and spawns started in a rolling window, per
// owner or per workspace. Each statement is answered from an index (see migration 6), never a table scan.
import type Database from "better-sqlite3";
import { LIVE_STATUSES, type CountScope } from "./types.js";

// Spelled exactly as in the partial indexes' WHERE, so SQLite can prove the index applies.
const LIVE_SQL = `status IN (${LIVE_STATUSES.map((s) => `'${s}'`).join(", ")})`;

/** Exported so a test can check that each one is answered from an index. */
export const COUNT_SQL = {
  liveByOwner: `SELECT count(*) AS n FROM spawns WHERE platform = ? AND owner_id = ? AND ${LIVE_SQL}`,
  liveByWorkspace: `SELECT count(*) AS n FROM spawns WHERE platform = ? AND workspace = ? AND ${LIVE_SQL}`,
  sinceByOwner: "SELECT count(*) AS n, min(created_at) AS oldest FROM spawns WHERE platform = ? AND owner_id = ? AND created_at >= ?",
  sinceByWorkspace: "SELECT count(*) AS n, min(created_at) AS oldest FROM spawns WHERE platform = ? AND workspace = ? AND created_at >= ?",
} as const;

export class PolicyCounts {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      liveByOwner: p<{ n: number }>(COUNT_SQL.liveByOwner),
      liveByWorkspace: p<{ n: number }>(COUNT_SQL.liveByWorkspace),
      sinceByOwner: p<{ n: number; oldest: number | null }>(COUNT_SQL.sinceByOwner),
      sinceByWorkspace: p<{ n: number; oldest: number | null }>(COUNT_SQL.sinceByWorkspace),
    };
  }

  countLive(scope: CountScope): number {
    return "ownerId" in scope
      ? this.sql.liveByOwner.get(scope.platform, scope.ownerId)!.n
      : this.sql.liveByWorkspace.get(scope.platform, scope.workspace)!.n;
  }

  countStartedSince(scope: CountScope, since: number): { count: number; oldest: number | null } {
    const row = "ownerId" in scope
      ? this.sql.sinceByOwner.get(scope.platform, scope.ownerId, since)!
      : this.sql.sinceByWorkspace.get(scope.platform, scope.workspace, since)!;
    return { count: row.n, oldest: row.oldest };
  }
}
