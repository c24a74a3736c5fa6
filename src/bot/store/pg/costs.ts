// What spawns cost, in PostgreSQL: the same rows and the same numbers as ../cost-tables.ts. Each
// notice claim is one conditional statement, so of replicas racing only one sends the notice.
import { toCostGroup, toCostRecord, toCostTotal, UNKNOWN_PRICE_SOURCE, type CostGroup, type CostGroupRow, type CostNotice, type CostRow, type CostScope, type CostState, type CostTotal, type CostTotalRow, type PriceKind, type SpawnCostRecord } from "../cost-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";


/**
 * When a spawn stopped costing ($3 is now), as in the SQLite store: now for live spawns, its deletion
 * for ended ones; an ended spawn with no deletion time made nothing. The live list is LIVE_STATUSES.
 */
const endedAt = (now: string) => `CASE WHEN s.status IN ('pending', 'provisioning', 'ready', 'deleting') THEN ${now} ELSE coalesce(s.deleted_at, s.created_at) END`;

/**
 * The SQLite store's query: the three disjoint picks (made inside the window, made before it and
 * ended inside or after its start, made before it and still live), then the sums. $1 from, $2 to,
 * $3 now, $4 platform, $5/$6 the scope's further values. Differences of dialect only: sqlite_total
 * (migration 13) for total(), greatest/least for the two-argument max/min, max(… COLLATE "C") and
 * the ORDER BY for SQLite's byte order (its GROUP BY sorts, and returns the groups in that order).
 */
function groupSql(where: string): string {
  return `WITH picked AS (
      SELECT s.* FROM spawns s WHERE ${where} AND s.created_at >= $1::bigint AND s.created_at < $2::bigint
      UNION ALL
      SELECT s.* FROM spawns s WHERE ${where} AND s.deleted_at > $1::bigint AND s.created_at < $1::bigint
      UNION ALL
      SELECT s.* FROM spawns s WHERE ${where} AND s.deleted_at IS NULL AND s.created_at < $1::bigint AND $3::bigint > $1::bigint
        AND s.status IN ('pending', 'provisioning', 'ready', 'deleting')
    )
    SELECT s.owner_id, max(s.owner_name COLLATE "C") AS owner_name, s.channel, s.cloud, s.agent, c.currency,
      count(*) AS spawns,
      sqlite_total(CASE WHEN c.price_kind = 'priced' THEN c.price_per_hour * greatest(0, least(${endedAt("$3::bigint")}, $2::bigint) - greatest(s.created_at, $1::bigint)) ELSE 0 END) AS cloud_ms_price,
      sqlite_total(CASE WHEN s.created_at >= $1::bigint THEN coalesce(c.llm_usage, 0) ELSE 0 END) AS llm,
      count(*) FILTER (WHERE c.price_kind IS NULL OR c.price_kind = 'unknown') AS unpriced
    FROM picked s LEFT JOIN spawn_costs c ON c.spawn_id = s.id
    GROUP BY s.owner_id, s.channel, s.cloud, s.agent, c.currency
    ORDER BY s.owner_id COLLATE "C", s.channel COLLATE "C", s.cloud COLLATE "C", s.agent COLLATE "C", c.currency COLLATE "C" NULLS FIRST`;
}

const SQL = {
  byPlatform: groupSql("s.platform = $4"),
  byWorkspace: groupSql("s.platform = $4 AND s.workspace = $5"),
  byChannel: groupSql("s.platform = $4 AND s.workspace = $5 AND s.channel = $6"),
  byOwner: groupSql("s.platform = $4 AND s.owner_id = $5"),
  totals: `SELECT s.cloud, s.agent, c.currency,
      sqlite_total(CASE WHEN c.price_kind = 'priced' THEN c.price_per_hour * greatest(0, ${endedAt("$1::bigint")} - s.created_at) ELSE 0 END) AS cloud_ms_price,
      sqlite_total(coalesce(c.llm_usage, 0)) AS llm
    FROM spawns s JOIN spawn_costs c ON c.spawn_id = s.id
    GROUP BY s.cloud, s.agent, c.currency
    ORDER BY s.cloud COLLATE "C", s.agent COLLATE "C", c.currency COLLATE "C" NULLS FIRST`,
};

export class PgCostTables implements Promised<CostState> {
  constructor(private readonly db: Db) {}

  async recordPrice(spawnId: string, price: { kind: PriceKind; perHour?: number; currency?: string; source: string }): Promise<void> {
    const priced = price.kind === "priced";
    await this.db.query(`INSERT INTO spawn_costs (spawn_id, price_kind, price_per_hour, currency, price_source) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (spawn_id) DO NOTHING`, [spawnId, price.kind, priced ? price.perHour ?? null : null, priced ? price.currency ?? null : null, price.source]);
  }

  async getCost(spawnId: string): Promise<SpawnCostRecord | undefined> {
    const { rows } = await this.db.query<CostRow>("SELECT * FROM spawn_costs WHERE spawn_id = $1", [spawnId]);
    return rows[0] && toCostRecord(rows[0]);
  }

  async getCosts(spawnIds: readonly string[]): Promise<Map<string, SpawnCostRecord>> {
    if (spawnIds.length === 0) return new Map();
    // One array parameter, however long the page; byte order as SQLite walks an IN list.
    const { rows } = await this.db.query<CostRow>(`SELECT * FROM spawn_costs WHERE spawn_id = ANY($1::text[]) ORDER BY spawn_id COLLATE "C"`, [spawnIds]);
    return new Map(rows.map((r) => [r.spawn_id, toCostRecord(r)]));
  }

  async recordSpend(spawnId: string, read: { usage: number; limit: number | null; at: number }): Promise<SpawnCostRecord> {
    const { rows } = await this.db.query<CostRow>(`INSERT INTO spawn_costs (spawn_id, price_kind, price_source, llm_usage, llm_limit, llm_checked_at, llm_changed_at)
        VALUES ($1, 'unknown', $5, $2, $3, $4, $4)
      ON CONFLICT (spawn_id) DO UPDATE SET llm_usage = excluded.llm_usage, llm_limit = excluded.llm_limit, llm_checked_at = excluded.llm_checked_at,
        llm_changed_at = CASE WHEN spawn_costs.llm_usage IS NULL OR spawn_costs.llm_usage <> excluded.llm_usage THEN excluded.llm_checked_at ELSE spawn_costs.llm_changed_at END
      RETURNING *`, [spawnId, read.usage, read.limit, read.at, UNKNOWN_PRICE_SOURCE]);
    return toCostRecord(rows[0]!);
  }

  async claimNotice(spawnId: string, notice: CostNotice, at: number): Promise<boolean> {
    // A racing replica's UPDATE waits for the row lock, then re-checks IS NULL and changes nothing.
    const sql = notice === "warned"
      ? "UPDATE spawn_costs SET warned_at = $1 WHERE spawn_id = $2 AND warned_at IS NULL"
      : "UPDATE spawn_costs SET stopped_at = $1 WHERE spawn_id = $2 AND stopped_at IS NULL";
    return (await this.db.query(sql, [at, spawnId])).rowCount === 1;
  }

  async clearNotices(spawnId: string): Promise<void> {
    await this.db.query("UPDATE spawn_costs SET warned_at = NULL, stopped_at = NULL WHERE spawn_id = $1", [spawnId]);
  }

  async spendBetween(scope: CostScope, window: { from: number; to: number; now: number }): Promise<CostGroup[]> {
    const base = [window.from, window.to, window.now, scope.platform];
    // The same precedence as the SQLite store: an owner, else a channel, else a workspace.
    const [sql, params] = scope.ownerId !== undefined ? [SQL.byOwner, [...base, scope.ownerId]]
      : scope.channel !== undefined ? [SQL.byChannel, [...base, scope.workspace ?? null, scope.channel]]
      : scope.workspace !== undefined ? [SQL.byWorkspace, [...base, scope.workspace]]
      : [SQL.byPlatform, base];
    const { rows } = await this.db.query<CostGroupRow>(sql, params);
    return rows.map(toCostGroup);
  }

  async totals(now: number): Promise<CostTotal[]> {
    const { rows } = await this.db.query<CostTotalRow>(SQL.totals, [now]);
    return rows.map(toCostTotal);
  }

  async markActive(spawnId: string, at: number): Promise<void> {
    await this.db.query(`INSERT INTO spawn_costs (spawn_id, price_kind, price_source, active_at) VALUES ($1, 'unknown', $3, $2)
      ON CONFLICT (spawn_id) DO UPDATE SET active_at = greatest(coalesce(spawn_costs.active_at, 0), excluded.active_at)`, [spawnId, at, UNKNOWN_PRICE_SOURCE]);
  }

  async claimBudgetNotice(scope: string, month: string, kind: string, at: number): Promise<boolean> {
    const { rowCount } = await this.db.query("INSERT INTO budget_notices (scope, month, kind, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", [scope, month, kind, at]);
    return rowCount === 1;
  }
}
