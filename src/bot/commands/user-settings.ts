// A user's settings: their OpenRouter key and their own Cursor key (sealed at rest, shown only by
// their last four characters), their SSH keys and their default model per agent. Chat adapters show these as a
// private form and hand back what was submitted; every value is validated here, in the core.
import { secrets } from "../../secrets.js";
import { auditAction } from "../access/audit-trail.js";
import type { ChatPlace } from "../outlet.js";
import type { CoreContext, Invocation } from "../context.js";
import { isModelId } from "../grammar/grammar-values.js";
import { handleKeysAdd } from "./settings-commands.js";
import { LIVE_STATUSES, type UserRef } from "../store/index.js";
import { inspectPublicKey } from "../access/ssh-keys.js";
import { excerpt } from "../grammar/tokenize.js";
import { modelProblem } from "../spawns/openrouter-models.js";
import { removalKindOf, text, type HomeView, type SettingsView } from "../views/views.js";

const OPENROUTER_KEY = "openrouter-api-key";
/** The Cursor agent's own key (the catalog's `ownKey.secret` for Cursor names this same secret). */
export const CURSOR_KEY = "cursor-api-key";
// Cursor's API keys (cursor.com dashboard → Integrations) are opaque; accept a sane token shape.
const CURSOR_KEY_RE = /^[A-Za-z0-9_.-]{20,300}$/;
/** A member's git token for private --repo clones (the name repos.ts reads it by). */
const GIT_TOKEN = "git-token";
// GitHub (ghp_…, github_pat_…), GitLab (glpat-…) and Gitea tokens: letters, digits, _ and -.
const GIT_TOKEN_RE = /^[A-Za-z0-9_.-]{20,300}$/;
const HOME_ROWS = 25; // Slack's App Home holds 100 blocks; 25 spawns of 2 blocks and the settings fit with room to spare
// OpenRouter keys are "sk-or-v1-" and 64 hex digits today; accept the prefix and a sane length.
export const OPENROUTER_KEY_RE = /^sk-or-[A-Za-z0-9_-]{20,200}$/;

/** What a settings form sends back; absent fields are left as they are. */
export interface SettingsInput {
  /** A new OpenRouter key; "" or absent keeps the stored one. */
  apiKey?: string;
  clearApiKey?: boolean;
  /** The user's own Cursor API key, for Cursor spawns; "" or absent keeps the stored one. */
  cursorKey?: string;
  clearCursorKey?: boolean;
  /** The user's git token for private --repo repositories; "" or absent keeps the stored one. */
  gitToken?: string;
  clearGitToken?: boolean;
  /** One SSH public key line to add. */
  addKey?: string;
  /** agent → model id; "" clears the saved model. */
  models?: Record<string, string>;
}

/** Field → message, for the form to show beside each field. */
export type SettingsErrors = Record<string, string>;

const sealContext = (user: UserRef, name = OPENROUTER_KEY) => `${user.platform}:${user.userId}:${name}`;

/** The user's own OpenRouter key, registered with the redactor; undefined when they have none (see spawn-api-keys.ts). */
export async function ownApiKey(ctx: CoreContext, user: UserRef): Promise<string | undefined> {
  const stored = await ctx.store.chat.getUserSecret(user, OPENROUTER_KEY);
  if (!stored) return undefined;
  try {
    const key = ctx.secretBox.open(stored.sealed, sealContext(user));
    secrets.add(key);
    return key;
  } catch (err) {
    // A rotated SPAWNBOT_SECRET_KEY or a damaged row: the user must enter the key again.
    ctx.log.warn({ err: (err as Error).message, userId: user.userId }, "a stored OpenRouter key could not be opened");
    return undefined;
  }
}

/** The user's own key for an agent with `ownKey` (e.g. Cursor), registered with the redactor; undefined when none is saved. */
export async function agentKeyFor(ctx: CoreContext, user: UserRef, secretName: string): Promise<string | undefined> {
  const stored = await ctx.store.chat.getUserSecret(user, secretName);
  if (!stored) return undefined;
  try {
    const key = ctx.secretBox.open(stored.sealed, sealContext(user, secretName));
    secrets.add(key);
    return key;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, userId: user.userId, secret: secretName }, "a stored agent key could not be opened");
    return undefined;
  }
}

/** Whether a member without a key of their own can still spawn: the bot makes or shares one. */
function botProvidesKey(ctx: CoreContext): boolean {
  return botKeySource(ctx) !== "none";
}

function botKeySource(ctx: CoreContext): "per-spawn" | "workspace" | "none" {
  const s = ctx.settings;
  return s.openrouterManagementKey ? "per-spawn" : s.openrouterApiKey && s.shareWorkspaceKey ? "workspace" : "none";
}

/** Seal and keep a user's OpenRouter key (from the form, or from Connect OpenRouter), and audit it where it was asked for. */
export async function saveApiKey(ctx: CoreContext, user: UserRef, place: ChatPlace, apiKey: string, via?: string): Promise<void> {
  secrets.add(apiKey);
  await ctx.store.chat.saveUserSecret(user, OPENROUTER_KEY, { sealed: ctx.secretBox.seal(apiKey, sealContext(user)), last4: apiKey.slice(-4), updatedAt: Date.now() });
  // Never the key in the audit log, not even its last four characters.
  await ctx.store.audit({ platform: user.platform, ...place, userId: user.userId, action: "settings-api-key-set", detail: via ? { via } : {} });
}

export async function settingsView(ctx: CoreContext, user: UserRef): Promise<SettingsView> {
  const stored = await ctx.store.chat.getUserSecret(user, OPENROUTER_KEY);
  const cursor = await ctx.store.chat.getUserSecret(user, CURSOR_KEY);
  const gitToken = await ctx.store.chat.getUserSecret(user, GIT_TOKEN);
  const saved = new Map((await ctx.store.listModelPreferences(user)).map((p) => [p.agent, p.model]));
  return {
    kind: "settings",
    apiKey: stored ? { source: "yours", last4: stored.last4 } : { source: botKeySource(ctx) },
    ...(cursor ? { cursorKey: { last4: cursor.last4 } } : {}),
    ...(gitToken ? { gitToken: { last4: gitToken.last4 } } : {}),
    keys: (await ctx.store.listUserKeys(user)).map((k) => ({ fingerprint: k.fingerprint, keyType: k.keyType, comment: k.comment })),
    models: ctx.orchestrator.agents.map((a) => ({ agent: a.key, name: a.name, saved: saved.get(a.key), defaultModel: a.defaultModel })),
  };
}

export async function handleSettings(ctx: CoreContext, inv: Invocation): Promise<void> {
  return inv.conv.whisper(await settingsView(ctx, inv.user));
}

/** Check every field first; change nothing unless all are valid. */
export function validateSettings(ctx: CoreContext, input: SettingsInput): SettingsErrors {
  const errors: SettingsErrors = {};
  const apiKey = input.apiKey?.trim();
  if (apiKey && !OPENROUTER_KEY_RE.test(apiKey)) {
    errors.apiKey = "that is not an OpenRouter API key (they start with sk-or-); copy it again from openrouter.ai/keys";
  }
  const cursorKey = input.cursorKey?.trim();
  if (cursorKey && OPENROUTER_KEY_RE.test(cursorKey)) {
    errors.cursorKey = "that is an OpenRouter key, which Cursor must never get; paste a Cursor API key from cursor.com (Dashboard → Integrations)";
  } else if (cursorKey && !CURSOR_KEY_RE.test(cursorKey)) {
    errors.cursorKey = "that does not look like a Cursor API key; copy it again from cursor.com (Dashboard → Integrations)";
  }
  const gitToken = input.gitToken?.trim();
  if (gitToken && OPENROUTER_KEY_RE.test(gitToken)) {
    errors.gitToken = "that is an OpenRouter key, which must never go to a git host; paste a git token (GitHub: Settings → Developer settings → Personal access tokens)";
  } else if (gitToken && !GIT_TOKEN_RE.test(gitToken)) {
    errors.gitToken = "that does not look like a git token; copy it again (GitHub: Settings → Developer settings → Personal access tokens)";
  }
  const line = input.addKey?.trim();
  if (line) {
    const info = inspectPublicKey(line);
    if ("error" in info) errors.addKey = info.error;
  }
  for (const [agent, model] of Object.entries(input.models ?? {})) {
    // The agent name comes from the submitted form, not from our list: echo it only as a short excerpt.
    if (!ctx.orchestrator.agent(agent)) errors[`model:${agent}`] = `the '${excerpt(agent)}' agent is not available on this bot; see \`agents\``;
    else if (model.trim() !== "" && !isModelId(model.trim())) errors[`model:${agent}`] = "use a model id as provider/model, e.g. openai/gpt-5.3-codex";
  }
  return errors;
}

/**
 * Apply a submitted form: the answer goes privately to the user. Returns the field errors
 * (and changes nothing) when any value is bad.
 */
export async function saveSettings(ctx: CoreContext, inv: Invocation, input: SettingsInput): Promise<SettingsErrors> {
  const errors = validateSettings(ctx, input);
  if (Object.keys(errors).length > 0) return errors;
  // Models not on OpenRouter's list are refused here: checking the form (validateSettings) must not wait on OpenRouter.
  for (const [agent, model] of Object.entries(input.models ?? {})) {
    const problem = model.trim() === "" ? undefined : await modelProblem(ctx.models, model.trim());
    if (problem) errors[`model:${agent}`] = problem;
  }
  if (Object.keys(errors).length > 0) return errors;
  const { user } = inv;
  const audit = (action: string, detail: Record<string, unknown> = {}) => auditAction(ctx, inv, action, { detail });
  const done: string[] = [];
  const apiKey = input.apiKey?.trim();
  if (apiKey) {
    await saveApiKey(ctx, user, { workspace: inv.req.workspace, channel: inv.req.channel }, apiKey);
    done.push(`your OpenRouter key ending in ${apiKey.slice(-4)} is saved (encrypted) and used by your new spawns`);
  } else if (input.clearApiKey && (await ctx.store.chat.deleteUserSecret(user, OPENROUTER_KEY))) {
    await audit("settings-api-key-clear");
    done.push(botProvidesKey(ctx) ? "your OpenRouter key was removed; your spawns use the bot's key" : "your OpenRouter key was removed; add one before your next spawn");
  }
  const cursorKey = input.cursorKey?.trim();
  if (cursorKey) {
    secrets.add(cursorKey);
    await ctx.store.chat.saveUserSecret(user, CURSOR_KEY, { sealed: ctx.secretBox.seal(cursorKey, sealContext(user, CURSOR_KEY)), last4: cursorKey.slice(-4), updatedAt: Date.now() });
    await audit("settings-cursor-key-set");
    done.push(`your Cursor key ending in ${cursorKey.slice(-4)} is saved (encrypted) and used by your new Cursor spawns`);
  } else if (input.clearCursorKey && (await ctx.store.chat.deleteUserSecret(user, CURSOR_KEY))) {
    await audit("settings-cursor-key-clear");
    done.push("your Cursor key was removed; Cursor spawns run without one until you log in from their session");
  }
  const gitToken = input.gitToken?.trim();
  if (gitToken) {
    secrets.add(gitToken);
    await ctx.store.chat.saveUserSecret(user, GIT_TOKEN, { sealed: ctx.secretBox.seal(gitToken, sealContext(user, GIT_TOKEN)), last4: gitToken.slice(-4), updatedAt: Date.now() });
    await audit("settings-git-token-set");
    done.push(`your git token ending in ${gitToken.slice(-4)} is saved (encrypted) and used to clone private repositories for your new spawns (--repo)`);
  } else if (input.clearGitToken && (await ctx.store.chat.deleteUserSecret(user, GIT_TOKEN))) {
    await audit("settings-git-token-clear");
    done.push("your git token was removed; --repo clones only public repositories for you now");
  }
  for (const [agent, raw] of Object.entries(input.models ?? {})) {
    const model = raw.trim();
    const current = await ctx.store.getModelPreference(user, agent);
    if (model === (current ?? "")) continue;
    if (model === "") {
      await ctx.store.clearModelPreference(user, agent);
      await audit("prefs-model-clear", { agent });
      done.push(`${agent} is back to its default model`);
    } else {
      await ctx.store.setModelPreference(user, agent, model);
      await audit("prefs-model-set", { agent, model });
      done.push(`${agent} now uses ${model}`);
    }
  }
  if (done.length) await inv.conv.whisper(text(done, "Settings saved"));
  if (input.addKey?.trim()) await handleKeysAdd(ctx, inv, input.addKey.trim());
  if (!done.length && !input.addKey?.trim()) await inv.conv.whisper(text("nothing changed in your settings"));
  return {};
}

/** A user's home: their spawns (live first, then the recent past) and their settings. */
export async function homeView(ctx: CoreContext, user: UserRef): Promise<HomeView> {
  const rows = await ctx.store.listForOwner(user, { limit: HOME_ROWS });
  const live = (r: (typeof rows)[number]) => LIVE_STATUSES.includes(r.status);
  return {
    kind: "home",
    spawns: [...rows.filter(live), ...rows.filter((r) => !live(r))].map((r) => ({
      id: r.id, name: r.name, agent: r.agent, cloud: r.cloud, model: r.model ?? "", status: r.status, owner: r.ownerName,
      createdAt: r.createdAt, expiresAt: r.expiresAt, live: live(r), removal: removalKindOf(ctx.orchestrator.cloud(r.cloud)),
    })),
    total: await ctx.store.countListed({ platform: user.platform, ownerId: user.userId }),
    settings: await settingsView(ctx, user),
    modelIds: ctx.models?.cached() ?? [],
  };
}
