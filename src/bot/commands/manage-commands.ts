// `list`, `status`, `connect` and `delete`: the team's view of its spawns and the owner's
// (or an admin's) actions on one of them.
import type { CoreContext, Invocation } from "../context.js";
import { MAX_DURATION_MS } from "../grammar/duration.js";
import { formatDuration, plural } from "../views/format.js";
import { auditAction } from "../access/audit-trail.js";
import { decideList, decideOnSpawn, findSpawn as find, refuse } from "../access/policy.js";
import { moveSpawnKeyExpiry } from "../spawns/spawn-api-keys.js";
import { spendFact } from "../spawns/spawn-spend.js";
import { costCell, nowOf, totalWorthSaying } from "../spawns/spawn-costs.js";
import { hostRecord } from "../access/spawn-access.js";
import { removeSpawn, statusViewOf } from "../spawns/spawn-removal.js";
import { mintGatewayUrl } from "../spawns/tunnel-links.js";
import { LIVE_STATUSES, type ListScopeQuery, type SpawnRecord } from "../store/index.js";
import type { ListScope } from "../grammar/commands.js";
import { error, text, type ConnectView, type ListView } from "../views/views.js";

/**
 * Rows a list page holds. Each platform's limits fit 25 rows with room to spare: Slack's 3,000
 * characters a section and 50 blocks a message, Discord's 4,096 characters an embed description.
 */
export const LIST_PAGE_SIZE = 25;
/** How far past the page a list's total is counted exactly (10 pages): counting reads each row. */
export const COUNT_AHEAD = 250;

export async function handleList(ctx: CoreContext, inv: Invocation, scope: ListScope, filter?: string, page = 1): Promise<void> {
  const { req } = inv;
  const refusal = decideList(inv, scope);
  if (refusal) return refuse(ctx, inv, refusal, { action: "list-all" });
  const where: ListScopeQuery =
    scope === "all" ? { platform: req.platform }
    : scope === "mine" ? { platform: inv.user.platform, ownerId: inv.user.userId }
    : { platform: req.platform, workspace: req.workspace, channel: req.channel };
  const paging = { filter, limit: LIST_PAGE_SIZE, offset: (page - 1) * LIST_PAGE_SIZE };
  const rows = await (scope === "all" ? ctx.store.listAll(req.platform, paging)
    : scope === "mine" ? ctx.store.listForOwner(inv.user, paging)
    : ctx.store.listForChannel(req.platform, req.workspace, req.channel, paging));
  // Counted up to COUNT_AHEAD past this page: an exact count of a 90,000-spawn channel reads every
  // row (~20 ms a list); past that the page says "250+".
  const countCap = paging.offset + COUNT_AHEAD;
  const counted = await ctx.store.countListed(where, filter, countCap + 1);
  const atLeast = counted > countCap;
  const total = atLeast ? countCap : counted;
  const costs = await ctx.store.costs.getCosts(rows.map((r) => r.id));
  const now = nowOf(ctx);
  const title = scope === "all" ? "All spawns" : scope === "mine" ? "Your spawns" : "Spawns in this channel";
  const pages = Math.max(1, Math.ceil(total / LIST_PAGE_SIZE));
  const more = atLeast || page < pages;
  const next = more ? ["list", scope === "channel" ? "" : `--${scope}`, `--page ${page + 1}`, filter ?? ""].filter(Boolean).join(" ") : undefined;
  const view: ListView = {
    kind: "list",
    title: filter ? `${title} matching "${filter}"` : title,
    rows: rows.map((r) => ({
      id: r.id, name: r.name, agent: r.agent, cloud: r.cloud, model: r.model ?? "", status: r.status, owner: r.ownerName, createdAt: r.createdAt,
      expiresAt: LIVE_STATUSES.includes(r.status) ? r.expiresAt : null, cost: costCell(r, costs.get(r.id), now),
    })),
    empty: total > 0 ? `page ${page} is past the end: the list has ${plural(total, "spawn")} on ${plural(pages, "page")}; try \`list --page ${pages}\``
      : filter ? `no spawn matches "${filter}"` : "no spawns yet; start one with `spawn <agent> <cloud>`",
    page: { number: page, size: LIST_PAGE_SIZE, total, ...(atLeast ? { atLeast } : {}), ...(next ? { next } : {}) },
  };
  return inv.conv.whisper(view);
}

export async function handleStatus(ctx: CoreContext, inv: Invocation, ref: string): Promise<void> {
  const found = await find(ctx, inv, ref, "status");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "status", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "status", spawnId: rec.id });
  const agent = ctx.orchestrator.agent(rec.agent);
  const facts = [`model in effect: ${rec.model ?? "none"}${agent ? ` (${agent.modelWiring})` : ""}`];
  const repo = rec.options?.repo;
  if (repo) facts.push(`repository: ${repo.display} at ${repo.ref ?? "its default branch"}, in ~/${repo.dir} (where the agent starts)`);
  if (rec.expiresAt && LIVE_STATUSES.includes(rec.status)) facts.push(`expires in ${formatDuration(Math.max(0, rec.expiresAt - Date.now()))}`);
  const host = await privateHostFact(ctx, inv, rec);
  if (host) facts.push(host);
  if (rec.error && LIVE_STATUSES.includes(rec.status)) facts.push(`${rec.error}; the bot keeps trying`); // a failed delete, queued for retry
  if (LIVE_STATUSES.includes(rec.status)) {
    const keyFact = await spendFact(ctx, rec); // also keeps the read: the cost line below shows it
    if (keyFact) facts.push(keyFact);
  }
  if (rec.status === "ready") {
    try {
      const health = await ctx.orchestrator.probe(await hostRecord(ctx, rec));
      facts.push(health.sessionAlive ? `agent session ${rec.session} is running` : `agent session ${rec.session} is not running; \`restart ${rec.name}\` brings it back`);
      if (health.dashboard) {
        const { port, answering } = health.dashboard;
        facts.push(answering ? `dashboard on port ${port} is answering` : `dashboard on port ${port} is not answering; \`restart ${rec.name}\` brings it back`);
      }
    } catch (err) {
      facts.push(`cannot check the host: ${(err as Error).message}`);
    }
  }
  return inv.conv.whisper(await statusViewOf(ctx, rec, facts));
}

/**
 * An existing host's address, for those who may see its connect details anyway (owner, admin,
 * shared): the channel's checklist says only "existing host", and `status` is private to the asker.
 */
async function privateHostFact(ctx: CoreContext, inv: Invocation, rec: SpawnRecord): Promise<string | undefined> {
  const cloud = ctx.orchestrator.cloud(rec.cloud);
  if (!cloud?.adopted || cloud.access !== "ssh" || !rec.address || (await decideOnSpawn(ctx, inv, "connect", rec))) return undefined;
  const address = rec.address.includes(":") ? `[${rec.address}]` : rec.address;
  return `host: ${rec.sshUser ?? "?"}@${address}:${rec.sshPort ?? 22} (only you see this)`;
}

export async function handleConnect(ctx: CoreContext, inv: Invocation, ref: string): Promise<void> {
  const found = await find(ctx, inv, ref, "connect");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "connect", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "connect", spawnId: rec.id });
  if (rec.status !== "ready") return inv.conv.whisper(error(`${rec.name} is ${rec.status}, not ready; \`status ${rec.name}\` shows why`));
  const c = ctx.orchestrator.connectInfo(await hostRecord(ctx, rec));
  const view: ConnectView = {
    kind: "connect", spawnId: rec.id, name: rec.name, attachCommand: c.attachCommand, knownHostsLine: c.knownHostsLine,
    hostKeyFingerprint: c.hostKeyFingerprint, tunnelCommand: c.dashboard?.tunnelCommand, dashboardUrl: c.dashboard?.localUrl,
    gatewayUrl: await mintGatewayUrl(ctx, rec, inv.user),
  };
  return inv.conv.whisper(view);
}

export async function handleExtend(ctx: CoreContext, inv: Invocation, ref: string, byMs?: number): Promise<void> {
  const found = await find(ctx, inv, ref, "extend");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "extend", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "extend", spawnId: rec.id });
  if (!LIVE_STATUSES.includes(rec.status) || rec.status === "deleting") return inv.conv.whisper(error(`${rec.name} is ${rec.status}; only a live spawn can be extended`));
  const now = Date.now();
  const step = byMs ?? ctx.settings.defaultTtlMs;
  // Pushed from the later of now and the current expiry, never more than the --ttl ceiling from now.
  const expiresAt = Math.min(Math.max(rec.expiresAt ?? now, now) + step, now + MAX_DURATION_MS);
  await ctx.store.updateSpawn(rec.id, { expiresAt });
  await ctx.store.costs.markActive(rec.id, nowOf(ctx)); // an extend is use: the idle check starts counting again
  await auditAction(ctx, inv, "extend", { spawnId: rec.id, detail: { name: rec.name, expiresAt } });
  const capped = expiresAt === now + MAX_DURATION_MS ? ` (the most a spawn can live from now is ${formatDuration(MAX_DURATION_MS)})` : "";
  const keyNote = await moveSpawnKeyExpiry(ctx, rec, expiresAt);
  return inv.conv.whisper(text([`${rec.name} now expires in ${formatDuration(expiresAt - now)}${capped}`, ...(keyNote ? [keyNote] : [])]));
}

export async function handleDelete(ctx: CoreContext, inv: Invocation, ref: string): Promise<void> {
  const found = await find(ctx, inv, ref, "delete");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "delete", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "delete", spawnId: rec.id });
  const outcome = await removeSpawn(ctx, rec, { platform: inv.req.platform, userId: inv.user.userId, workspace: inv.req.workspace, channel: inv.req.channel });
  switch (outcome.kind) {
    case "cancelling": return inv.conv.say(text(`${rec.name} is being cancelled; its run stops at the next safe point and removes what it made`));
    case "ended": return dismiss(ctx, inv, rec);
    // A second click or a redelivered request while the first delete runs: one delete is enough.
    case "busy": return inv.conv.whisper(text(`${rec.name} is already being deleted`));
    case "failed":
      // Nothing is marked deleted unless it was: the spawn stays visible and the bot tries again.
      return inv.conv.whisper(error(`could not delete ${rec.name}: ${outcome.reason}; it is kept, try again (the bot itself retries in ${formatDuration(outcome.retryAt - Date.now())})`));
    case "deleted": {
      // Said once: the spawn's status message says who deleted it (its note in the thread on a chat
      // platform). Asked from somewhere else, the requester also gets a line where they asked.
      const view = await statusViewOf(ctx, outcome.rec);
      const total = totalWorthSaying(outcome.rec, await ctx.store.costs.getCost(rec.id), nowOf(ctx));
      await inv.conv.status({ ...view, result: { outcome: "deleted", message: `${rec.name} was deleted by ${inv.req.user.name}${total ? `; ${total}` : ""}` } });
      const here = inv.req.platform === rec.platform && inv.req.workspace === rec.workspace && inv.req.channel === rec.channel;
      return here ? undefined : inv.conv.whisper(text(`${rec.name} is deleted; its status message says so where it was asked for`));
    }
  }
}

/**
 * `delete` on a failed or cancelled spawn clears it out of `list`: nothing of it is left to remove,
 * but the row, its steps and the audit trail stay (status by id still finds it).
 */
async function dismiss(ctx: CoreContext, inv: Invocation, rec: SpawnRecord): Promise<void> {
  if (rec.status !== "failed" && rec.status !== "cancelled") return inv.conv.whisper(error(`${rec.name} is already ${rec.status}; nothing to delete`));
  if (!(await ctx.store.dismissSpawn(rec.id))) return inv.conv.whisper(text(`${rec.name} (${rec.status}) was already dismissed; \`list\` no longer shows it`));
  await auditAction(ctx, inv, "dismiss", { spawnId: rec.id, detail: { name: rec.name, status: rec.status } });
  return inv.conv.whisper(text(`${rec.name} (${rec.status}) is dismissed: \`list\` no longer shows it, and its record stays in the audit log`));
}
