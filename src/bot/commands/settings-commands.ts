// `prefs` (default model per agent) and `keys` (the user's SSH public keys, and the bot's own).
import { auditAction } from "../access/audit-trail.js";
import { plural } from "../views/format.js";
import type { CoreContext, Invocation } from "../context.js";
import { hostRecord } from "../access/spawn-access.js";
import { userHostKey } from "../access/host-access.js";
import { inspectPublicKey } from "../access/ssh-keys.js";
import { error, text } from "../views/views.js";
import { modelProblem } from "../spawns/openrouter-models.js";

export async function handlePrefsShow(ctx: CoreContext, inv: Invocation): Promise<void> {
  const prefs = await ctx.store.listModelPreferences(inv.user);
  const lines = prefs.length
    ? prefs.map((p) => `${p.agent}: ${p.model}`)
    : ["no saved models; each agent uses its default (see `agents`)"];
  lines.push("set one with `prefs model <agent> <provider/model>`, remove it with `prefs model <agent> --clear`");
  return inv.conv.whisper(text(lines, "Your default models"));
}

export async function handlePrefsSet(ctx: CoreContext, inv: Invocation, agent: string, model: string): Promise<void> {
  if (!ctx.orchestrator.agent(agent)) return inv.conv.whisper(error(`the ${agent} agent is not available on this bot; see \`agents\``));
  const problem = await modelProblem(ctx.models, model);
  if (problem) return inv.conv.whisper(error(problem, `prefs model ${agent} <provider/model>`));
  await ctx.store.setModelPreference(inv.user, agent, model);
  await auditAction(ctx, inv, "prefs-model-set", { detail: { agent, model } });
  return inv.conv.whisper(text(`your ${agent} spawns now use ${model} unless you pass --model`));
}

export async function handlePrefsClear(ctx: CoreContext, inv: Invocation, agent: string): Promise<void> {
  const removed = await ctx.store.clearModelPreference(inv.user, agent);
  if (!removed) return inv.conv.whisper(text(`you had no saved model for ${agent}; nothing changed`));
  await auditAction(ctx, inv, "prefs-model-clear", { detail: { agent } });
  const fallback = ctx.orchestrator.agent(agent)?.defaultModel;
  return inv.conv.whisper(text(`your saved model for ${agent} was removed${fallback ? `; it is back to ${fallback}` : ""}`));
}

export async function handleKeysList(ctx: CoreContext, inv: Invocation, botPublicKey: string): Promise<void> {
  const keys = await ctx.store.listUserKeys(inv.user);
  const lines = keys.length
    ? keys.map((k) => `${k.fingerprint}  ${k.keyType}${k.comment ? `  ${k.comment}` : ""}`)
    : ["you have no SSH keys on file; add one with `keys add <contents of ~/.ssh/id_ed25519.pub>`"];
  lines.push(
    "", "Your spawnbot key: to spawn on a machine of yours (`--host user@host`), add this line to that user's ~/.ssh/authorized_keys. Only your spawns use it:",
    (await userHostKey(ctx, inv.user)).publicKey,
  );
  if (inv.isAdmin) lines.push("", "spawnbot's own key (admins: authorize it on a host you share with channels by `hosts add`):", botPublicKey);
  return inv.conv.whisper(text(lines, "Your SSH keys"));
}

export async function handleKeysAdd(ctx: CoreContext, inv: Invocation, line: string): Promise<void> {
  const info = inspectPublicKey(line);
  if ("error" in info) return inv.conv.whisper(error(info.error));
  await ctx.store.addUserKey(inv.user, { fingerprint: info.fingerprint, publicKey: info.publicKey, keyType: info.keyType, comment: info.comment });
  await auditAction(ctx, inv, "keys-add", { detail: { fingerprint: info.fingerprint } });
  const pushed = await pushKeys(ctx, inv, { add: [info.publicKey] });
  return inv.conv.whisper(text([`added ${info.keyType} key ${info.fingerprint}; it is installed on your new spawns${pushed.summary}`, ...pushed.failures]));
}

/**
 * Put a key change on every running spawn the user can log in to (their own and those shared
 * with them). A host that cannot be reached is reported, not fatal: the key list is the truth.
 */
async function pushKeys(ctx: CoreContext, inv: Invocation, change: { add?: string[]; remove?: string[] }): Promise<{ summary: string; failures: string[] }> {
  const shared = await Promise.all((await ctx.store.listSharedWith(inv.user)).map((id) => ctx.store.getSpawn(id)));
  const targets = [...(await ctx.store.listForOwner(inv.user, { limit: 10_000 })), ...shared]
    .filter((r): r is NonNullable<typeof r> => r !== undefined && r.status === "ready" && ctx.orchestrator.cloud(r.cloud)?.access === "ssh");
  const failures: string[] = [];
  let done = 0;
  for (const rec of targets) {
    try {
      await ctx.orchestrator.updateKeys(await hostRecord(ctx, rec), change);
      done++;
    } catch (err) {
      failures.push(`could not update ${rec.name}: ${(err as Error).message}`);
    }
  }
  const verb = change.add ? "installed on" : "removed from";
  return { summary: targets.length ? ` and ${verb} ${plural(done, "running spawn")}` : "", failures };
}

export async function handleKeysRemove(ctx: CoreContext, inv: Invocation, fingerprint: string): Promise<void> {
  const key = (await ctx.store.listUserKeys(inv.user)).find((k) => k.fingerprint === fingerprint);
  if (!key || !(await ctx.store.removeUserKey(inv.user, fingerprint))) return inv.conv.whisper(error(`you have no key ${fingerprint}; \`keys\` lists yours`));
  await auditAction(ctx, inv, "keys-remove", { detail: { fingerprint } });
  const pushed = await pushKeys(ctx, inv, { remove: [key.publicKey] });
  return inv.conv.whisper(text([`removed key ${fingerprint}; new spawns will not get it${pushed.summary}`, ...pushed.failures]));
}
