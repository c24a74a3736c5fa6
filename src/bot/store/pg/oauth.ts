// Pending Connect OpenRouter sign-ins in PostgreSQL. Confirming and consuming a state are single
// conditional UPDATEs: of two replicas handed the same link, one sees its row change.
import type { NewOAuthState, OAuthState, OAuthStateRecord } from "../oauth-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

interface StateRow {
  state_hash: string; platform: string; user_id: string; user_name: string; workspace: string; channel: string;
  sealed_verifier: string; created_at: number; expires_at: number; confirmed_at: number | null; used_at: number | null;
  code_hash: string | null; connected_at: number | null;
}

/** Used and expired rows stay this long, so a replayed link is told "already used", then go (as SQLite). */
const KEEP_ENDED_MS = 24 * 3_600_000;

export class PgOAuthTables implements Promised<OAuthState> {
  constructor(private readonly db: Db) {}

  saveOAuthState(r: NewOAuthState): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.query("DELETE FROM oauth_states WHERE expires_at < $1", [r.createdAt - KEEP_ENDED_MS]);
      await tx.query("DELETE FROM oauth_states WHERE platform = $1 AND user_id = $2 AND used_at IS NULL", [r.user.platform, r.user.userId]);
      await tx.query(`INSERT INTO oauth_states (state_hash, platform, user_id, user_name, workspace, channel, sealed_verifier, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [r.stateHash, r.user.platform, r.user.userId, r.userName, r.workspace, r.channel, r.sealedVerifier, r.createdAt, r.expiresAt]);
    });
  }

  async findOAuthState(stateHash: string): Promise<OAuthStateRecord | undefined> {
    const { rows } = await this.db.query<StateRow>("SELECT * FROM oauth_states WHERE state_hash = $1", [stateHash]);
    const r = rows[0];
    return r && {
      stateHash: r.state_hash, user: { platform: r.platform, userId: r.user_id }, userName: r.user_name, workspace: r.workspace,
      channel: r.channel, sealedVerifier: r.sealed_verifier, createdAt: r.created_at, expiresAt: r.expires_at,
      confirmedAt: r.confirmed_at, usedAt: r.used_at, codeHash: r.code_hash, connectedAt: r.connected_at,
    };
  }

  async confirmOAuthState(stateHash: string, at = Date.now()): Promise<boolean> {
    const r = await this.db.query(`UPDATE oauth_states SET confirmed_at = $1
      WHERE state_hash = $2 AND confirmed_at IS NULL AND used_at IS NULL AND expires_at > $1`, [at, stateHash]);
    return r.rowCount === 1;
  }

  async consumeOAuthState(stateHash: string, codeHash: string, at = Date.now()): Promise<boolean> {
    const r = await this.db.query(`UPDATE oauth_states SET used_at = $1, code_hash = $2
      WHERE state_hash = $3 AND confirmed_at IS NOT NULL AND used_at IS NULL AND expires_at > $1`, [at, codeHash, stateHash]);
    return r.rowCount === 1;
  }

  async markOAuthConnected(stateHash: string, at = Date.now()): Promise<void> {
    await this.db.query("UPDATE oauth_states SET connected_at = $1 WHERE state_hash = $2 AND used_at IS NOT NULL", [at, stateHash]);
  }
}
