// Host keys pinned per SSH endpoint and hosts admins share with channels, in PostgreSQL. The first
// pin wins through INSERT … ON CONFLICT DO NOTHING; the pin in force is read in a later statement,
// so it sees whichever replica's pin committed first.
import * as v from "valibot";
import type { HostPin, HostState, SharedHost } from "../host-tables.js";
import type { UserRef } from "../types.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

interface PinRow { endpoint: string; host_key: string; owner_platform: string; owner_id: string; pinned_at: number; seen_key: string | null }
interface SharedRow { platform: string; workspace: string; target: string; channels: unknown; added_by: string; added_at: number }

const ChannelsSchema = v.array(v.string());

export class PgHostTables implements Promised<HostState> {
  constructor(private readonly db: Db) {}

  async getPin(endpoint: string): Promise<HostPin | undefined> {
    const { rows } = await this.db.query<PinRow>("SELECT * FROM host_pins WHERE endpoint = $1", [endpoint]);
    const r = rows[0];
    return r && { endpoint: r.endpoint, hostKey: r.host_key, owner: { platform: r.owner_platform, userId: r.owner_id }, pinnedAt: r.pinned_at, seenKey: r.seen_key };
  }

  async pinHostKey(endpoint: string, hostKey: string, owner: UserRef, at = Date.now()): Promise<HostPin> {
    await this.db.query(`INSERT INTO host_pins (endpoint, host_key, owner_platform, owner_id, pinned_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (endpoint) DO NOTHING`, [endpoint, hostKey, owner.platform, owner.userId, at]);
    return (await this.getPin(endpoint))!;
  }

  async noteSeenKey(endpoint: string, hostKey: string, at = Date.now()): Promise<void> {
    await this.db.query("UPDATE host_pins SET seen_key = $1, seen_at = $2 WHERE endpoint = $3 AND host_key <> $1", [hostKey, at, endpoint]);
  }

  async acceptSeenKey(endpoint: string): Promise<boolean> {
    const r = await this.db.query(
      "UPDATE host_pins SET host_key = seen_key, seen_key = NULL, seen_at = NULL WHERE endpoint = $1 AND seen_key IS NOT NULL", [endpoint]);
    return (r.rowCount ?? 0) > 0;
  }

  async saveSharedHost(h: SharedHost): Promise<void> {
    await this.db.query(`INSERT INTO shared_hosts (platform, workspace, target, channels, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (platform, workspace, target) DO UPDATE SET channels = excluded.channels, added_by = excluded.added_by, added_at = excluded.added_at`,
    [h.platform, h.workspace, h.target, JSON.stringify(h.channels), h.addedBy, h.addedAt]);
  }

  async removeSharedHost(platform: string, workspace: string, target: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM shared_hosts WHERE platform = $1 AND workspace = $2 AND target = $3", [platform, workspace, target]);
    return (r.rowCount ?? 0) > 0;
  }

  async listSharedHosts(platform: string, workspace: string): Promise<SharedHost[]> {
    const { rows } = await this.db.query<SharedRow>(
      `SELECT * FROM shared_hosts WHERE platform = $1 AND workspace = $2 ORDER BY added_at, target COLLATE "C"`, [platform, workspace]);
    return rows.map((r) => ({
      platform: r.platform, workspace: r.workspace, target: r.target, channels: v.parse(ChannelsSchema, r.channels),
      addedBy: r.added_by, addedAt: r.added_at,
    }));
  }
}
