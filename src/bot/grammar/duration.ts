// Reads a time to live such as `90m`, `2h`, `1d`, `1h30m` or `45s` (for `--ttl`) as milliseconds.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A server kept longer than a month is a forgotten server, not a plan: longer TTLs are refused. */
export const MAX_DURATION_MS = 30 * DAY_MS;

// Units in falling order, each at most once; six digits per unit is far past the 30-day limit.
const DURATION_RE = /^(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?$/;

/**
 * Milliseconds for a duration made of day/hour/minute/second parts (`1d12h`, `90m`), or undefined
 * for anything else: bare numbers (is `30` minutes or seconds?), zero, negatives, fractions,
 * and anything longer than MAX_DURATION_MS.
 */
export function parseDuration(text: string): number | undefined {
  const total = parseAnyDuration(text);
  return total === undefined || total > MAX_DURATION_MS ? undefined : total;
}

/** Whether a well-formed duration is refused only for being longer than MAX_DURATION_MS (`90d`). */
export function isTooLong(text: string): boolean {
  const total = parseAnyDuration(text);
  return total !== undefined && total > MAX_DURATION_MS;
}

function parseAnyDuration(text: string): number | undefined {
  if (typeof text !== "string") return undefined;
  const match = DURATION_RE.exec(text.trim().toLowerCase());
  if (!match || match[0] === "") return undefined;
  const [, days, hours, minutes, seconds] = match;
  const total =
    Number(days ?? 0) * DAY_MS +
    Number(hours ?? 0) * HOUR_MS +
    Number(minutes ?? 0) * MINUTE_MS +
    Number(seconds ?? 0) * SECOND_MS;
  return total > 0 ? total : undefined;
}
