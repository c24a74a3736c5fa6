// The bot process from a loaded configuration: logger → store → bot identity → (one bot: the data
// lease; replicas: the job queue) → orchestrator → bot core → adapter → servers, until a signal.
// main.ts runs it with the real agents and clouds; the replica tests run it with their test agent
// and fake cloud, so what they kill is the same process a team deploys.
import os from "node:os";
import type { ChatAdapter } from "./bot/index.js";
import { BotCore, openPgStore } from "./bot/index.js";
import { loadSecretBox } from "./bot/index.js";
import type { Store } from "./bot/index.js";
import { ConsoleAdapter } from "./adapters/console/index.js";
import { DiscordAdapter } from "./adapters/discord/index.js";
import { SlackAdapter } from "./adapters/slack/index.js";
import type { Config } from "./config.js";
import { openDataStore } from "./data-dir.js";
import { createLogger, type Logger } from "./log.js";
import { Orchestrator, type AgentSpec, type BotKey, type Cloud } from "./orchestrator/index.js";
import { settleBotIdentity } from "./bot-identity.js";
import { startOpsServer } from "./ops.js";
import { startPublicServer } from "./public-server.js";
import { secrets } from "./secrets.js";
import { DataLeaseHeldError, holdDataLease, newHolderId, type DataLease } from "./data-lease.js";
import { openJobQueue, type JobQueue } from "./jobs/job-queue.js";
import { recoverAtStartUp, runUntilStopped } from "./shutdown.js";

const DATABASE_FILE = "spawnbot.db";
const TIME_TO_READY_WINDOW = 500; // /metrics summarises the most recent ready spawns
const LEASE_HELD_EXIT = 3; // another bot holds the data: not a crash (1) nor bad configuration (2)
const LEASE_LOST_EXIT = 75; // EX_TEMPFAIL: taken over while stalled; a supervisor may start it again

/** What the process runs that main.ts takes from the real catalog and configuration. */
export interface BotParts {
  agents: readonly AgentSpec[];
  clouds(botKey: BotKey): Cloud[];
}

/** Readiness of the store: a query answers. */
async function storeAnswers(store: Store): Promise<boolean> {
  try {
    await store.countSpawns();
    return true;
  } catch {
    return false;
  }
}

/** Run the bot until it is stopped; resolves with the process exit code. */
export async function runBot(config: Config, parts: BotParts): Promise<number> {
  secrets.add(config.openrouterApiKey);
  secrets.add(config.openrouterManagementKey);
  secrets.add(config.clouds.hetzner?.token);
  secrets.add(config.clouds.digitalocean?.token);
  // AWS credentials reach the SDK through its own chain; the bot still keeps them out of output.
  secrets.add(process.env.AWS_SECRET_ACCESS_KEY);
  secrets.add(process.env.AWS_SESSION_TOKEN);
  for (const value of [config.slack?.botToken, config.slack?.appToken, config.slack?.signingSecret, config.discord?.token]) secrets.add(value);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const store = await openConfiguredStore(config);
  if (typeof store === "string") {
    process.stderr.write(`${store}\n`); // one line naming the path and the user: an admin's error, not a crash
    return 2;
  }
  // Every process on this data is one bot: the SSH key its servers trust, the secret key its users' secrets open with.
  const secretBox = loadSecretBox(config.dataDir, config.secretKey);
  const botKey = await settleBotIdentity(store, secretBox, config.dataDir);
  if (typeof botKey === "string") {
    await store.close();
    process.stderr.write(`${botKey}\n`);
    return 2;
  }
  const holder = newHolderId();
  // One bot on SQLite holds the data's lease; replicas on PostgreSQL share the work through the job queue instead.
  const owner = config.database ? await startReplica(config, holder, logger) : await holdTheData(store, config, holder, logger);
  if (typeof owner === "number") {
    await store.close();
    return owner;
  }
  const queue = "queue" in owner ? owner.queue : undefined;
  const orchestrator = new Orchestrator({
    journal: store, botKey, logger, agents: parts.agents, sealer: secretBox, installStallMs: config.installStallMs,
    clouds: parts.clouds(botKey),
  });
  const core = new BotCore({
    store, orchestrator, logger, botPublicKey: botKey.publicKey, secretBox, runQueue: queue,
    settings: {
      admins: config.adapter === "console" ? [...config.admins, consoleUser()] : config.admins,
      defaultTtlMs: config.defaultTtlMs, openrouterApiKey: config.openrouterApiKey, publicUrl: config.gateway?.publicUrl,
      tunnelDomain: config.gateway?.tunnelDomain,
      policy: { enableLocal: config.enableLocal, ...config.policy },
      openrouter: config.openrouter, gitBaseUrl: config.gitBaseUrl,
      openrouterManagementKey: config.openrouterManagementKey, shareWorkspaceKey: config.shareWorkspaceKey, spawnBudget: config.spawnBudget,
      usdPerEur: config.usdPerEur,
    },
  });
  // Made before the public server, which serves the Discord interactions endpoint; an adapter takes
  // nothing until it is started below (that endpoint answers 503 until then).
  // Replicas pace their chat calls by send slots booked in the database, and only the holder of the
  // discord-gateway lease connects to Discord's gateway (REST works on every replica).
  const replicated = queue ? { sendSlots: store.sendSlots } : {};
  const leader = queue ? { leader: { leases: store.leases, ttlMs: config.leaseTtlMs, holder } } : {};
  const adapter: ChatAdapter = config.slack ? new SlackAdapter(core, { ...config.slack, ...replicated }, logger.child({ adapter: "slack" }))
    : config.discord ? new DiscordAdapter(core, { ...config.discord, ...replicated, ...leader }, logger.child({ adapter: "discord" }))
    : new ConsoleAdapter({ core, input: process.stdin, output: process.stdout, interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) });
  const adapterRoutes = adapter instanceof DiscordAdapter && adapter.interactionsRoute ? [adapter.interactionsRoute] : [];
  const gatewayServer = config.gateway ? await startPublicServer(core, config.gateway, logger, adapterRoutes) : undefined;
  // One bot: before any adapter takes commands, end what a killed or stopped bot left in flight.
  // Replicas: other replicas may be running those runs; the queue hands over only the ones whose holder stopped.
  if (!queue) await recoverAtStartUp(core, logger);
  const stopping = { orchestrator, graceMs: config.shutdownGraceMs, logger };
  logger.info({ dataDir: config.dataDir, adapter: config.adapter, gateway: config.gateway?.publicUrl, replica: queue ? holder : undefined }, "spawnbot started");
  // Chat platforms' call counts for /metrics (the console makes no platform calls).
  const chat = adapter instanceof SlackAdapter || adapter instanceof DiscordAdapter ? adapter : undefined;
  const ops = config.ops ? await startOpsServer(config.ops.port, config.ops.host, {
    storeOpen: () => storeAnswers(store),
    platformConnected: () => adapter.connected,
    queueAnswers: queue && (() => queue.answers()),
  }, {
    spawnCounts: () => store.countSpawns(),
    runsInFlight: () => orchestrator.inFlight().length,
    recentTimesToReady: () => store.recentTimesToReady(TIME_TO_READY_WINDOW),
    costTotals: () => store.costs.totals(Date.now()),
    chat: () => chat && { platform: chat.platform, calls: chat.counts.calls, rateLimited: chat.counts.rateLimited, inProgress: chat.requestsInProgress },
    jobs: queue && (async () => ({ counts: await queue.counts(), takeovers: queue.takeovers })),
    gatewayTakeovers: () => (adapter instanceof DiscordAdapter ? adapter.gatewayCounts?.takeovers : undefined),
    own: orchestrator.metrics.all,
  }) : undefined;
  const upkeepSettings = { ...config.upkeep, cleanupRetryMs: config.cleanupRetryMs, runsSweepMs: config.leaseTtlMs };
  const code = await runUntilStopped(adapter, stopping, () => {
    if (!queue) return core.startUpkeep(upkeepSettings);
    // After the adapter is up: a run's status message goes out through it.
    void queue.workRuns(core).catch((err: Error) => logger.error({ err: secrets.redact(err.message) }, "could not take runs from the job queue"));
    const upkeep = core.startUpkeep(upkeepSettings, queue);
    return { stop: async () => { await queue.stopTaking(); await upkeep.stop(); } };
  });
  await ops?.close();
  await gatewayServer?.close();
  // Runs suspended at the shutdown failed their jobs above, so another replica continues them.
  await queue?.close(config.shutdownGraceMs);
  if ("lease" in owner) await owner.lease.release();
  // A run still inside a step at the shutdown deadline may write once more before exit: keep the file open.
  if (orchestrator.inFlight().length === 0) await store.close();
  return code;
}

/** One bot: the data's lease, or the exit code when another bot holds it. */
async function holdTheData(store: Store, config: Config, holder: string, logger: Logger): Promise<{ lease: DataLease } | number> {
  try {
    // Exit at once if another process took the data over: both acting on the same runs is worse than stopping.
    return { lease: await holdDataLease(store, { dataDir: config.dataDir, ttlMs: config.leaseTtlMs, logger, holder, onLost: () => process.exit(LEASE_LOST_EXIT) }) };
  } catch (err) {
    if (!(err instanceof DataLeaseHeldError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return LEASE_HELD_EXIT;
  }
}

/** A replica: the job queue on the same database (its tables made on first use), or exit 2 when it cannot be used. */
async function startReplica(config: Config, holder: string, logger: Logger): Promise<{ queue: JobQueue } | number> {
  try {
    return { queue: await openJobQueue(config.database!.url, { leaseTtlMs: config.leaseTtlMs, logger, instance: holder, runsPerReplica: config.database!.runsPerReplica }) };
  } catch (err) {
    process.stderr.write(`spawnbot cannot start: the job queue in the PostgreSQL database cannot be used (${secrets.redact((err as Error).message)})\n`);
    return 2;
  }
}

/** PostgreSQL when SPAWNBOT_DATABASE_URL is set, else the SQLite file in the data dir; a string is the one line to print instead. */
async function openConfiguredStore(config: Config): Promise<Store | string> {
  if (!config.database) return openDataStore(config.dataDir, DATABASE_FILE);
  const { url, statementTimeoutMs } = config.database;
  const password = new URL(url).password;
  if (password) secrets.add(decodeURIComponent(password));
  try {
    return await openPgStore(url, { statementTimeoutMs });
  } catch (err) {
    return `spawnbot cannot start: the PostgreSQL database of SPAWNBOT_DATABASE_URL cannot be used (${secrets.redact((err as Error).message)})`;
  }
}

/** At the console, the person at the keyboard runs the bot: they are its admin. */
function consoleUser(): string {
  return os.userInfo().username;
}
