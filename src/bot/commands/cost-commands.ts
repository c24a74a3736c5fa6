// `budget <spawn> <USD>` (its owner or an admin raises or lowers the limit of the spawn's own
// OpenRouter key) and `costs` (a month's cloud and LLM spend by person, channel, cloud and agent,
// with the budgets beside them), and the same month summary for a user's Home tab.
import { secrets } from "../../secrets.js";
import type { CoreContext, Invocation } from "../context.js";
import { auditAction } from "../access/audit-trail.js";
import { decideOnSpawn, findSpawn, policyOf, refuse } from "../access/policy.js";
import { managementApi, spawnBudget } from "../spawns/spawn-api-keys.js";
import { costLines, summarizeCosts, type CostSummary } from "../spawns/cost-summary.js";
import { formatMoney, monthOf, monthWindow, nowOf, toUsd } from "../spawns/spawn-costs.js";
import { statusViewOf } from "../spawns/spawn-removal.js";
import type { CostScope, UserRef } from "../store/index.js";
import { LIVE_STATUSES } from "../store/index.js";
import type { CostScopeName } from "../grammar/commands.js";
import { error, text } from "../views/views.js";

const usd = (n: number) => formatMoney(n, "USD", 2);

export async function handleBudget(ctx: CoreContext, inv: Invocation, ref: string, amount: number): Promise<void> {
  const found = await findSpawn(ctx, inv, ref, "budget");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "budget", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "budget", spawnId: rec.id });
  if (!LIVE_STATUSES.includes(rec.status) || rec.status === "deleting") return inv.conv.whisper(error(`${rec.name} is ${rec.status}; only a live spawn's budget can change`));
  const key = await ctx.store.spawnKeys.getSpawnKey(rec.id);
  const api = managementApi(ctx);
  if (!key || key.deletedAt !== null || !api) {
    return inv.conv.whisper(error(`${rec.name} has no OpenRouter key of its own, so there is no budget to change; its owner's own key has its limits at openrouter.ai/keys`));
  }
  const { maxUsd } = spawnBudget(ctx);
  if (amount > maxUsd) return inv.conv.whisper(error(`${usd(amount)} is above this bot's most per spawn (${usd(maxUsd)}); ask for at most that (an admin sets SPAWNBOT_MAX_SPAWN_BUDGET)`));
  let updated;
  try {
    updated = await api.updateKey(key.keyHash, { limitUsd: amount });
  } catch (err) {
    const problem = secrets.redact((err as Error).message);
    ctx.log.warn({ spawnId: rec.id, problem }, "could not change the spawn's OpenRouter key limit");
    return inv.conv.whisper(error(`OpenRouter did not change ${rec.name}'s budget (${problem}); it stays as it was, try again in a minute`));
  }
  await ctx.store.costs.recordSpend(rec.id, { usage: updated.usage, limit: updated.limit, at: nowOf(ctx) });
  // Above what is spent, the key works again: its notices may go out again at the new limit.
  if (updated.limit === null || updated.usage < updated.limit) await ctx.store.costs.clearNotices(rec.id);
  await auditAction(ctx, inv, "budget", { spawnId: rec.id, detail: { name: rec.name, limitUsd: amount, usage: updated.usage } });
  await inv.conv.status(await statusViewOf(ctx, rec));
  const still = updated.limit !== null && updated.usage >= updated.limit ? `; that is not above the ${usd(updated.usage)} already spent, so its key stays stopped` : "";
  return inv.conv.whisper(text(`${rec.name}'s LLM budget is now ${usd(amount)} (${usd(updated.usage)} spent)${still}`));
}

/** Whose spend a `costs` scope covers, and its words. */
function scopeOf(inv: Invocation, scope: CostScopeName): { query: CostScope; words: string } {
  const { platform, workspace, channel } = inv.req;
  switch (scope) {
    case "mine": return { query: { platform, ownerId: inv.user.userId }, words: "your spawns" };
    case "channel": return { query: { platform, workspace, channel }, words: "this channel" };
    case "all": return { query: { platform, workspace }, words: "this workspace" };
  }
}

/** A month's summary of a scope: the store's groups summed four ways, budgets beside them. */
export async function monthSummary(ctx: CoreContext, query: CostScope, words: string, month = monthOf(nowOf(ctx))): Promise<CostSummary> {
  const groups = await ctx.store.costs.spendBetween(query, { from: month.from, to: month.to, now: nowOf(ctx) });
  const { limits } = policyOf(ctx);
  return summarizeCosts(groups, {
    month: month.label, scope: words, toUsd: (amount, currency) => toUsd(ctx, amount, currency),
    budgets: { perUserUsd: limits.monthlyBudgetPerUserUsd, perChannelUsd: limits.monthlyBudgetPerChannelUsd },
  });
}

export async function handleCosts(ctx: CoreContext, inv: Invocation, scope: CostScopeName, monthText?: string): Promise<void> {
  if (scope === "all" && !inv.isAdmin) {
    return refuse(ctx, inv, { code: "admins-only", message: "only admins can see the whole workspace's costs; use `costs` for this channel or `costs --mine`" }, { action: "costs-all" });
  }
  const month = monthText ? monthWindow(Number(monthText.slice(0, 4)), Number(monthText.slice(5, 7))) : monthOf(nowOf(ctx));
  const { query, words } = scopeOf(inv, scope);
  const summary = await monthSummary(ctx, query, words, month);
  return inv.conv.whisper(text(costLines(summary), `Costs of ${words} in ${month.label} (cloud + LLM)`));
}

/** What a user's Home tab shows of this month: their own spend against their budget. */
export async function homeCosts(ctx: CoreContext, user: UserRef): Promise<{ title: string; lines: string[] }> {
  const month = monthOf(nowOf(ctx));
  const summary = await monthSummary(ctx, { platform: user.platform, ownerId: user.userId }, "your spawns", month);
  return { title: `Your costs in ${month.label} (cloud + LLM)`, lines: costLines(summary) };
}
