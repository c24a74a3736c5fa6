// Finding a spawn from a command, and who may act on it: its owner and admins act; users it
// is shared with may also see its connect details.
import type { HostRecord } from "../orchestrator/index.js";
import type { CoreContext, Invocation } from "./context.js";
import type { SpawnRecord } from "./store/index.js";
import { error } from "./views.js";

export function findSpawn(ctx: CoreContext, inv: Invocation, ref: string): SpawnRecord | undefined {
  return ctx.store.findSpawn(ref, { owner: inv.user, platform: inv.req.platform, workspace: inv.req.workspace });
}

export const notFound = (ref: string) => error(`no spawn called ${ref} here; \`list\` shows the channel's spawns`);

export function mayAct(inv: Invocation, rec: SpawnRecord): boolean {
  return inv.isAdmin || (rec.platform === inv.req.platform && rec.ownerId === inv.user.userId);
}

export function maySee(ctx: CoreContext, inv: Invocation, rec: SpawnRecord): boolean {
  return mayAct(inv, rec) || ctx.store.listShares(rec.id).some((u) => u.platform === inv.user.platform && u.userId === inv.user.userId);
}

export function hostRecord(rec: SpawnRecord): HostRecord {
  return { cloud: rec.cloud, agent: rec.agent, serverId: rec.serverId, address: rec.address, sshUser: rec.sshUser, sshPort: rec.sshPort, hostKey: rec.hostKey, session: rec.session, meta: rec.meta };
}
