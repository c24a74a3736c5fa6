// Pending "Connect OpenRouter" sign-ins: one row per one-time link, found by the hash of its
// state, bound to the user who asked, holding the PKCE verifier sealed. The SQL for that table.
import type Database from "better-sqlite3";
import type { UserRef } from "./types.js";

/** A pending sign-in as stored; the state itself is never kept, only its SHA-256. */
export interface OAuthStateRecord {
  stateHash: string;
  user: UserRef;
  /** Where the user asked, so the outcome can be told to them there. */
  workspace: string;
  channel: string;
  /** The PKCE code verifier, sealed by the SecretBox. */
  sealedVerifier: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface OAuthState {
  /** Record a new sign-in; the user's earlier unused ones and everyone's long-expired ones are dropped. */
  saveOAuthState(rec: Omit<OAuthStateRecord, "usedAt">): void;
  findOAuthState(stateHash: string): OAuthStateRecord | undefined;
  /** Mark a state used; true only for the one caller that found it unused and unexpired at `at`. */
  consumeOAuthState(stateHash: string, at?: number): boolean;
}

interface StateRow {
  state_hash: string; platform: string; user_id: string; workspace: string; channel: string;
  sealed_verifier: string; created_at: number; expires_at: number; used_at: number | null;
}

/** Used and expired rows stay this long, so a replayed link is told "already used", then go. */
const KEEP_ENDED_MS = 24 * 3_600_000;

export class OAuthTables implements OAuthState {
  private readonly sql;

  constructor(private readonly db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      insert: p<never>(`INSERT INTO oauth_states (state_hash, platform, user_id, workspace, channel, sealed_verifier, created_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      dropUnused: p<never>("DELETE FROM oauth_states WHERE platform = ? AND user_id = ? AND used_at IS NULL"),
      dropOld: p<never>("DELETE FROM oauth_states WHERE expires_at < ?"),
      find: p<StateRow>("SELECT * FROM oauth_states WHERE state_hash = ?"),
      consume: p<never>("UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?"),
    };
  }

  saveOAuthState(r: Omit<OAuthStateRecord, "usedAt">): void {
    this.db.transaction(() => {
      this.sql.dropOld.run(r.createdAt - KEEP_ENDED_MS);
      this.sql.dropUnused.run(r.user.platform, r.user.userId);
      this.sql.insert.run(r.stateHash, r.user.platform, r.user.userId, r.workspace, r.channel, r.sealedVerifier, r.createdAt, r.expiresAt);
    })();
  }

  findOAuthState(stateHash: string): OAuthStateRecord | undefined {
    const r = this.sql.find.get(stateHash);
    return r && {
      stateHash: r.state_hash, user: { platform: r.platform, userId: r.user_id }, workspace: r.workspace, channel: r.channel,
      sealedVerifier: r.sealed_verifier, createdAt: r.created_at, expiresAt: r.expires_at, usedAt: r.used_at,
    };
  }

  consumeOAuthState(stateHash: string, at = Date.now()): boolean {
    return this.sql.consume.run(at, stateHash, at).changes === 1;
  }
}
