// Shell scripts the pipeline runs on a host to prepare it and install an agent, and the
// template filling for agent data. Only validated values are filled in, and always quoted.
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
}

export function fillTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\{(model|providerModel|token|apiKey)\}/g, (_, name: keyof TemplateValues) => values[name] ?? "");
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

/**
 * The agent's install command with npm pointed at ~/.npm-global when the global prefix is not
 * writable (a non-root user), through $NPM_PREFIX_FLAG.
 */
export function installScript(agent: AgentSpec): string {
  return [
    PATH_PREFIX,
    "cd \"$HOME\"",
    "export NODE_OPTIONS=--dns-result-order=ipv4first",
    `NPM_PREFIX_FLAG=""`,
    // `npm prefix -g` starts Node (about half a second on a small VM): only for installs that use npm.
    agent.install.includes("$NPM_PREFIX_FLAG")
      ? `if command -v npm >/dev/null 2>&1 && [ "$(id -u)" != 0 ] && ! [ -w "$(npm prefix -g 2>/dev/null)/lib" ]; then mkdir -p "$HOME/.npm-global"; NPM_PREFIX_FLAG="--prefix $HOME/.npm-global"; fi`
      : "true",
    agent.install,
    `command -v ${shellQuote(agent.binary)} >/dev/null || { echo "the install finished but ${agent.binary} is not on PATH" >&2; exit 1; }`,
  ].join("\n");
}
installScript.pathPrefix = PATH_PREFIX;
