// How a list's options become query parameters, the same for every store: the filter as a LIKE
// pattern with its wildcards escaped, a page size within bounds, an offset that is never negative.
import type { ListOptions } from "./types.js";

const DEFAULT_LIST_LIMIT = 50; // one chat message's worth of rows
const MAX_LIST_LIMIT = 10_000; // a ceiling so a stray limit cannot pull a whole table into memory

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}

export function listParams(opts: ListOptions | undefined): { pattern: string | null; limit: number; offset: number } {
  const filter = opts?.filter?.trim();
  return {
    pattern: filter ? `%${filter.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null,
    limit: clampLimit(opts?.limit),
    offset: Math.max(0, Math.floor(opts?.offset ?? 0)) || 0,
  };
}
