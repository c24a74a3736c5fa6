// `restart`: bring back a ready spawn's agent session and its dashboard where they are gone (after a
// reboot, an agent that gave up, a dashboard that died), and say what was found and what was done.
import type { RestartReport } from "../../orchestrator/index.js";
import { secrets } from "../../secrets.js";
import type { CoreContext, Invocation } from "../context.js";
import { auditAction } from "../access/audit-trail.js";
import { decideOnSpawn, findSpawn, refuse } from "../access/policy.js";
import { hostRecord } from "../access/spawn-access.js";
import { error, text } from "../views/views.js";

export async function handleRestart(ctx: CoreContext, inv: Invocation, ref: string): Promise<void> {
  const found = await findSpawn(ctx, inv, ref, "restart");
  if ("answer" in found) return inv.conv.whisper(found.answer);
  const { rec } = found;
  const refusal = await decideOnSpawn(ctx, inv, "restart", rec);
  if (refusal) return refuse(ctx, inv, refusal, { action: "restart", spawnId: rec.id });
  if (rec.status !== "ready") {
    const why = rec.status === "pending" || rec.status === "provisioning" ? "it is still being made" : `it is ${rec.status}`;
    return inv.conv.whisper(error(`${rec.name} cannot be restarted: ${why}; \`status ${rec.name}\` shows more`));
  }
  let report: RestartReport;
  try {
    report = await ctx.orchestrator.restart(await hostRecord(ctx, rec));
  } catch (err) {
    const reason = secrets.redact((err as Error).message);
    ctx.log.warn({ err, spawnId: rec.id }, "restart failed");
    return inv.conv.whisper(error(`could not restart ${rec.name}: ${reason}; try again, or \`delete\` it and spawn a new one`));
  }
  await auditAction(ctx, inv, "restart", { spawnId: rec.id, detail: { name: rec.name, ...report } });
  return inv.conv.whisper(text(restartLines(rec.session, report), `Restart ${rec.name}`));
}

/** One line per part: what was found, and what was done about it. */
export function restartLines(session: string, r: RestartReport): string[] {
  const lines: string[] = [];
  if (r.dashboard === "answering") lines.push("the dashboard was answering; left as it was");
  if (r.dashboard === "started") lines.push("the dashboard was not answering; started it again, and it answers now");
  if (r.dashboard === "not answering") lines.push("the dashboard was not answering; started it again, but it does not answer yet (its log: ~/.spawnbot/" + session + "/pre-launch.log)");
  if (r.services === "running") lines.push("the agent's services were running; left as they were");
  if (r.services === "started") lines.push("the agent's services were not running; started them again");
  switch (r.session) {
    case "running": lines.push(`the agent session ${session} was running; left as it was`); break;
    case "started": lines.push(`the agent session ${session} was not running; started it again`); break;
    case "failed": lines.push(`the agent session ${session} was not running and could not be started; attach with \`connect\` to look`); break;
    case "gone": lines.push(`the agent's launch files are gone from the host, so nothing could be started; delete the spawn and spawn a new one`); break;
  }
  return lines;
}
