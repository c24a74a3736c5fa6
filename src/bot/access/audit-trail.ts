// The audit log as the handlers write it: who (platform, workspace, user), where (channel), what
// (action, spawn, detail) and when. The detail passes the secret redactor first, so a value the
// bot holds as a secret never lands in the log even if a caller slips one in.
import { secrets } from "../../secrets.js";
import type { CoreContext, Invocation } from "../context.js";

export function auditAction(
  ctx: CoreContext, inv: Pick<Invocation, "req" | "user">, action: string, what: { spawnId?: string; detail?: Record<string, unknown> } = {},
): Promise<void> {
  return ctx.store.audit({
    platform: inv.req.platform, workspace: inv.req.workspace, channel: inv.req.channel, userId: inv.user.userId,
    action, spawnId: what.spawnId ?? null, detail: secrets.redactDeep(what.detail ?? {}),
  });
}
