// Each user's default model per agent and SSH public keys, in PostgreSQL.
import type { ModelPreference, UserKey, UserRef } from "../types.js";
import type { Db } from "./pool.js";

interface KeyRow { fingerprint: string; public_key: string; key_type: string; comment: string; added_at: number }

export class PgUserTables {
  constructor(private readonly db: Db) {}

  async setModelPreference(user: UserRef, agent: string, model: string): Promise<void> {
    await this.db.query(`INSERT INTO model_prefs (platform, user_id, agent, model) VALUES ($1, $2, $3, $4)
      ON CONFLICT (platform, user_id, agent) DO UPDATE SET model = excluded.model`, [user.platform, user.userId, agent, model]);
  }

  async clearModelPreference(user: UserRef, agent: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM model_prefs WHERE platform = $1 AND user_id = $2 AND agent = $3", [user.platform, user.userId, agent]);
    return (r.rowCount ?? 0) > 0;
  }

  async getModelPreference(user: UserRef, agent: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ model: string }>(
      "SELECT model FROM model_prefs WHERE platform = $1 AND user_id = $2 AND agent = $3", [user.platform, user.userId, agent]);
    return rows[0]?.model;
  }

  async listModelPreferences(user: UserRef): Promise<ModelPreference[]> {
    const { rows } = await this.db.query<ModelPreference>(
      `SELECT agent, model FROM model_prefs WHERE platform = $1 AND user_id = $2 ORDER BY agent COLLATE "C"`, [user.platform, user.userId]);
    return rows;
  }

  async addUserKey(user: UserRef, key: Omit<UserKey, "addedAt">): Promise<UserKey> {
    const { platform, userId } = user;
    await this.db.query(`INSERT INTO user_keys (platform, user_id, fingerprint, public_key, key_type, comment, added_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (platform, user_id, fingerprint) DO NOTHING`,
    [platform, userId, key.fingerprint, key.publicKey, key.keyType, key.comment, Date.now()]);
    const { rows } = await this.db.query<KeyRow>(
      "SELECT * FROM user_keys WHERE platform = $1 AND user_id = $2 AND fingerprint = $3", [platform, userId, key.fingerprint]);
    return toKey(rows[0]!);
  }

  async listUserKeys(user: UserRef): Promise<UserKey[]> {
    const { rows } = await this.db.query<KeyRow>(
      `SELECT * FROM user_keys WHERE platform = $1 AND user_id = $2 ORDER BY added_at, fingerprint COLLATE "C"`, [user.platform, user.userId]);
    return rows.map(toKey);
  }

  async removeUserKey(user: UserRef, fingerprint: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM user_keys WHERE platform = $1 AND user_id = $2 AND fingerprint = $3", [user.platform, user.userId, fingerprint]);
    return (r.rowCount ?? 0) > 0;
  }
}

function toKey(r: KeyRow): UserKey {
  return { fingerprint: r.fingerprint, publicKey: r.public_key, keyType: r.key_type, comment: r.comment, addedAt: r.added_at };
}
