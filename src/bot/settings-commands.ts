// `prefs` (default model per agent) and `keys` (the user's SSH public keys, and the bot's own).
import type { CoreContext, Invocation } from "./context.js";
import { inspectPublicKey } from "./ssh-keys.js";
import { error, text } from "./views.js";

export async function handlePrefsShow(ctx: CoreContext, inv: Invocation): Promise<void> {
  const prefs = ctx.store.listModelPreferences(inv.user);
  const lines = prefs.length
    ? prefs.map((p) => `${p.agent}: ${p.model}`)
    : ["no saved models; each agent uses its default (see `agents`)"];
  lines.push("set one with `prefs model <agent> <provider/model>`, remove it with `prefs model <agent> --clear`");
  return inv.conv.whisper(text(lines, "Your default models"));
}

export async function handlePrefsSet(ctx: CoreContext, inv: Invocation, agent: string, model: string): Promise<void> {
  if (!ctx.orchestrator.agent(agent)) return inv.conv.whisper(error(`the ${agent} agent is not available on this bot; see \`agents\``));
  ctx.store.setModelPreference(inv.user, agent, model);
  ctx.store.audit({ platform: inv.req.platform, userId: inv.user.userId, action: "prefs-model-set", detail: { agent, model } });
  return inv.conv.whisper(text(`your ${agent} spawns now use ${model} unless you pass --model`));
}

export async function handlePrefsClear(ctx: CoreContext, inv: Invocation, agent: string): Promise<void> {
  const removed = ctx.store.clearModelPreference(inv.user, agent);
  if (!removed) return inv.conv.whisper(text(`you had no saved model for ${agent}; nothing changed`));
  ctx.store.audit({ platform: inv.req.platform, userId: inv.user.userId, action: "prefs-model-clear", detail: { agent } });
  const fallback = ctx.orchestrator.agent(agent)?.defaultModel;
  return inv.conv.whisper(text(`your saved model for ${agent} was removed${fallback ? `; it is back to ${fallback}` : ""}`));
}

export async function handleKeysList(ctx: CoreContext, inv: Invocation, botPublicKey: string): Promise<void> {
  const keys = ctx.store.listUserKeys(inv.user);
  const lines = keys.length
    ? keys.map((k) => `${k.fingerprint}  ${k.keyType}${k.comment ? `  ${k.comment}` : ""}`)
    : ["you have no SSH keys on file; add one with `keys add <contents of ~/.ssh/id_ed25519.pub>`"];
  lines.push("", "spawnbot's own public key (authorize it on a host you want to use with the ssh cloud):", botPublicKey);
  return inv.conv.whisper(text(lines, "Your SSH keys"));
}

export async function handleKeysAdd(ctx: CoreContext, inv: Invocation, line: string): Promise<void> {
  const info = inspectPublicKey(line);
  if ("error" in info) return inv.conv.whisper(error(info.error));
  ctx.store.addUserKey(inv.user, { fingerprint: info.fingerprint, publicKey: info.publicKey, keyType: info.keyType, comment: info.comment });
  ctx.store.audit({ platform: inv.req.platform, userId: inv.user.userId, action: "keys-add", detail: { fingerprint: info.fingerprint } });
  return inv.conv.whisper(text(`added ${info.keyType} key ${info.fingerprint}; it is installed on your new spawns`));
}

export async function handleKeysRemove(ctx: CoreContext, inv: Invocation, fingerprint: string): Promise<void> {
  if (!ctx.store.removeUserKey(inv.user, fingerprint)) return inv.conv.whisper(error(`you have no key ${fingerprint}; \`keys\` lists yours`));
  ctx.store.audit({ platform: inv.req.platform, userId: inv.user.userId, action: "keys-remove", detail: { fingerprint } });
  return inv.conv.whisper(text(`removed key ${fingerprint}; new spawns will not get it`));
}
