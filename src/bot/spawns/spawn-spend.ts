// The LLM spend of spawns with a key of their own: read from OpenRouter (GET /keys/{hash}: usage,
// limit, limit_remaining) on the upkeep schedule and on `status`, kept in the store, and the two
// notices it brings: the owner is told privately at 80 % of the key's limit, and at 100 %, when
// OpenRouter stops the key, the spawn's status message says so with how to raise it. Each once.
import { secrets } from "../../secrets.js";
import type { CoreContext } from "../context.js";
import { managementApi } from "./spawn-api-keys.js";
import type { ManagedKey } from "./openrouter-management.js";
import { formatMoney, nowOf } from "./spawn-costs.js";
import { statusViewOf } from "./spawn-removal.js";
import { LIVE_STATUSES, type SpawnCostRecord, type SpawnRecord } from "../store/index.js";
import { text } from "../views/views.js";

/** Share of a key's limit at which its owner is warned. */
export const WARN_SHARE = 0.8;

const usd = (n: number) => formatMoney(n, "USD", 2);

/** The line a stopped key adds to its live spawn's status message (until the limit is raised). */
export function budgetStopNotice(rec: SpawnRecord, cost: SpawnCostRecord | undefined): string | undefined {
  if (!cost?.stoppedAt || cost.llmLimit === null || !LIVE_STATUSES.includes(rec.status)) return undefined;
  return `LLM budget reached: ${usd(cost.llmUsage ?? 0)} of its ${usd(cost.llmLimit)} limit is spent and OpenRouter stopped its key; ${rec.ownerName} or an admin can raise it with \`budget ${rec.name} <USD>\``;
}

/**
 * Read the spawn's own key once, keep the read, and send the notices it calls for. Undefined when
 * the spawn has no key of its own (or no management key is set); a problem when OpenRouter failed.
 */
export async function readSpawnSpend(ctx: CoreContext, rec: SpawnRecord): Promise<{ key: ManagedKey } | { problem: string; limitUsd: number } | undefined> {
  const made = await ctx.store.spawnKeys.getSpawnKey(rec.id);
  const api = managementApi(ctx);
  if (!made || made.deletedAt !== null || !api) return undefined;
  let key: ManagedKey;
  try {
    key = await api.getKey(made.keyHash);
  } catch (err) {
    return { problem: secrets.redact((err as Error).message), limitUsd: made.limitUsd };
  }
  const cost = await ctx.store.costs.recordSpend(rec.id, { usage: key.usage, limit: key.limit, at: nowOf(ctx) });
  await sendNotices(ctx, rec, cost);
  return { key };
}

/** `status`'s line about the key, from a fresh read. */
export async function spendFact(ctx: CoreContext, rec: SpawnRecord): Promise<string | undefined> {
  const read = await readSpawnSpend(ctx, rec);
  if (!read) return undefined;
  if ("problem" in read) return `its own OpenRouter key (limit ${usd(read.limitUsd)}): usage not available (${read.problem})`;
  const k = read.key;
  const limit = k.limit === null ? "no limit" : `of its ${usd(k.limit)} limit`;
  return `its own OpenRouter key: ${usd(k.usage)} spent ${limit}${k.disabled ? " (disabled)" : ""}`;
}

/** The upkeep's pass: read every live spawn's own key. One GET per such spawn. */
export async function refreshSpend(ctx: CoreContext): Promise<{ read: number; failed: number }> {
  const report = { read: 0, failed: 0 };
  for (const rec of await ctx.store.listLive()) {
    if (rec.status === "deleting") continue;
    const read = await readSpawnSpend(ctx, rec);
    if (read && "problem" in read) {
      report.failed++;
      ctx.log.warn({ spawnId: rec.id, problem: read.problem }, "could not read the spawn's LLM spend");
    } else if (read) {
      report.read++;
    }
  }
  return report;
}

async function sendNotices(ctx: CoreContext, rec: SpawnRecord, cost: SpawnCostRecord): Promise<void> {
  const { llmUsage: usage, llmLimit: limit } = cost;
  if (usage === null || limit === null || limit <= 0) return;
  const now = nowOf(ctx);
  const outlet = ctx.outlets.get(rec.platform);
  const place = { workspace: rec.workspace, channel: rec.channel };
  if (usage >= limit) {
    // Past the warning too: the stop notice says everything, so the 80 % one is not sent after it.
    await ctx.store.costs.claimNotice(rec.id, "warned", now);
    if (!(await ctx.store.costs.claimNotice(rec.id, "stopped", now))) return;
    ctx.log.info({ spawnId: rec.id, usage, limit }, "the spawn's OpenRouter key reached its limit");
    await outlet?.status(place, await statusViewOf(ctx, (await ctx.store.getSpawn(rec.id)) ?? rec)).catch((err: unknown) => ctx.log.warn({ err, spawnId: rec.id }, "could not post the budget notice"));
    return;
  }
  if (usage >= limit * WARN_SHARE && (await ctx.store.costs.claimNotice(rec.id, "warned", now))) {
    const view = text([
      `${rec.name} has spent ${usd(usage)} of its ${usd(limit)} LLM budget (${Math.floor((usage / limit) * 100)} %); OpenRouter stops its key at the limit.`,
      `To give it more, run \`budget ${rec.name} <USD>\` (for example \`budget ${rec.name} ${Math.ceil(limit * 2)}\`).`,
    ], "LLM budget nearly spent");
    await outlet?.notify(rec.ownerId, view, place).catch((err: unknown) => ctx.log.warn({ err, spawnId: rec.id }, "could not warn the owner about the LLM budget"));
  }
}
