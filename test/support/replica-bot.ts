// One bot replica as a separate process for the replica tests (test/replicas.test.ts): the same
// process a team deploys (src/run-bot.ts, configured from its environment: PostgreSQL, Slack HTTP
// mode against the fake Slack), with the test agents added and a Hetzner cloud whose servers are
// the test's sshd, which main.ts cannot be told. REPLICA_SLOW_INSTALL_S makes "slowagent" install
// for that long, so a test can kill a replica while its runs are installing.
import { ConfigError, loadConfig } from "../../src/config.js";
import { HetznerCloud } from "../../src/orchestrator/clouds/hetzner.js";
import { AGENTS } from "../../src/orchestrator/index.js";
import { runBot } from "../../src/run-bot.js";
import { secrets } from "../../src/secrets.js";
import { slowAgent, TEST_AGENT } from "./test-agent.js";

/** What the test gives this process besides the SPAWNBOT_* configuration. */
export interface ReplicaBotEnv {
  REPLICA_HETZNER_URL: string;
  REPLICA_HETZNER_TOKEN: string;
  REPLICA_SSH_PORT: string;
  REPLICA_SSH_USER: string;
  REPLICA_SLOW_INSTALL_S?: string;
  /** How often the Hetzner client polls a new server's state (100 ms unless set; the 200-spawn benchmark polls every 1 s, as bench:scale does). */
  REPLICA_HETZNER_POLL_MS?: string;
}

const SLOW_AGENT = slowAgent(Number(process.env.REPLICA_SLOW_INSTALL_S ?? 3));

async function main(): Promise<number> {
  const env = process.env as unknown as ReplicaBotEnv;
  const config = loadConfig();
  secrets.add(env.REPLICA_HETZNER_TOKEN);
  return runBot(config, {
    agents: [...AGENTS, TEST_AGENT, SLOW_AGENT],
    clouds: (botKey) => [new HetznerCloud({
      botPublicKey: botKey.publicKey, token: env.REPLICA_HETZNER_TOKEN, apiUrl: env.REPLICA_HETZNER_URL, location: "nbg1", defaultSize: "cx23",
      sshPort: Number(env.REPLICA_SSH_PORT), sshUser: env.REPLICA_SSH_USER, pollIntervalMs: Number(env.REPLICA_HETZNER_POLL_MS ?? 100), requestTimeoutMs: 5000,
      apiRetry: { baseDelayMs: 100, maxDelayMs: 500 }, cloudInitTimeoutMs: 10_000, sshWait: { attempts: 20, baseDelayMs: 100, maxDelayMs: 500 },
    })],
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`replica-bot ${err instanceof ConfigError ? "configuration" : "crashed"}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
