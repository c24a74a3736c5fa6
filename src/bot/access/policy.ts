// Who may do what, decided in one place: acting on a spawn (by how the user relates to it),
// listing everyone's spawns, and starting a spawn here (allowlists, the local cloud, limits).
// Every answer is allowed (undefined) or a Refusal with a stable code and a one-line message;
// handlers only ask and pass a refusal on through refuse(), which also audits it.
import { isAllowedAt, allowedAt, ALLOW_ALL, type AllowRules } from "./allowlist.js";
import { auditAction } from "./audit-trail.js";
import type { CoreContext, Invocation } from "../context.js";
import { formatDuration } from "../views/format.js";
import { LIVE_STATUSES, StoreLimitError, type IntentLimits, type SpawnRecord } from "../store/index.js";
import { error, type ErrorView } from "../views/views.js";
import type { ListScope } from "../grammar/commands.js";
import { formatMoney, monthOf, nowOf, usdOf } from "../spawns/spawn-costs.js";

/** Limits on spawns; 0 means no limit. Admins are held to them too: they guard the bill. */
export interface SpawnLimits {
  livePerUser: number;
  livePerWorkspace: number;
  hourlyPerUser: number;
  hourlyPerWorkspace: number;
  /** USD per calendar month (UTC), cloud + LLM, of one person's spawns and of one channel's (SPAWNBOT_BUDGET_PER_USER / _PER_CHANNEL). */
  monthlyBudgetPerUserUsd?: number;
  monthlyBudgetPerChannelUsd?: number;
}

export interface PolicySettings {
  /** Whether the `local` cloud (the bot's own host) may be used; config defaults it to console only. */
  enableLocal: boolean;
  allowClouds: AllowRules;
  allowAgents: AllowRules;
  limits: SpawnLimits;
}

/** For a core built without policy settings (tests of other features): allow all, no limits. */
export const OPEN_POLICY: PolicySettings = {
  enableLocal: true, allowClouds: ALLOW_ALL, allowAgents: ALLOW_ALL,
  limits: { livePerUser: 0, livePerWorkspace: 0, hourlyPerUser: 0, hourlyPerWorkspace: 0 },
};

const HOUR_MS = 60 * 60_000; // the per-hour limits count a rolling hour back from now

export type RefusalCode =
  | "not-owner" | "not-shared" | "other-channel" | "admins-only"
  | "cloud-not-allowed" | "agent-not-allowed" | "local-disabled"
  | "live-limit-user" | "live-limit-workspace" | "hourly-limit-user" | "hourly-limit-workspace"
  | "budget-user" | "budget-channel";

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export type SpawnAction = "status" | "connect" | "restart" | "extend" | "delete" | "share" | "unshare" | "budget";

/** How a user stands to a spawn they found (lookups are already scoped to their workspace). */
type Relation = "owner" | "admin" | "shared" | "channel";

/** The permission table: which relations may take each action on a spawn. */
const WHO_MAY: Record<SpawnAction, readonly Relation[]> = {
  status: ["owner", "admin", "shared", "channel"],
  connect: ["owner", "admin", "shared"],
  // Those who may log in to it may also bring it back: restarting changes nothing but what runs.
  restart: ["owner", "admin", "shared"],
  extend: ["owner", "admin"],
  delete: ["owner", "admin"],
  share: ["owner", "admin"],
  unshare: ["owner", "admin"],
  budget: ["owner", "admin"],
};

export function policyOf(ctx: CoreContext): PolicySettings {
  return ctx.settings.policy ?? OPEN_POLICY;
}

/**
 * A spawn by id, name or id prefix, within the user's platform and workspace only: a spawn in
 * another workspace is not found at all, not even by an admin (names repeat across workspaces).
 * A name is never chosen between silently: when it names more than one spawn the user may take
 * this action on, the answer lists their ids instead. Ended namesakes do not get in the way of
 * the one live spawn of that name, except for `delete`, where the wrong choice costs the most.
 */
export async function findSpawn(ctx: CoreContext, inv: Invocation, ref: string, action: SpawnAction): Promise<{ rec: SpawnRecord } | { answer: ErrorView }> {
  const rec = await ctx.store.findSpawn(ref, { owner: inv.user, platform: inv.req.platform, workspace: inv.req.workspace });
  if (!rec) return { answer: notFound(ref) };
  if (rec.name !== ref || rec.id === ref) return { rec }; // by id or id prefix: exactly one
  const namesakes: SpawnRecord[] = [];
  for (const r of await ctx.store.findSpawnsByName(ref, { owner: inv.user, platform: inv.req.platform, workspace: inv.req.workspace })) {
    if (r.status !== "deleted" && !(await decideOnSpawn(ctx, inv, action, r))) namesakes.push(r);
  }
  if (namesakes.length <= 1) return { rec: namesakes[0] ?? rec };
  const live = namesakes.filter((r) => LIVE_STATUSES.includes(r.status));
  if (action !== "delete" && live.length === 1) return { rec: live[0]! };
  const now = Date.now();
  const ids = namesakes.map((r) => `${r.id.slice(0, ID_SHOWN)} (${r.ownerName}'s, ${r.status}, ${formatDuration(Math.max(60_000, now - r.createdAt))} old)`);
  const example = `${action} ${namesakes[0]!.id.slice(0, ID_SHOWN)}`;
  return { answer: error(`${namesakes.length} spawns here are called ${ref}: ${ids.join(", ")}; name one by its id, e.g. \`${example}\``) };
}

const ID_SHOWN = 8; // the id prefix `list` shows; any 4 or more characters of an id find it

export const notFound = (ref: string) => error(`no spawn called ${ref} here; \`list\` shows the channel's spawns`);

async function relations(ctx: CoreContext, inv: Invocation, rec: SpawnRecord): Promise<Set<Relation>> {
  const out = new Set<Relation>();
  if (rec.platform !== inv.req.platform || rec.workspace !== inv.req.workspace) return out;
  if (rec.ownerId === inv.user.userId) out.add("owner");
  if (inv.isAdmin) out.add("admin");
  if (rec.channel === inv.req.channel) out.add("channel");
  if ((await ctx.store.listShares(rec.id)).some((u) => u.platform === inv.user.platform && u.userId === inv.user.userId)) out.add("shared");
  return out;
}

/** May this user take this action on this spawn? */
export async function decideOnSpawn(ctx: CoreContext, inv: Invocation, action: SpawnAction, rec: SpawnRecord): Promise<Refusal | undefined> {
  const mine = await relations(ctx, inv, rec);
  if (WHO_MAY[action].some((r) => mine.has(r))) return undefined;
  const owner = rec.ownerName;
  switch (action) {
    case "status":
      return { code: "other-channel", message: `${rec.name} belongs to another channel; run \`status ${rec.name}\` there, or ask ${owner} to share it with you` };
    case "connect":
      return { code: "not-shared", message: `only ${owner}, an admin or someone it is shared with can see the connect details of ${rec.name}` };
    case "restart":
      return { code: "not-shared", message: `only ${owner}, an admin or someone it is shared with can restart ${rec.name}` };
    default:
      return { code: "not-owner", message: `only ${owner} or an admin can ${action} ${rec.name}` };
  }
}

/** Sharing hosts with channels is for admins; accepting a host's new key for the pin's owner and admins. */
export function decideHosts(inv: Invocation, action: "add" | "remove" | "trust", pinOwner?: { platform: string; userId: string }): Refusal | undefined {
  if (inv.isAdmin) return undefined;
  if (action === "trust") {
    if (pinOwner && pinOwner.platform === inv.user.platform && pinOwner.userId === inv.user.userId) return undefined;
    return { code: "not-owner", message: "only the person who first used this host with spawnbot, or an admin, can accept its new key" };
  }
  return { code: "admins-only", message: `only admins can ${action} shared hosts; use your own machines with \`spawn <agent> ssh --host user@host\` (see \`keys\`)` };
}

export function decideList(inv: Invocation, scope: ListScope): Refusal | undefined {
  if (scope !== "all" || inv.isAdmin) return undefined;
  return { code: "admins-only", message: "only admins can list every spawn; use `list` for this channel or `list --mine`" };
}

/**
 * May this user start this agent on this cloud here, now? The limits are checked again, atomically,
 * when the spawn is recorded (intentLimits and limitRefusal below).
 */
export async function decideSpawn(ctx: CoreContext, inv: Invocation, agent: string, cloud: string): Promise<Refusal | undefined> {
  const p = policyOf(ctx);
  const place = { workspace: inv.req.workspace, channel: inv.req.channel };
  if (cloud === "local" && !p.enableLocal) {
    return { code: "local-disabled", message: "the local cloud (the bot's own host) is off on this bot; pick another cloud (`clouds`), or an admin sets SPAWNBOT_ENABLE_LOCAL=true" };
  }
  if (!isAllowedAt(p.allowClouds, place, cloud)) {
    return { code: "cloud-not-allowed", message: `the ${cloud} cloud is not allowed in this channel; allowed here: ${describe(allowedAt(p.allowClouds, place))} (an admin sets SPAWNBOT_ALLOW_CLOUDS)` };
  }
  if (!isAllowedAt(p.allowAgents, place, agent)) {
    return { code: "agent-not-allowed", message: `the ${agent} agent is not allowed in this channel; allowed here: ${describe(allowedAt(p.allowAgents, place))} (an admin sets SPAWNBOT_ALLOW_AGENTS)` };
  }
  return decideLimits(ctx, inv, p.limits);
}

async function decideLimits(ctx: CoreContext, inv: Invocation, limits: SpawnLimits): Promise<Refusal | undefined> {
  const user = { platform: inv.req.platform, ownerId: inv.user.userId };
  const workspace = { platform: inv.req.platform, workspace: inv.req.workspace };
  if (limits.livePerUser > 0 && (await ctx.store.countLive(user)) >= limits.livePerUser) return limitRefusal(ctx, new StoreLimitError("live-owner", null));
  if (limits.livePerWorkspace > 0 && (await ctx.store.countLive(workspace)) >= limits.livePerWorkspace) return limitRefusal(ctx, new StoreLimitError("live-workspace", null));
  const since = Date.now() - HOUR_MS;
  for (const [scope, limit, which] of [[user, limits.hourlyPerUser, "starts-owner"], [workspace, limits.hourlyPerWorkspace, "starts-workspace"]] as const) {
    if (limit <= 0) continue;
    const { count, oldest } = await ctx.store.countStartedSince(scope, since);
    if (count >= limit) return limitRefusal(ctx, new StoreLimitError(which, oldest));
  }
  return undefined;
}

/** The limits the store holds a new spawn to, checked with its insert (recordIntent). */
export function intentLimits(ctx: CoreContext, now = Date.now()): IntentLimits {
  const { limits } = policyOf(ctx);
  return {
    livePerOwner: limits.livePerUser, livePerWorkspace: limits.livePerWorkspace,
    startsPerOwner: limits.hourlyPerUser, startsPerWorkspace: limits.hourlyPerWorkspace, startsSince: now - HOUR_MS,
  };
}

/** The refusal for a limit the store found reached. */
export function limitRefusal(ctx: CoreContext, reached: StoreLimitError, now = Date.now()): Refusal {
  const { limits } = policyOf(ctx);
  // The oldest start in the window is the first to leave it; then one more start fits.
  const wait = () => formatDuration(Math.max(60_000, (reached.oldest ?? now) + HOUR_MS - now));
  switch (reached.limit) {
    case "live-owner":
      return { code: "live-limit-user", message: `you already have ${limits.livePerUser} live spawns, the most one person may have; delete one (\`list --mine\`) and try again` };
    case "live-workspace":
      return { code: "live-limit-workspace", message: `this workspace already has ${limits.livePerWorkspace} live spawns, the most it may have; delete one (\`list\`) or ask an admin to raise SPAWNBOT_MAX_LIVE_PER_WORKSPACE` };
    case "starts-owner":
      return { code: "hourly-limit-user", message: `you started ${limits.hourlyPerUser} spawns in the last hour, the most one person may; try again in ${wait()}` };
    case "starts-workspace":
      return { code: "hourly-limit-workspace", message: `this workspace started ${limits.hourlyPerWorkspace} spawns in the last hour, the most it may; try again in ${wait()}` };
  }
}

function describe(allowed: readonly string[] | "*"): string {
  return allowed === "*" ? "all" : allowed.length ? allowed.join(", ") : "none";
}

/** What a spawn about to start could cost in USD: its price an hour × its time to live, plus its LLM budget; `detail` says so in words. */
export interface SpawnEstimate {
  usd: number;
  detail: string;
}

/** Share of a channel's monthly budget at which the channel is warned, once a month. */
const CHANNEL_WARN_SHARE = 0.8;

/**
 * Would this spawn take its owner or its channel over the month's budget? Spend so far this
 * calendar month (UTC), cloud and LLM, plus what this spawn could cost, against each budget.
 */
export async function decideBudget(ctx: CoreContext, inv: Invocation, estimate: SpawnEstimate): Promise<Refusal | undefined> {
  const { limits } = policyOf(ctx);
  const now = nowOf(ctx);
  const month = monthOf(now);
  const window = { from: month.from, to: month.to, now };
  const usd = (n: number) => formatMoney(n, "USD", 2);
  const check = async (budget: number | undefined, scope: Parameters<typeof ctx.store.costs.spendBetween>[0], code: "budget-user" | "budget-channel") => {
    if (!budget || budget <= 0) return undefined;
    const spent = usdOf(ctx, await ctx.store.costs.spendBetween(scope, window));
    if (spent + estimate.usd <= budget) return undefined;
    const whose = code === "budget-user" ? "you have" : "this channel has";
    const setting = code === "budget-user" ? "SPAWNBOT_BUDGET_PER_USER" : "SPAWNBOT_BUDGET_PER_CHANNEL";
    return {
      code,
      message: `this spawn could cost up to ${usd(estimate.usd)} (${estimate.detail}) and ${whose} spent ${usd(spent)} of the ${usd(budget)} budget for ${month.label}; `
        + `ask for a shorter --ttl or a smaller --budget, delete a spawn, or wait for the next month (an admin sets ${setting})`,
    } satisfies Refusal;
  };
  return (await check(limits.monthlyBudgetPerUserUsd, { platform: inv.req.platform, ownerId: inv.user.userId }, "budget-user"))
    ?? (await check(limits.monthlyBudgetPerChannelUsd, { platform: inv.req.platform, workspace: inv.req.workspace, channel: inv.req.channel }, "budget-channel"));
}

/** After a spawn was admitted: a channel at 80 % of its month's budget (with this spawn's estimate) is told once that month. */
export async function warnChannelNearBudget(ctx: CoreContext, inv: Invocation, estimate: SpawnEstimate): Promise<string | undefined> {
  const budget = policyOf(ctx).limits.monthlyBudgetPerChannelUsd;
  if (!budget || budget <= 0) return undefined;
  const now = nowOf(ctx);
  const month = monthOf(now);
  const spent = usdOf(ctx, await ctx.store.costs.spendBetween({ platform: inv.req.platform, workspace: inv.req.workspace, channel: inv.req.channel }, { from: month.from, to: month.to, now }));
  if (spent + estimate.usd < budget * CHANNEL_WARN_SHARE) return undefined;
  const scope = `channel:${inv.req.platform}:${inv.req.workspace}:${inv.req.channel}`;
  if (!(await ctx.store.costs.claimBudgetNotice(scope, month.label, "near", now))) return undefined;
  const usd = (n: number) => formatMoney(n, "USD", 2);
  return `this channel has used ${usd(spent)} of its ${usd(budget)} budget for ${month.label}, and its spawns could take it to ${usd(spent + estimate.usd)}; \`costs --channel\` shows where it went`;
}

/** What may be used where this request came from, for `agents`, `clouds` and `help`. */
export function allowedHere(ctx: CoreContext, inv: Invocation): { cloud(key: string): boolean; agent(key: string): boolean; summary: string[] } {
  const p = policyOf(ctx);
  const place = { workspace: inv.req.workspace, channel: inv.req.channel };
  const { limits } = p;
  const limit = (n: number) => (n > 0 ? String(n) : "no limit");
  const money = (n: number | undefined) => (n && n > 0 ? formatMoney(n, "USD", 2) : "no limit");
  return {
    cloud: (key) => (key !== "local" || p.enableLocal) && isAllowedAt(p.allowClouds, place, key),
    agent: (key) => isAllowedAt(p.allowAgents, place, key),
    summary: [
      `Here: clouds ${describe(allowedAt(p.allowClouds, place))}${p.enableLocal ? "" : " (local is off)"}; agents ${describe(allowedAt(p.allowAgents, place))}`,
      `Limits: live spawns ${limit(limits.livePerUser)} per person, ${limit(limits.livePerWorkspace)} per workspace; starts per hour ${limit(limits.hourlyPerUser)} per person, ${limit(limits.hourlyPerWorkspace)} per workspace`,
      `Monthly budgets (cloud + LLM): ${money(limits.monthlyBudgetPerUserUsd)} per person, ${money(limits.monthlyBudgetPerChannelUsd)} per channel`,
    ],
  };
}

/** Tell the user privately why not, and put the refusal in the audit log. */
export async function refuse(
  ctx: CoreContext, inv: Invocation, refusal: Refusal, attempted: { action: string; spawnId?: string; detail?: Record<string, unknown> },
): Promise<void> {
  await auditAction(ctx, inv, "refused", { spawnId: attempted.spawnId, detail: { code: refusal.code, attempted: attempted.action, ...attempted.detail } });
  return inv.conv.whisper(error(refusal.message));
}
