// The host record of a spawn, as the orchestrator wants it. Who may act on a spawn is policy.ts.
import type { HostRecord } from "../orchestrator/index.js";
import type { CoreContext } from "./context.js";
import { hostAuthOf, hostEndpoint } from "./host-access.js";
import type { SpawnRecord } from "./store/index.js";

export function hostRecord(ctx: CoreContext, rec: SpawnRecord): HostRecord {
  // An adopted host's key is pinned per host: a key its owner accepted since (`hosts trust`) applies.
  const pin = rec.cloud === "ssh" && rec.address && rec.sshPort ? ctx.store.hosts.getPin(hostEndpoint(rec.address, rec.sshPort))?.hostKey : undefined;
  return {
    spawnId: rec.id, cloud: rec.cloud, agent: rec.agent, serverId: rec.serverId, address: rec.address, sshUser: rec.sshUser, sshPort: rec.sshPort,
    hostKey: pin ?? rec.hostKey, session: rec.session, meta: rec.meta, sshAuth: hostAuthOf(ctx, rec),
  };
}
