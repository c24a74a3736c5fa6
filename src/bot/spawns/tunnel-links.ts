// Private dashboard links through the bot's tunnel gateway: a fresh 128-bit token per link,
// stored only as its hash, bound to one spawn and the user it was given to, expiring with the
// spawn, revoked when it is deleted or (that user's links) when it is unshared.
import { newTunnelToken, tunnelOrigin, type TunnelTarget } from "../../orchestrator/index.js";
import type { CoreContext } from "../context.js";
import { hostRecord } from "../access/spawn-access.js";
import type { SpawnRecord, UserRef } from "../store/index.js";

/** A new gateway link to a ready spawn's dashboard for one user, or undefined when there is none to give. */
export async function mintGatewayUrl(ctx: CoreContext, rec: SpawnRecord, user: UserRef): Promise<string | undefined> {
  const publicUrl = ctx.settings.publicUrl;
  const dashboard = ctx.orchestrator.agent(rec.agent)?.dashboard;
  const host = await hostRecord(ctx, rec);
  if (!publicUrl || !dashboard || !ctx.orchestrator.tunnelTarget(rec.id, host)) return undefined;
  const { token, hash } = newTunnelToken();
  await ctx.store.saveTunnelToken({ tokenHash: hash, spawnId: rec.id, user, createdAt: Date.now(), expiresAt: rec.expiresAt, revokedAt: null });
  const path = dashboard.path.replace("{token}", ctx.orchestrator.dashboardToken(host) ?? "");
  const rooted = path.startsWith("/") ? path : `/${path}`;
  const domain = ctx.settings.tunnelDomain;
  // Each dashboard on its own origin when a tunnel domain is set; the shared-origin path form otherwise.
  return domain ? `${tunnelOrigin(publicUrl, domain, token)}${rooted}` : `${publicUrl}/t/${token}${rooted}`;
}

/** The gateway's only way in: a token hash to a target, for live, unexpired, unrevoked tokens. */
export async function resolveTunnel(ctx: CoreContext, tokenHash: string, now = Date.now()): Promise<TunnelTarget | undefined> {
  const t = await ctx.store.findTunnelToken(tokenHash);
  if (!t || t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= now)) return undefined;
  const rec = await ctx.store.getSpawn(t.spawnId);
  if (!rec || rec.status !== "ready") return undefined;
  if (t.user && !(await stillMayReach(ctx, rec, t.user))) return undefined;
  return ctx.orchestrator.tunnelTarget(rec.id, await hostRecord(ctx, rec));
}

/**
 * The user a link was given to still has the spawn: its owner, an admin, or someone it is still
 * shared with. Unshare revokes their links anyway; this holds even if that revocation was cut short.
 */
async function stillMayReach(ctx: CoreContext, rec: SpawnRecord, user: UserRef): Promise<boolean> {
  if (user.platform === rec.platform && user.userId === rec.ownerId) return true;
  if (ctx.settings.admins.includes(user.userId)) return true;
  return (await ctx.store.listShares(rec.id)).some((u) => u.platform === user.platform && u.userId === user.userId);
}

/** Revoke a spawn's links and drop the gateway's connection to it. */
export async function revokeTunnels(ctx: CoreContext, spawnId: string): Promise<void> {
  await ctx.store.revokeTunnelTokens(spawnId);
  await ctx.gateway?.closeSpawn(spawnId);
}

/** Revoke the links of a spawn given to one user (unshare) and cut what is open through them now. */
export async function revokeUserTunnels(ctx: CoreContext, spawnId: string, user: UserRef): Promise<number> {
  const hashes = await ctx.store.revokeUserTunnelTokens(spawnId, user);
  if (hashes.length) await ctx.gateway?.closeTokens(hashes);
  return hashes.length;
}
