// A real but quick agent for the pipeline tests: its install writes a small script to
// ~/.local/bin, it reads its model from env and config, and it runs until killed.
import type { AgentSpec } from "../../src/orchestrator/agents/types.js";

const script = [
  "#!/usr/bin/env bash",
  'echo "testagent started model=$TEST_AGENT_MODEL args=$*" >> "$HOME/testagent.log"',
  "while true; do sleep 1; done",
].join("\\n");

export const TEST_AGENT: AgentSpec & { install: string } = {
  key: "testagent",
  name: "Test Agent",
  description: "a shell script standing in for a real agent",
  tier: "minimal",
  minMemoryGb: 1,
  binary: "testagent",
  installTimeoutMs: 30_000,
  // Written beside and moved into place: spawns sharing one host user reinstall it while others'
  // sessions start it, and a half-written script would run empty, exit 0 and end their session.
  install: `mkdir -p "$HOME/.local/bin" && printf '${script}\\n' > "$HOME/.local/bin/.testagent.$$" && chmod +x "$HOME/.local/bin/.testagent.$$" && mv -f "$HOME/.local/bin/.testagent.$$" "$HOME/.local/bin/testagent"`,
  env: { TEST_AGENT_MODEL: "{model}" },
  configFiles: [{ path: ".testagent/config.json", mode: 0o600, content: '{ "model": "{model}" }\n' }],
  launch: "testagent --model {model}",
  promptCommand: 'echo "prompt was: $SPAWN_PROMPT"; echo "model is {model}"; echo "key tail ${OPENROUTER_API_KEY}"',
  defaultModel: "openai/gpt-4o-mini",
  modelWiring: "TEST_AGENT_MODEL in ~/.spawnrc, ~/.testagent/config.json and --model",
};

/** The test agent under the key "slowagent", its install taking this many seconds longer: time to kill or stop a bot mid-install. */
export function slowAgent(installSeconds: number): AgentSpec {
  return { ...TEST_AGENT, key: "slowagent", name: "Slow Test Agent", binary: "testagent", install: `sleep ${installSeconds} && ${TEST_AGENT.install}` };
}

/** A recognisable fake OpenRouter key (the shape of a real one). */
export const FAKE_KEY = `sk-or-v1-${"0123456789abcdef".repeat(4)}`;
