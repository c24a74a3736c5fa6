// `spawn`: resolve the request into a plan (model: flag > saved preference > agent default),
// show it for --dry-run, or record the intent, start the run and follow it in a status view.
import { randomBytes, randomUUID } from "node:crypto";
import type { AgentSpec } from "../../orchestrator/index.js";
import type { SpawnCommand } from "../grammar/commands.js";
import type { CoreContext, Invocation } from "../context.js";
import { auditAction } from "../access/audit-trail.js";
import { formatDuration, repoLabel } from "../views/format.js";
import { decideBudget, decideSpawn, intentLimits, limitRefusal, refuse, warnChannelNearBudget, type SpawnEstimate } from "../access/policy.js";
import { formatMoney, formatPrice, priceFor, recordSpawnPrice, toUsd } from "../spawns/spawn-costs.js";
import type { PriceAnswer } from "../../orchestrator/index.js";
import { adoptionOf } from "../access/host-access.js";
import { followRun, startSpawnRun } from "../spawns/spawn-run.js";
import { chooseSpawnKey, mintSpawnKey } from "../spawns/spawn-api-keys.js";
import { agentKeyFor } from "./user-settings.js";
import { modelProblem } from "../spawns/openrouter-models.js";
import { gitBaseOf, resolveRepo } from "../spawns/repos.js";
import { StoreConflictError, StoreLimitError, type SpawnRecord } from "../store/index.js";
import { error, text, type PlanView } from "../views/views.js";

export async function handleSpawn(ctx: CoreContext, inv: Invocation, cmd: SpawnCommand): Promise<void> {
  const agent = ctx.orchestrator.agent(cmd.agent);
  const cloud = ctx.orchestrator.cloud(cmd.cloud);
  if (!agent) return inv.conv.whisper(error(`the ${cmd.agent} agent is not available on this bot; see \`agents\``));
  if (!cloud) {
    const have = ctx.orchestrator.clouds.map((c) => c.key).join(", ");
    return inv.conv.whisper(error(`the ${cmd.cloud} cloud is not set up on this bot (an admin can ${ctx.cloudSetup[cmd.cloud] ?? "configure it"}); available clouds: ${have}`));
  }
  // Only a model typed now is checked against OpenRouter's list: a saved one was checked when saved.
  // Checked before the policy: nothing may be awaited between decideSpawn and recording the intent.
  const problem = cmd.model ? await modelProblem(ctx.models, cmd.model) : undefined;
  if (problem) return inv.conv.whisper(error(problem, "spawn <agent> <cloud> --model <provider/model>"));
  // Dry runs are held to the same policy: a plan that would be refused says so now.
  const refusal = await decideSpawn(ctx, inv, agent.key, cloud.key);
  if (refusal) return refuse(ctx, inv, refusal, { action: cmd.dryRun ? "spawn-dry-run" : "spawn", detail: { agent: agent.key, cloud: cloud.key } });
  const { model, source } = await resolveModel(ctx, inv, cmd, agent);
  const name = cmd.name ?? `${agent.key}-${randomBytes(2).toString("hex")}`;
  const ttlMs = cmd.ttlMs ?? ctx.settings.defaultTtlMs;
  const repo = cmd.repo ? resolveRepo(cmd.repo, gitBaseOf(ctx)) : undefined;
  // An agent with its own vendor key (Cursor) never gets an OpenRouter key, not even one made for
  // the spawn: only the user's own key for that vendor (see spawn-run.ts).
  const { ownKey } = agent;
  const keyChoice = ownKey ? undefined : await chooseSpawnKey(ctx, inv.user, cmd.budgetUsd);
  // The price is asked once here: the plan shows it, the budget weighs it, the record keeps it.
  const price = await priceFor(cloud, { size: cmd.size, zone: cmd.zone, agent });
  const estimate = estimateOf(ctx, price, ttlMs, keyChoice?.kind === "per-spawn" ? keyChoice.budgetUsd : 0);
  const overBudget = await decideBudget(ctx, inv, estimate);
  if (overBudget) return refuse(ctx, inv, overBudget, { action: cmd.dryRun ? "spawn-dry-run" : "spawn", detail: { agent: agent.key, cloud: cloud.key, estimateUsd: estimate.usd } });

  if (cmd.dryRun) {
    const plan: PlanView = {
      kind: "plan", agent: agent.name, cloud: cloud.title, model, modelSource: source, name,
      // A host the bot does not make has no size or zone; an ssh host is where --host says.
      ...(cloud.adopted ? {} : { size: cmd.size ?? "cloud default", zone: cmd.zone ?? "cloud default" }),
      ...(cmd.host ? { host: `${cmd.host.user}@${cmd.host.host.includes(":") ? `[${cmd.host.host}]` : cmd.host.host}:${cmd.host.port}` } : {}), steps: cmd.steps ?? [],
      prompt: cmd.prompt !== undefined, ttl: formatDuration(ttlMs), price: formatPrice(price), ...(repo ? { repo: `${repoLabel(repo)} into ~/${repo.dir}` } : {}),
    };
    return inv.conv.whisper(plan);
  }

  if (keyChoice?.kind === "refused") return inv.conv.whisper(error(keyChoice.message));

  // An existing host is reached with the requester's own key, or the bot's for a host an admin shared here.
  const adoption = cmd.host ? await adoptionOf(ctx, inv, cmd.host) : undefined;
  let rec: SpawnRecord;
  const now = Date.now();
  // The limits are checked again with the insert, in one transaction: requests racing for the
  // last place (here or on another replica) cannot both get it.
  try {
    rec = await ctx.store.recordIntent({
      id: randomUUID(), name, platform: inv.req.platform, workspace: inv.req.workspace, channel: inv.req.channel,
      ownerId: inv.user.userId, ownerName: inv.req.user.name, agent: agent.key, cloud: cloud.key, model,
      size: cmd.size ?? null, zone: cmd.zone ?? null, session: name, prompt: cmd.prompt ?? null,
      createdAt: now, expiresAt: now + ttlMs, sshIdentity: adoption?.sshIdentity, options: { host: cmd.host, steps: cmd.steps, ...(repo ? { repo } : {}) },
    }, intentLimits(ctx, now));
  } catch (err) {
    if (err instanceof StoreLimitError) return refuse(ctx, inv, limitRefusal(ctx, err, now), { action: "spawn", detail: { agent: agent.key, cloud: cloud.key } });
    if (err instanceof StoreConflictError) return inv.conv.whisper(error(`you already have a live spawn named ${name}; pick another --name or delete it first`));
    throw err;
  }
  await recordSpawnPrice(ctx, rec.id, price);
  const nearBudget = await warnChannelNearBudget(ctx, inv, estimate);
  if (nearBudget) await inv.conv.say(text(nearBudget));
  await auditAction(ctx, inv, "spawn", { spawnId: rec.id, detail: { agent: agent.key, cloud: cloud.key, model, name, openrouterKey: keyChoice?.kind ?? "none" } });

  let apiKey: string | undefined;
  if (!keyChoice) {
    apiKey = undefined; // an agent with its own vendor key: no OpenRouter key of any kind
  } else if (keyChoice.kind === "per-spawn") {
    const minted = await mintSpawnKey(ctx, rec, keyChoice.budgetUsd);
    if ("problem" in minted) {
      const reason = `could not make this spawn's own OpenRouter key (${minted.problem}); nothing was started, try again in a minute or add your own key with \`settings\``;
      await ctx.store.updateSpawn(rec.id, { status: "failed", error: reason, deletedAt: Date.now() });
      return inv.conv.whisper(error(reason));
    }
    apiKey = minted.apiKey;
  } else {
    apiKey = keyChoice.apiKey;
    if (cmd.budgetUsd !== undefined) {
      const whose = keyChoice.kind === "own" ? "your own key's limits are set at openrouter.ai/keys" : "this bot shares one workspace key";
      await inv.conv.whisper(text(`--budget applies only to keys the bot makes for a spawn; ${whose}, so ${name} has no budget of its own`));
    }
  }

  // Replicas: any replica takes the run from the queue (its status message goes out from there; the
  // key is sealed in the store). Queued before the notes below, which wait their turn in a busy workspace.
  if (ctx.runQueue) await ctx.runQueue.enqueueRun(rec.id);
  const ownerKeys = (await ctx.store.listUserKeys(inv.user)).map((k) => k.publicKey);
  if (ownerKeys.length === 0 && cloud.access === "ssh") {
    await inv.conv.whisper(text(`you have no SSH key on file, so you cannot log in to ${name} yet: add yours with \`keys add <contents of ~/.ssh/id_ed25519.pub>\` and it is installed on ${name} too`));
  }
  if (ownKey && !(await agentKeyFor(ctx, inv.user, ownKey.secret))) {
    await inv.conv.whisper(text(`${agent.name} never gets the OpenRouter key and you have no ${ownKey.label} saved, so ${name} starts without one: save yours in \`settings\`, or log in from its session`));
  }
  if (ctx.runQueue) return;
  const run = await startSpawnRun(ctx, rec, apiKey);
  await followRun(ctx, rec, run, inv.conv);
}

async function resolveModel(ctx: CoreContext, inv: Invocation, cmd: SpawnCommand, agent: AgentSpec): Promise<{ model: string; source: PlanView["modelSource"] }> {
  if (cmd.model) return { model: cmd.model, source: "flag" };
  const saved = await ctx.store.getModelPreference(inv.user, agent.key);
  if (saved) return { model: saved, source: "preference" };
  return { model: agent.defaultModel, source: "default" };
}

/** What the spawn could cost at most: its price for the whole time to live, plus its own key's LLM budget. */
function estimateOf(ctx: CoreContext, price: PriceAnswer, ttlMs: number, llmBudgetUsd: number): SpawnEstimate {
  const hours = ttlMs / 3_600_000;
  const cloudUsd = price.kind === "priced" ? toUsd(ctx, price.price.perHour * hours, price.price.currency) : 0;
  const cloudPart = price.kind === "priced" ? `${formatMoney(price.price.perHour, price.price.currency)}/h × ${formatDuration(ttlMs)}`
    : price.kind === "free" ? "a free host" : "cloud price unknown";
  const llmPart = llmBudgetUsd > 0 ? ` + ${formatMoney(llmBudgetUsd, "USD", 2)} LLM budget` : "";
  return { usd: cloudUsd + llmBudgetUsd, detail: `${cloudPart}${llmPart}` };
}
