// Hosts as the bot knows them beyond one spawn: the SSH host key pinned per endpoint, and the
// existing hosts admins share with channels. The SQL for those two tables; SqliteStore delegates to this.
import type Database from "better-sqlite3";
import * as v from "valibot";
import type { UserRef } from "./types.js";

/** The host key pinned for one SSH endpoint ("host:port"), and who owns the pin. */
export interface HostPin {
  endpoint: string;
  hostKey: string;
  owner: UserRef;
  pinnedAt: number;
  /** A different key the endpoint presented since, refused until the owner or an admin trusts it. */
  seenKey: string | null;
}

/** An existing host an admin registered for some channels of a workspace. */
export interface SharedHost {
  platform: string;
  workspace: string;
  /** "user@host:port" */
  target: string;
  channels: string[];
  addedBy: string;
  addedAt: number;
}

export interface HostState {
  getPin(endpoint: string): HostPin | undefined;
  /** Pin a key if the endpoint has none yet; the first pin wins. Returns the pin in force. */
  pinHostKey(endpoint: string, hostKey: string, owner: UserRef, at?: number): HostPin;
  /** Remember a refused different key, for `hosts trust`. */
  noteSeenKey(endpoint: string, hostKey: string, at?: number): void;
  /** Make the last refused key the pinned one; false when no different key was seen. */
  acceptSeenKey(endpoint: string): boolean;
  /** Add or replace the registration of a host in a workspace. */
  saveSharedHost(host: SharedHost): void;
  removeSharedHost(platform: string, workspace: string, target: string): boolean;
  /** Oldest first. */
  listSharedHosts(platform: string, workspace: string): SharedHost[];
}

interface PinRow { endpoint: string; host_key: string; owner_platform: string; owner_id: string; pinned_at: number; seen_key: string | null }
interface SharedRow { platform: string; workspace: string; target: string; channels: string; added_by: string; added_at: number }

const ChannelsSchema = v.array(v.string());

export class HostTables implements HostState {
  private readonly sql;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      getPin: p<PinRow>("SELECT * FROM host_pins WHERE endpoint = ?"),
      pin: p<never>("INSERT INTO host_pins (endpoint, host_key, owner_platform, owner_id, pinned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO NOTHING"),
      seen: p<never>("UPDATE host_pins SET seen_key = ?, seen_at = ? WHERE endpoint = ? AND host_key <> ?"),
      accept: p<never>("UPDATE host_pins SET host_key = seen_key, seen_key = NULL, seen_at = NULL WHERE endpoint = ? AND seen_key IS NOT NULL"),
      saveShared: p<never>(`INSERT INTO shared_hosts (platform, workspace, target, channels, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (platform, workspace, target) DO UPDATE SET channels = excluded.channels, added_by = excluded.added_by, added_at = excluded.added_at`),
      removeShared: p<never>("DELETE FROM shared_hosts WHERE platform = ? AND workspace = ? AND target = ?"),
      listShared: p<SharedRow>("SELECT * FROM shared_hosts WHERE platform = ? AND workspace = ? ORDER BY added_at, target"),
    };
  }

  getPin(endpoint: string): HostPin | undefined {
    const r = this.sql.getPin.get(endpoint);
    return r && { endpoint: r.endpoint, hostKey: r.host_key, owner: { platform: r.owner_platform, userId: r.owner_id }, pinnedAt: r.pinned_at, seenKey: r.seen_key };
  }

  pinHostKey(endpoint: string, hostKey: string, owner: UserRef, at = Date.now()): HostPin {
    this.sql.pin.run(endpoint, hostKey, owner.platform, owner.userId, at);
    return this.getPin(endpoint)!;
  }

  noteSeenKey(endpoint: string, hostKey: string, at = Date.now()): void {
    this.sql.seen.run(hostKey, at, endpoint, hostKey);
  }

  acceptSeenKey(endpoint: string): boolean {
    return this.sql.accept.run(endpoint).changes > 0;
  }

  saveSharedHost(h: SharedHost): void {
    this.sql.saveShared.run(h.platform, h.workspace, h.target, JSON.stringify(h.channels), h.addedBy, h.addedAt);
  }

  removeSharedHost(platform: string, workspace: string, target: string): boolean {
    return this.sql.removeShared.run(platform, workspace, target).changes > 0;
  }

  listSharedHosts(platform: string, workspace: string): SharedHost[] {
    return this.sql.listShared.all(platform, workspace).map((r) => ({
      platform: r.platform, workspace: r.workspace, target: r.target, channels: v.parse(ChannelsSchema, JSON.parse(r.channels)),
      addedBy: r.added_by, addedAt: r.added_at,
    }));
  }
}
