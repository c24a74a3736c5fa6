// What the chat adapters need remembered across restarts: users' sealed secrets, platform
// deliveries already handled (so a retry never acts twice), and where each spawn's status
// message lives (so it can still be edited after a restart). The SQL for those three tables.
import type Database from "better-sqlite3";
import type { UserRef } from "./types.js";

/** A user's secret as stored: sealed by the SecretBox; only its last four characters in clear. */
export interface SealedSecret {
  sealed: string;
  last4: string;
  updatedAt: number;
}

export interface ChatState {
  saveUserSecret(user: UserRef, name: string, secret: SealedSecret): void;
  getUserSecret(user: UserRef, name: string): SealedSecret | undefined;
  /** False if there was none. */
  deleteUserSecret(user: UserRef, name: string): boolean;
  /**
   * Record a platform delivery id; true the first time, false for a repeat. Entries older than
   * keepMs are forgotten on the way (platforms retry for minutes, not days).
   */
  claimDelivery(key: string, keepMs: number, at?: number): boolean;
  /** Where a spawn's status message is on one platform (adapter-defined fields). */
  saveMessageRef(spawnId: string, platform: string, ref: Record<string, string>): void;
  getMessageRef(spawnId: string, platform: string): Record<string, string> | undefined;
}

interface SecretRow { sealed: string; last4: string; updated_at: number }

const FORGET_EVERY_MS = 10_000;

export class ChatTables implements ChatState {
  private readonly sql;
  private lastForget = -Infinity;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      saveSecret: p<never>(`INSERT INTO user_secrets (platform, user_id, name, sealed, last4, updated_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (platform, user_id, name) DO UPDATE SET sealed = excluded.sealed, last4 = excluded.last4, updated_at = excluded.updated_at`),
      getSecret: p<SecretRow>("SELECT sealed, last4, updated_at FROM user_secrets WHERE platform = ? AND user_id = ? AND name = ?"),
      deleteSecret: p<never>("DELETE FROM user_secrets WHERE platform = ? AND user_id = ? AND name = ?"),
      claim: p<never>("INSERT OR IGNORE INTO deliveries (key, at) VALUES (?, ?)"),
      forget: p<never>("DELETE FROM deliveries WHERE at < ?"),
      saveRef: p<never>(`INSERT INTO message_refs (spawn_id, platform, ref) VALUES (?, ?, ?)
        ON CONFLICT (spawn_id, platform) DO UPDATE SET ref = excluded.ref`),
      getRef: p<{ ref: string }>("SELECT ref FROM message_refs WHERE spawn_id = ? AND platform = ?"),
    };
  }

  saveUserSecret(user: UserRef, name: string, s: SealedSecret): void {
    this.sql.saveSecret.run(user.platform, user.userId, name, s.sealed, s.last4, s.updatedAt);
  }

  getUserSecret(user: UserRef, name: string): SealedSecret | undefined {
    const r = this.sql.getSecret.get(user.platform, user.userId, name);
    return r && { sealed: r.sealed, last4: r.last4, updatedAt: r.updated_at };
  }

  deleteUserSecret(user: UserRef, name: string): boolean {
    return this.sql.deleteSecret.run(user.platform, user.userId, name).changes > 0;
  }

  claimDelivery(key: string, keepMs: number, at = Date.now()): boolean {
    // Forgetting old entries is a second write; once per FORGET_EVERY_MS is enough (a key stays at
    // most that much longer) and keeps the ack path to one write per request.
    if (at - this.lastForget >= FORGET_EVERY_MS || at < this.lastForget) {
      this.sql.forget.run(at - keepMs);
      this.lastForget = at;
    }
    return this.sql.claim.run(key, at).changes > 0;
  }

  saveMessageRef(spawnId: string, platform: string, ref: Record<string, string>): void {
    this.sql.saveRef.run(spawnId, platform, JSON.stringify(ref));
  }

  getMessageRef(spawnId: string, platform: string): Record<string, string> | undefined {
    const r = this.sql.getRef.get(spawnId, platform);
    return r && (JSON.parse(r.ref) as Record<string, string>);
  }
}
