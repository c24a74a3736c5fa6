// One bot replica as its own process for the Discord gateway leader tests (test/discord-gateway-
// leader.test.ts): the Discord adapter on the gateway with a leader lease in the SQLite store of
// REPLICA_DATA_DIR, against the test's fake Discord. It prints "started <role>" once started; the
// test SIGKILLs it to see a standby take over. No clouds: it only answers commands.
import path from "node:path";
import { DiscordAdapter } from "../../src/adapters/discord/index.js";
import { BotCore } from "../../src/bot/core.js";
import { loadSecretBox } from "../../src/bot/access/secret-box.js";
import { openStore } from "../../src/bot/store/index.js";
import { createLogger } from "../../src/log.js";
import { AGENTS, Orchestrator, loadOrCreateBotKey } from "../../src/orchestrator/index.js";
import { secrets } from "../../src/secrets.js";
import { FAKE_KEY } from "./test-agent.js";

/** The environment the test gives this process. */
export interface ReplicaEnv {
  REPLICA_DATA_DIR: string;
  REPLICA_DISCORD_API: string;
  REPLICA_DISCORD_TOKEN: string;
  REPLICA_DISCORD_APP_ID: string;
  REPLICA_LEASE_TTL_MS: string;
  REPLICA_NAME: string;
}

async function main(): Promise<void> {
  const env = process.env as unknown as ReplicaEnv;
  secrets.add(FAKE_KEY);
  secrets.add(env.REPLICA_DISCORD_TOKEN);
  const logger = createLogger({ level: "info", format: "json" }); // stderr is kept by the test
  const store = openStore(path.join(env.REPLICA_DATA_DIR, "spawnbot.db"));
  const botKey = loadOrCreateBotKey(env.REPLICA_DATA_DIR);
  const secretBox = loadSecretBox(env.REPLICA_DATA_DIR);
  const orchestrator = new Orchestrator({ journal: store, botKey, logger, sealer: secretBox, agents: AGENTS, clouds: [] });
  const core = new BotCore({
    store, orchestrator, logger, botPublicKey: botKey.publicKey, secretBox,
    settings: { admins: [], defaultTtlMs: 86_400_000, openrouterApiKey: FAKE_KEY, shareWorkspaceKey: true },
  });
  const adapter = new DiscordAdapter(core, {
    token: env.REPLICA_DISCORD_TOKEN, appId: env.REPLICA_DISCORD_APP_ID, apiUrl: env.REPLICA_DISCORD_API,
    leader: { leases: store.leases, ttlMs: Number(env.REPLICA_LEASE_TTL_MS), holder: env.REPLICA_NAME },
  }, logger);
  await adapter.start();
  process.stdout.write(`started ${adapter.gatewayRole}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`discord-replica crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
