// Pending "Connect OpenRouter" sign-ins: one row per one-time link, found by the hash of its
// state, bound to the user who asked, holding the PKCE verifier sealed. The SQL for that table.
// A link's life: saved → confirmed (the click on the bot's page that names the account) →
// used (OpenRouter's code arrived; code_hash remembers which) → connected (the key is saved).
import type Database from "better-sqlite3";
import type { UserRef } from "./types.js";

/** A pending sign-in as stored; the state itself is never kept, only its SHA-256. */
export interface OAuthStateRecord {
  stateHash: string;
  user: UserRef;
  /** The requester's display name when they asked, shown on the confirmation page. */
  userName: string;
  /** Where the user asked, so the outcome can be told to them there. */
  workspace: string;
  channel: string;
  /** The PKCE code verifier, sealed by the SecretBox. */
  sealedVerifier: string;
  createdAt: number;
  expiresAt: number;
  /** When someone clicked "Continue" on the bot's page; only then may a code be accepted. */
  confirmedAt: number | null;
  usedAt: number | null;
  /** SHA-256 of the code that used the link, so a reload of the success page is recognised. */
  codeHash: string | null;
  /** When the key was saved. */
  connectedAt: number | null;
}

export type NewOAuthState = Omit<OAuthStateRecord, "confirmedAt" | "usedAt" | "codeHash" | "connectedAt">;

export interface OAuthState {
  /** Record a new sign-in; the user's earlier unused ones and everyone's long-expired ones are dropped. */
  saveOAuthState(rec: NewOAuthState): void;
  findOAuthState(stateHash: string): OAuthStateRecord | undefined;
  /** Mark a state confirmed; true only for the one caller that found it unconfirmed, unused and unexpired at `at`. */
  confirmOAuthState(stateHash: string, at?: number): boolean;
  /** Mark a confirmed state used by the code with this hash; true only for the one caller that found it unused and unexpired at `at`. */
  consumeOAuthState(stateHash: string, codeHash: string, at?: number): boolean;
  /** Record that the key from this state's code was saved. */
  markOAuthConnected(stateHash: string, at?: number): void;
}

interface StateRow {
  state_hash: string; platform: string; user_id: string; user_name: string; workspace: string; channel: string;
  sealed_verifier: string; created_at: number; expires_at: number; confirmed_at: number | null; used_at: number | null;
  code_hash: string | null; connected_at: number | null;
}

/** Used and expired rows stay this long, so a replayed link is told "already used", then go. */
const KEEP_ENDED_MS = 24 * 3_600_000;

export class OAuthTables implements OAuthState {
  private readonly sql;

  constructor(private readonly db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      insert: p<never>(`INSERT INTO oauth_states (state_hash, platform, user_id, user_name, workspace, channel, sealed_verifier, created_at, expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      dropUnused: p<never>("DELETE FROM oauth_states WHERE platform = ? AND user_id = ? AND used_at IS NULL"),
      dropOld: p<never>("DELETE FROM oauth_states WHERE expires_at < ?"),
      find: p<StateRow>("SELECT * FROM oauth_states WHERE state_hash = ?"),
      confirm: p<never>(`UPDATE oauth_states SET confirmed_at = ?
        WHERE state_hash = ? AND confirmed_at IS NULL AND used_at IS NULL AND expires_at > ?`),
      consume: p<never>(`UPDATE oauth_states SET used_at = ?, code_hash = ?
        WHERE state_hash = ? AND confirmed_at IS NOT NULL AND used_at IS NULL AND expires_at > ?`),
      connected: p<never>("UPDATE oauth_states SET connected_at = ? WHERE state_hash = ? AND used_at IS NOT NULL"),
    };
  }

  saveOAuthState(r: NewOAuthState): void {
    this.db.transaction(() => {
      this.sql.dropOld.run(r.createdAt - KEEP_ENDED_MS);
      this.sql.dropUnused.run(r.user.platform, r.user.userId);
      this.sql.insert.run(r.stateHash, r.user.platform, r.user.userId, r.userName, r.workspace, r.channel, r.sealedVerifier, r.createdAt, r.expiresAt);
    })();
  }

  findOAuthState(stateHash: string): OAuthStateRecord | undefined {
    const r = this.sql.find.get(stateHash);
    return r && {
      stateHash: r.state_hash, user: { platform: r.platform, userId: r.user_id }, userName: r.user_name, workspace: r.workspace,
      channel: r.channel, sealedVerifier: r.sealed_verifier, createdAt: r.created_at, expiresAt: r.expires_at,
      confirmedAt: r.confirmed_at, usedAt: r.used_at, codeHash: r.code_hash, connectedAt: r.connected_at,
    };
  }

  confirmOAuthState(stateHash: string, at = Date.now()): boolean {
    return this.sql.confirm.run(at, stateHash, at).changes === 1;
  }

  consumeOAuthState(stateHash: string, codeHash: string, at = Date.now()): boolean {
    return this.sql.consume.run(at, codeHash, stateHash, at).changes === 1;
  }

  markOAuthConnected(stateHash: string, at = Date.now()): void {
    this.sql.connected.run(at, stateHash);
  }
}
