// The host record of a spawn, as the orchestrator wants it, and the other live spawns sharing its
// host user. Who may act on a spawn is policy.ts.
import type { HostRecord } from "../../orchestrator/index.js";
import type { CoreContext } from "../context.js";
import { hostAuthOf, hostEndpoint } from "./host-access.js";
import type { SpawnRecord, Store } from "../store/index.js";

export async function hostRecord(ctx: CoreContext, rec: SpawnRecord): Promise<HostRecord> {
  // An adopted host's key is pinned per host: a key its owner accepted since (`hosts trust`) applies.
  const pin = rec.cloud === "ssh" && rec.address && rec.sshPort ? (await ctx.store.hosts.getPin(hostEndpoint(rec.address, rec.sshPort)))?.hostKey : undefined;
  return {
    spawnId: rec.id, markedHost: rec.markedHost, cloud: rec.cloud, agent: rec.agent, serverId: rec.serverId, address: rec.address,
    sshUser: rec.sshUser, sshPort: rec.sshPort, hostKey: pin ?? rec.hostKey, session: rec.session, meta: rec.meta, sshAuth: await hostAuthOf(ctx, rec),
  };
}

/**
 * The other live spawns of the bot on the same host user as rec (same cloud, address, port and
 * login), whatever their owner or platform: while one lives, the files spawns share there stay.
 * A spawn whose host is not known yet does not count, nor one being deleted itself (two deletes
 * at once must not each keep the shared files for the other).
 */
export async function neighboursOnHost(store: Store, rec: Pick<SpawnRecord, "id" | "cloud" | "address" | "sshPort" | "sshUser">): Promise<SpawnRecord[]> {
  if (!rec.address) return [];
  return (await store.listLive()).filter((o) =>
    o.id !== rec.id && o.status !== "deleting" && o.cloud === rec.cloud && o.address === rec.address && o.sshPort === rec.sshPort && o.sshUser === rec.sshUser);
}
