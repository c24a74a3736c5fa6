// Taking back what a spawn put on an adopted host (the `ssh` and `local` clouds), and nothing
// else: its processes (found by SPAWN_ENV, however detached), its session folder, the
// authorized_keys lines it marked, the agent's config files (the user's own versions restored),
// and, once no other live spawn uses that host user, ~/.spawnrc and the line that sources it.
import type { AgentSpec } from "./agents/types.js";
import { spawnKeyMark } from "./authorized-keys.js";
import { sessionDir, SPAWN_ENV } from "./launch.js";
import { updateAuthorizedKeys } from "./remote/update-keys.js";
import type { RemoteHost } from "./remote/types.js";
import { checkRemotePath, shellQuote } from "./shell.js";
import { removeBootHookCommand } from "./revival.js";
import { removeCredentialCommand } from "./repo-clone.js";
import { RC_CREATED_LIST, RC_FILES, SOURCE_LINE, SPAWNRC_MARKER, SPAWNRC_PATH } from "./spawnrc.js";

/** Where the first spawn on a host user keeps the user's own version of each config file it overwrites. */
export const ORIGINALS_DIR = ".spawnbot/originals";
/** Beside ORIGINALS_DIR/<path>: there was no such file before the bot wrote it. */
const ABSENT_SUFFIX = ".spawnbot-absent";
/** Rounds of find-and-kill: a restart loop or a forking daemon may start a child between two scans. */
const KILL_ROUNDS = 10;
/** Exit code of the clean-up script when marked processes survived every round. */
const SURVIVORS_EXIT = 23;

export interface AdoptedCleanup {
  spawnId: string;
  session: string;
  agent: AgentSpec | undefined;
  /** Whether to kill the tmux session by name (false when this spawn never started it: it is someone else's). */
  killSession: boolean;
  /** Remove the authorized_keys lines marked with this spawn (the `ssh` cloud). */
  keys: boolean;
  /** Spawns recorded before marking: their authorized_keys lines cannot be told from the user's own and stay. */
  marked: boolean;
  /** Agents of the other live spawns on the same host user (unknown agents with no files): files they use stay. */
  otherAgents: readonly Pick<AgentSpec, "configFiles">[];
}

/**
 * Before the configure step overwrites a config file: keep the user's own version (or note that
 * there was none), once per host user, so the last spawn's clean-up can put it back.
 */
export function keepOriginalsCommand(paths: readonly string[]): string {
  const lines = [`R="$HOME/${ORIGINALS_DIR}"`];
  for (const p of paths.map(checkRemotePath)) {
    const q = shellQuote(p);
    lines.push(
      `if [ ! -e "$R/"${q} ] && [ ! -e "$R/"${q}${ABSENT_SUFFIX} ]; then`,
      `  mkdir -p "$(dirname "$R/"${q})" && chmod 700 "$HOME/.spawnbot"`,
      `  if [ -e "$HOME/"${q} ]; then cp -p "$HOME/"${q} "$R/"${q}; else : > "$R/"${q}${ABSENT_SUFFIX}; fi`,
      `fi`,
    );
  }
  return lines.join("\n");
}

/** Run the clean-up; throws (so the delete is retried) when the host refused part of it. */
export async function cleanUpAdoptedHost(host: RemoteHost, c: AdoptedCleanup): Promise<{ keysRemoved: number; sharedRemoved: boolean }> {
  const lastOnHost = c.otherAgents.length === 0;
  const stillUsed = new Set(c.otherAgents.flatMap((a) => a.configFiles.map((f) => f.path)));
  const configPaths = (c.agent?.configFiles ?? []).map((f) => f.path).filter((p) => !stillUsed.has(p));
  const r = await host.run(`bash -c ${shellQuote(cleanupScript(c, configPaths, lastOnHost))}`, { timeoutMs: 60_000 });
  if (r.code === SURVIVORS_EXIT) throw new Error(`processes of the spawn survived being killed: ${r.stdout.trim().split("\n").at(-1) ?? ""}`);
  if (r.code !== 0) throw new Error(`cleaning up the host failed (exit ${r.code}): ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-2).join(" / ")}`);
  let keysRemoved = 0;
  if (c.keys && c.marked) keysRemoved = (await updateAuthorizedKeys(host, { removeMarked: true }, spawnKeyMark(c.spawnId))).removed;
  return { keysRemoved, sharedRemoved: lastOnHost };
}

/** The one bash script of a clean-up (one round trip); every value in it is validated and quoted. */
export function cleanupScript(c: AdoptedCleanup, configPaths: readonly string[], lastOnHost: boolean): string {
  const lines = [
    `set -u`,
    `mark=${shellQuote(`${SPAWN_ENV}=${c.spawnId}`)}`,
  ];
  spawnKeyMark(c.spawnId); // validates the id: it lands in a shell line
  if (c.killSession) lines.push(`tmux kill-session -t ${shellQuote(`=${c.session}`)} 2>/dev/null`);
  lines.push(removeBootHookCommand(c.spawnId)); // the @reboot line would start the agent again
  lines.push(removeCredentialCommand(c.spawnId)); // the --repo token; the clone itself is the user's work and stays
  // Stop every process carrying the spawn's mark: stopped first, so none can fork past the kill.
  lines.push(
    `survivors=""`,
    `for round in $(seq ${KILL_ROUNDS}); do`,
    // One grep over every readable environ (others' processes are unreadable and skipped).
    `  pids="$(grep -lzxF -- "$mark" /proc/[0-9]*/environ 2>/dev/null | sed -e 's#^/proc/##' -e 's#/environ$##' | grep -vx "$$" | tr '\\n' ' ')"`,
    `  pids="\${pids% }"`,
    `  survivors="$pids"`,
    `  [ -z "$pids" ] && break`,
    `  kill -STOP $pids 2>/dev/null; kill -KILL $pids 2>/dev/null`,
    `  sleep 0.2`,
    `done`,
    `[ -n "$survivors" ] && { echo "still running:$survivors"; exit ${SURVIVORS_EXIT}; }`,
    // The session folder is named after the session: while a session of that name runs (another
    // spawn's, when this one never started its own), the folder is that spawn's and stays.
    `tmux has-session -t ${shellQuote(`=${c.session}`)} 2>/dev/null || rm -rf "$HOME/"${shellQuote(sessionDir(c.session))}`,
    `R="$HOME/${ORIGINALS_DIR}"`,
  );
  // Config files: the user's own version back, or gone if there was none. Without a record the
  // bot never wrote the file (the run failed first), so it is the user's and stays; spawns from
  // before records were kept wrote theirs without one, so theirs go.
  for (const p of configPaths.map(checkRemotePath)) {
    const q = shellQuote(p);
    lines.push(
      `if [ -e "$R/"${q} ]; then mv -f "$R/"${q} "$HOME/"${q}`,
      `elif [ -e "$R/"${q}${ABSENT_SUFFIX} ]${c.marked ? "" : ` || true`}; then rm -f "$HOME/"${q} "$R/"${q}${ABSENT_SUFFIX}; fi`,
    );
  }
  if (lastOnHost) {
    lines.push(
      `if [ -f "$HOME/${SPAWNRC_PATH}" ] && grep -qxF ${shellQuote(SPAWNRC_MARKER)} "$HOME/${SPAWNRC_PATH}"; then rm -f "$HOME/${SPAWNRC_PATH}"; fi`,
      `line=${shellQuote(SOURCE_LINE)}`,
      `nl=$'\\n'`,
      `for f in ${RC_FILES.map((f) => `"$HOME/${f}"`).join(" ")}; do`,
      `  [ -f "$f" ] && grep -qxF -- "$line" "$f" || continue`,
      // The hook appended "\n<line>\n": taking out exactly that gives back the file as it was.
      `  c="$(cat "$f"; printf x)"; c="\${c%x}"`,
      `  n="\${c//"$nl$line$nl"/}"`,
      `  [ "$n" = "$c" ] && n="\${c//"$line$nl"/}"`,
      `  printf '%s' "$n" > "$f"`, // in place: the file keeps its owner and mode
      `done`,
      `if [ -f "$HOME/${RC_CREATED_LIST}" ]; then`,
      `  while IFS= read -r f; do [ -f "$f" ] && [ ! -s "$f" ] && rm -f "$f"; done < "$HOME/${RC_CREATED_LIST}"`,
      `  rm -f "$HOME/${RC_CREATED_LIST}"`,
      `fi`,
      `[ -d "$R" ] && find "$R" -depth -type d -empty -delete`,
      `rmdir "$HOME/.spawnbot" 2>/dev/null`,
    );
  }
  lines.push(`exit 0`);
  return lines.join("\n");
}
