// `share` and `unshare`: another user's keys go onto (or come off) a running spawn, and with
// them the right to see its connect details; unshare also revokes the dashboard links given to
// them. Owner and admins only; every change is audited.
import type { CoreContext, Invocation } from "../context.js";
import { auditAction } from "../access/audit-trail.js";
import { plural } from "../views/format.js";
import { decideOnSpawn, findSpawn, refuse } from "../access/policy.js";
import { hostRecord } from "../access/spawn-access.js";
import { revokeUserTunnels } from "../spawns/tunnel-links.js";
import { error, text } from "../views/views.js";

export async function handleShare(ctx: CoreContext, inv: Invocation, ref: string, userId: string, share: boolean): Promise<void> {
  const found = await findSpawn(ctx, inv, ref, share ? "share" : "unshare");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, share ? "share" : "unshare", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: share ? "share" : "unshare", spawnId: rec.id, detail: { with: userId } });
  if (rec.status !== "ready") return inv.conv.whisper(error(`${rec.name} is ${rec.status}; only a ready spawn can be shared`));
  const other = { platform: rec.platform, userId };
  if (userId === rec.ownerId) return inv.conv.whisper(error(`${rec.name} is already ${userId}'s own spawn`));
  const theirKeys = (await ctx.store.listUserKeys(other)).map((k) => k.publicKey);
  if (share) {
    const added = await ctx.orchestrator.updateKeys(await hostRecord(ctx, rec), { add: theirKeys });
    await ctx.store.addShare(rec.id, other);
    await auditAction(ctx, inv, "share", { spawnId: rec.id, detail: { with: userId, keys: added.added } });
    const keysNote = theirKeys.length ? (theirKeys.length === 1 ? "their SSH key is installed" : `their ${theirKeys.length} SSH keys are installed`) : `they have no SSH key on file yet; the one they add with \`keys add\` will be installed`;
    return inv.conv.whisper(text(`${rec.name} is shared with ${userId}: ${keysNote}; \`connect ${rec.name}\` now works for them`));
  }
  if (!(await ctx.store.listShares(rec.id)).some((u) => u.userId === userId)) return inv.conv.whisper(error(`${rec.name} is not shared with ${userId}`));
  // Keep any key the owner also has: unsharing must not lock the owner out.
  const ownerKeys = new Set((await ctx.store.listUserKeys({ platform: rec.platform, userId: rec.ownerId })).map((k) => k.publicKey.split(" ").slice(0, 2).join(" ")));
  const remove = theirKeys.filter((k) => !ownerKeys.has(k.split(" ").slice(0, 2).join(" ")));
  // Links first: they need no host, so a host that cannot be reached right now does not keep them
  // alive. The share goes last: if the keys cannot be removed now, unshare can be run again.
  const links = await revokeUserTunnels(ctx, rec.id, other);
  const removed = await ctx.orchestrator.updateKeys(await hostRecord(ctx, rec), { remove });
  await ctx.store.removeShare(rec.id, other);
  await auditAction(ctx, inv, "unshare", { spawnId: rec.id, detail: { with: userId, keys: removed.removed, links } });
  const linksNote = links ? `; ${plural(links, "dashboard link")} revoked` : "";
  return inv.conv.whisper(text(`${rec.name} is no longer shared with ${userId}; ${plural(removed.removed, "key")} removed from it${linksNote}`));
}
