// A list of spawns as a monospace table (header and one line a spawn), shared by every renderer
// so the columns read the same in Slack, Discord and the console.
import { formatDuration } from "../../bot/index.js";
import { LIST_COLUMNS, type ListRow } from "../../bot/index.js";

/**
 * The widest each column may be; longer cells end in "…". They keep a row under 150 characters,
 * so a page of 25 rows fits a Discord embed's 4,096 characters and splits into few Slack sections.
 */
const MAX_WIDTH: Record<(typeof LIST_COLUMNS)[number], number> = {
  name: 32, agent: 10, cloud: 12, status: 12, model: 18, owner: 14, age: 7, expires: 7, cost: 16, id: 8,
};
const GAP = "  ";
const MIN_AGE_MS = 60_000; // "1m" rather than "0s" for a spawn made a moment ago

function cell(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** The row's cells, in LIST_COLUMNS order. */
function cells(r: ListRow, now: number): string[] {
  const expires = r.expiresAt === null ? "-" : formatDuration(Math.max(0, r.expiresAt - now));
  return [r.name, r.agent, r.cloud, r.status, r.model || "-", r.owner, formatDuration(Math.max(MIN_AGE_MS, now - r.createdAt)), expires, r.cost ?? "-", r.id.slice(0, 8)];
}

/** Header first, then one line per row; columns padded to the widest cell shown (trailing spaces trimmed). */
export function listTable(rows: readonly ListRow[], now = Date.now()): string[] {
  const table = [[...LIST_COLUMNS] as string[], ...rows.map((r) => cells(r, now))].map((line) => line.map((c, i) => cell(c, MAX_WIDTH[LIST_COLUMNS[i]!])));
  const widths = LIST_COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  return table.map((line) => line.map((c, i) => c.padEnd(widths[i]!)).join(GAP).trimEnd());
}

/** Lines grouped into chunks of at most maxChars each (joined by newlines), for platforms that cap a text. */
export function chunkLines(lines: readonly string[], maxChars: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (current.length > 0 && size + 1 + line.length > maxChars) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(line);
    size += (current.length > 1 ? 1 : 0) + line.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
