// Idle spawns (SPAWNBOT_IDLE_AFTER, off unless set): a ready spawn whose own OpenRouter key has
// spent nothing more and whose host has had no SSH session for that long is treated as expiring:
// its expiry is brought forward to one reminder period from now, its owner is told why, and the
// expiry sweep reminds and deletes it as any other unless it is extended (extend counts as use).
// Spawns without a key of their own are never judged idle: the bot cannot see their LLM use.
import type { CoreContext } from "../context.js";
import { hostRecord } from "../access/spawn-access.js";
import { nowOf } from "../spawns/spawn-costs.js";
import { formatDuration } from "../views/format.js";
import { text } from "../views/views.js";
import { notifyOwner } from "./expiry.js";

/** Who the audit log names for the idle sweep's changes (like the expiry sweep's "expiry"). */
const IDLE_ACTOR = "idle";

export interface IdleSettings {
  /** How long without LLM spend and without an SSH session makes a spawn idle. */
  idleAfterMs: number;
  /** How long an idle spawn is given (the expiry reminder's lead time). */
  reminderMs: number;
}

export interface IdleReport {
  checked: number;
  idle: number;
  inUse: number;
}

export async function sweepIdle(ctx: CoreContext, settings: IdleSettings, now = nowOf(ctx)): Promise<IdleReport> {
  const report: IdleReport = { checked: 0, idle: 0, inUse: 0 };
  for (const rec of await ctx.store.listLive()) {
    if (rec.status !== "ready") continue;
    const cost = await ctx.store.costs.getCost(rec.id);
    if (!cost || cost.llmCheckedAt === null) continue; // no key of its own (or not read yet): LLM use unknown
    report.checked++;
    let sessions: number;
    try {
      sessions = await ctx.orchestrator.sessionsOn(await hostRecord(ctx, rec));
    } catch (err) {
      ctx.log.warn({ spawnId: rec.id, err: (err as Error).message }, "could not look for SSH sessions; not judged idle");
      continue;
    }
    if (sessions > 0) {
      report.inUse++;
      await ctx.store.costs.markActive(rec.id, now);
      continue;
    }
    // The first read counts as LLM use only if something was spent by then.
    const llmUsedAt = cost.llmUsage !== null && cost.llmUsage > 0 ? cost.llmChangedAt ?? 0 : 0;
    const lastUse = Math.max(rec.readyAt ?? rec.createdAt, llmUsedAt, cost.activeAt ?? 0);
    const deadline = now + settings.reminderMs;
    if (now - lastUse < settings.idleAfterMs || (rec.expiresAt !== null && rec.expiresAt <= deadline)) continue;
    await ctx.store.updateSpawn(rec.id, { expiresAt: deadline });
    report.idle++;
    await ctx.store.audit({
      platform: rec.platform, workspace: rec.workspace, channel: rec.channel, userId: IDLE_ACTOR, action: "idle",
      spawnId: rec.id, detail: { name: rec.name, idleMs: now - lastUse, expiresAt: deadline },
    }, now);
    await notifyOwner(ctx, rec, text([
      `${rec.name} has been idle for ${formatDuration(now - lastUse)} (no LLM spend, no SSH session), so it now expires in ${formatDuration(settings.reminderMs)} and will then be deleted.`,
      `To keep it, run \`extend ${rec.name}\` or log in to it.`,
    ], "Idle spawn"));
  }
  return report;
}
