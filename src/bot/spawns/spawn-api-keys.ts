// Which OpenRouter key a spawn's host gets, and the life of the keys the bot makes for spawns.
// A member's own key (from `settings`) goes to their spawns as it is. Otherwise, with the
// workspace's management key, each spawn gets a key of its own: named after the spawn and its
// owner, capped at its budget, expiring with the spawn (moved by `extend`) and deleted when the
// spawn ends — delete, expiry, a failed run, start-up recovery. A delete OpenRouter does not
// confirm is kept in the store and tried again by the upkeep's clean-up job, with the same
// backoff as a failed server delete. The workspace key itself reaches a host only when an admin
// asked for it (shareWorkspaceKey).
import { secrets } from "../../secrets.js";
import type { CoreContext } from "../context.js";
import { formatDuration } from "../views/format.js";
import { OPENROUTER_DEFAULT_URLS } from "../commands/openrouter-connect.js";
import { OpenRouterManagement, type ManagedKey } from "./openrouter-management.js";
import { retryDelay } from "./spawn-removal.js";
import type { SpawnRecord, UserRef } from "../store/index.js";
import { ownApiKey } from "../commands/user-settings.js";

/** Without SPAWNBOT_SPAWN_BUDGET / SPAWNBOT_MAX_SPAWN_BUDGET (tests, embedders): their defaults. */
export const DEFAULT_SPAWN_BUDGET = { defaultUsd: 10, maxUsd: 100 } as const;
const NAME_PART_RE = /[^A-Za-z0-9._@-]+/g; // key names show in OpenRouter's dashboard: plain words only
const MAX_OWNER_IN_NAME = 40;

export type KeyChoice =
  | { kind: "own"; apiKey: string }
  | { kind: "per-spawn"; budgetUsd: number }
  | { kind: "workspace"; apiKey: string }
  | { kind: "refused"; message: string };

export function spawnBudget(ctx: CoreContext): { defaultUsd: number; maxUsd: number } {
  return ctx.settings.spawnBudget ?? DEFAULT_SPAWN_BUDGET;
}

/** The key a new spawn of this user gets, or why it gets none. budgetUsd is --budget, if given. */
export async function chooseSpawnKey(ctx: CoreContext, user: UserRef, budgetUsd?: number): Promise<KeyChoice> {
  const own = await ownApiKey(ctx, user);
  if (own) return { kind: "own", apiKey: own };
  const s = ctx.settings;
  if (s.openrouterManagementKey) {
    const { defaultUsd, maxUsd } = spawnBudget(ctx);
    const budget = budgetUsd ?? defaultUsd;
    if (budget > maxUsd) return { kind: "refused", message: `--budget ${usd(budget)} is above this bot's most per spawn (${usd(maxUsd)}); ask for less, or use your own OpenRouter key (\`settings\`)` };
    return { kind: "per-spawn", budgetUsd: budget };
  }
  if (s.openrouterApiKey && s.shareWorkspaceKey) return { kind: "workspace", apiKey: s.openrouterApiKey };
  if (s.openrouterApiKey) {
    return { kind: "refused", message: "this bot does not hand its workspace OpenRouter key to spawns: add your own key with `settings` (a private form) or `settings openrouter` (sign in at OpenRouter), then spawn again" };
  }
  return { kind: "refused", message: "no OpenRouter API key: add yours with `settings` (a private form) or `settings openrouter`, or ask an admin to set OPENROUTER_MANAGEMENT_KEY for the bot" };
}

/** The Management API client, when the bot has a management key. */
export function managementApi(ctx: CoreContext): OpenRouterManagement | undefined {
  return management(ctx);
}

function management(ctx: CoreContext): OpenRouterManagement | undefined {
  const key = ctx.settings.openrouterManagementKey;
  return key ? new OpenRouterManagement(ctx.settings.openrouter?.api ?? OPENROUTER_DEFAULT_URLS.api, key) : undefined;
}

/** "spawnbot fix-login alice 1f2e3d4c": the spawn, its owner and its id, for OpenRouter's key list. */
export function spawnKeyName(rec: Pick<SpawnRecord, "id" | "name" | "ownerName" | "ownerId">): string {
  const owner = (rec.ownerName.replace(NAME_PART_RE, "-").replace(/^-+|-+$/g, "") || rec.ownerId.replace(NAME_PART_RE, "-")).slice(0, MAX_OWNER_IN_NAME);
  return `spawnbot ${rec.name} ${owner} ${rec.id.slice(0, 8)}`;
}

const spawnKeyContext = (spawnId: string) => `spawn:${spawnId}:openrouter-key`;

/**
 * The key a restarted bot gives a run it continues: the spawn's own key (opened from its seal),
 * else what a new spawn of the owner would get now; undefined when there is none to give.
 */
export async function resumedSpawnKey(ctx: CoreContext, rec: SpawnRecord): Promise<string | undefined> {
  const made = await ctx.store.spawnKeys.getSpawnKey(rec.id);
  if (made) {
    if (!made.sealedKey || made.deletedAt !== null) return undefined;
    try {
      const key = ctx.secretBox.open(made.sealedKey, spawnKeyContext(rec.id));
      secrets.add(key);
      return key;
    } catch (err) {
      ctx.log.warn({ spawnId: rec.id, err: (err as Error).message }, "the spawn's own OpenRouter key could not be opened");
      return undefined;
    }
  }
  const choice = await chooseSpawnKey(ctx, { platform: rec.platform, userId: rec.ownerId });
  return choice.kind === "own" || choice.kind === "workspace" ? choice.apiKey : undefined;
}

/** Make the spawn's own key (its hash is recorded, the key sealed, returned and registered with the redactor). */
export async function mintSpawnKey(ctx: CoreContext, rec: SpawnRecord, budgetUsd: number): Promise<{ apiKey: string } | { problem: string }> {
  const api = management(ctx);
  if (!api) return { problem: "the bot has no OpenRouter management key" };
  try {
    const { key, data } = await api.createKey({ name: spawnKeyName(rec), limitUsd: budgetUsd, expiresAt: rec.expiresAt });
    await ctx.store.spawnKeys.recordSpawnKey({
      spawnId: rec.id, keyHash: data.hash, limitUsd: budgetUsd, expiresAt: rec.expiresAt, createdAt: Date.now(),
      sealedKey: ctx.secretBox.seal(key, spawnKeyContext(rec.id)),
    });
    ctx.log.info({ spawnId: rec.id, keyHash: data.hash, limitUsd: budgetUsd }, "made the spawn's own OpenRouter key");
    return { apiKey: key };
  } catch (err) {
    const problem = secrets.redact((err as Error).message);
    ctx.log.warn({ spawnId: rec.id, problem }, "could not make the spawn's own OpenRouter key");
    return { problem };
  }
}

/**
 * `extend`: move the spawn's key to its new expiry. Returns a line for the owner when the key's
 * expiry could not be moved (their agent loses model access at the old time), else undefined.
 */
export async function moveSpawnKeyExpiry(ctx: CoreContext, rec: SpawnRecord, expiresAt: number): Promise<string | undefined> {
  const key = await ctx.store.spawnKeys.getSpawnKey(rec.id);
  const api = management(ctx);
  if (!key || key.deletedAt !== null || key.revokeAt !== null || !api) return undefined;
  const old = key.expiresAt === null ? "" : ` in ${formatDuration(Math.max(0, key.expiresAt - Date.now()))}`;
  let moved: ManagedKey;
  try {
    moved = await api.updateKey(key.keyHash, { expiresAt });
  } catch (err) {
    const problem = secrets.redact((err as Error).message);
    ctx.log.warn({ spawnId: rec.id, problem }, "could not move the spawn's OpenRouter key expiry");
    return `its OpenRouter key could not be extended (${problem}), so the agent loses model access at the old time${old}; run extend again to retry`;
  }
  // OpenRouter's published PATCH schema has no expires_at: trust only what the answer says.
  if (moved.expiresAt === null || Date.parse(moved.expiresAt) !== expiresAt) {
    ctx.log.warn({ spawnId: rec.id, asked: expiresAt, answered: moved.expiresAt }, "OpenRouter kept the key's old expiry");
    return `OpenRouter kept its key's old expiry, so the agent loses model access${old}; set OPENROUTER_API_KEY on the host or spawn again for longer`;
  }
  await ctx.store.spawnKeys.setSpawnKeyExpiry(rec.id, expiresAt);
  return undefined;
}

/**
 * The spawn ended: delete its key. Never throws; a delete that fails is recorded and tried again
 * by retryKeyRevocations with a doubling backoff. The intent is stored before the call, so a bot
 * killed in between still deletes it.
 */
export async function revokeSpawnKey(ctx: CoreContext, spawnId: string, now = Date.now()): Promise<"deleted" | "failed" | "none"> {
  const key = await ctx.store.spawnKeys.getSpawnKey(spawnId);
  if (!key || key.deletedAt !== null) return "none";
  await ctx.store.spawnKeys.markRevokeDue(spawnId, now);
  const api = management(ctx);
  if (!api) {
    // The management key was removed from the config: the key still expires with its spawn.
    await ctx.store.spawnKeys.recordRevokeFailure(spawnId, "no OpenRouter management key configured", (n) => now + retryDelay(n));
    ctx.log.error({ spawnId, keyHash: key.keyHash }, "cannot delete a spawn's OpenRouter key: OPENROUTER_MANAGEMENT_KEY is not set");
    return "failed";
  }
  try {
    const outcome = await api.deleteKey(key.keyHash);
    await ctx.store.spawnKeys.markKeyDeleted(spawnId, now);
    ctx.log.info({ spawnId, keyHash: key.keyHash, outcome }, "deleted the spawn's OpenRouter key");
    return "deleted";
  } catch (err) {
    const problem = secrets.redact((err as Error).message);
    const r = await ctx.store.spawnKeys.recordRevokeFailure(spawnId, problem, (n) => now + retryDelay(n));
    ctx.log.warn({ spawnId, keyHash: key.keyHash, problem, attempts: r?.attempts }, "could not delete the spawn's OpenRouter key; it will be retried");
    return "failed";
  }
}

/**
 * Start-up recovery: a bot killed between OpenRouter making a spawn's key and the store recording
 * it leaves the spawn "pending" with no key on record. Find such keys by the spawn id in their
 * name (one listing, only when there are such spawns) and delete them. Only keys named after
 * these spawns are touched: other keys of the account are not the bot's to judge.
 */
export async function revokeUnrecordedKeys(ctx: CoreContext, recs: readonly SpawnRecord[]): Promise<number> {
  const api = management(ctx);
  const orphans: SpawnRecord[] = [];
  for (const r of recs) if (r.status === "pending" && !(await ctx.store.spawnKeys.getSpawnKey(r.id))) orphans.push(r);
  if (!api || orphans.length === 0) return 0;
  const names = new Map(orphans.map((r) => [spawnKeyName(r), r]));
  let deleted = 0;
  try {
    for (const key of await api.listKeys()) {
      const rec = names.get(key.name);
      if (!rec) continue;
      await api.deleteKey(key.hash);
      ctx.log.info({ spawnId: rec.id, keyHash: key.hash }, "deleted a spawn's OpenRouter key a crash left unrecorded");
      deleted++;
    }
  } catch (err) {
    // It still expires with its spawn's expiry; nothing else could find it, so say so.
    ctx.log.warn({ problem: secrets.redact((err as Error).message), spawnIds: orphans.map((r) => r.id) }, "could not look for OpenRouter keys a crash left unrecorded; they expire with their spawns");
  }
  return deleted;
}

/** The upkeep's pass: delete every key whose delete is due or whose spawn ended without one. */
export async function retryKeyRevocations(ctx: CoreContext, now = Date.now()): Promise<{ deleted: number; failed: number }> {
  const report = { deleted: 0, failed: 0 };
  for (const key of await ctx.store.spawnKeys.listKeysToRevoke(now)) {
    const outcome = await revokeSpawnKey(ctx, key.spawnId, now);
    if (outcome === "deleted") report.deleted++;
    if (outcome === "failed") report.failed++;
  }
  return report;
}

function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
