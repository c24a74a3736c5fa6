// What a server costs by the hour, as each cloud answers it: a price with its currency and where it
// came from (the provider's API, or the dated price table), nothing for hosts the bot does not pay
// for (ssh, local), or "unknown" with the reason. A price is never guessed: unknown is not zero.
import type { ServerSpec } from "./types.js";

export interface HourlyPrice {
  /** Price of one hour, in `currency`. */
  perHour: number;
  /** ISO 4217, as the provider bills it (Hetzner EUR, the others USD). */
  currency: string;
  /** "Hetzner API (net of VAT)", "price table of 2026-12-04": shown beside the price. */
  source: string;
}

export type PriceAnswer =
  | { kind: "priced"; price: HourlyPrice }
  /** A host the bot does not pay for: an adopted ssh host, the bot's own machine. */
  | { kind: "free" }
  | { kind: "unknown"; why: string };

/** What priceOf needs of a spawn: the size and zone asked for (or the cloud's defaults) and the agent, whose memory can move a default size up. */
export type PricedPlacement = Pick<ServerSpec, "size" | "zone" | "agent">;

const CURRENCY_SIGNS: Record<string, string> = { USD: "$", EUR: "€" };

/** "$0.0208", "€0.0095", "12.5 CHF": an amount as its currency writes it; small hourly prices keep 4 decimals. */
export function formatMoney(amount: number, currency: string, decimals = amount !== 0 && Math.abs(amount) < 1 ? 4 : 2): string {
  const sign = CURRENCY_SIGNS[currency];
  const n = amount.toFixed(decimals);
  return sign ? `${sign}${n}` : `${n} ${currency}`;
}

/** "€0.0095/h (Hetzner API, net of VAT)", "free (a host the bot does not pay for)", "price unknown (…)". */
export function formatPrice(answer: PriceAnswer): string {
  switch (answer.kind) {
    case "priced": return `${formatMoney(answer.price.perHour, answer.price.currency)}/h (${answer.price.source})`;
    case "free": return "free (a host the bot does not pay for)";
    case "unknown": return `price unknown (${answer.why})`;
  }
}

/** A decimal string as Hetzner writes prices ("0.0095"); undefined for anything else. */
export function parseDecimal(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string" || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  return Number(value);
}

/** A price from a dated table (price-table.ts), or unknown saying how to get one. */
export function priceFromTable(table: { date: string; currency: string; regions: Record<string, Record<string, number>> }, region: string, size: string): PriceAnswer {
  const perHour = table.regions[region]?.[size];
  if (perHour === undefined) {
    const where = table.regions[region] ? `${size} in ${region}` : `region ${region}`;
    return { kind: "unknown", why: `the price table of ${table.date} has no price for ${where}; an admin can run scripts/refresh-cloud-prices.mjs` };
  }
  return { kind: "priced", price: { perHour, currency: table.currency, source: `price table of ${table.date}` } };
}

/** A provider's price call that failed: unknown, with the provider's one-line reason. */
export function priceUnknownBecause(err: unknown): PriceAnswer {
  return { kind: "unknown", why: `the provider did not say: ${(err as Error).message ?? String(err)}`.slice(0, 200) };
}
