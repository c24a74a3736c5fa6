// Users' sealed secrets, handled deliveries and status message references, in PostgreSQL.
// A delivery is claimed by one INSERT … ON CONFLICT DO NOTHING: of two replicas given the same
// retry, exactly one sees its row inserted.
import type { ChatState, SealedSecret } from "../chat-tables.js";
import type { UserRef } from "../types.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

const FORGET_EVERY_MS = 10_000; // as the SQLite store: old deliveries go at most this much later

export class PgChatTables implements Promised<ChatState> {
  private lastForget = -Infinity;

  constructor(private readonly db: Db) {}

  async saveUserSecret(user: UserRef, name: string, s: SealedSecret): Promise<void> {
    await this.db.query(`INSERT INTO user_secrets (platform, user_id, name, sealed, last4, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (platform, user_id, name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, updated_at = excluded.updated_at`,
    [user.platform, user.userId, name, s.sealed, s.last4, s.updatedAt]);
  }

  async getUserSecret(user: UserRef, name: string): Promise<SealedSecret | undefined> {
    const { rows } = await this.db.query<{ sealed: string; last4: string; updated_at: number }>(
      "SELECT sealed, last4, updated_at FROM user_secrets WHERE platform = $1 AND user_id = $2 AND name = $3", [user.platform, user.userId, name]);
    const r = rows[0];
    return r && { sealed: r.sealed, last4: r.last4, updatedAt: r.updated_at };
  }

  async deleteUserSecret(user: UserRef, name: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM user_secrets WHERE platform = $1 AND user_id = $2 AND name = $3", [user.platform, user.userId, name]);
    return (r.rowCount ?? 0) > 0;
  }

  async claimDelivery(key: string, keepMs: number, at = Date.now()): Promise<boolean> {
    if (at - this.lastForget >= FORGET_EVERY_MS || at < this.lastForget) {
      this.lastForget = at;
      await this.db.query("DELETE FROM deliveries WHERE at < $1", [at - keepMs]);
    }
    const r = await this.db.query("INSERT INTO deliveries (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, at]);
    return r.rowCount === 1;
  }

  async saveMessageRef(spawnId: string, platform: string, ref: Record<string, string>): Promise<void> {
    await this.db.query(`INSERT INTO message_refs (spawn_id, platform, ref) VALUES ($1, $2, $3)
      ON CONFLICT (spawn_id, platform) DO UPDATE SET ref = excluded.ref`, [spawnId, platform, JSON.stringify(ref)]);
  }

  async getMessageRef(spawnId: string, platform: string): Promise<Record<string, string> | undefined> {
    const { rows } = await this.db.query<{ ref: Record<string, string> }>(
      "SELECT ref FROM message_refs WHERE spawn_id = $1 AND platform = $2", [spawnId, platform]);
    return rows[0]?.ref;
  }
}
