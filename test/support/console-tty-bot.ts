// The console bot as its own process on a real terminal, for test/console-tty.test.ts (run in a
// tmux pane): the console adapter on stdin/stdout, interactive when they are a TTY as in main.ts,
// spawning on the local cloud in a home of its own. Two more test agents: one whose install takes
// a few seconds (status updates keep arriving while the person types) and one whose install fails.
import path from "node:path";
import { ConsoleAdapter } from "../../src/adapters/console/index.js";
import { BotCore } from "../../src/bot/core.js";
import { loadSecretBox } from "../../src/bot/access/secret-box.js";
import { openStore } from "../../src/bot/store/index.js";
import { createLogger } from "../../src/log.js";
import { AGENTS, LocalCloud, Orchestrator, loadOrCreateBotKey, type AgentSpec } from "../../src/orchestrator/index.js";
import { secrets } from "../../src/secrets.js";
import { runUntilStopped } from "../../src/shutdown.js";
import { FAKE_KEY, slowAgent, TEST_AGENT } from "./test-agent.js";

/** The environment the test gives this process. */
export interface ConsoleTtyEnv {
  TTY_DATA_DIR: string;
  TTY_LOCAL_HOME: string;
  /** Seconds the slow agent's install takes. */
  TTY_SLOW_S?: string;
}

const SLOW_AGENT = slowAgent(Number(process.env.TTY_SLOW_S ?? 3));
// Its install fails every time: the run fails after install's tries (about ten seconds).
const FAILING_AGENT: AgentSpec = { ...TEST_AGENT, key: "failagent", name: "Failing Test Agent", install: "echo 'no such package' >&2; exit 3" };

async function main(): Promise<number> {
  const env = process.env as unknown as ConsoleTtyEnv;
  secrets.add(FAKE_KEY);
  const logger = createLogger({ level: "info", format: "json" }); // stderr: the test sends it to a file, off the screen
  const store = openStore(path.join(env.TTY_DATA_DIR, "spawnbot.db"));
  const botKey = loadOrCreateBotKey(env.TTY_DATA_DIR);
  const secretBox = loadSecretBox(env.TTY_DATA_DIR);
  const orchestrator = new Orchestrator({
    journal: store, botKey, logger, sealer: secretBox, agents: [...AGENTS, TEST_AGENT, SLOW_AGENT, FAILING_AGENT],
    clouds: [new LocalCloud({ enabled: true, home: env.TTY_LOCAL_HOME })],
  });
  const core = new BotCore({
    store, orchestrator, logger, botPublicKey: botKey.publicKey, secretBox,
    settings: { admins: [], defaultTtlMs: 86_400_000, openrouterApiKey: FAKE_KEY, shareWorkspaceKey: true },
  });
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const adapter = new ConsoleAdapter({ core, input: process.stdin, output: process.stdout, interactive, user: { id: "U1", name: "alice" } });
  return runUntilStopped(adapter, { orchestrator, graceMs: 5000, logger });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`console-tty-bot crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
