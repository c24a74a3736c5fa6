// Bot replicas as separate processes on one PostgreSQL database (test/support/replica-bot.ts), each
// with its own data dir, Slack HTTP port and ops port, as a team runs them behind a load balancer.
// The test spreads Slack's requests over them, kills or restarts them, and reads their logs.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { JOBS_SCHEMA, RUN_QUEUE } from "../../src/jobs/job-queue.js";
import { bundleEntry } from "./bundle.js";
import { freePort } from "./free-port.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** A replica is up when /readyz answers 200 within this long. */
const START_TIMEOUT_MS = 30_000;

export interface Replica {
  name: string;
  dataDir: string;
  /** Slack's Request URL of this replica. */
  slackUrl: string;
  opsUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its JSON log) so far. */
  log(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The process a replica runs: the test one (test agents, Hetzner fake), or main.ts exactly as deployed. */
export type ReplicaEntry = "replica-bot" | "main";
const ENTRY_SOURCES: Record<ReplicaEntry, string> = { "replica-bot": "test/support/replica-bot.ts", main: "src/main.ts" };
const entries = new Map<ReplicaEntry, Promise<string>>();

export interface ReplicaOptions {
  /** "replica-bot" (the default) or "main": main.ts knows no test agent and no fake cloud, only what its environment configures. */
  entry?: ReplicaEntry;
}

/** Start one replica and wait until its /readyz says ready; env holds the SPAWNBOT_*, SLACK_* and REPLICA_* settings. */
export async function startReplica(name: string, env: Record<string, string>, dataDir = mkdtempSync(path.join(os.tmpdir(), `spawnbot-${name}-`)), opts: ReplicaOptions = {}): Promise<Replica> {
  const which = opts.entry ?? "replica-bot";
  const bundled = entries.get(which) ?? bundleEntry(ENTRY_SOURCES[which], which === "main" ? "replica-main" : which);
  entries.set(which, bundled);
  const entry = await bundled;
  const [slackPort, opsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT, stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SPAWNBOT_ADAPTER: "slack", SPAWNBOT_LOG_FORMAT: "json",
      SPAWNBOT_DATA_DIR: dataDir, SLACK_PORT: String(slackPort), SPAWNBOT_OPS_PORT: String(opsPort), SPAWNBOT_OPS_HOST: "127.0.0.1", ...env,
    },
  });
  let log = "";
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const replica: Replica = {
    name, dataDir, slackUrl: `http://127.0.0.1:${slackPort}/slack/events`, opsUrl: `http://127.0.0.1:${opsPort}`, child, log: () => log, exited,
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) { // bounded by START_TIMEOUT_MS, 100 ms apart
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica ${name} exited at start: ${log.slice(-3000)}`);
    const ready = await fetch(`${replica.opsUrl}/readyz`).then((r) => r.ok, () => false);
    if (ready) return replica;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`replica ${name} was not ready within ${START_TIMEOUT_MS} ms: ${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stop a replica: SIGTERM waits for its orderly exit (bounded), SIGKILL is a crash. */
export async function stopReplica(r: Replica, signal: "SIGTERM" | "SIGKILL", timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return r.exited;
  r.child.kill(signal);
  const timer = setTimeout(() => r.child.kill("SIGKILL"), timeoutMs);
  try {
    return await r.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON log lines of a replica. */
export function logLines(r: Replica): Record<string, unknown>[] {
  return r.log().split("\n").filter((l) => l.startsWith("{")).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  });
}

/** The run jobs pg-boss holds as active, read from its table: what the metric counts, to say which are left. */
export async function activeRunJobs(url: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT data->>'spawnId' AS spawn, retry_count, started_on, heartbeat_on FROM ${JOBS_SCHEMA}.job WHERE name = $1 AND state = 'active'`, [RUN_QUEUE]);
    return rows;
  } finally {
    await client.end();
  }
}
