// Send slots: replicas posting into one chat workspace share its rate limits by booking the next
// free time of each limit's lane here, one row per lane. Booking is one upsert that reads and moves
// the lane's next free time at once, so two processes can never book the same slot.
// The SQL for that table (migration 16); SqliteStore delegates to this.
import type Database from "better-sqlite3";

/** A lane's row is garbage once its next free time is this far past: nobody waits on it any more. */
export const SEND_SLOT_STALE_MS = 60_000;

export interface SendSlotState {
  /**
   * Book the lane's next slot and return its time (ms since epoch), as a token bucket holding
   * `burst` calls and refilling one every spacingMs would allow it (the generic cell rate
   * algorithm: the row keeps the lane's theoretical next free time, and a call may go up to
   * burst - 1 spacings before it). burst 1 spaces every call by spacingMs.
   */
  reserve(lane: string, spacingMs: number, burst?: number, now?: number): number;
}

export class SendSlotTables implements SendSlotState {
  private readonly sql;
  private prunedAt = 0;

  constructor(db: Database.Database) {
    this.sql = {
      // Read with all(), not get(): a RETURNING statement read with get() is left unfinished, and
      // 20,000 of them grew the WAL to 83 MB (all(): 4 MB, the usual checkpoint size).
      book: db.prepare<{ lane: string; now: number; spacing: number; tolerance: number }, { slot: number }>(`INSERT INTO send_slots (lane, next_at) VALUES (@lane, @now + @spacing)
        ON CONFLICT (lane) DO UPDATE SET next_at = max(send_slots.next_at, @now) + @spacing
        RETURNING max(@now, next_at - @spacing - @tolerance) AS slot`),
      prune: db.prepare<[number]>("DELETE FROM send_slots WHERE next_at < ?"),
    };
  }

  reserve(lane: string, spacingMs: number, burst = 1, now = Date.now()): number {
    const spacing = checkedSpacing(spacingMs, burst);
    const slot = this.sql.book.all({ lane, now, spacing, tolerance: spacing * (Math.floor(burst) - 1) })[0]!.slot;
    if (now - this.prunedAt > SEND_SLOT_STALE_MS) {
      this.prunedAt = now;
      this.sql.prune.run(now - SEND_SLOT_STALE_MS);
    }
    return slot;
  }
}

/** The spacing in whole ms; throws on a spacing below 0 or a burst below 1 (a caller's bug). */
export function checkedSpacing(spacingMs: number, burst: number): number {
  if (!(spacingMs >= 0)) throw new Error(`a send slot's spacing must be 0 ms or more, not ${spacingMs}`);
  if (!(burst >= 1)) throw new Error(`a send slot's burst must be 1 or more, not ${burst}`);
  return Math.ceil(spacingMs);
}
