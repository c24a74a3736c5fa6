// What spawns cost: the cloud price an hour each spawn started with (or why it has none), the last
// read of its own OpenRouter key's spend, the budget notices already sent, and the month totals the
// `costs` command, budgets and /metrics read. The SQL for those two tables (migration 13).
import type Database from "better-sqlite3";

export type PriceKind = "priced" | "free" | "unknown";

export interface SpawnCostRecord {
  spawnId: string;
  priceKind: PriceKind;
  /** In `currency`; null unless priced. */
  pricePerHour: number | null;
  currency: string | null;
  /** Where the price came from, or why there is none ("unknown"). */
  priceSource: string;
  /** USD spent through the spawn's own OpenRouter key at the last read; null before the first. */
  llmUsage: number | null;
  llmLimit: number | null;
  llmCheckedAt: number | null;
  /** The last read at which usage had moved (the first read counts as a move). */
  llmChangedAt: number | null;
  /** When the owner was told the spend passed 80 % of the key's limit. */
  warnedAt: number | null;
  /** When the thread was told the key reached its limit. */
  stoppedAt: number | null;
  /** The last time someone was seen using the spawn (an SSH session on its host, an extend). */
  activeAt: number | null;
}

/** Which spawns a total covers: a platform, narrowed to a workspace, then a channel or an owner. */
export interface CostScope {
  platform: string;
  workspace?: string;
  channel?: string;
  ownerId?: string;
}

/** One group of a month's spend: per owner, channel, cloud, agent and cloud currency. */
export interface CostGroup {
  ownerId: string;
  ownerName: string;
  channel: string;
  cloud: string;
  agent: string;
  /** The currency of cloudCost; null when none of the group's spawns had a price. */
  currency: string | null;
  spawns: number;
  /** Hours inside the window × price an hour, summed over the group's priced spawns. */
  cloudCost: number;
  /** USD: spend of the group's spawns started inside the window. */
  llmUsd: number;
  /** Spawns whose price is unknown (their hours are not in cloudCost). */
  unpriced: number;
}

/** All-time spend per cloud and agent, for /metrics. */
export interface CostTotal {
  cloud: string;
  agent: string;
  currency: string | null;
  cloudCost: number;
  llmUsd: number;
}

export type CostNotice = "warned" | "stopped";

export interface CostState {
  /** Written once, when the spawn is recorded; a second call for the same spawn changes nothing. */
  recordPrice(spawnId: string, price: { kind: PriceKind; perHour?: number; currency?: string; source: string }): void;
  getCost(spawnId: string): SpawnCostRecord | undefined;
  /** Many at once (a list page). */
  getCosts(spawnIds: readonly string[]): Map<string, SpawnCostRecord>;
  /** Store a read of the spawn's key; creates the row (price unknown) for spawns recorded without one. */
  recordSpend(spawnId: string, read: { usage: number; limit: number | null; at: number }): SpawnCostRecord;
  /** Set the notice's time if it was not set: true only for the call that set it (each notice goes out once). */
  claimNotice(spawnId: string, notice: CostNotice, at: number): boolean;
  /** The limit was raised: the notices may go out again at the new limit. */
  clearNotices(spawnId: string): void;
  /** The spend of every spawn in scope that ran inside [from, to), grouped; `now` ends the hours of live spawns. */
  spendBetween(scope: CostScope, window: { from: number; to: number; now: number }): CostGroup[];
  /** All-time totals per cloud and agent (live spawns counted up to now). */
  totals(now: number): CostTotal[];
  /** Someone used the spawn at `at` (kept if a later time is stored); creates the row (price unknown) when missing. */
  markActive(spawnId: string, at: number): void;
  /** A budget notice for a scope and month: true only the first time. */
  claimBudgetNotice(scope: string, month: string, kind: string, at: number): boolean;
}

/** A spawn_costs row as either store returns it (pg/costs.ts reads the same shapes). */
export interface CostRow {
  spawn_id: string; price_kind: PriceKind; price_per_hour: number | null; currency: string | null; price_source: string;
  llm_usage: number | null; llm_limit: number | null; llm_checked_at: number | null; llm_changed_at: number | null;
  warned_at: number | null; stopped_at: number | null; active_at: number | null;
}

export interface CostGroupRow {
  owner_id: string; owner_name: string; channel: string; cloud: string; agent: string; currency: string | null;
  spawns: number; cloud_ms_price: number; llm: number; unpriced: number;
}

const HOUR_MS = 3_600_000;
/** The price source of a row made for a spawn recorded before prices were kept. */
export const UNKNOWN_PRICE_SOURCE = "recorded before prices were kept";
export type CostTotalRow = { cloud: string; agent: string; currency: string | null; cloud_ms_price: number; llm: number };
/** SQLite's bound on the variables of one statement is 32,766; a list page is far below a chunk. */
const IDS_PER_QUERY = 500;

/**
 * When a spawn stopped costing: now for live spawns, its deletion for ended ones (a failed run's
 * server is removed before deleted_at is written); an ended spawn with no deletion time made nothing.
 * The status list is spelled out like the migrations': the live ones are LIVE_STATUSES.
 */
const ENDED_AT = `CASE WHEN s.status IN ('pending', 'provisioning', 'ready', 'deleting') THEN @now ELSE coalesce(s.deleted_at, s.created_at) END`;

/**
 * The spawns of a scope that cost something inside [from, to), found by three index lookups rather
 * than a scan of the scope's whole history: those made inside the window (by creation time), those
 * made before it that ended inside or after its start (spawns_by_end), and those made before it that
 * still live (the live partial indexes). The three are disjoint.
 */
function groupSql(where: string): string {
  return `WITH picked AS (
      SELECT s.* FROM spawns s WHERE ${where} AND s.created_at >= @from AND s.created_at < @to
      UNION ALL
      SELECT s.* FROM spawns s INDEXED BY spawns_by_end WHERE ${where} AND s.deleted_at > @from AND s.created_at < @from
      UNION ALL
      SELECT s.* FROM spawns s WHERE ${where} AND s.deleted_at IS NULL AND s.created_at < @from AND @now > @from
        AND s.status IN ('pending', 'provisioning', 'ready', 'deleting')
    )
    SELECT s.owner_id, max(s.owner_name) AS owner_name, s.channel, s.cloud, s.agent, c.currency,
      count(*) AS spawns,
      total(CASE WHEN c.price_kind = 'priced' THEN c.price_per_hour * max(0, min(${ENDED_AT}, @to) - max(s.created_at, @from)) ELSE 0 END) AS cloud_ms_price,
      total(CASE WHEN s.created_at >= @from THEN coalesce(c.llm_usage, 0) ELSE 0 END) AS llm,
      total(CASE WHEN c.price_kind IS NULL OR c.price_kind = 'unknown' THEN 1 ELSE 0 END) AS unpriced
    FROM picked s LEFT JOIN spawn_costs c ON c.spawn_id = s.id
    GROUP BY s.owner_id, s.channel, s.cloud, s.agent, c.currency`;
}

export class CostTables implements CostState {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      price: p<never>(`INSERT INTO spawn_costs (spawn_id, price_kind, price_per_hour, currency, price_source) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (spawn_id) DO NOTHING`),
      get: p<CostRow>("SELECT * FROM spawn_costs WHERE spawn_id = ?"),
      spend: p<never>(`INSERT INTO spawn_costs (spawn_id, price_kind, price_source, llm_usage, llm_limit, llm_checked_at, llm_changed_at)
          VALUES (@id, 'unknown', '${UNKNOWN_PRICE_SOURCE}', @usage, @limit, @at, @at)
        ON CONFLICT (spawn_id) DO UPDATE SET llm_usage = @usage, llm_limit = @limit, llm_checked_at = @at,
          llm_changed_at = CASE WHEN spawn_costs.llm_usage IS NULL OR spawn_costs.llm_usage <> @usage THEN @at ELSE spawn_costs.llm_changed_at END`),
      warned: p<never>("UPDATE spawn_costs SET warned_at = ? WHERE spawn_id = ? AND warned_at IS NULL"),
      stopped: p<never>("UPDATE spawn_costs SET stopped_at = ? WHERE spawn_id = ? AND stopped_at IS NULL"),
      clear: p<never>("UPDATE spawn_costs SET warned_at = NULL, stopped_at = NULL WHERE spawn_id = ?"),
      byPlatform: p<CostGroupRow>(groupSql("s.platform = @platform")),
      byWorkspace: p<CostGroupRow>(groupSql("s.platform = @platform AND s.workspace = @workspace")),
      byChannel: p<CostGroupRow>(groupSql("s.platform = @platform AND s.workspace = @workspace AND s.channel = @channel")),
      byOwner: p<CostGroupRow>(groupSql("s.platform = @platform AND s.owner_id = @ownerId")),
      totals: p<CostTotalRow>(
        `SELECT s.cloud, s.agent, c.currency,
          total(CASE WHEN c.price_kind = 'priced' THEN c.price_per_hour * max(0, ${ENDED_AT} - s.created_at) ELSE 0 END) AS cloud_ms_price,
          total(coalesce(c.llm_usage, 0)) AS llm
        FROM spawns s JOIN spawn_costs c ON c.spawn_id = s.id GROUP BY s.cloud, s.agent, c.currency`),
      active: p<never>(`INSERT INTO spawn_costs (spawn_id, price_kind, price_source, active_at) VALUES (?, 'unknown', '${UNKNOWN_PRICE_SOURCE}', ?)
        ON CONFLICT (spawn_id) DO UPDATE SET active_at = max(coalesce(spawn_costs.active_at, 0), excluded.active_at)`),
      notice: p<never>("INSERT INTO budget_notices (scope, month, kind, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
    };
    this.getMany = (ids) => db.prepare<unknown[], CostRow>(`SELECT * FROM spawn_costs WHERE spawn_id IN (${ids.map(() => "?").join(",")})`).all(...ids);
  }

  private readonly getMany: (ids: readonly string[]) => CostRow[];

  recordPrice(spawnId: string, price: { kind: PriceKind; perHour?: number; currency?: string; source: string }): void {
    this.sql.price.run(spawnId, price.kind, price.kind === "priced" ? price.perHour ?? null : null, price.kind === "priced" ? price.currency ?? null : null, price.source);
  }

  getCost(spawnId: string): SpawnCostRecord | undefined {
    const r = this.sql.get.get(spawnId);
    return r && toCostRecord(r);
  }

  getCosts(spawnIds: readonly string[]): Map<string, SpawnCostRecord> {
    const out = new Map<string, SpawnCostRecord>();
    for (let i = 0; i < spawnIds.length; i += IDS_PER_QUERY) {
      for (const r of this.getMany(spawnIds.slice(i, i + IDS_PER_QUERY))) out.set(r.spawn_id, toCostRecord(r));
    }
    return out;
  }

  recordSpend(spawnId: string, read: { usage: number; limit: number | null; at: number }): SpawnCostRecord {
    this.sql.spend.run({ id: spawnId, usage: read.usage, limit: read.limit, at: read.at });
    return toCostRecord(this.sql.get.get(spawnId)!);
  }

  claimNotice(spawnId: string, notice: CostNotice, at: number): boolean {
    return (notice === "warned" ? this.sql.warned : this.sql.stopped).run(at, spawnId).changes === 1;
  }

  clearNotices(spawnId: string): void {
    this.sql.clear.run(spawnId);
  }

  spendBetween(scope: CostScope, window: { from: number; to: number; now: number }): CostGroup[] {
    const params = { ...window, platform: scope.platform, workspace: scope.workspace ?? null, channel: scope.channel ?? null, ownerId: scope.ownerId ?? null };
    const stmt = scope.ownerId !== undefined ? this.sql.byOwner
      : scope.channel !== undefined ? this.sql.byChannel
      : scope.workspace !== undefined ? this.sql.byWorkspace
      : this.sql.byPlatform;
    return stmt.all(params).map(toCostGroup);
  }

  totals(now: number): CostTotal[] {
    return this.sql.totals.all({ now }).map(toCostTotal);
  }

  markActive(spawnId: string, at: number): void {
    this.sql.active.run(spawnId, at);
  }

  claimBudgetNotice(scope: string, month: string, kind: string, at: number): boolean {
    return this.sql.notice.run(scope, month, kind, at).changes === 1;
  }
}

export function toCostRecord(r: CostRow): SpawnCostRecord {
  return {
    spawnId: r.spawn_id, priceKind: r.price_kind, pricePerHour: r.price_per_hour, currency: r.currency, priceSource: r.price_source,
    llmUsage: r.llm_usage, llmLimit: r.llm_limit, llmCheckedAt: r.llm_checked_at, llmChangedAt: r.llm_changed_at,
    warnedAt: r.warned_at, stoppedAt: r.stopped_at, activeAt: r.active_at,
  };
}

export function toCostGroup(r: CostGroupRow): CostGroup {
  return {
    ownerId: r.owner_id, ownerName: r.owner_name, channel: r.channel, cloud: r.cloud, agent: r.agent, currency: r.currency,
    spawns: r.spawns, cloudCost: r.cloud_ms_price / HOUR_MS, llmUsd: r.llm, unpriced: r.unpriced,
  };
}

export function toCostTotal(r: CostTotalRow): CostTotal {
  return { cloud: r.cloud, agent: r.agent, currency: r.currency, cloudCost: r.cloud_ms_price / HOUR_MS, llmUsd: r.llm };
}
