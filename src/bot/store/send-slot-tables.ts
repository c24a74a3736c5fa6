// Send slots: replicas posting into one chat workspace share its rate limits by booking the next
// free time of each limit's lane here, one row per lane. Booking is one upsert that reads and moves
// the lane's next free time at once, so two processes can never book the same slot.
// The SQL for that table (migration 16); SqliteStore delegates to this.
import type Database from "better-sqlite3";

/** A lane's row is garbage once its next free time is this far past: nobody waits on it any more. */
export const SEND_SLOT_STALE_MS = 60_000;

export interface SendSlotState {
  /**
   * Book the lane's next free slot and return its time (ms since epoch): the later of the stored
   * next free time and now. The lane's next free time becomes slot + spacingMs.
   */
  reserve(lane: string, spacingMs: number, now?: number): number;
}

export class SendSlotTables implements SendSlotState {
  private readonly sql;
  private prunedAt = 0;

  constructor(db: Database.Database) {
    this.sql = {
      // Read with all(), not get(): a RETURNING statement read with get() is left unfinished, and
      // 20,000 of them grew the WAL to 83 MB (all(): 4 MB, the usual checkpoint size).
      book: db.prepare<{ lane: string; now: number; spacing: number }, { slot: number }>(`INSERT INTO send_slots (lane, next_at) VALUES (@lane, @now + @spacing)
        ON CONFLICT (lane) DO UPDATE SET next_at = max(send_slots.next_at, @now) + @spacing
        RETURNING next_at - @spacing AS slot`),
      prune: db.prepare<[number]>("DELETE FROM send_slots WHERE next_at < ?"),
    };
  }

  reserve(lane: string, spacingMs: number, now = Date.now()): number {
    if (!(spacingMs >= 0)) throw new Error(`a send slot's spacing must be 0 ms or more, not ${spacingMs}`);
    const slot = this.sql.book.all({ lane, now, spacing: Math.ceil(spacingMs) })[0]!.slot;
    if (now - this.prunedAt > SEND_SLOT_STALE_MS) {
      this.prunedAt = now;
      this.sql.prune.run(now - SEND_SLOT_STALE_MS);
    }
    return slot;
  }
}
