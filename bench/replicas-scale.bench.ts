// 200 spawns spread over three replicas on one PostgreSQL database (issue 17), the replicas'
// counterpart of bench/scale.bench.ts: 200 signed `/spawn testagent hetzner` commands from 200 users
// in 10 channels, dealt over the replicas' Slack URLs in turn (the fake Slack, HTTP mode); servers
// from the Hetzner fake (3 s boot, polled every 1 s) that are the one real sshd on 127.0.0.1 with
// raised limits. Each replica's /metrics is scraped every SCRAPE_MS during the run
// (process_resident_memory_bytes; nodejs_eventloop_lag_p99_seconds, which prom-client computes
// over the time since the previous scrape) and its peak RSS is read from /proc (VmHWM) at the end.
// As in bench:scale, the VMs' CPU is not the bots': the sshd and everything it starts run on core 1,
// this process, PostgreSQL and the replicas (started from it) on core 0; REPLICAS_SHARED_CPUS=1
// leaves both cores to everyone.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { loadOrCreateBotKey } from "../src/orchestrator/index.js";
import { HetznerFake } from "../test/fakes/hetzner-fake.js";
import { signedPost, slashCommandBody, startSlackFake, type SlackFake } from "../test/fakes/slack-fake.js";
import { markFirstBootDone } from "../test/support/cloud-e2e.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { startReplica, stopReplica, type Replica } from "../test/support/replicas.js";
import { killUserProcesses, startSshd, type TestSshd } from "../test/support/sshd.js";
import { FAKE_KEY } from "../test/support/test-agent.js";
import { machine, summarize } from "./support.js";

const SPAWNS = 200;
const REPLICAS = 3;
const CHANNELS = 10;
const BOOT_MS = 3000;
const USER = "sbben-repscale";
const SECRET = randomBytes(16).toString("hex");
const DEADLINE_MS = 270_000;
/** How often each replica's /metrics is read: each read also starts the next event-loop window. */
const SCRAPE_MS = 2000;
const SHARED_CPUS = process.env.REPLICAS_SHARED_CPUS === "1";

let pgServer: TestPostgres;
let slack: SlackFake;
let hetzner: HetznerFake;
let sshd: TestSshd;
let store: PgStore | undefined;
const replicas: Replica[] = [];

/** All threads of a process (and the children it starts later) onto the given CPUs. */
function pin(pid: number, cpus: string): void {
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

beforeAll(async () => {
  // Before anything starts: PostgreSQL, the replicas and the fakes inherit core 0 from this process.
  if (!SHARED_CPUS) pin(process.pid, "0");
  [pgServer, slack, hetzner, sshd] = await Promise.all([
    startPostgres(), startSlackFake(), HetznerFake.start({ bootDelayMs: BOOT_MS }), startSshd(USER, { maxStartups: "400:30:800", maxSessions: 400 }),
  ]);
  if (!SHARED_CPUS) pin(Number(readFileSync(path.join(sshd.dir, "sshd.pid"), "utf8")), "1");
  markFirstBootDone();
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopReplica(r, "SIGKILL")));
  await store?.close();
  killUserProcesses(USER);
  await Promise.all([sshd?.stop(), pgServer?.stop(), slack?.close(), hetzner?.close()]);
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Scrape { rssBytes: number; loopP99S: number; runsInFlight: number }

async function scrape(r: Replica): Promise<Scrape | undefined> {
  const text = await fetch(`${r.opsUrl}/metrics`).then((res) => res.text(), () => undefined);
  if (!text) return undefined;
  const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, "m").exec(text)?.[1] ?? NaN);
  return { rssBytes: metric("process_resident_memory_bytes"), loopP99S: metric("nodejs_eventloop_lag_p99_seconds"), runsInFlight: metric("spawnbot_runs_in_flight") };
}

/** The process's peak resident set (VmHWM) in bytes. */
function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

it(`runs ${SPAWNS} spawns over ${REPLICAS} replicas on one PostgreSQL database: all ready; per-replica RSS and event-loop p99`, async () => {
  const url = await pgServer.createDatabase();
  const env: Record<string, string> = {
    SPAWNBOT_DATABASE_URL: url, SPAWNBOT_SECRET_KEY: randomBytes(32).toString("hex"), SPAWNBOT_LOG_LEVEL: "warn",
    SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl,
    OPENROUTER_API_KEY: FAKE_KEY, SPAWNBOT_SHARE_WORKSPACE_KEY: "true",
    SPAWNBOT_MAX_LIVE_PER_USER: "1000", SPAWNBOT_MAX_HOURLY_PER_USER: "1000", SPAWNBOT_MAX_LIVE_PER_WORKSPACE: "1000", SPAWNBOT_MAX_HOURLY_PER_WORKSPACE: "1000",
    REPLICA_HETZNER_URL: hetzner.url, REPLICA_HETZNER_TOKEN: hetzner.validToken, REPLICA_SSH_PORT: String(sshd.port), REPLICA_SSH_USER: USER,
    REPLICA_HETZNER_POLL_MS: "1000",
  };
  const firstDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-bench-repscale-"));
  sshd.authorize(loadOrCreateBotKey(firstDir).publicKey);
  replicas.push(await startReplica("r1", env, firstDir));
  for (let i = 2; i <= REPLICAS; i++) replicas.push(await startReplica(`r${i}`, env));
  store = await openPgStore(url);

  const samples = replicas.map(() => [] as Scrape[]);
  const scrapeAll = async () => (await Promise.all(replicas.map(scrape))).forEach((s, i) => s && samples[i]!.push(s));
  await scrapeAll(); // starts every replica's first event-loop window here
  samples.forEach((s) => s.splice(0));
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      await sleep(SCRAPE_MS);
      await scrapeAll();
    }
  })();

  const started = Date.now();
  const acks = await Promise.all(Array.from({ length: SPAWNS }, async (_, i) => {
    const body = slashCommandBody({ text: `testagent hetzner --name rs-${i}`, channel_id: `C0SCALE${i % CHANNELS}`, user_id: `U${String(i).padStart(4, "0")}`, user_name: `user${i}` });
    const res = await signedPost(replicas[i % REPLICAS]!.slackUrl, body, "application/x-www-form-urlencoded", SECRET);
    await res.text();
    return res.status;
  }));
  const sentMs = Date.now() - started;
  // One grouped query a second, as bench:scale does.
  let counts: Record<string, number> = {};
  while (Date.now() - started < DEADLINE_MS) {
    counts = {};
    for (const c of await store.countSpawns()) counts[c.status] = (counts[c.status] ?? 0) + c.count;
    if ((counts.ready ?? 0) + (counts.failed ?? 0) >= SPAWNS && !counts.provisioning && !counts.pending) break;
    await sleep(1000);
  }
  const allDoneMs = Date.now() - started;
  scraping = false;
  await scraper;
  await scrapeAll(); // the last window, up to now
  const hwm = replicas.map((r) => peakRss(r.child.pid!));
  const toReady = summarize((await store.listAll("slack", { limit: 1000 })).filter((s) => s.readyAt).map((s) => s.readyAt! - s.createdAt));

  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`machine: ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; CPUs: ${SHARED_CPUS ? "everything shares both cores" : "replicas, PostgreSQL and this process on core 0, sshd on core 1"}`);
  console.log(`${SPAWNS} spawns over ${REPLICAS} replicas: ${JSON.stringify(counts)} after ${(allDoneMs / 1000).toFixed(1)} s (commands sent and acked within ${(sentMs / 1000).toFixed(1)} s)`);
  console.log(`time to ready: p50 ${(toReady.p50 / 1000).toFixed(1)} s, p99 ${(toReady.p99 / 1000).toFixed(1)} s, max ${(toReady.max / 1000).toFixed(1)} s (n=${toReady.n})`);
  replicas.forEach((r, i) => {
    const s = samples[i]!;
    const windows = summarize(s.map((x) => x.loopP99S * 1000));
    console.log(`${r.name}: peak RSS ${mb(Math.max(...s.map((x) => x.rssBytes)))} MB scraped, ${mb(hwm[i]!)} MB VmHWM; ` +
      `event-loop p99 per ${SCRAPE_MS / 1000} s window: median ${windows.p50.toFixed(1)} ms, max ${windows.max.toFixed(1)} ms over ${windows.n} windows; ` +
      `runs in flight at most ${Math.max(...s.map((x) => x.runsInFlight))}`);
  });
  expect(acks.every((s) => s === 200)).toBe(true);
  expect(counts.ready).toBe(SPAWNS);
});
