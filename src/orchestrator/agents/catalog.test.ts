// The agent catalog as data: every agent complete, its default model valid by spawn's rule,
// and the model reaching every agent through its own mechanism.
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../bot/grammar/grammar.js";
import { agentValues, fillTemplate, installScript, OPENROUTER_KEY_VARIABLES, sessionCommand, workdirValue } from "../host-scripts.js";
import { checkRemotePath, ENV_NAME } from "../shell.js";
import { AGENTS } from "./catalog.js";

const KEYS = ["claude", "codex", "openclaw", "opencode", "kilocode", "hermes", "junie", "pi", "cursor", "t3code"];
const grammar = { agents: KEYS, clouds: ["local", "ssh"] };
const SAMPLE_MODEL = "acme/model-x.1";

function everythingTheAgentReads(key: string, model: string): string {
  const agent = AGENTS.find((a) => a.key === key)!;
  const values = { ...agentValues(agent, model), apiKey: "KEY", token: "TOKEN" };
  return [
    ...Object.values(agent.env).map((v) => fillTemplate(v, values)),
    ...agent.configFiles.map((f) => fillTemplate(f.content, values)),
    fillTemplate(agent.launch, values),
  ].join("\n");
}

describe("the agent catalog", () => {
  it("holds the ten agents of the spawn CLI", () => {
    expect(AGENTS.map((a) => a.key)).toEqual(KEYS);
  });

  it.each(AGENTS.map((a) => [a.key, a]))("%s has a default model that passes spawn's model-id rule", (_key, agent) => {
    const r = parseCommand(`prefs model ${agent.key} ${agent.defaultModel}`, grammar);
    expect(r).toEqual({ ok: true, command: { kind: "prefs-model-set", agent: agent.key, model: agent.defaultModel } });
  });

  it.each(KEYS)("%s receives the model in effect through its own mechanism", (key) => {
    expect(everythingTheAgentReads(key, SAMPLE_MODEL)).toContain(SAMPLE_MODEL);
  });

  it("prefixes OpenClaw's model with its provider but keeps OpenRouter's auto router as it is", () => {
    expect(everythingTheAgentReads("openclaw", "anthropic/claude-sonnet-4.5")).toContain('"primary": "openrouter/anthropic/claude-sonnet-4.5"');
    expect(everythingTheAgentReads("openclaw", "openrouter/auto")).toContain('"primary": "openrouter/auto"');
  });

  it("keeps the API key out of launch commands and config files (it travels only in ~/.spawnrc)", () => {
    for (const a of AGENTS) {
      expect(a.launch).not.toContain("{apiKey}");
      expect(a.promptCommand ?? "").not.toContain("{apiKey}");
      for (const f of a.configFiles) expect(f.content).not.toContain("{apiKey}");
    }
  });

  it("uses only safe environment names and home-relative config paths with private modes", () => {
    for (const a of AGENTS) {
      for (const name of Object.keys(a.env)) expect(name).toMatch(ENV_NAME);
      for (const f of a.configFiles) {
        expect(checkRemotePath(f.path)).toBe(f.path);
        expect(f.mode & 0o077).toBe(0);
      }
    }
  });

  it("installs every agent without piping a download into a shell, and every install checks the binary", () => {
    for (const a of AGENTS) {
      expect(a.installer ?? a.install, a.key).toBeDefined();
      expect(a.install ?? "", a.key).not.toMatch(/curl[^|]*\|\s*(ba)?sh/);
      const script = installScript(a);
      expect(script.split("\n")[0]).toBe("set -o pipefail");
      expect(script).toContain(`command -v '${a.binary}'`);
    }
  });

  it("trusts the agent's working folder in Claude's and Codex's config, as valid JSON and TOML for any folder name", () => {
    const dir = '/home/o"brien\\x';
    const values = { ...agentValues(AGENTS[0]!, SAMPLE_MODEL), workdir: workdirValue(dir) };
    const claude = AGENTS.find((a) => a.key === "claude")!.configFiles.find((f) => f.path === ".claude.json")!;
    const state = JSON.parse(fillTemplate(claude.content, values));
    expect(state).toMatchObject({ hasCompletedOnboarding: true, projects: { [dir]: { hasTrustDialogAccepted: true } } });
    const codex = AGENTS.find((a) => a.key === "codex")!.configFiles[0]!;
    expect(fillTemplate(codex.content, values)).toContain('[projects."/home/o\\"brien\\\\x"]\ntrust_level = "trusted"');
  });

  it("starts Cursor (its own key only) with every OpenRouter key variable unset, and no other agent", () => {
    expect(OPENROUTER_KEY_VARIABLES).toEqual(expect.arrayContaining(["OPENROUTER_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "JUNIE_OPENROUTER_API_KEY"]));
    const cursor = AGENTS.find((a) => a.key === "cursor")!;
    expect(sessionCommand(cursor, "agent")).toBe(`unset ${OPENROUTER_KEY_VARIABLES.join(" ")}; agent`);
    expect(sessionCommand(AGENTS.find((a) => a.key === "codex")!, "codex")).toBe("codex");
  });

  it("passes prompts through $SPAWN_PROMPT, never by interpolation", () => {
    for (const a of AGENTS.filter((x) => x.promptCommand)) expect(a.promptCommand).toContain('"$SPAWN_PROMPT"');
  });

  it("enforces OpenClaw's 4 GB minimum and knows each dashboard's port", () => {
    const by = Object.fromEntries(AGENTS.map((a) => [a.key, a]));
    expect(by.openclaw!.minMemoryGb).toBeGreaterThanOrEqual(4);
    expect(by.openclaw!.dashboard?.port).toBe(18789);
    expect(by.hermes!.dashboard?.port).toBe(9119);
    expect(by.t3code!.dashboard?.port).toBe(3773);
    expect(by.t3code!.launch).toContain("--host 127.0.0.1");
  });
});
