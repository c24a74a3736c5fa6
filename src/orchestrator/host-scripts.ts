// Shell scripts the pipeline runs on a host to prepare it and install an agent, and the
// template filling for agent data. Only validated values are filled in, and always quoted.
import { AGENTS } from "./agents/catalog.js";
import type { AgentSpec } from "./agents/types.js";
import { shellQuote } from "./shell.js";

/** Optional setup steps every agent understands (spawn's shared steps). */
export const SHARED_STEPS = ["github", "auto-update", "security-scan"] as const;

/** PATH for commands run before ~/.spawnrc exists: where agent installers put binaries. */
const PATH_PREFIX = 'export PATH="$HOME/.npm-global/bin:$HOME/.local/bin:$HOME/.bun/bin:$HOME/.opencode/bin:$HOME/.claude/local/bin:/usr/local/bin:$PATH"';

/**
 * Fill {model}, {token} and {apiKey} in an agent template. Values in command templates are
 * shell-quoted by the caller's choice of placeholder: {model} is validated to [A-Za-z0-9_.:/-].
 */
export interface TemplateValues {
  model?: string;
  providerModel?: string;
  token?: string;
  apiKey?: string;
  /** Already escaped for a JSON or TOML string (see workdirValue). */
  workdir?: string;
}

export function fillTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{(model|providerModel|token|apiKey|workdir)\}/g, (_, name: keyof TemplateValues) => values[name] ?? "");
}

/** A folder path as it goes inside a JSON or TOML basic string (JSON's escapes are valid TOML). */
export function workdirValue(dir: string): string {
  return JSON.stringify(dir).slice(1, -1);
}

/** Every variable any agent reads the OpenRouter key from: OPENROUTER_API_KEY and the catalog's {apiKey} slots. */
export const OPENROUTER_KEY_VARIABLES: readonly string[] = [
  ...new Set(["OPENROUTER_API_KEY", ...AGENTS.flatMap((a) => Object.entries(a.env).filter(([, v]) => v.includes("{apiKey}")).map(([k]) => k))]),
].sort();

/**
 * The command an agent runs in its session. An agent that must never get the OpenRouter key
 * (Cursor) drops every variable that could carry it first: ~/.spawnrc is one file per login, and
 * another spawn on the same login may have written the key there since this one started.
 */
export function sessionCommand(agent: AgentSpec, command: string): string {
  return agent.ownKey ? `unset ${OPENROUTER_KEY_VARIABLES.join(" ")}; ${command}` : command;
}

/** The template values of one agent for one model. */
export function agentValues(agent: AgentSpec, model: string): TemplateValues {
  return { model, providerModel: agent.providerModel ? agent.providerModel(model) : `openrouter/${model}` };
}

/** Exit codes of prepareHostScript that carry a meaning for the user. */
export const PREPARE_EXIT = { NO_TMUX: 20, NO_RUNTIME: 21 } as const;

/**
 * Make sure tmux (and Node for npm-installed agents) exist; install them with apt when we are
 * root or have passwordless sudo, otherwise fail with a message that says what to install.
 */
export function prepareHostScript(agent: AgentSpec): string {
  const needsNode = agent.tier === "node" || agent.tier === "full";
  return [
    // `curl … | bash -s install` must fail when the download does, not run an empty script.
    "set -o pipefail",
    PATH_PREFIX,
    `if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi`,
    `if ! command -v tmux >/dev/null 2>&1; then`,
    `  if [ "$SUDO" = none ]; then echo "tmux is not installed and $(id -un) cannot install packages; install tmux on the host" >&2; exit ${PREPARE_EXIT.NO_TMUX}; fi`,
    `  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null || { echo "installing tmux failed" >&2; exit ${PREPARE_EXIT.NO_TMUX}; }`,
    `fi`,
    needsNode
      ? [
          `if ! command -v npm >/dev/null 2>&1; then`,
          `  if [ "$SUDO" = none ]; then echo "Node.js is not installed and $(id -un) cannot install it; install Node.js 22 on the host" >&2; exit ${PREPARE_EXIT.NO_RUNTIME}; fi`,
          `  curl -fsSL https://raw.githubusercontent.com/tj/n/master/bin/n | $SUDO bash -s install ${agent.nodeMajor ?? 22} >/dev/null || { echo "installing Node.js failed" >&2; exit ${PREPARE_EXIT.NO_RUNTIME}; }`,
          `fi`,
        ].join("\n")
      : "true",
  ].join("\n");
}

/** Seconds curl may take to reach the installer's host, and to fetch the whole script. */
const INSTALLER_CONNECT_TIMEOUT_S = 20;
const INSTALLER_DOWNLOAD_TIMEOUT_S = 120;

/**
 * Download an installer to a file, then run it: `curl | bash` would run an empty script and
 * succeed when the download fails. Each failure says which one it was, in the installer's words.
 */
const INSTALLER_FUNCTION = [
  "spawnbot_installer() {",
  '  local url="$1" file code; shift',
  '  file="$(mktemp)" || return 1',
  '  echo "downloading the installer $url"',
  `  if ! curl -fsSL --connect-timeout ${INSTALLER_CONNECT_TIMEOUT_S} --max-time ${INSTALLER_DOWNLOAD_TIMEOUT_S} -o "$file" "$url"; then`,
  '    rm -f "$file"; echo "could not download the installer $url" >&2; return 1',
  "  fi",
  '  bash "$file" "$@"; code=$?',
  '  rm -f "$file"',
  '  [ "$code" -eq 0 ] || echo "the installer $url failed (exit $code)" >&2',
  '  return "$code"',
  "}",
].join("\n");

/**
 * For a user who cannot write npm's global prefix (a non-root user), installs go to ~/.npm-global.
 * The prefix is set through the environment, and npm's global config is named first: a moved
 * prefix moves npm's global npmrc to ~/.npm-global/etc/npmrc, and the host's own registry, proxy
 * and CA file would be lost (the install then fails, or reaches the wrong registry).
 */
const NPM_USER_PREFIX = [
  `if command -v npm >/dev/null 2>&1 && [ "$(id -u)" != 0 ] && ! [ -w "$(npm prefix -g 2>/dev/null)/lib" ]; then`,
  '  npm_config_globalconfig="$(npm config get globalconfig 2>/dev/null)"',
  '  export npm_config_globalconfig',
  '  mkdir -p "$HOME/.npm-global" && export npm_config_prefix="$HOME/.npm-global"',
  "fi",
  // One line per download: npm is otherwise silent until it ends, and the stall watchdog
  // (steps.ts) takes silence for a hung install.
  "export npm_config_loglevel=http",
].join("\n");

/** What the install step runs: the installer and/or the install command, then the PATH check. */
export function installScript(agent: AgentSpec): string {
  const usesNpm = /\bnpm\b/.test(agent.install ?? "");
  const installer = agent.installer
    ? `spawnbot_installer ${[agent.installer.url, ...(agent.installer.args ?? [])].map(shellQuote).join(" ")}`
    : undefined;
  const fallback = agent.install ? `{ echo "installing with: ${agent.install.replace(/["\\$`]/g, "")}" >&2; ${agent.install}; }` : undefined;
  const install = installer && agent.install ? `${installer} || ${fallback}` : installer ?? agent.install ?? "false";
  return [
    // A pipeline fails when any part fails: `curl … | bash || fallback` must reach its fallback.
    "set -o pipefail",
    PATH_PREFIX,
    "cd \"$HOME\"",
    "export NODE_OPTIONS=--dns-result-order=ipv4first",
    usesNpm ? NPM_USER_PREFIX : "true",
    installer ? INSTALLER_FUNCTION : "true",
    install,
    "code=$?",
    `[ "$code" -eq 0 ] || exit "$code"`,
    `command -v ${shellQuote(agent.binary)} >/dev/null || { echo "the install finished but ${agent.binary} is not on PATH" >&2; exit 1; }`,
  ].join("\n");
}
installScript.pathPrefix = PATH_PREFIX;
