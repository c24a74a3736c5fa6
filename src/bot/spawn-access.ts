// The host record of a spawn, as the orchestrator wants it. Who may act on a spawn is policy.ts.
import type { HostRecord } from "../orchestrator/index.js";
import type { SpawnRecord } from "./store/index.js";

export function hostRecord(rec: SpawnRecord): HostRecord {
  return { spawnId: rec.id, cloud: rec.cloud, agent: rec.agent, serverId: rec.serverId, address: rec.address, sshUser: rec.sshUser, sshPort: rec.sshPort, hostKey: rec.hostKey, session: rec.session, meta: rec.meta };
}
