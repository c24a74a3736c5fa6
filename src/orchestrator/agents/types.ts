// The shape of one agent's knowledge: how to install, configure, launch and reach it.
// Each agent is one small data entry in catalog.ts; the pipeline interprets these fields.

/** What cloud-init installs before the agent (spawn's tiers). */
export type AgentTier = "minimal" | "node" | "bun" | "full";

/**
 * Templates may use these placeholders, substituted by the pipeline:
 *   {model}          the OpenRouter model id in effect (validated: [A-Za-z0-9_.:/-] only)
 *   {providerModel}  the same id as agents with an OpenRouter provider prefix want it
 *                    ("openrouter/<id>", see providerModel below)
 *   {token}          a per-spawn random token (dashboards that need one)
 *   {workdir}        the absolute folder the agent starts in (config files only: trust entries),
 *                    escaped for a JSON or TOML string
 * The API key is never substituted into a template: agents read it from ~/.spawnrc.
 */
export interface AgentConfigFile {
  /** Path relative to the home directory. */
  path: string;
  mode: number;
  content: string;
}

export interface AgentInstaller {
  /** https URL of the install script (tests point it at 127.0.0.1). */
  url: string;
  /** Arguments for the script, passed after `bash FILE` (fixed words, no user input). */
  args?: readonly string[];
}

export interface AgentSpec {
  key: string;
  name: string;
  description: string;
  tier: AgentTier;
  /** Smallest server that runs it well, in GiB of memory (OpenClaw OOMs on 2 GB, spawn #2931). */
  minMemoryGb: number;
  /** Binary the install must leave on PATH; checked before and after install. */
  binary: string;
  /**
   * The vendor's own installer script, downloaded to a file and run with bash (never piped, so a
   * failed download cannot look like a successful empty install). When it fails, `install` runs.
   */
  installer?: AgentInstaller;
  /**
   * Shell command run in bash (with `set -o pipefail`): the install, or the fallback when the
   * installer fails. npm installs are plain `npm install -g`: a non-root user's prefix is set
   * through the environment (host-scripts.ts), keeping the host's global npm config.
   */
  install?: string;
  /** How long the install may take before it is abandoned. */
  installTimeoutMs: number;
  /** Extra variables for ~/.spawnrc; the value "{apiKey}" stands for the OpenRouter key, "{model}" for the model. */
  env: Record<string, string>;
  configFiles: AgentConfigFile[];
  /** Interactive launch command, run inside the restart loop in tmux. */
  launch: string;
  /** Non-interactive command; the prompt arrives as "$SPAWN_PROMPT" (never interpolated). */
  promptCommand?: string;
  /** Daemons to start before the launch (dashboards, gateways); run detached. */
  preLaunch?: string;
  dashboard?: { port: number; path: string };
  defaultModel: string;
  /** One line telling how the model reaches this agent, shown by `agents` and `status`. */
  modelWiring: string;
  /** How this agent names an OpenRouter model when it prefixes the provider; default "openrouter/<id>". */
  providerModel?: (model: string) => string;
  /** Node.js major version the agent needs when the host has none. */
  nodeMajor?: number;
  /** Optional setup steps this agent understands beyond the shared ones. */
  steps?: string[];
  /**
   * For an agent whose vendor would receive whatever key it is given (Cursor sends CURSOR_API_KEY
   * to its own servers): it gets no OpenRouter key at all, only the user's own key for that
   * vendor, saved sealed in `settings` under `secret` and exported as `env`; without one it runs
   * without a key (the user logs in from its session).
   */
  ownKey?: { env: string; secret: string; label: string };
}
