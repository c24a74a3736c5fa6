// Who else may reach a spawn: shares with other users and the tunnel tokens of its dashboard.
// The SQL for those two tables; SqliteStore delegates to this.
import type Database from "better-sqlite3";
import type { TunnelTokenRecord, UserRef } from "./types.js";

interface ShareRow { platform: string; user_id: string }
interface TokenRow { token_hash: string; spawn_id: string; platform: string | null; user_id: string | null; created_at: number; expires_at: number | null; revoked_at: number | null }

export class AccessTables {
  private readonly sql;

  private readonly revokeForUser;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      addShare: p<never>("INSERT OR IGNORE INTO spawn_shares (spawn_id, platform, user_id, added_at) VALUES (?, ?, ?, ?)"),
      removeShare: p<never>("DELETE FROM spawn_shares WHERE spawn_id = ? AND platform = ? AND user_id = ?"),
      listShares: p<ShareRow>("SELECT platform, user_id FROM spawn_shares WHERE spawn_id = ? ORDER BY added_at, rowid"),
      listSharedWith: p<{ spawn_id: string }>("SELECT spawn_id FROM spawn_shares WHERE platform = ? AND user_id = ? ORDER BY added_at, rowid"),
      saveToken: p<never>("INSERT INTO tunnel_tokens (token_hash, spawn_id, platform, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
      findToken: p<TokenRow>("SELECT * FROM tunnel_tokens WHERE token_hash = ?"),
      revokeTokens: p<never>("UPDATE tunnel_tokens SET revoked_at = ? WHERE spawn_id = ? AND revoked_at IS NULL"),
      liveUserTokens: p<{ token_hash: string }>("SELECT token_hash FROM tunnel_tokens WHERE spawn_id = ? AND platform = ? AND user_id = ? AND revoked_at IS NULL"),
      revokeUserTokens: p<never>("UPDATE tunnel_tokens SET revoked_at = ? WHERE spawn_id = ? AND platform = ? AND user_id = ? AND revoked_at IS NULL"),
    };
    // Read and revoke in one transaction, so a link minted in between is either both or neither.
    this.revokeForUser = db.transaction((spawnId: string, user: UserRef, at: number): string[] => {
      const hashes = this.sql.liveUserTokens.all(spawnId, user.platform, user.userId).map((r) => r.token_hash);
      this.sql.revokeUserTokens.run(at, spawnId, user.platform, user.userId);
      return hashes;
    });
  }

  addShare(spawnId: string, user: UserRef, at = Date.now()): boolean {
    return this.sql.addShare.run(spawnId, user.platform, user.userId, at).changes > 0;
  }

  removeShare(spawnId: string, user: UserRef): boolean {
    return this.sql.removeShare.run(spawnId, user.platform, user.userId).changes > 0;
  }

  listShares(spawnId: string): UserRef[] {
    return this.sql.listShares.all(spawnId).map((r) => ({ platform: r.platform, userId: r.user_id }));
  }

  listSharedWith(user: UserRef): string[] {
    return this.sql.listSharedWith.all(user.platform, user.userId).map((r) => r.spawn_id);
  }

  saveTunnelToken(t: TunnelTokenRecord): void {
    this.sql.saveToken.run(t.tokenHash, t.spawnId, t.user?.platform ?? null, t.user?.userId ?? null, t.createdAt, t.expiresAt, t.revokedAt);
  }

  findTunnelToken(tokenHash: string): TunnelTokenRecord | undefined {
    const r = this.sql.findToken.get(tokenHash);
    if (!r) return undefined;
    const user = r.platform !== null && r.user_id !== null ? { platform: r.platform, userId: r.user_id } : null;
    return { tokenHash: r.token_hash, spawnId: r.spawn_id, user, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at };
  }

  revokeTunnelTokens(spawnId: string, at = Date.now()): number {
    return this.sql.revokeTokens.run(at, spawnId).changes;
  }

  revokeUserTunnelTokens(spawnId: string, user: UserRef, at = Date.now()): string[] {
    return this.revokeForUser(spawnId, user, at);
  }
}
