// Who else may reach a spawn (shares) and its dashboard links (tunnel tokens), in PostgreSQL.
// Revoking one user's links is one UPDATE … RETURNING: the hashes returned are exactly the ones
// it revoked, even while another replica mints a link.
import type { TunnelTokenRecord, UserRef } from "../types.js";
import type { Db } from "./pool.js";

interface TokenRow { token_hash: string; spawn_id: string; platform: string | null; user_id: string | null; created_at: number; expires_at: number | null; revoked_at: number | null }

export class PgAccessTables {
  constructor(private readonly db: Db) {}

  async addShare(spawnId: string, user: UserRef, at = Date.now()): Promise<boolean> {
    const r = await this.db.query(`INSERT INTO spawn_shares (spawn_id, platform, user_id, added_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING`, [spawnId, user.platform, user.userId, at]);
    return r.rowCount === 1;
  }

  async removeShare(spawnId: string, user: UserRef): Promise<boolean> {
    const r = await this.db.query("DELETE FROM spawn_shares WHERE spawn_id = $1 AND platform = $2 AND user_id = $3", [spawnId, user.platform, user.userId]);
    return (r.rowCount ?? 0) > 0;
  }

  async listShares(spawnId: string): Promise<UserRef[]> {
    const { rows } = await this.db.query<{ platform: string; user_id: string }>(
      "SELECT platform, user_id FROM spawn_shares WHERE spawn_id = $1 ORDER BY added_at, row_order", [spawnId]);
    return rows.map((r) => ({ platform: r.platform, userId: r.user_id }));
  }

  async listSharedWith(user: UserRef): Promise<string[]> {
    const { rows } = await this.db.query<{ spawn_id: string }>(
      "SELECT spawn_id FROM spawn_shares WHERE platform = $1 AND user_id = $2 ORDER BY added_at, row_order", [user.platform, user.userId]);
    return rows.map((r) => r.spawn_id);
  }

  async saveTunnelToken(t: TunnelTokenRecord): Promise<void> {
    await this.db.query(`INSERT INTO tunnel_tokens (token_hash, spawn_id, platform, user_id, created_at, expires_at, revoked_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7)`, [t.tokenHash, t.spawnId, t.user?.platform ?? null, t.user?.userId ?? null, t.createdAt, t.expiresAt, t.revokedAt]);
  }

  async findTunnelToken(tokenHash: string): Promise<TunnelTokenRecord | undefined> {
    const { rows } = await this.db.query<TokenRow>("SELECT * FROM tunnel_tokens WHERE token_hash = $1", [tokenHash]);
    const r = rows[0];
    if (!r) return undefined;
    const user = r.platform !== null && r.user_id !== null ? { platform: r.platform, userId: r.user_id } : null;
    return { tokenHash: r.token_hash, spawnId: r.spawn_id, user, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at };
  }

  async revokeTunnelTokens(spawnId: string, at = Date.now()): Promise<number> {
    const r = await this.db.query("UPDATE tunnel_tokens SET revoked_at = $1 WHERE spawn_id = $2 AND revoked_at IS NULL", [at, spawnId]);
    return r.rowCount ?? 0;
  }

  async revokeUserTunnelTokens(spawnId: string, user: UserRef, at = Date.now()): Promise<string[]> {
    const { rows } = await this.db.query<{ token_hash: string }>(`UPDATE tunnel_tokens SET revoked_at = $1
      WHERE spawn_id = $2 AND platform = $3 AND user_id = $4 AND revoked_at IS NULL RETURNING token_hash`, [at, spawnId, user.platform, user.userId]);
    return rows.map((r) => r.token_hash);
  }
}
