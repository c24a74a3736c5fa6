// Send slots over PostgreSQL (see ../send-slot-tables.ts): booking a lane's next slot is one upsert
// whose row lock orders replicas booking the same lane at once; each gets its own, spaced slot.
import { checkedSpacing, SEND_SLOT_STALE_MS, type SendSlotState } from "../send-slot-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

export class PgSendSlotTables implements Promised<SendSlotState> {
  private prunedAt = 0;

  constructor(private readonly db: Db) {}

  async reserve(lane: string, spacingMs: number, burst = 1, now = Date.now()): Promise<number> {
    const spacing = checkedSpacing(spacingMs, burst);
    const { rows } = await this.db.query<{ slot: number }>(`INSERT INTO send_slots (lane, next_at) VALUES ($1, $2::bigint + $3::bigint)
      ON CONFLICT (lane) DO UPDATE SET next_at = GREATEST(send_slots.next_at, $2::bigint) + $3::bigint
      RETURNING GREATEST($2::bigint, next_at - $3::bigint - $4::bigint) AS slot`, [lane, now, spacing, spacing * (Math.floor(burst) - 1)]);
    if (now - this.prunedAt > SEND_SLOT_STALE_MS) {
      this.prunedAt = now;
      await this.db.query("DELETE FROM send_slots WHERE next_at < $1", [now - SEND_SLOT_STALE_MS]);
    }
    return rows[0]!.slot;
  }
}
