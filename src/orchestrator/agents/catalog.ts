// The ten agents spawnbot can start, one data entry each (spawn-spec.md §2), with the model
// wired through each agent's own mechanism. spawn passes --model to three agents only and two
// of those no longer work; the mechanisms here were checked against current releases
// (installed and watched on the wire where the registry had them; docs and source otherwise).
import type { AgentSpec } from "./types.js";

const MINUTE = 60_000;
/**
 * Packages whose platform binaries are published as separate npm packages, pinned to versions
 * that install: a release's main package can name a platform package that was never published
 * (@kilocode/cli 7.8.1 has no linux-x64), and then every install fails. test/npm-pins.test.ts asks
 * the registry for each pin and its Linux platform packages.
 */
export const PINNED_PACKAGES = {
  claude: "@anthropic-ai/claude-code@2.1.332",
  codex: "@openai/codex@0.171.0",
  opencode: "opencode-ai@1.18.33",
  kilocode: "@kilocode/cli@7.7.7",
} as const;
/** A global npm install; for a non-root user host-scripts.ts points npm's prefix at ~/.npm-global. */
const npmGlobal = (pkg: string) => `npm install -g ${pkg}`;
const OPENROUTER_API = "https://openrouter.ai/api";

/** Codex reads OpenRouter through a custom provider; T3 Code drives Codex with the same file. */
const CODEX_CONFIG = {
  path: ".codex/config.toml", mode: 0o600,
  content: [
    'model = "{model}"', 'model_provider = "openrouter"', 'sandbox_mode = "danger-full-access"', 'approval_policy = "never"', "",
    "[model_providers.openrouter]", 'name = "OpenRouter"', `base_url = "${OPENROUTER_API}/v1"`, 'env_key = "OPENROUTER_API_KEY"',
    'wire_api = "responses"', "",
    // Codex asks whether to trust a folder that is a git repository before it starts; trusted here.
    '[projects."{workdir}"]', 'trust_level = "trusted"', "",
  ].join("\n"),
};

/** Claude Code's model slots: the main one and the background/subagent ones, all on one model. */
const CLAUDE_MODEL_ENV = {
  ANTHROPIC_BASE_URL: OPENROUTER_API, ANTHROPIC_AUTH_TOKEN: "{apiKey}", ANTHROPIC_API_KEY: "",
  ANTHROPIC_MODEL: "{model}", ANTHROPIC_DEFAULT_SONNET_MODEL: "{model}", ANTHROPIC_DEFAULT_OPUS_MODEL: "{model}",
  ANTHROPIC_DEFAULT_HAIKU_MODEL: "{model}", CLAUDE_CODE_SUBAGENT_MODEL: "{model}",
};

/** OpenCode and its fork Kilo fail on ids missing from their catalog unless the id is declared. */
const opencodeStyleConfig = (schema: string) =>
  `{\n  "$schema": "${schema}",\n  "model": "{providerModel}",\n  "small_model": "{providerModel}",\n  "provider": { "openrouter": { "models": { "{model}": {} } } }\n}\n`;

export const AGENTS: readonly AgentSpec[] = [
  {
    key: "claude", name: "Claude Code", description: "Anthropic's coding agent, through OpenRouter's Anthropic-compatible API",
    tier: "minimal", minMemoryGb: 2, binary: "claude", installTimeoutMs: 10 * MINUTE,
    installer: { url: "https://claude.ai/install.sh" }, install: npmGlobal(PINNED_PACKAGES.claude),
    env: { ...CLAUDE_MODEL_ENV, CLAUDE_CODE_SKIP_ONBOARDING: "1", CLAUDE_CODE_ENABLE_TELEMETRY: "0" },
    configFiles: [
      { path: ".claude/settings.json", mode: 0o600, content: '{\n  "model": "{model}",\n  "permissions": { "defaultMode": "bypassPermissions" },\n  "env": { "CLAUDE_CODE_ENABLE_TELEMETRY": "0" }\n}\n' },
      // Onboarding done, bypass mode accepted, and the working folder trusted: without the trust
      // entry Claude stops at "Is this a project you trust?" until someone presses Enter.
      {
        path: ".claude.json", mode: 0o600,
        content: '{\n  "hasCompletedOnboarding": true,\n  "bypassPermissionsModeAccepted": true,\n  "projects": { "{workdir}": { "hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true } }\n}\n',
      },
    ],
    launch: "claude --model {model}",
    promptCommand: 'claude -p --dangerously-skip-permissions --model {model} "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "--model, ANTHROPIC_MODEL (and the sonnet/opus/haiku/subagent slots) and \"model\" in ~/.claude/settings.json",
  },
  {
    key: "codex", name: "Codex CLI", description: "OpenAI's coding agent with OpenRouter as its model provider",
    tier: "node", minMemoryGb: 2, binary: "codex", installTimeoutMs: 10 * MINUTE,
    install: npmGlobal(PINNED_PACKAGES.codex),
    env: {},
    configFiles: [CODEX_CONFIG],
    launch: "codex",
    promptCommand: 'codex exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "$SPAWN_PROMPT" </dev/null',
    defaultModel: "openai/gpt-5.3-codex",
    modelWiring: "model = in ~/.codex/config.toml (OpenRouter provider, responses API)",
  },
  {
    key: "openclaw", name: "OpenClaw", description: "Personal AI assistant with a web dashboard and chat channels",
    tier: "full", minMemoryGb: 4, binary: "openclaw", installTimeoutMs: 15 * MINUTE, nodeMajor: 24,
    install: npmGlobal("openclaw@latest"),
    env: {},
    configFiles: [{
      path: ".openclaw/openclaw.json", mode: 0o600,
      content: '{\n  "agents": { "defaults": { "model": { "primary": "{providerModel}" }, "sandbox": { "mode": "off" } } },\n  "gateway": { "mode": "local", "auth": { "mode": "token", "token": "{token}" } }\n}\n',
    }],
    // OpenRouter's auto router is already an OpenClaw ref; every other id gets the provider prefix.
    providerModel: (model) => (model === "openrouter/auto" ? model : `openrouter/${model}`),
    preLaunch: "while true; do openclaw gateway; sleep 5; done",
    launch: "openclaw tui",
    promptCommand: 'openclaw agent exec "$SPAWN_PROMPT" --model {providerModel} --timeout 600',
    dashboard: { port: 18789, path: "/#token={token}" },
    defaultModel: "openrouter/auto",
    modelWiring: "agents.defaults.model.primary in ~/.openclaw/openclaw.json (openrouter/<id>)",
    steps: ["browser", "telegram", "whatsapp", "discord", "slack", "signal"],
  },
  {
    key: "opencode", name: "OpenCode", description: "Open-source terminal coding agent",
    tier: "minimal", minMemoryGb: 2, binary: "opencode", installTimeoutMs: 10 * MINUTE,
    installer: { url: "https://opencode.ai/install" }, install: npmGlobal(PINNED_PACKAGES.opencode),
    env: {},
    configFiles: [{ path: ".config/opencode/opencode.json", mode: 0o600, content: opencodeStyleConfig("https://opencode.ai/config.json") }],
    launch: "opencode --model {providerModel}",
    promptCommand: 'opencode run --model {providerModel} "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "\"model\" and \"small_model\" in ~/.config/opencode/opencode.json and --model openrouter/<id>",
  },
  {
    key: "kilocode", name: "Kilo Code", description: "Kilo Code's command-line agent (an OpenCode fork)",
    tier: "node", minMemoryGb: 2, binary: "kilocode", installTimeoutMs: 10 * MINUTE,
    install: npmGlobal(PINNED_PACKAGES.kilocode),
    env: {},
    configFiles: [{ path: ".config/kilo/kilo.json", mode: 0o600, content: opencodeStyleConfig("https://app.kilo.ai/config.json") }],
    launch: "kilocode --model {providerModel}",
    promptCommand: 'kilocode run --model {providerModel} --auto "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "\"model\" in ~/.config/kilo/kilo.json and --model openrouter/<id>",
  },
  {
    key: "hermes", name: "Hermes Agent", description: "Nous Research's agent with a settings dashboard",
    tier: "minimal", minMemoryGb: 2, binary: "hermes", installTimeoutMs: 15 * MINUTE,
    installer: { url: "https://raw.githubusercontent.com/NousResearch/hermes-agent/main/scripts/install.sh", args: ["--skip-setup"] },
    env: { OPENAI_BASE_URL: `${OPENROUTER_API}/v1`, OPENAI_API_KEY: "{apiKey}", HERMES_YOLO_MODE: "1" },
    configFiles: [{ path: ".hermes/config.yaml", mode: 0o600, content: `model:\n  default: "{model}"\n  provider: "openrouter"\n  base_url: "${OPENROUTER_API}/v1"\n` }],
    preLaunch: "hermes dashboard --port 9119 --host 127.0.0.1 --no-open",
    launch: "hermes chat --model {model} --provider openrouter",
    promptCommand: 'hermes chat -q "$SPAWN_PROMPT" --model {model} --provider openrouter --yolo',
    dashboard: { port: 9119, path: "/" },
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "model.default in ~/.hermes/config.yaml and --model (LLM_MODEL is no longer read)",
    steps: ["yolo-mode"],
  },
  {
    key: "junie", name: "Junie", description: "JetBrains' coding agent CLI",
    tier: "node", minMemoryGb: 2, binary: "junie", installTimeoutMs: 10 * MINUTE,
    install: npmGlobal("@jetbrains/junie"),
    env: { JUNIE_OPENROUTER_API_KEY: "{apiKey}", JUNIE_MODEL: "custom:openrouter" },
    // Junie's own model names are not OpenRouter ids; a custom model profile routes any id.
    configFiles: [{
      path: ".junie/models/openrouter.json", mode: 0o600,
      content: `{\n  "id": "{model}",\n  "baseUrl": "${OPENROUTER_API}/v1/chat/completions",\n  "apiType": "OpenAICompletion",\n  "apiKey": "\${OPENROUTER_API_KEY}"\n}\n`,
    }],
    launch: "junie --model custom:openrouter",
    promptCommand: 'junie --skip-update-check --model custom:openrouter --task "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "a custom model profile ~/.junie/models/openrouter.json selected with --model custom:openrouter",
  },
  {
    key: "pi", name: "Pi", description: "Mario Zechner's minimal coding agent",
    tier: "node", minMemoryGb: 2, binary: "pi", installTimeoutMs: 10 * MINUTE,
    install: npmGlobal("@mariozechner/pi-coding-agent"),
    env: {},
    configFiles: [{ path: ".pi/agent/settings.json", mode: 0o600, content: '{\n  "defaultProvider": "openrouter",\n  "defaultModel": "{model}"\n}\n' }],
    launch: "pi --provider openrouter --model {model}",
    promptCommand: 'pi -p --provider openrouter --model {model} "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "defaultModel in ~/.pi/agent/settings.json and --provider openrouter --model <id>",
  },
  {
    key: "cursor", name: "Cursor CLI", description: "Cursor's agent in the terminal",
    tier: "bun", minMemoryGb: 2, binary: "agent", installTimeoutMs: 10 * MINUTE,
    installer: { url: "https://cursor.com/install" },
    // Never the OpenRouter key: Cursor would send it to Cursor's servers. Until Cursor is routed
    // through OpenRouter, it uses the user's own Cursor key from `settings`, if they saved one.
    env: { SPAWN_MODEL: "{model}" },
    ownKey: { env: "CURSOR_API_KEY", secret: "cursor-api-key", label: "Cursor API key" },
    configFiles: [{ path: ".cursor/cli-config.json", mode: 0o600, content: '{\n  "permissions": { "allow": ["Shell(*)", "Read(*)", "Write(*)", "WebFetch(*)", "Mcp(*)"], "deny": [] }\n}\n' }],
    launch: "agent --model {model}",
    promptCommand: 'agent -p --trust --force --model {model} "$SPAWN_PROMPT"',
    defaultModel: "anthropic/claude-sonnet-4.6",
    modelWiring: "--model (Cursor accepts only ids its own backend serves; SPAWN_MODEL is exported for an OpenRouter proxy); needs your own Cursor API key (saved in `settings`), never gets the OpenRouter key",
  },
  {
    key: "t3code", name: "T3 Code", description: "A web GUI over Codex and Claude Code",
    tier: "node", minMemoryGb: 2, binary: "t3", installTimeoutMs: 10 * MINUTE,
    install: npmGlobal("t3@latest"),
    env: { ...CLAUDE_MODEL_ENV, OPENAI_API_KEY: "{apiKey}", OPENAI_BASE_URL: `${OPENROUTER_API}/v1` },
    configFiles: [CODEX_CONFIG],
    // Bound to loopback (spawn binds 0.0.0.0, open to the internet); reach it through the tunnel.
    launch: "t3 --port 3773 --host 127.0.0.1 --no-browser",
    dashboard: { port: 3773, path: "/" },
    defaultModel: "openai/gpt-5.3-codex",
    modelWiring: "its Codex provider's ~/.codex/config.toml and its Claude provider's ANTHROPIC_MODEL",
  },
];
