// Spawns, steps and audit rows as a store's SQL returns them, and their records: one mapping and
// one validation for both stores. JSON columns arrive as text from SQLite and already parsed from
// PostgreSQL; json() takes either.
import { SpawnOptionsSchema as OptionsSchema } from "./spawn-options.js";
import * as v from "valibot";
import type { AuditEntry, SpawnRecord, SpawnStatus, StepRecord, StepState } from "./types.js";

const json = (value: unknown): unknown => (typeof value === "string" ? JSON.parse(value) : value);

const MetaSchema = v.record(v.string(), v.string());
const DetailSchema = v.record(v.string(), v.unknown());
export interface SpawnRow {
  id: string; name: string; platform: string; workspace: string; channel: string;
  owner_id: string; owner_name: string; agent: string; cloud: string;
  model: string | null; size: string | null; zone: string | null; status: string;
  server_id: string | null; address: string | null; ssh_user: string | null; ssh_port: number | null;
  host_key: string | null; session: string; prompt: string | null; error: string | null; meta: unknown;
  created_at: number; ready_at: number | null; deleted_at: number | null; expires_at: number | null;
  ssh_identity: string | null; options: unknown; marked_host: number;
}
export interface StepRow {
  spawn_id: string; seq: number; name: string; state: string; detail: string | null;
  started_at: number | null; ended_at: number | null;
}
export interface AuditRow {
  id: number; at: number; platform: string; workspace: string | null; channel: string | null; user_id: string; action: string; spawn_id: string | null; detail: unknown;
}

export function toSpawn(r: SpawnRow): SpawnRecord {
  return {
    id: r.id, name: r.name, platform: r.platform, workspace: r.workspace, channel: r.channel,
    ownerId: r.owner_id, ownerName: r.owner_name, agent: r.agent, cloud: r.cloud,
    model: r.model, size: r.size, zone: r.zone, status: r.status as SpawnStatus,
    serverId: r.server_id, address: r.address, sshUser: r.ssh_user, sshPort: r.ssh_port,
    hostKey: r.host_key, session: r.session, prompt: r.prompt, error: r.error,
    meta: v.parse(MetaSchema, json(r.meta)),
    createdAt: r.created_at, readyAt: r.ready_at, deletedAt: r.deleted_at, expiresAt: r.expires_at,
    sshIdentity: r.ssh_identity === "owner" ? "owner" : "bot",
    options: r.options === null ? null : v.parse(OptionsSchema, json(r.options)),
    ...(r.marked_host === 0 ? { markedHost: false } : {}), // absent means marked: only old rows carry it
  };
}

export function toStep(r: StepRow): StepRecord {
  return {
    spawnId: r.spawn_id, seq: r.seq, name: r.name, state: r.state as StepState,
    detail: r.detail, startedAt: r.started_at, endedAt: r.ended_at,
  };
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    id: r.id, at: r.at, platform: r.platform, workspace: r.workspace, channel: r.channel, userId: r.user_id, action: r.action,
    spawnId: r.spawn_id, detail: v.parse(DetailSchema, json(r.detail)),
  };
}
