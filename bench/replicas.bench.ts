// Replicas on PostgreSQL (issue 17), two measurements:
// 1. Slack HTTP acks of /spawn at concurrency 50: the one SQLite bot, one PostgreSQL replica and
//    three replicas on one database, each bot being src/main.ts in its own process as deployed
//    (test/support/replicas.ts, entry "main"). The command is the ack benchmark's dry run (the
//    grammar's --dry-run: parsed, checked and answered with the plan, nothing provisioned). A
//    separate load generator (bench/load-generator.mjs) deals its 50 connections over the
//    replicas' Slack URLs in turn, as a load balancer would, and the requests go round-robin.
// 2. Time from SIGKILL of a replica to its runs' next step on another replica, at the default
//    lease (SPAWNBOT_LEASE_TTL 30 s: a 15 s job heartbeat; pg-boss's supervisor looks every 5 s),
//    read from the survivors' JSON logs ("took over a run another replica left", then the run's
//    next "step started"). Three replicas (test/support/replica-bot.ts) on the Hetzner fake whose
//    servers are the real test sshd; the slow test agent installs for SLOW_INSTALL_S, so a kill
//    lands in the middle of an install.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { loadOrCreateBotKey } from "../src/orchestrator/index.js";
import { HetznerFake } from "../test/fakes/hetzner-fake.js";
import { signedPost, slashCommandBody, startSlackFake, type SlackFake } from "../test/fakes/slack-fake.js";
import { markFirstBootDone } from "../test/support/cloud-e2e.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { activeRunJobs, logLines, startReplica, stopReplica, type Replica } from "../test/support/replicas.js";
import { killUserProcesses, startSshd, type TestSshd } from "../test/support/sshd.js";
import { FAKE_KEY } from "../test/support/test-agent.js";
import { until } from "../test/support/until.js";
import { answerTimes, machine, preparedSlash, runLoadGenerator, summarize } from "./support.js";

const SECRET = randomBytes(16).toString("hex");
const USER = "sbben-rep";
const CHANNEL = "C0BENCHREP";

// Acks: the same request and load as bench/slack-ack.bench.ts.
const TEXT = "spawn codex ssh --host dev@127.0.0.1:2222 --model openai/gpt-5 --dry-run";
const CONCURRENCY = 50;
const PER_ROUND = 1000;
const FIRST_WARM_UP = 1000; // JIT and lazy module loading of fresh processes
const WARM_UP = 200;
const ROUNDS = 5;
/** PostgreSQL's backends report their counts at most every second (PGSTAT_MIN_INTERVAL): wait that long and some before reading them. */
const STATS_FLUSH_MS = 1500;

// Takeovers.
const KILLS = 3;
const SPAWNS_PER_KILL = 6;
/** Long enough that every kill lands inside an install, short enough that the taken-over runs finish. */
const SLOW_INSTALL_S = 20;
const TAKEOVER_TARGET_MS = 30_000; // the issue's target, set by the lease

type Stats = ReturnType<typeof summarize>;
let pgServer: TestPostgres;
let slack: SlackFake;
const running: Replica[] = [];

beforeAll(async () => {
  [pgServer, slack] = await Promise.all([startPostgres(), startSlackFake()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((r) => stopReplica(r, "SIGKILL")));
  await Promise.all([pgServer?.stop(), slack?.close()]);
}, 60_000);

async function stopAll(): Promise<void> {
  await Promise.all(running.splice(0).map((r) => stopReplica(r, "SIGTERM")));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// ---------------------------------------------------------------------------------------------
// 1. Acks
// ---------------------------------------------------------------------------------------------

const prepared = (label: string, url: string) => preparedSlash(slack, SECRET, TEXT, label, url);
type Job = ReturnType<typeof prepared>;

/** n requests dealt over the URLs in turn. */
function spread(label: string, urls: string[], n: number): Job[] {
  return Array.from({ length: n }, (_, i) => prepared(label, urls[i % urls.length]!));
}


interface Round { ack: Stats; acksPerS: number; answer: Stats; failed: number }

async function ackRounds(label: string, bots: Replica[]): Promise<Round[]> {
  const urls = bots.map((b) => b.slackUrl);
  const rounds: Round[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const warmUp = spread(label, urls, round === 0 ? FIRST_WARM_UP : WARM_UP);
    const warmed = await runLoadGenerator(warmUp, CONCURRENCY);
    await answerTimes(warmUp, warmed.sentAt, () => slack.responses, 120_000); // a measured burst starts from idle bots
    const jobs = spread(label, urls, PER_ROUND);
    const run = await runLoadGenerator(jobs, CONCURRENCY);
    const ack = summarize(run.samples[label] ?? []);
    rounds.push({ ack, acksPerS: (ack.n / run.elapsedMs) * 1000, answer: summarize(await answerTimes(jobs, run.sentAt, () => slack.responses, 120_000)), failed: run.failed });
    slack.responses.length = 0; // the fake keeps every answer; the next round looks only at its own
  }
  return rounds;
}

/** Transactions committed in the database so far (each statement outside a transaction is one); read after the statistics are flushed. */
async function committed(url: string): Promise<number> {
  await sleep(STATS_FLUSH_MS);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()");
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

function slackEnv(): Record<string, string> {
  return { SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.apiUrl, SPAWNBOT_LOG_LEVEL: "warn" };
}

describe("Slack HTTP acks at concurrency 50: SQLite bot, 1 and 3 replicas on PostgreSQL", () => {
  it("acks every request; prints p50/p99 and acks/s side by side", async () => {
    const results: { label: string; rounds: Round[] }[] = [];
    // The one SQLite bot, as bench:slack-ack runs it.
    running.push(await startReplica("sqlite", slackEnv(), undefined, { entry: "main" }));
    results.push({ label: "SQLite, 1 bot", rounds: await ackRounds("sqlite", running) });
    await stopAll();
    const perRequest: string[] = [];
    for (const n of [1, 3]) {
      const url = await pgServer.createDatabase();
      const env = { ...slackEnv(), SPAWNBOT_DATABASE_URL: url, SPAWNBOT_SECRET_KEY: randomBytes(32).toString("hex") };
      running.push(await startReplica("pg-a", env, undefined, { entry: "main" })); // the first makes the bot key; the others take it
      for (let i = 1; i < n; i++) running.push(await startReplica(`pg-${"abc"[i]}`, env, undefined, { entry: "main" }));
      const before = await committed(url);
      const label = `PostgreSQL, ${n} replica${n > 1 ? "s" : ""}`;
      results.push({ label, rounds: await ackRounds(`pg${n}`, running) });
      const requests = FIRST_WARM_UP + (ROUNDS - 1) * WARM_UP + ROUNDS * PER_ROUND;
      perRequest.push(`${label}: ${((await committed(url)) - before) / requests} PostgreSQL transactions per request (${requests} requests; the job queue's own polling included)`);
      await stopAll();
    }

    const fmt = (s: Stats) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
    console.log(`machine: ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    for (const { label, rounds } of results) {
      rounds.forEach((r, i) => console.log(`${label}, round ${i + 1}: ack n=${r.ack.n} ${fmt(r.ack)}, ${r.acksPerS.toFixed(0)} acks/s; answer ${fmt(r.answer)}`));
    }
    for (const { label, rounds } of results) {
      console.log(`${label}, median round: ack p50 ${median(rounds.map((r) => r.ack.p50)).toFixed(1)} ms, p99 ${median(rounds.map((r) => r.ack.p99)).toFixed(1)} ms, ` +
        `${median(rounds.map((r) => r.acksPerS)).toFixed(0)} acks/s; answer p50 ${median(rounds.map((r) => r.answer.p50)).toFixed(0)} ms, p99 ${median(rounds.map((r) => r.answer.p99)).toFixed(0)} ms`);
    }
    for (const line of perRequest) console.log(line);
    for (const { label, rounds } of results) {
      for (const r of rounds) expect([label, r.failed, r.ack.n, r.answer.n]).toEqual([label, 0, PER_ROUND, PER_ROUND]); // every request acked and answered
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Takeovers
// ---------------------------------------------------------------------------------------------

describe("SIGKILL of a replica: its runs' next step on another replica", () => {
  let sshd: TestSshd;
  let hetzner: HetznerFake;
  let store: PgStore | undefined;

  beforeAll(async () => {
    [sshd, hetzner] = await Promise.all([startSshd(USER), HetznerFake.start()]);
    markFirstBootDone();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(running.splice(0).map((r) => stopReplica(r, "SIGKILL")));
    await store?.close();
    killUserProcesses(USER);
    await Promise.all([sshd?.stop(), hetzner?.close()]);
  }, 60_000);

  async function runsInFlight(r: Replica): Promise<number> {
    const text = await fetch(`${r.opsUrl}/metrics`).then((res) => res.text(), () => "");
    return Number(/^spawnbot_runs_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
  }

  async function slash(r: Replica, text: string, user: string): Promise<void> {
    const res = await signedPost(r.slackUrl, slashCommandBody({ text, channel_id: CHANNEL, user_id: user, user_name: user.toLowerCase() }), "application/x-www-form-urlencoded", SECRET);
    await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${r.name}`);
  }

  async function allEnded(names: string[]) {
    return until("every spawn ended", async () => {
      const spawns = (await store!.listAll("slack", { limit: 1000 })).filter((s) => names.includes(s.name));
      return spawns.length === names.length && spawns.every((s) => s.status === "ready" || s.status === "failed") ? spawns : undefined;
    }, 180_000);
  }

  it(`moves a killed replica's runs within the lease (default SPAWNBOT_LEASE_TTL), ${KILLS} kills`, async () => {
    const url = await pgServer.createDatabase();
    const env: Record<string, string> = {
      ...slackEnv(), SPAWNBOT_LOG_LEVEL: "info", SPAWNBOT_DATABASE_URL: url, SPAWNBOT_SECRET_KEY: randomBytes(32).toString("hex"),
      OPENROUTER_API_KEY: FAKE_KEY, SPAWNBOT_SHARE_WORKSPACE_KEY: "true",
      SPAWNBOT_MAX_LIVE_PER_USER: "100", SPAWNBOT_MAX_HOURLY_PER_USER: "100", SPAWNBOT_MAX_LIVE_PER_WORKSPACE: "100", SPAWNBOT_MAX_HOURLY_PER_WORKSPACE: "200",
      REPLICA_HETZNER_URL: hetzner.url, REPLICA_HETZNER_TOKEN: hetzner.validToken, REPLICA_SSH_PORT: String(sshd.port), REPLICA_SSH_USER: USER,
      REPLICA_SLOW_INSTALL_S: String(SLOW_INSTALL_S),
    };
    const firstDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-bench-rep-"));
    sshd.authorize(loadOrCreateBotKey(firstDir).publicKey);
    running.push(await startReplica("r1", env, firstDir));
    running.push(...(await Promise.all([startReplica("r2", env), startReplica("r3", env)])));
    store = await openPgStore(url);
    const killed: Replica[] = [];
    const kills: { victim: string; runs: number; takeoverMs: number[]; nextStepMs: number[] }[] = [];
    const names: string[] = [];

    for (let k = 0; k < KILLS; k++) {
      const batch = Array.from({ length: SPAWNS_PER_KILL }, (_, i) => `tk-${k + 1}-${i + 1}`);
      names.push(...batch);
      // The install step skips an agent the host has already: every batch installs afresh.
      rmSync(path.join(sshd.home, ".local", "bin", "testagent"), { force: true });
      await Promise.all(batch.map((name, i) => slash(running[i % running.length]!, `slowagent hetzner --name ${name}`, `U${String(i).padStart(3, "0")}`)));
      // Kill once the batch is installing: the replica holding the most runs then.
      let seen = "";
      await until(`batch ${k + 1} installing`, async () => {
        const spawns = (await store!.listAll("slack")).filter((s) => batch.includes(s.name));
        const steps = await Promise.all(spawns.map((s) => store!.listSteps(s.id)));
        seen = spawns.map((s, i) => `${s.name} ${s.status} ${steps[i]!.filter((st) => st.state === "running").map((st) => st.name).join(",")}`).join("; ");
        return spawns.length === batch.length && steps.every((st) => st.some((s) => s.name === "install" && s.state === "running"));
      }, 90_000).catch((err: Error) => {
        const problems = running.flatMap((r) => logLines(r).filter((l) => Number(l.level) >= 40).slice(-5).map((l) => `${r.name}: ${JSON.stringify(l)}`));
        throw new Error(`${err.message}; seen: ${seen}\n${problems.join("\n")}`);
      });
      // Which replica runs which of the batch's runs, from their logs (a run logs its steps where it runs).
      const ids = new Map((await store.listAll("slack", { limit: 1000 })).filter((s) => batch.includes(s.name)).map((s) => [s.id, s.name]));
      const held = running.map((r) => new Set(logLines(r).filter((l) => ids.has(String(l.spawnId)) && l.msg === "step started").map((l) => String(l.spawnId))));
      const inFlight = await Promise.all(running.map(runsInFlight));
      const most = Math.max(...held.map((h) => h.size));
      const victim = running[held.findIndex((h) => h.size === most)]!;
      const runs = most;
      console.log(`batch ${k + 1}: runs by replica ${running.map((r, i) => `${r.name} ${held[i]!.size} (runs_in_flight ${inFlight[i]})`).join(", ")}; killing ${victim.name}`);
      const killedAt = Date.now();
      await stopReplica(victim, "SIGKILL");
      running.splice(running.indexOf(victim), 1);
      killed.push(victim);
      // Every run the victim held is taken over and makes its next step on a survivor.
      let lines: Record<string, unknown>[] = [];
      const moved = await until(`the ${runs} runs of ${victim.name} moved`, async () => {
        await sleep(500); // reading the logs costs CPU the replicas need
        lines = running.flatMap((r) => logLines(r).map((l): Record<string, unknown> => ({ ...l, replica: r.name }))).filter((l) => Number(l.time) >= killedAt);
        // The batch's runs only: the victim may still hold an earlier batch's job showing its final state.
        const takeovers = lines.filter((l) => l.msg === "took over a run another replica left" && ids.has(String(l.spawnId)));
        if (takeovers.length < runs) return undefined;
        const next = takeovers.map((t) => lines.find((l) => l.replica === t.replica && l.spawnId === t.spawnId && l.msg === "step started" && Number(l.time) >= Number(t.time)));
        return next.every(Boolean) ? { takeovers, next } : undefined;
      }, 120_000).catch(async (err: Error) => {
        const spawns = (await store!.listAll("slack", { limit: 1000 })).filter((s) => batch.includes(s.name));
        const told = lines.filter((l) => Number(l.level) >= 40 || /took over|waiting|resuming/.test(String(l.msg))).slice(-30).map((l) => JSON.stringify(l));
        throw new Error(`${err.message}; spawns: ${spawns.map((s) => `${s.id} ${s.name} ${s.status}`).join("; ")}\n${told.join("\n")}`);
      });
      kills.push({
        victim: victim.name, runs,
        takeoverMs: moved.takeovers.map((t) => Number(t.time) - killedAt),
        nextStepMs: moved.next.map((l) => Number(l!.time) - killedAt),
      });
      // Back to three replicas, as a supervisor would restart the dead one; the batch ends before the next.
      running.push(await startReplica(`r${4 + k}`, env));
      await allEnded(batch);
      // A run's job ends once its final state and thread notes are shown; say how long after the batch was ready.
      const readyAt = Date.now();
      await until(`batch ${k + 1}'s run jobs ended`, async () => ((await activeRunJobs(url)).length === 0 ? true : undefined), 120_000);
      console.log(`batch ${k + 1}: every run job ended ${Date.now() - readyAt} ms after the last spawn was ready`);
    }

    const all = await allEnded(names);

    console.log(`machine: ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}; lease TTL default (30 s), slow install ${SLOW_INSTALL_S} s`);
    for (const [i, k] of kills.entries()) {
      const next = summarize(k.nextStepMs);
      console.log(`kill ${i + 1} (${k.victim}, ${k.runs} runs in flight): taken over after ${Math.min(...k.takeoverMs)}–${Math.max(...k.takeoverMs)} ms; next step after ${Math.min(...k.nextStepMs)}–${next.max} ms`);
    }
    const lastRunMoved = kills.map((k) => Math.max(...k.nextStepMs));
    const everyRun = summarize(kills.flatMap((k) => k.nextStepMs));
    console.log(`kill → the last of its runs' next step, over ${KILLS} kills: min ${Math.min(...lastRunMoved)} ms, median ${median(lastRunMoved)} ms, max ${Math.max(...lastRunMoved)} ms`);
    console.log(`kill → next step, every run (${everyRun.n}): min ${Math.min(...kills.flatMap((k) => k.nextStepMs))} ms, p50 ${everyRun.p50} ms, max ${everyRun.max} ms`);
    console.log(`${all.filter((s) => s.status === "ready").length} of ${all.length} spawns ready; ${hetzner.servers().length} servers`);
    expect(all.filter((s) => s.status !== "ready").map((s) => `${s.name}: ${s.error}`)).toEqual([]);
    expect(hetzner.servers().length).toBe(names.length);
    expect(Math.max(...lastRunMoved)).toBeLessThanOrEqual(TAKEOVER_TARGET_MS);
  });
});
