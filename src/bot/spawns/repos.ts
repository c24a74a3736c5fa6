// `--repo`: what the user typed (owner/name or an https URL, with a ref) resolved against the bot's
// git host into what the run clones, and the owner's git token for it. The token is given only for
// repositories on the bot's git host (SPAWNBOT_GIT_BASE_URL): a URL elsewhere is cloned without it,
// so a token saved for GitHub never reaches another server.
import type { RepoSpec } from "../grammar/commands.js";
import type { CoreContext } from "../context.js";
import type { SpawnOptions, SpawnRecord } from "../store/index.js";
import { agentKeyFor } from "../commands/user-settings.js";

export const DEFAULT_GIT_BASE_URL = "https://github.com";
/** The user secret (sealed, like the OpenRouter key) that holds a member's git token (saved by user-settings.ts). */
const GIT_TOKEN = "git-token";

type StoredRepo = NonNullable<SpawnOptions["repo"]>;

export function gitBaseOf(ctx: CoreContext): string {
  return (ctx.settings.gitBaseUrl ?? DEFAULT_GIT_BASE_URL).replace(/\/+$/, "");
}

/** The clone URL and folder for what the user typed; the grammar has already checked its characters. */
export function resolveRepo(spec: RepoSpec, gitBaseUrl: string): StoredRepo {
  const full = /^https:\/\//.test(spec.source);
  const url = full ? spec.source : `${gitBaseUrl}/${spec.source.replace(/\.git$/, "")}.git`;
  const last = url.split("/").at(-1) ?? "";
  return { url, ...(spec.ref ? { ref: spec.ref } : {}), dir: last.replace(/\.git$/, ""), display: spec.source };
}

/** What the run clones, with the owner's token when the repository is on the bot's git host. */
export async function repoPlanFor(ctx: CoreContext, rec: SpawnRecord) {
  const repo = rec.options?.repo;
  if (!repo) return undefined;
  const onGitHost = new URL(repo.url).origin === new URL(gitBaseOf(ctx)).origin;
  const token = onGitHost ? await agentKeyFor(ctx, { platform: rec.platform, userId: rec.ownerId }, GIT_TOKEN) : undefined;
  return { ...repo, ...(token ? { token } : {}) };
}
