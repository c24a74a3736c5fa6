// Cloning a spawn's --repo into the agent's working directory (~/<name>) before launch. Safe to run
// again (a resumed run, a retry): a folder that already holds a clone of the same URL is kept, and
// only checked out at the ref when it is not there yet. A private repository's token reaches the host
// only as a git credential file (0600, in the 0700 ~/.spawnbot, written over SFTP, never on a command
// line), which the clone keeps using for pulls and pushes; the spawn's clean-up removes it.
import { spawnKeyMark } from "./authorized-keys.js";
import { shellQuote } from "./shell.js";

export interface RepoPlan {
  /** The clone URL (https; http only for a bot configured with a loopback git server). */
  url: string;
  /** Branch, tag or commit to check out; the default branch when absent. */
  ref?: string;
  /** The folder under the login's home it is cloned into, and the agent works in. */
  dir: string;
  /** What the user asked for (owner/name or the URL), for messages. */
  display: string;
  /** The owner's git token, when the URL is on the bot's git host and they saved one. */
  token?: string;
}

/** Exit codes of the clone script that carry a meaning for the user. */
export const CLONE_EXIT = { NO_GIT: 30, TAKEN: 31, CLONE: 32, CHECKOUT: 33 } as const;

const SAFE_URL_RE = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9_.~-]+)+$/;
const SAFE_DIR_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const SAFE_REF_RE = /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}$/;

/** Where the spawn's git credential lives on the host, relative to home (one file per spawn). */
export function credentialPath(spawnId: string): string {
  spawnKeyMark(spawnId); // validates the id
  return `.spawnbot/git-credentials-${spawnId}`;
}

/** The credential file's one line, in git-credential-store's format (user and token URL-encoded). */
export function credentialLine(url: string, token: string): string {
  const u = new URL(url);
  return `${u.protocol}//x-access-token:${encodeURIComponent(token)}@${u.host}\n`;
}

/** The folder a repository is cloned into: its last path segment without `.git`. */
export function repoDir(url: string): string {
  const last = new URL(url).pathname.split("/").filter(Boolean).at(-1) ?? "";
  const dir = last.replace(/\.git$/, "");
  if (!SAFE_DIR_RE.test(dir)) throw new Error(`cannot make a folder name from ${JSON.stringify(url)}`);
  return dir;
}

/** The clone script; prints "cloned", "already cloned" or "checked out <ref>" on success. */
export function cloneScript(spawnId: string, repo: RepoPlan, withCredential: boolean): string {
  if (!SAFE_URL_RE.test(repo.url)) throw new Error(`unsafe repository URL ${JSON.stringify(repo.url)}`);
  if (!SAFE_DIR_RE.test(repo.dir)) throw new Error(`unsafe folder name ${JSON.stringify(repo.dir)}`);
  if (repo.ref !== undefined && (!SAFE_REF_RE.test(repo.ref) || repo.ref.includes(".."))) throw new Error(`unsafe ref ${JSON.stringify(repo.ref)}`);
  const cred = `"$HOME/${credentialPath(spawnId)}"`;
  const ref = repo.ref === undefined ? "" : shellQuote(repo.ref);
  return [
    `set -u`,
    `export GIT_TERMINAL_PROMPT=0`, // a missing or wrong token fails at once instead of waiting for a password
    // Like tmux: installed with apt when the login is root or has passwordless sudo.
    `if ! command -v git >/dev/null 2>&1; then`,
    `  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else echo "git is not installed and $(id -un) cannot install packages; install git on the host" >&2; exit ${CLONE_EXIT.NO_GIT}; fi`,
    `  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null 2>&1 || { echo "installing git failed" >&2; exit ${CLONE_EXIT.NO_GIT}; }`,
    `fi`,
    `url=${shellQuote(repo.url)}`,
    `shown=${shellQuote(repo.display)}`,
    `dir="$HOME/"${shellQuote(repo.dir)}`,
    `ref=${ref || '""'}`,
    withCredential ? `helper="store --file=${cred.slice(1, -1)}"; auth=(-c "credential.helper=" -c "credential.helper=$helper")` : `auth=()`,
    `if [ -d "$dir/.git" ]; then`,
    `  [ "$(git -C "$dir" remote get-url origin 2>/dev/null)" = "$url" ] || { echo "~/${repo.dir} already exists and is not a clone of $shown; move it away and restart the spawn" >&2; exit ${CLONE_EXIT.TAKEN}; }`,
    `  [ -z "$ref" ] && { echo "already cloned"; exit 0; }`,
    `  want="$(git -C "$dir" rev-parse -q --verify "$ref^{commit}" 2>/dev/null)"`,
    `  [ -n "$want" ] && [ "$want" = "$(git -C "$dir" rev-parse HEAD)" ] && { echo "already cloned"; exit 0; }`,
    `  git "\${auth[@]}" -C "$dir" fetch -q origin >&2 && git -C "$dir" checkout -q "$ref" >&2 || exit ${CLONE_EXIT.CHECKOUT}`,
    `  echo "checked out $ref"; exit 0`,
    `fi`,
    `if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then echo "~/${repo.dir} already exists and is not empty; move it away and restart the spawn" >&2; exit ${CLONE_EXIT.TAKEN}; fi`,
    `git "\${auth[@]}" clone -q -- "$url" "$dir" >&2 || exit ${CLONE_EXIT.CLONE}`,
    `if [ -n "$ref" ]; then git -C "$dir" checkout -q "$ref" >&2 || exit ${CLONE_EXIT.CHECKOUT}; fi`,
    // The agent's own pulls and pushes use the same credential, for as long as the spawn lives.
    withCredential ? `git -C "$dir" config credential.helper "$helper"` : `true`,
    `echo cloned`,
  ].join("\n");
}

/** The clean-up's line: the spawn's git credential goes. */
export function removeCredentialCommand(spawnId: string): string {
  return `rm -f "$HOME/${credentialPath(spawnId)}"`;
}
