// What a spawn costs, in the words people read: its cloud's price an hour (asked once, when it is
// recorded, and kept), the cloud cost so far (hours × that price), its LLM spend from the last read
// of its own OpenRouter key, and calendar-month windows and US-dollar sums for budgets and `costs`.
// Cloud costs stay in the currency the provider bills; only budget sums convert (usdPerEur).
import type { AgentSpec, Cloud } from "../../orchestrator/index.js";
import { formatMoney, formatPrice, type PriceAnswer } from "../../orchestrator/index.js";
import type { CoreContext } from "../context.js";
import { formatDuration } from "../views/format.js";
import { LIVE_STATUSES, type CostGroup, type SpawnCostRecord, type SpawnRecord } from "../store/index.js";

export { formatMoney, formatPrice } from "../../orchestrator/index.js";

const HOUR_MS = 3_600_000;
/**
 * Euros to US dollars for budget sums only (Hetzner bills in EUR, budgets and OpenRouter are USD).
 * A fixed rate, set by SPAWNBOT_USD_PER_EUR; this default is the rough rate of late 2026.
 */
export const DEFAULT_USD_PER_EUR = 1.1;

/** The bot's clock: the settings' (tests move it across a month) or the real one. */
export function nowOf(ctx: CoreContext): number {
  return ctx.settings.clock?.() ?? Date.now();
}

/** Ask the cloud what this spawn's server costs an hour (never throws). */
export async function priceFor(cloud: Cloud, placement: { size?: string | null; zone?: string | null; agent: AgentSpec }): Promise<PriceAnswer> {
  try {
    return await cloud.priceOf({ size: placement.size ?? undefined, zone: placement.zone ?? undefined, agent: placement.agent });
  } catch (err) {
    return { kind: "unknown", why: (err as Error).message };
  }
}

/** Keep the price the spawn started with: later price changes do not rewrite its history. */
export async function recordSpawnPrice(ctx: CoreContext, spawnId: string, answer: PriceAnswer): Promise<void> {
  await ctx.store.costs.recordPrice(spawnId, answer.kind === "priced"
    ? { kind: "priced", perHour: answer.price.perHour, currency: answer.price.currency, source: answer.price.source }
    : { kind: answer.kind, source: answer.kind === "free" ? "free" : answer.why });
}

/** The price as recorded for a spawn, in the shape formatPrice reads. */
export function recordedPrice(cost: SpawnCostRecord | undefined): PriceAnswer {
  if (!cost) return { kind: "unknown", why: "recorded before the bot kept prices" };
  if (cost.priceKind === "priced" && cost.pricePerHour !== null && cost.currency) {
    return { kind: "priced", price: { perHour: cost.pricePerHour, currency: cost.currency, source: cost.priceSource } };
  }
  return cost.priceKind === "free" ? { kind: "free" } : { kind: "unknown", why: cost.priceSource };
}

/** How long the spawn has cost money: from its record to now (live) or to its deletion (ended). */
export function billedMs(rec: SpawnRecord, now: number): number {
  const end = LIVE_STATUSES.includes(rec.status) ? now : rec.deletedAt ?? rec.createdAt;
  return Math.max(0, end - rec.createdAt);
}

/** Hours so far × price; undefined when the price is unknown. */
export function cloudCostOf(rec: SpawnRecord, cost: SpawnCostRecord | undefined, now: number): { amount: number; currency: string } | undefined {
  if (cost?.priceKind === "free") return { amount: 0, currency: "USD" };
  if (cost?.priceKind !== "priced" || cost.pricePerHour === null || !cost.currency) return undefined;
  return { amount: (cost.pricePerHour * billedMs(rec, now)) / HOUR_MS, currency: cost.currency };
}

function llmPart(cost: SpawnCostRecord | undefined): string | undefined {
  if (cost?.llmUsage === null || cost?.llmUsage === undefined) return undefined;
  const limit = cost.llmLimit === null ? "" : ` of its ${formatMoney(cost.llmLimit, "USD", 2)} limit`;
  return `${formatMoney(cost.llmUsage, "USD", 2)} LLM${limit}`;
}

/**
 * One line for the status message and `status`: the price an hour while the spawn lives, the
 * totals once it ended ("cost: €0.0056/h (…); so far €0.01 cloud over 2h + $0.42 LLM").
 */
export function costLine(rec: SpawnRecord, cost: SpawnCostRecord | undefined, now: number): string {
  const price = recordedPrice(cost);
  const live = LIVE_STATUSES.includes(rec.status);
  const cloud = cloudCostOf(rec, cost, now);
  const hours = formatDuration(billedMs(rec, now));
  const cloudPart = price.kind === "free" ? undefined
    : cloud ? `${formatMoney(cloud.amount, cloud.currency, 2)} cloud over ${hours}` : "cloud cost unknown";
  const parts = [cloudPart, llmPart(cost)].filter((p): p is string => p !== undefined);
  if (!live) return `total: ${parts.length ? parts.join(" + ") : "nothing the bot paid for"}`;
  return `cost: ${formatPrice(price)}${parts.length ? `; so far ${parts.join(" + ")}` : ""}`;
}

/** The totals line of an ended spawn, unless it cost the bot nothing at all (a free host, no LLM key). */
export function totalWorthSaying(rec: SpawnRecord, cost: SpawnCostRecord | undefined, now: number): string | undefined {
  if (cost?.priceKind === "free" && (cost.llmUsage === null || cost.llmUsage === 0)) return undefined;
  return costLine(rec, cost, now);
}

/** The short cost column of a list row, cloud + LLM: "€0.12 + $0.42", "free + $0.42", "? + $0.42" (price unknown). */
export function costCell(rec: SpawnRecord, cost: SpawnCostRecord | undefined, now: number): string {
  const cloud = cloudCostOf(rec, cost, now);
  const first = cost?.priceKind === "free" ? "free" : cloud ? formatMoney(cloud.amount, cloud.currency, 2) : "?";
  return cost?.llmUsage !== null && cost?.llmUsage !== undefined ? `${first} + ${formatMoney(cost.llmUsage, "USD", 2)}` : first;
}

/** US dollars of an amount in a provider's currency, for budget sums. */
export function toUsd(ctx: CoreContext, amount: number, currency: string | null): number {
  if (!currency || currency === "USD") return amount;
  if (currency === "EUR") return amount * (ctx.settings.usdPerEur ?? DEFAULT_USD_PER_EUR);
  return amount; // no other currency is billed today (see prices.ts); counted as is rather than dropped
}

/** A calendar month in UTC: "2026-12" and its [from, to) in ms. */
export interface MonthWindow {
  label: string;
  from: number;
  to: number;
}

export function monthOf(at: number): MonthWindow {
  const d = new Date(at);
  return monthWindow(d.getUTCFullYear(), d.getUTCMonth() + 1);
}

export function monthWindow(year: number, month: number): MonthWindow {
  return {
    label: `${year}-${String(month).padStart(2, "0")}`,
    from: Date.UTC(year, month - 1, 1),
    to: Date.UTC(year, month, 1),
  };
}

/** A month's spend in one scope, in USD (cloud converted, LLM as billed). */
export function usdOf(ctx: CoreContext, groups: readonly CostGroup[]): number {
  return groups.reduce((sum, g) => sum + toUsd(ctx, g.cloudCost, g.currency) + g.llmUsd, 0);
}
