// The scripts that keep an agent running in a detached tmux session named after the spawn:
// a restart loop for interactive agents, a one-shot runner for --prompt. Both are written to
// the host as files, so nothing the user typed is ever interpolated into a command line.
import { shellQuote } from "./shell.js";

/** spawn's restart policy: restart on non-zero exit, at most 10 times, 5 s apart. */
export const MAX_RESTARTS = 10;
export const RESTART_DELAY_S = 5;

export function sessionDir(session: string): string {
  return `.spawnbot/${session}`;
}

/**
 * Make the session's folder (and ~/.spawnbot) 0700, also when they exist: they hold the prompt,
 * the agent's output and its logs, which other users of a shared host must not read.
 */
export function sessionDirCommand(session: string): string {
  const dir = `"$HOME/${sessionDir(session)}"`;
  return `mkdir -p ${dir} && chmod 700 "$HOME/.spawnbot" ${dir}`;
}

/** The agent's working directory: home, or the --repo clone's folder (validated by repo-clone.ts) in it. */
function cdLine(workdir: string | undefined): string {
  if (workdir !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(workdir)) throw new Error(`unsafe working directory ${JSON.stringify(workdir)}`);
  return workdir === undefined ? `cd "$HOME" || exit 1` : `cd "$HOME/${workdir}" 2>/dev/null || cd "$HOME" || exit 1`;
}

/** `preamble`: lines run first (the local cloud's environment scrub, clean-env.ts); `workdir`: where the agent starts, under home. */
export function renderRestartLoop(launch: string, preamble = "", workdir?: string): string {
  return `#!/usr/bin/env bash
# spawnbot: run the agent, restarting it on a non-zero exit (at most ${MAX_RESTARTS} times, ${RESTART_DELAY_S} s apart).
${preamble}source "$HOME/.spawnrc" 2>/dev/null
${cdLine(workdir)}
restarts=0
while true; do
  ${launch}
  code=$?
  [ "$code" -eq 0 ] && exit 0
  if [ "$restarts" -ge ${MAX_RESTARTS} ]; then
    echo "[spawnbot] agent crashed ${MAX_RESTARTS} times. Giving up." >&2
    exit "$code"
  fi
  restarts=$((restarts + 1))
  echo "[spawnbot] agent exited with code $code. Restarting in ${RESTART_DELAY_S}s ($restarts/${MAX_RESTARTS})" >&2
  sleep ${RESTART_DELAY_S}
done
`;
}

/**
 * Run the agent's prompt command once; the prompt arrives in $SPAWN_PROMPT read from a file.
 * Output goes to output.log, the exit code to exit-code (both 0600); then a login shell keeps the
 * session open so the user can attach and read what happened.
 */
export function renderPromptRunner(session: string, promptCommand: string, preamble = "", workdir?: string): string {
  const dir = `$HOME/${sessionDir(session)}`;
  return `#!/usr/bin/env bash
# spawnbot: run the agent once on the prompt in prompt.txt, then keep the session open.
${preamble}source "$HOME/.spawnrc" 2>/dev/null
${cdLine(workdir)}
# The prompt already ran: a restart or a reboot brings back the session to read it, not the run.
[ -s "${dir}/exit-code" ] && exec bash -l
SPAWN_PROMPT="$(cat "${dir}/prompt.txt")"
export SPAWN_PROMPT
# The output may quote code and secrets the agent saw: 0600, made before anything is written.
(umask 077 && : > "${dir}/output.log" && : > "${dir}/exit-code" && chmod 600 "${dir}/output.log" "${dir}/exit-code")
{ ${promptCommand}
} 2>&1 | tee "${dir}/output.log"
echo "\${PIPESTATUS[0]}" > "${dir}/exit-code"
exec bash -l
`;
}

/**
 * The variable every process a spawn starts on its host carries (the session, its restart loop,
 * pre-launch daemons and whatever they fork, detached or not), visible in /proc/<pid>/environ:
 * the spawn's clean-up finds and stops them all by it.
 */
export const SPAWN_ENV = "SPAWNBOT_SPAWN";

export function tmuxStartCommand(session: string, script: string, spawnId: string): string {
  // A wide pane keeps agent TUIs readable when the user attaches from a normal terminal.
  // -e HOME: a tmux server that is already running keeps the HOME it started with; the
  // session must see this login's home (they differ for the local cloud's own home).
  // -e SPAWN_ENV goes into the session's environment only: the tmux server, which may host
  // other spawns' sessions too, does not carry it and is never stopped by a clean-up.
  return `tmux new-session -d -s ${shellQuote(session)} -x 200 -y 50 -e "HOME=$HOME" -e ${shellQuote(`${SPAWN_ENV}=${spawnId}`)} "bash \"$HOME/${script}\""`;
}

export function tmuxHasSessionCommand(session: string): string {
  return `tmux has-session -t ${shellQuote(`=${session}`)} 2>/dev/null`;
}

/**
 * How many people are on the host now: clients attached to the agent's tmux session plus login
 * sessions with a terminal (`who`; the bot's own commands run without one and are not counted).
 */
export function sessionCountCommand(session: string): string {
  return `echo $(( $(tmux list-clients -t ${shellQuote(`=${session}`)} 2>/dev/null | wc -l) + $(who 2>/dev/null | wc -l) ))`;
}

export function tmuxKillCommand(session: string): string {
  return `tmux kill-session -t ${shellQuote(`=${session}`)} 2>/dev/null; rm -rf "$HOME/${sessionDir(session)}"`;
}
