// A month's spend summed four ways (person, channel, cloud, agent) from the store's groups, with the
// budget beside each where one applies, and written as lines: what `costs` and the Home tab show.
// Cloud cost stays per currency (as billed); the USD figure beside it converts for budgets only.
import type { CostGroup } from "../store/index.js";
import { formatMoney } from "./spawn-costs.js";

export interface CostRow {
  /** The person's name, the channel id, the cloud or the agent. */
  label: string;
  spawns: number;
  /** Cloud cost by currency. */
  cloud: Record<string, number>;
  llmUsd: number;
  /** Cloud (converted) + LLM, in USD. */
  usd: number;
  /** The month's budget of this person or channel, USD, when one is set. */
  budgetUsd?: number;
}

export interface CostSummary {
  month: string;
  /** "your spawns", "this channel", "this workspace" */
  scope: string;
  total: CostRow;
  byPerson: CostRow[];
  byChannel: CostRow[];
  byCloud: CostRow[];
  byAgent: CostRow[];
  /** Spawns whose price is unknown: their hours are not in the cloud figures. */
  unpriced: number;
}

export interface SummaryOptions {
  month: string;
  scope: string;
  toUsd(amount: number, currency: string | null): number;
  budgets: { perUserUsd?: number; perChannelUsd?: number };
  /** Channel ids as people know them (Slack shows <#C1>); the id itself by default. */
  channelLabel?(channel: string): string;
}

function emptyRow(label: string): CostRow {
  return { label, spawns: 0, cloud: {}, llmUsd: 0, usd: 0 };
}

function add(row: CostRow, g: CostGroup, usd: (a: number, c: string | null) => number): void {
  row.spawns += g.spawns;
  if (g.currency && g.cloudCost > 0) row.cloud[g.currency] = (row.cloud[g.currency] ?? 0) + g.cloudCost;
  row.llmUsd += g.llmUsd;
  row.usd += usd(g.cloudCost, g.currency) + g.llmUsd;
}

/** Sum the groups by each key; rows come most expensive first. */
export function summarizeCosts(groups: readonly CostGroup[], o: SummaryOptions): CostSummary {
  const by = (key: (g: CostGroup) => string, label: (g: CostGroup) => string, budget?: number) => {
    const rows = new Map<string, CostRow>();
    for (const g of groups) {
      const k = key(g);
      let row = rows.get(k);
      if (!row) rows.set(k, (row = { ...emptyRow(label(g)), ...(budget && budget > 0 ? { budgetUsd: budget } : {}) }));
      add(row, g, (amount, currency) => o.toUsd(amount, currency));
    }
    return [...rows.values()].sort((a, b) => b.usd - a.usd || a.label.localeCompare(b.label));
  };
  const total = emptyRow("total");
  for (const g of groups) add(total, g, (amount, currency) => o.toUsd(amount, currency));
  return {
    month: o.month, scope: o.scope, total,
    byPerson: by((g) => g.ownerId, (g) => g.ownerName, o.budgets.perUserUsd),
    byChannel: by((g) => g.channel, (g) => o.channelLabel?.(g.channel) ?? g.channel, o.budgets.perChannelUsd),
    byCloud: by((g) => g.cloud, (g) => g.cloud),
    byAgent: by((g) => g.agent, (g) => g.agent),
    unpriced: groups.reduce((n, g) => n + g.unpriced, 0),
  };
}

/** "€1.20 + $3.40 cloud + $2.10 LLM ($6.82 of $50.00, 14 %)". */
export function describeRow(row: CostRow): string {
  const cloud = Object.entries(row.cloud).sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => formatMoney(n, c, 2));
  const parts = [`${cloud.length ? cloud.join(" + ") : formatMoney(0, "USD", 2)} cloud`, `${formatMoney(row.llmUsd, "USD", 2)} LLM`];
  const budget = row.budgetUsd ? `, ${Math.round((row.usd / row.budgetUsd) * 100)} % of the ${formatMoney(row.budgetUsd, "USD", 2)} budget` : "";
  const converted = cloud.some((c) => !c.startsWith("$")) || budget ? ` (≈ ${formatMoney(row.usd, "USD", 2)}${budget})` : "";
  return `${parts.join(" + ")}${converted} · ${row.spawns} spawn${row.spawns === 1 ? "" : "s"}`;
}

/** The summary as lines of text (the `costs` answer; the Home tab shows the same lines). */
export function costLines(s: CostSummary): string[] {
  if (s.total.spawns === 0) return [`no spend in ${s.month} for ${s.scope}`];
  const section = (title: string, rows: CostRow[]) => [`${title}:`, ...rows.map((r) => `  ${r.label}: ${describeRow(r)}`)];
  return [
    `total: ${describeRow(s.total)}`,
    ...section("by person", s.byPerson),
    ...section("by channel", s.byChannel),
    ...section("by cloud", s.byCloud),
    ...section("by agent", s.byAgent),
    ...(s.unpriced > 0 ? [`${s.unpriced} spawn${s.unpriced === 1 ? " has" : "s have"} no known price: their hours are not in the cloud figures`] : []),
  ];
}
