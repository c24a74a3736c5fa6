// What each user keeps for themselves: a default model per agent and the SSH public keys added to
// their spawns. The SQL for those two tables; SqliteStore delegates to this.
import type Database from "better-sqlite3";
import type { ModelPreference, UserKey, UserRef } from "./types.js";

interface KeyRow { fingerprint: string; public_key: string; key_type: string; comment: string; added_at: number }

export class UserTables {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      setPref: p<never>(`INSERT INTO model_prefs (platform, user_id, agent, model) VALUES (?, ?, ?, ?)
        ON CONFLICT (platform, user_id, agent) DO UPDATE SET model = excluded.model`),
      clearPref: p<never>("DELETE FROM model_prefs WHERE platform = ? AND user_id = ? AND agent = ?"),
      getPref: p<{ model: string }>("SELECT model FROM model_prefs WHERE platform = ? AND user_id = ? AND agent = ?"),
      listPrefs: p<ModelPreference>("SELECT agent, model FROM model_prefs WHERE platform = ? AND user_id = ? ORDER BY agent"),
      addKey: p<never>(`INSERT INTO user_keys (platform, user_id, fingerprint, public_key, key_type, comment, added_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, user_id, fingerprint) DO NOTHING`),
      getKey: p<KeyRow>("SELECT * FROM user_keys WHERE platform = ? AND user_id = ? AND fingerprint = ?"),
      listKeys: p<KeyRow>("SELECT * FROM user_keys WHERE platform = ? AND user_id = ? ORDER BY added_at, fingerprint"),
      removeKey: p<never>("DELETE FROM user_keys WHERE platform = ? AND user_id = ? AND fingerprint = ?"),
    };
  }

  setModelPreference(user: UserRef, agent: string, model: string): void {
    this.sql.setPref.run(user.platform, user.userId, agent, model);
  }

  clearModelPreference(user: UserRef, agent: string): boolean {
    return this.sql.clearPref.run(user.platform, user.userId, agent).changes > 0;
  }

  getModelPreference(user: UserRef, agent: string): string | undefined {
    return this.sql.getPref.get(user.platform, user.userId, agent)?.model;
  }

  listModelPreferences(user: UserRef): ModelPreference[] {
    return this.sql.listPrefs.all(user.platform, user.userId);
  }

  addUserKey(user: UserRef, key: Omit<UserKey, "addedAt">): UserKey {
    const { platform, userId } = user;
    this.sql.addKey.run(platform, userId, key.fingerprint, key.publicKey, key.keyType, key.comment, Date.now());
    return toKey(this.sql.getKey.get(platform, userId, key.fingerprint)!);
  }

  listUserKeys(user: UserRef): UserKey[] {
    return this.sql.listKeys.all(user.platform, user.userId).map(toKey);
  }

  removeUserKey(user: UserRef, fingerprint: string): boolean {
    return this.sql.removeKey.run(user.platform, user.userId, fingerprint).changes > 0;
  }
}

function toKey(r: KeyRow): UserKey {
  return { fingerprint: r.fingerprint, publicKey: r.public_key, keyType: r.key_type, comment: r.comment, addedAt: r.added_at };
}
