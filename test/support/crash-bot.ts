// The bot as a separate process for the kill tests (test/crash-recovery.test.ts), wired like
// main.ts (recovery before commands, graceful SIGTERM, console on stdin/stdout) but with the test
// agents and a Hetzner cloud pointed at the test's fake and sshd, which main.ts cannot be told.
// CRASH_AT=<step>:<state> (or spawn:<status>) makes it SIGKILL itself right after that state is
// written: an exact step boundary, which a test polling the file from outside could miss.
import path from "node:path";
import { ConsoleAdapter } from "../../src/adapters/console/index.js";
import { BotCore } from "../../src/bot/core.js";
import { loadSecretBox } from "../../src/bot/access/secret-box.js";
import { openStore } from "../../src/bot/store/index.js";
import { createLogger } from "../../src/log.js";
import { HetznerCloud } from "../../src/orchestrator/clouds/hetzner.js";
import { AGENTS, Orchestrator, loadOrCreateBotKey, type RunJournal } from "../../src/orchestrator/index.js";
import { secrets } from "../../src/secrets.js";
import { recoverAtStartUp, runUntilStopped } from "../../src/shutdown.js";
import { FAKE_KEY, slowAgent, TEST_AGENT } from "./test-agent.js";

/** The environment the test gives this process. */
export interface CrashBotEnv {
  CRASH_DATA_DIR: string;
  CRASH_HETZNER_URL: string;
  CRASH_HETZNER_TOKEN: string;
  CRASH_SSH_PORT: string;
  CRASH_SSH_USER: string;
  CRASH_AT?: string;
  CRASH_GRACE_MS?: string;
}

/** Like the test agent, but its install takes CRASH_SLOW_INSTALL_S seconds (mid-install kills, SIGTERM). */
const SLOW_AGENT = slowAgent(Number(process.env.CRASH_SLOW_INSTALL_S ?? 3));

function crashingJournal(journal: RunJournal, at: string | undefined): RunJournal {
  if (!at) return journal;
  const [what, state] = at.split(":");
  const die = () => process.kill(process.pid, "SIGKILL");
  return {
    async markStep(spawnId, seq, name, s, detail, when) {
      const r = await journal.markStep(spawnId, seq, name, s, detail, when);
      if (name === what && s === state) die();
      return r;
    },
    async updateSpawn(id, patch) {
      const r = await journal.updateSpawn(id, patch);
      if (what === "spawn" && patch.status === state) die();
      return r;
    },
  };
}

async function main(): Promise<number> {
  const env = process.env as unknown as CrashBotEnv;
  secrets.add(FAKE_KEY);
  secrets.add(env.CRASH_HETZNER_TOKEN);
  const logger = createLogger({ level: "info", format: "json" }); // stderr is kept by the test
  const store = openStore(path.join(env.CRASH_DATA_DIR, "spawnbot.db"));
  const botKey = loadOrCreateBotKey(env.CRASH_DATA_DIR);
  const hetzner = new HetznerCloud({
    botPublicKey: botKey.publicKey, token: env.CRASH_HETZNER_TOKEN, apiUrl: env.CRASH_HETZNER_URL, location: "nbg1", defaultSize: "cx23",
    sshPort: Number(env.CRASH_SSH_PORT), sshUser: env.CRASH_SSH_USER, pollIntervalMs: 50, requestTimeoutMs: 2000,
    apiRetry: { baseDelayMs: 50, maxDelayMs: 200 }, cloudInitTimeoutMs: 5000, sshWait: { attempts: 20, baseDelayMs: 100, maxDelayMs: 500 },
  });
  const secretBox = loadSecretBox(env.CRASH_DATA_DIR);
  const orchestrator = new Orchestrator({
    journal: crashingJournal(store, env.CRASH_AT), botKey, logger, sealer: secretBox, agents: [...AGENTS, TEST_AGENT, SLOW_AGENT], clouds: [hetzner],
  });
  const core = new BotCore({
    store, orchestrator, logger, botPublicKey: botKey.publicKey, secretBox,
    settings: { admins: [], defaultTtlMs: 86_400_000, openrouterApiKey: FAKE_KEY, shareWorkspaceKey: true },
  });
  await recoverAtStartUp(core, logger);
  const adapter = new ConsoleAdapter({ core, input: process.stdin, output: process.stdout, interactive: false, user: { id: "U1", name: "alice" } });
  const stopping = { orchestrator, graceMs: Number(env.CRASH_GRACE_MS ?? 20_000), logger };
  return runUntilStopped(adapter, stopping);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`crash-bot crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
