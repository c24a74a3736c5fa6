// Bringing a spawn back when its processes are gone: the start script (~/.spawnbot/<session>/start.sh)
// starts the agent's services (its dashboard) and its tmux session when they are not running, and
// says what it found and did. `restart` runs it over SSH; a user crontab @reboot entry runs it when
// the host boots. Also the health probe that `status` shows. Every value is validated and quoted.
import type { AgentSpec } from "./agents/types.js";
import { spawnKeyMark } from "./authorized-keys.js";
import { sessionDir, SPAWN_ENV, tmuxHasSessionCommand, tmuxStartCommand } from "./launch.js";
import { shellQuote } from "./shell.js";

/** The start script, beside the session's launch script. */
export const START_SCRIPT = "start.sh";
/** How long the start script waits for a dashboard it started to open its port (the pre-launch step waits as long). */
export const DASHBOARD_WAIT_S = 60;
/** The pre-launch services' process id: they run in a session of their own, so this is also their group's id. */
const SERVICES_PID = "pre-launch.pid";
/** Exit code of the boot hook's install when the host has no crontab (no cron installed). */
export const NO_CRONTAB_EXIT = 24;

export function startScriptPath(session: string): string {
  return `${sessionDir(session)}/${START_SCRIPT}`;
}

/**
 * Start the agent's pre-launch services detached, in a session of their own (so their whole group
 * can be stopped), marked with the spawn (its clean-up finds them), with their pid kept. In a
 * subshell: the mark must not reach a tmux server the same shell starts afterwards.
 */
export function servicesStartCommand(session: string, spawnId: string, preLaunch: string): string {
  const dir = `"$HOME/${sessionDir(session)}"`;
  return `(source "$HOME/.spawnrc" 2>/dev/null; export ${SPAWN_ENV}=${shellQuote(spawnId)}; setsid nohup bash -c ${shellQuote(preLaunch)} > ${dir}/pre-launch.log 2>&1 < /dev/null & echo $! > ${dir}/${SERVICES_PID})`;
}

function portAnswers(port: number): string {
  return `(echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null`;
}

/** What the start script knows of the spawn. */
export interface StartScriptSpec {
  spawnId: string;
  session: string;
  agent: Pick<AgentSpec, "preLaunch" | "dashboard">;
}

/**
 * The start script. It prints one `what: state` line per part: `session: running|started|failed`,
 * `dashboard: answering|started|not answering` (agents with a dashboard) or `services: running|started`.
 * The session runs the launch script the launch step wrote (prompt.sh for a --prompt spawn).
 */
export function renderStartScript(s: StartScriptSpec): string {
  spawnKeyMark(s.spawnId); // validates the id: it lands in the script
  const dir = `$HOME/${sessionDir(s.session)}`;
  const lines = [
    "#!/usr/bin/env bash",
    `# spawnbot: start what spawn ${s.spawnId} runs here when it is not running. Run by \`restart\` and at boot.`,
    // cron runs @reboot entries with a bare PATH; tmux may live in /usr/local/bin.
    `export PATH="/usr/local/bin:/usr/bin:/bin:$PATH"`,
    `cd "$HOME" || exit 1`,
    `dir="${dir}"`,
  ];
  const { preLaunch, dashboard } = s.agent;
  if (preLaunch) {
    const start = servicesStartCommand(s.session, s.spawnId, preLaunch);
    lines.push(`alive() { [ -s "$dir/${SERVICES_PID}" ] && kill -0 "$(cat "$dir/${SERVICES_PID}")" 2>/dev/null; }`);
    if (dashboard) {
      lines.push(
        `if ${portAnswers(dashboard.port)}; then echo "dashboard: answering"; else`,
        // Services that run but no longer answer are stopped as a group before they start again.
        `  alive && kill -- -"$(cat "$dir/${SERVICES_PID}")" 2>/dev/null`,
        `  ${start}`,
        `  for i in $(seq ${DASHBOARD_WAIT_S}); do ${portAnswers(dashboard.port)} && break; sleep 1; done`,
        `  if ${portAnswers(dashboard.port)}; then echo "dashboard: started"; else echo "dashboard: not answering"; fi`,
        `fi`,
      );
    } else {
      lines.push(`if alive; then echo "services: running"; else ${start}; echo "services: started"; fi`);
    }
  }
  lines.push(
    `if ${tmuxHasSessionCommand(s.session)}; then echo "session: running"; else`,
    `  script=${shellQuote(`${sessionDir(s.session)}/launch.sh`)}`,
    `  [ -f "$HOME/${sessionDir(s.session)}/prompt.sh" ] && script=${shellQuote(`${sessionDir(s.session)}/prompt.sh`)}`,
    `  ${tmuxStartCommand(s.session, "$script", s.spawnId)} 2>/dev/null`,
    `  if ${tmuxHasSessionCommand(s.session)}; then echo "session: started"; else echo "session: failed"; fi`,
    `fi`,
  );
  return `${lines.join("\n")}\n`;
}

/** The comment that marks a spawn's crontab line, so its clean-up removes exactly that line. */
function bootHookMark(spawnId: string): string {
  spawnKeyMark(spawnId); // validates the id
  return `# spawnbot:${spawnId}`;
}

/**
 * Add (or replace) the user's crontab line that runs the start script when the host boots. Exits
 * NO_CRONTAB_EXIT when the host has no crontab. `$HOME` stays literal: cron's shell expands it.
 */
export function installBootHookCommand(session: string, spawnId: string): string {
  const mark = bootHookMark(spawnId);
  const line = `@reboot bash "$HOME/${startScriptPath(session)}" >/dev/null 2>&1 ${mark}`;
  return [
    `command -v crontab >/dev/null 2>&1 || exit ${NO_CRONTAB_EXIT}`,
    `line=${shellQuote(line)}`,
    `{ crontab -l 2>/dev/null | grep -vF -- ${shellQuote(mark)}; printf '%s\\n' "$line"; } | crontab -`,
  ].join("\n");
}

/** Remove the spawn's crontab line, and nothing else of the user's crontab. */
export function removeBootHookCommand(spawnId: string): string {
  const mark = shellQuote(bootHookMark(spawnId));
  return `if command -v crontab >/dev/null 2>&1 && crontab -l 2>/dev/null | grep -qF -- ${mark}; then crontab -l 2>/dev/null | grep -vF -- ${mark} | crontab -; fi`;
}

/** What `restart` found and did, part by part (absent: the agent has no such part). */
export interface RestartReport {
  session: "running" | "started" | "failed" | "gone";
  dashboard?: "answering" | "started" | "not answering";
  services?: "running" | "started";
}

export function parseStartOutput(stdout: string): RestartReport {
  const found = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^(session|dashboard|services): (.+)$/.exec(line.trim());
    if (m) found.set(m[1]!, m[2]!);
  }
  const session = found.get("session");
  return {
    session: session === "running" || session === "started" ? session : "failed",
    ...(found.has("dashboard") ? { dashboard: found.get("dashboard") as RestartReport["dashboard"] } : {}),
    ...(found.has("services") ? { services: found.get("services") as RestartReport["services"] } : {}),
  };
}

/** Agent and dashboard health in one round trip. */
export interface Health {
  sessionAlive: boolean;
  /** Whether the dashboard's port answers on the host's loopback (agents with a dashboard). */
  dashboard?: { port: number; answering: boolean };
}

export function probeCommand(session: string, dashboardPort: number | undefined): string {
  const lines = [`if ${tmuxHasSessionCommand(session)}; then echo session=up; else echo session=down; fi`];
  if (dashboardPort) lines.push(`if ${portAnswers(dashboardPort)}; then echo dashboard=up; else echo dashboard=down; fi`);
  return lines.join("\n");
}

export function parseProbe(stdout: string, dashboardPort: number | undefined): Health {
  const words = stdout.split("\n").map((l) => l.trim());
  return {
    sessionAlive: words.includes("session=up"),
    ...(dashboardPort ? { dashboard: { port: dashboardPort, answering: words.includes("dashboard=up") } } : {}),
  };
}
