// Three bot replicas on one PostgreSQL database, as a team runs them behind a load balancer: Slack
// (the fake, HTTP mode) sends each slash command to one of them in turn, the runs go through the
// replicas' job queue, and the servers are the Hetzner fake's, reached on the real test sshd.
// One replica is SIGKILLed while its runs are installing; another takes them over with the shared
// bot key and every spawn still ends ready, with one server and one status message each.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PgBoss } from "pg-boss";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { JOBS_SCHEMA, RUN_QUEUE } from "../src/jobs/job-queue.js";
import type { SpawnRecord } from "../src/bot/store/index.js";
import { loadOrCreateBotKey } from "../src/orchestrator/index.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { signedPost, slashCommand, slashCommandBody, startSlackFake, type SlackFake } from "./fakes/slack-fake.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { activeRunJobs, logLines, startReplica, stopReplica, type Replica } from "./support/replicas.js";
import { killUserProcesses, prepareUser, startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";
import { until } from "./support/until.js";

const USER = "sbrep1";
const SIGNING_SECRET = randomBytes(16).toString("hex");
let CHANNEL = "C0REPLICAS";
/** Every channel a test asked in: status messages are looked for in all of them. */
const channels = new Set<string>();
/** How long the slow agent's install takes: long enough to kill a replica in the middle of it. */
const SLOW_INSTALL_S = 6;
/** 20 s leases: a job heartbeat of 10 s (pg-boss's floor), so a dead replica's runs move within about 20 s. */
const LEASE_TTL = "20s";
const ALL_READY_MS = 150_000;

let pgServer: TestPostgres;
let sshd: TestSshd;
let slack: SlackFake;
let hetzner: HetznerFake;
const replicas: Replica[] = [];
/** Every replica a test started, stopped ones too: their logs are kept when a test fails. */
const everyReplica = new Set<Replica>();
/** The test's own handle on the replicas' database, to read what they recorded. */
let store: PgStore | undefined;

beforeAll(async () => {
  [pgServer, sshd, slack, hetzner] = await Promise.all([startPostgres(), startSshd(USER), startSlackFake({ enforceLimits: true }), HetznerFake.start()]);
  mkdirSync("/var/lib/spawnbot", { recursive: true }); // the test host plays a VM whose first boot is done
  writeFileSync("/var/lib/spawnbot/cloud-init-complete", new Date().toISOString());
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stopReplica(r, "SIGKILL")));
  killUserProcesses(USER);
  await Promise.all([sshd?.stop(), pgServer?.stop(), slack?.close(), hetzner?.close()]);
}, 60_000);

/** The configuration every replica shares: one database, one secret key, one Slack app. */
function sharedEnv(databaseUrl: string): Record<string, string> {
  return {
    SPAWNBOT_DATABASE_URL: databaseUrl, SPAWNBOT_SECRET_KEY: randomBytes(32).toString("hex"), SPAWNBOT_LEASE_TTL: LEASE_TTL,
    SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl,
    OPENROUTER_API_KEY: FAKE_KEY, SPAWNBOT_SHARE_WORKSPACE_KEY: "true", SPAWNBOT_LOG_LEVEL: "info",
    SPAWNBOT_MAX_LIVE_PER_USER: "100", SPAWNBOT_MAX_HOURLY_PER_USER: "100", SPAWNBOT_MAX_LIVE_PER_WORKSPACE: "100", SPAWNBOT_MAX_HOURLY_PER_WORKSPACE: "200",
    REPLICA_HETZNER_URL: hetzner.url, REPLICA_HETZNER_TOKEN: hetzner.validToken, REPLICA_SSH_PORT: String(sshd.port), REPLICA_SSH_USER: USER,
    REPLICA_SLOW_INSTALL_S: String(SLOW_INSTALL_S),
  };
}

/** Start a replica the test keeps the log of. */
async function launch(...args: Parameters<typeof startReplica>): Promise<Replica> {
  const r = await startReplica(...args);
  everyReplica.add(r);
  return r;
}

/** Start three replicas: the first brings the bot key (the one the test sshd trusts); the others take it from the database. */
async function startThree(env: Record<string, string>): Promise<{ botPublicKey: string }> {
  const firstDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-rep-a-"));
  const botKey = loadOrCreateBotKey(firstDir);
  sshd.authorize(botKey.publicKey);
  replicas.push(await launch("a", env, firstDir));
  replicas.push(...(await Promise.all([launch("b", env), launch("c", env)])));
  return { botPublicKey: botKey.publicKey };
}

/**
 * A fresh cluster for one test: earlier replicas killed, the test user's processes and home reset,
 * a new Hetzner fake and database, three replicas on it; the test's store handle is reopened on it.
 */
async function freshCluster(channel: string, env: Record<string, string> = {}): Promise<{ env: Record<string, string>; botPublicKey: string; db: PgStore }> {
  await Promise.all(replicas.splice(0).map((r) => stopReplica(r, "SIGKILL")));
  everyReplica.clear();
  killUserProcesses(USER);
  prepareUser(USER);
  await hetzner.close();
  hetzner = await HetznerFake.start();
  CHANNEL = channel;
  const url = await pgServer.createDatabase();
  // An empty value removes a shared setting (Socket Mode has no signing secret).
  const all = Object.fromEntries(Object.entries({ ...sharedEnv(url), ...env }).filter(([, v]) => v !== ""));
  const { botPublicKey } = await startThree(all);
  await store?.close();
  store = await openPgStore(url);
  return { env: all, botPublicKey, db: store };
}

/** A slash command as Slack sends it (its body, to send it again as Slack's retry would). */
function slashBody(text: string, user: string, channel = CHANNEL): string {
  channels.add(channel);
  return slashCommandBody({ text, channel_id: channel, user_id: user, user_name: user.toLowerCase() });
}

/** Post a slash command to one replica; resolves with the HTTP status of the ack. */
async function slash(replica: Replica, text: string, user: string, body = slashBody(text, user), retryNum?: number): Promise<number> {
  const res = await signedPost(replica.slackUrl, body, "application/x-www-form-urlencoded", SIGNING_SECRET, retryNum ? { retryNum, retryReason: "http_timeout" } : {});
  await res.text();
  return res.status;
}

async function runsInFlight(r: Replica): Promise<number> {
  const text = await fetch(`${r.opsUrl}/metrics`).then((res) => res.text(), () => "");
  return Number(/^spawnbot_runs_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Root messages in the channel that are a spawn's status message. */
function statusMessagesOf(name: string) {
  return [...channels].flatMap((c) => slack.messages(c)).filter((m) => !m.thread_ts && JSON.stringify(m.blocks ?? "").includes(`\`${name}\``));
}

/**
 * Edits of status messages are paced by Slack's chat.update limit (50 a minute for the workspace,
 * all replicas together): 30 final states need 36 s at best, longer on a loaded machine.
 */
const FINAL_STATES_MS = 150_000;

/** Each spawn has exactly one status message in the channel, and it shows the spawn ready (edits may still be pacing out). */
async function expectOneReadyStatusEach(names: string[]): Promise<void> {
  const showsReady = (n: string) => statusMessagesOf(n).some((m) => JSON.stringify(m.blocks).includes(`\`${n}\` · ready`));
  await until("final status messages", () => names.every(showsReady) || undefined, FINAL_STATES_MS).catch((err: Error) => {
    const warnings = replicas.flatMap((r) => logLines(r).filter((l) => Number(l.level) >= 40).map((l) => `${r.name}: ${JSON.stringify(l).slice(0, 300)}`));
    const notReady = names.filter((n) => !showsReady(n));
    const shown = notReady.map((n) => `${n} shows: ${statusMessagesOf(n).map((m) => JSON.stringify(m.blocks).slice(0, 400)).join(" | ") || "no message"}`);
    throw new Error(`${err.message}; not ready: ${notReady.join(", ")}; ${shown.join("; ")}; in the channels: ${[...channels].map((c) => slack.messages(c).length).join(", ")} messages; ` +
      `${slack.count429} × 429; chat.update calls: ${slack.calls.filter((c) => c.method === "chat.update").length}\n${warnings.slice(-20).join("\n")}`);
  });
  for (const name of names) expect(statusMessagesOf(name).length, name).toBe(1);
}

function sessionAlive(name: string): boolean {
  return spawnSync("su", ["-", USER, "-c", `tmux has-session -t =${name}`]).status === 0;
}

describe("three replicas on one PostgreSQL database", () => {
  afterAll(async () => {
    await store?.close();
  });

  // A failed test leaves every replica's log (stopped ones too) for whoever looks into it.
  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    const file = path.join(os.tmpdir(), `spawnbot-replicas-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}.log`);
    writeFileSync(file, [...everyReplica].map((r) => r.log().split("\n").filter(Boolean).map((l) => `${r.name} ${l}`).join("\n")).join("\n"));
    process.stdout.write(`replicas: the replicas' logs are in ${file}\n`);
  });

  it("finishes every spawn when a replica is SIGKILLed while its runs install: one server, one status message each, no 429", async () => {
    const { env, botPublicKey, db } = await freshCluster("C0REPLICAS", { REPLICA_SLOW_INSTALL_S: "20" }); // installs outlast the status posts
    const names = Array.from({ length: 30 }, (_, i) => `rep-${String(i + 1).padStart(2, "0")}`);
    // Slack's requests spread over the replicas in turn: ten users asking three spawns each, in three channels.
    const bodies = names.map((name, i) => slashBody(`slowagent hetzner --name ${name}`, `U${String(i % 10).padStart(3, "0")}`, `C0REPLICAS${i % 3}`));
    const acks = await Promise.all(bodies.map((body, i) => slash(replicas[i % 3]!, "", "", body)));
    expect(acks).toEqual(names.map(() => 200));
    // Slack retries a request it thinks timed out; the load balancer sends the retry to another replica.
    expect(await slash(replicas[1]!, "", "", bodies[0], 1)).toBe(200);

    // Kill the replica running the most runs while they install, once their status messages are out
    // (a replica killed in the milliseconds between Slack taking a post and the store recording it
    // leaves a second status message: see the README's replicas section).
    const installing = await until("runs installing on the replicas", async () => {
      const counts = await Promise.all(replicas.map(runsInFlight));
      const live = await db.listLive();
      return counts.reduce((a, b) => a + b, 0) >= 20 && live.length === 30 && names.every((n) => statusMessagesOf(n).length > 0) ? counts : undefined;
    }, 60_000);
    const victim = replicas[installing.indexOf(Math.max(...installing))]!;
    const killedRuns = installing[replicas.indexOf(victim)]!;
    expect(killedRuns).toBeGreaterThan(0);
    const killedAt = Date.now();
    await stopReplica(victim, "SIGKILL");

    const all = await until("every spawn ready", async () => {
      const spawns = (await db.listAll("slack")).filter((r) => names.includes(r.name));
      return spawns.length === 30 && spawns.every((r) => r.status === "ready" || r.status === "failed") ? spawns : undefined;
    }, ALL_READY_MS);
    const takeoverMs = Date.now() - killedAt;
    expect(all.filter((r) => r.status !== "ready").map((r: SpawnRecord) => `${r.name}: ${r.error}`)).toEqual([]);

    // Exactly one server per spawn, each tagged with its spawn; no request acted on twice.
    const servers = hetzner.servers();
    expect(servers.length).toBe(30);
    expect((await db.listAll("slack")).length, "one spawn per request, the retry acted on once").toBe(30);
    expect(new Set(servers.map((s) => s.tags["spawnbot-spawn-id"]))).toEqual(new Set(all.map((r) => r.id)));
    // Exactly one status message per spawn, showing its final state; Slack never had to say 429.
    await expectOneReadyStatusEach(names);
    const shownAt = Date.now();
    expect(slack.count429).toBe(0);
    for (const name of names) expect(sessionAlive(name), name).toBe(true);
    // The runs the dead replica held were taken over, with the one shared bot key (no replica has its own).
    const survivors = replicas.filter((r) => r !== victim);
    const takeovers = survivors.flatMap(logLines).filter((l) => l.msg === "took over a run another replica left");
    expect(takeovers.length).toBeGreaterThanOrEqual(killedRuns);
    const firstTakeoverMs = Math.min(...takeovers.map((l) => Number(l.time))) - killedAt;
    const authorized = readFileSync(path.join(sshd.dir, "authorized_keys"), "utf8").trim().split("\n");
    expect(authorized).toEqual([botPublicKey.trim()]);
    // What the operators see: the survivors are ready with their queue, and count the takeovers and the jobs.
    const survivor = survivors[0]!;
    expect(await fetch(`${survivor.opsUrl}/readyz`).then((r) => r.json())).toMatchObject({ status: "ready", store: true, queue: true });
    const metrics = (await Promise.all(survivors.map((r) => fetch(`${r.opsUrl}/metrics`).then((res) => res.text())))).join("\n");
    const counted = [...metrics.matchAll(/^spawnbot_lease_takeovers_total\{lease="run"\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBe(takeovers.length);
    // The queue's counts are the cluster's, refreshed by its monitor pass every few seconds. A run's
    // job ends once its final state is shown, thread notes included, and those go at Slack's one
    // post a second per channel: they may still be on their way when the status messages show ready.
    await until("no run job running once every run ended", async () => /^spawnbot_jobs\{queue="spawn-run",state="running"\} 0$/m.test(await fetch(`${survivor.opsUrl}/metrics`).then((res) => res.text())) || undefined, 90_000)
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; jobs still active: ${JSON.stringify(await activeRunJobs(env.SPAWNBOT_DATABASE_URL!))}`);
      });
    process.stdout.write(`replicas: ${killedRuns} runs on the killed replica; first taken over ${firstTakeoverMs} ms after the kill, all 30 ready ${takeoverMs} ms after it; ${takeovers.length} takeovers; no run job running ${Date.now() - shownAt} ms after the status messages showed ready\n`);
  }, 420_000);

  it("keeps every spawn going through a rolling restart of all three replicas (SIGTERM, start again, one at a time)", async () => {
    const { env, db } = await freshCluster("C0ROLLING", { REPLICA_SLOW_INSTALL_S: "12" }); // installs outlast a replica's restart
    const names = Array.from({ length: 10 }, (_, i) => `roll-${String(i + 1).padStart(2, "0")}`);
    const acks = await Promise.all(names.map((name, i) => slash(replicas[i % 3]!, `slowagent hetzner --name ${name}`, `U${String(i % 5).padStart(3, "0")}`)));
    expect(acks).toEqual(names.map(() => 200));
    await until("runs under way", async () => ((await db.listLive()).length === 10 ? true : undefined), 30_000);
    // Restart each replica in turn, as a deploy does: SIGTERM (it finishes its steps, hands its runs back), then a new process.
    const exits: (number | null)[] = [];
    const stopped: Replica[] = [];
    // The replica holding the most runs goes first, while they install.
    await until("runs running", async () => ((await Promise.all(replicas.map(runsInFlight))).some((n) => n > 0) ? true : undefined), 30_000);
    const inFlight = await Promise.all(replicas.map(runsInFlight));
    const first = inFlight.indexOf(Math.max(...inFlight));
    for (const i of [first, (first + 1) % 3, (first + 2) % 3]) {
      const old = replicas[i]!;
      stopped.push(old);
      exits.push((await stopReplica(old, "SIGTERM")).code);
      replicas[i] = await launch(`${old.name}2`, env, old.dataDir);
    }
    expect(exits).toEqual([0, 0, 0]);
    const all = await until("every spawn ended", async () => {
      const spawns = (await db.listAll("slack")).filter((r) => names.includes(r.name));
      return spawns.length === 10 && spawns.every((r) => r.status === "ready" || r.status === "failed") ? spawns : undefined;
    }, ALL_READY_MS);
    expect(all.filter((r) => r.status !== "ready").map((r: SpawnRecord) => `${r.name}: ${r.error}`)).toEqual([]);
    expect(hetzner.servers().length).toBe(10);
    // Runs a stopping replica held were handed over at a step boundary and continued elsewhere.
    const handedOver = [...stopped, ...replicas].flatMap(logLines).filter((l) => l.msg === "took over a run another replica left").length;
    expect(handedOver).toBeGreaterThan(0);
    await expectOneReadyStatusEach(names).catch((err: Error) => {
      const warnings = [...stopped, ...replicas].flatMap((r) => logLines(r).filter((l) => Number(l.level) >= 40 || /took over|suspend|resum|taking/.test(String(l.msg))).map((l) => `${r.name}: ${JSON.stringify(l).slice(0, 400)}`));
      throw new Error(`${err.message}\n${warnings.filter((w) => !w.includes("outbox is closed") && !w.includes("response_url")).slice(0, 30).join("\n")}`);
    });
    for (const name of names) expect(sessionAlive(name), name).toBe(true);
    expect(slack.count429).toBe(0);
  }, 420_000);

  it("runs each upkeep pass once per period across the three replicas", async () => {
    // Two-second periods for the expiry sweep and the reconciler; debug logs name every pass done.
    await freshCluster("C0UPKEEP", { SPAWNBOT_EXPIRY_INTERVAL: "2s", SPAWNBOT_RECONCILE_INTERVAL: "2s", SPAWNBOT_LOG_LEVEL: "debug" });
    const since = Date.now();
    const callsBefore = hetzner.calls.length;
    await new Promise((r) => setTimeout(r, 12_000));
    const periods = (Date.now() - since) / 2000;
    const passes = (job: string) => replicas.flatMap(logLines).filter((l) => l.msg === "upkeep pass done" && l.job === job && Number(l.time) >= since).length;
    // Each replica offers every pass each period; one of them runs it. Three replicas on their own would run three.
    for (const job of ["expiry sweep", "reconcile"]) {
      expect(passes(job), job).toBeGreaterThanOrEqual(Math.floor(periods) - 1);
      expect(passes(job), job).toBeLessThanOrEqual(Math.ceil(periods) + 1);
    }
    // The reconciler's cloud calls: one server listing per pass, not one per replica.
    const listings = hetzner.calls.slice(callsBefore).filter((c) => c.method === "GET" && c.path.startsWith("/servers")).length;
    expect(listings).toBeLessThanOrEqual(Math.ceil(periods) + 1);
    expect(listings).toBeGreaterThanOrEqual(Math.floor(periods) - 1);
  }, 120_000);

  it("cancels from one replica a run another replica holds, and removes what the run made", async () => {
    const { db } = await freshCluster("C0CANCEL", { REPLICA_SLOW_INSTALL_S: "45" });
    /** Wait for the install: the spawn's step is running and one replica holds the run; replicas' runs in flight. */
    const installing = (name: string) => until(`${name} installing`, async () => {
      const rec = (await db.listLive()).find((r) => r.name === name);
      const steps = rec ? await db.listSteps(rec.id) : [];
      const inFlight = await Promise.all(replicas.map(runsInFlight));
      return rec && steps.some((st) => st.name === "install" && st.state === "running") && inFlight.some((n) => n > 0) ? { rec, inFlight } : undefined;
    }, 60_000);
    const ended = (name: string) => until(`${name} ended`, async () => {
      const rec = (await db.listAll("slack")).find((r) => r.name === name);
      return rec && rec.status !== "provisioning" && rec.status !== "pending" && rec.status !== "deleting" ? rec : undefined;
    }, 60_000);
    expect(await slash(replicas[0]!, "slowagent hetzner --name del-01", "U001")).toBe(200);
    const counts = (await installing("del-01")).inFlight;
    const holder = counts.findIndex((n) => n > 0);
    const other = replicas[(holder + 1) % 3]!;
    expect(hetzner.servers().length).toBe(1);
    const asked = Date.now();
    expect(await slash(other, "delete del-01", "U001")).toBe(200);
    const first = await ended("del-01");
    expect(first.status, first.error ?? "").toBe("cancelled");
    expect(hetzner.servers()).toEqual([]);
    expect(sessionAlive("del-01")).toBe(false);
    process.stdout.write(`replicas: a run cancelled from another replica ended ${Date.now() - asked} ms after the delete\n`);

    // A replica killed between writing the cancel mark and taking the run's claim away: the mark
    // alone (written here as that replica would have) is seen through by the runs sweep.
    expect(await slash(replicas[1]!, "slowagent hetzner --name del-02", "U001")).toBe(200);
    const { rec } = await installing("del-02");
    await db.leases.acquire(`cancel:${rec.id}`, "U001", 24 * 3600_000);
    const second = await ended("del-02");
    expect(second.status, second.error ?? "").toBe("cancelled");
    expect(hetzner.servers()).toEqual([]);
  }, 240_000);

  it("hands a run whose job was taken away from a live replica to another only once the first has stopped it: no step runs twice", async () => {
    // What pg-boss does to a replica whose heartbeat came late (a stalled event loop, a starved
    // pool): it fails the job while the replica is still installing, and another replica takes it.
    const { env, db } = await freshCluster("C0HANDOVER", { REPLICA_SLOW_INSTALL_S: "10" });
    expect(await slash(replicas[0]!, "slowagent hetzner --name hand-01", "U001")).toBe(200);
    const installStarts = (id: string) => replicas.flatMap((r) => logLines(r).filter((l) => l.msg === "step started" && l.step === "install" && l.spawnId === id).map((l) => ({ replica: r.name, time: Number(l.time) })));
    const rec = await until("hand-01 installing", async () => {
      const found = (await db.listLive()).find((r) => r.name === "hand-01");
      return found && installStarts(found.id).length > 0 ? found : undefined;
    }, 60_000);
    const boss = new PgBoss({ connectionString: env.SPAWNBOT_DATABASE_URL!, schema: JOBS_SCHEMA, supervise: false, schedule: false, migrate: false });
    await boss.start();
    try {
      const [job] = (await boss.findJobs(RUN_QUEUE, { key: rec.id })).filter((j) => j.state === "active");
      expect(job, "the run's job is active").toBeDefined();
      await boss.fail(RUN_QUEUE, job!.id, { reason: "the test took the claim away" });
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
    const done = await until("hand-01 ended", async () => {
      const found = await db.getSpawn(rec.id);
      return found && (found.status === "ready" || found.status === "failed") ? found : undefined;
    }, 90_000);
    expect(done.status, done.error ?? "").toBe("ready");
    // The replica taking the run waited for the first to stop it at a step boundary, then went on
    // from there: the install ran once, on one replica, and one server was made.
    expect(installStarts(rec.id)).toHaveLength(1);
    const lines = replicas.flatMap(logLines);
    expect(lines.some((l) => l.msg === "waiting for the replica that had this run to stop it" && l.spawnId === rec.id)).toBe(true);
    const suspended = lines.find((l) => l.msg === "run suspended for shutdown" && l.spawnId === rec.id);
    const resumed = lines.find((l) => l.msg === "resuming a run the bot restart interrupted" && l.spawnId === rec.id);
    expect(suspended, "the first replica stopped the run").toBeDefined();
    expect(Number(resumed?.time)).toBeGreaterThanOrEqual(Number(suspended!.time));
    expect(hetzner.servers()).toHaveLength(1);
    expect(sessionAlive("hand-01")).toBe(true);
  }, 180_000);

  it("spreads a burst over the replicas when each may run only a few (SPAWNBOT_RUNS_PER_REPLICA)", async () => {
    const { db } = await freshCluster("C0SPREAD", { SPAWNBOT_RUNS_PER_REPLICA: "4", REPLICA_SLOW_INSTALL_S: "8" });
    const names = Array.from({ length: 12 }, (_, i) => `spread-${String(i + 1).padStart(2, "0")}`);
    // Every request to one replica: without the cap, whichever replica polls first takes most of them.
    const acks = await Promise.all(names.map((name, i) => slash(replicas[0]!, `slowagent hetzner --name ${name}`, `U${String(i % 4).padStart(3, "0")}`)));
    expect(acks).toEqual(names.map(() => 200));
    let most = 0;
    const counts = await until("12 runs in flight", async () => {
      const inFlight = await Promise.all(replicas.map(runsInFlight));
      most = Math.max(most, ...inFlight);
      return inFlight.reduce((a, b) => a + b, 0) === 12 ? inFlight : undefined;
    }, 60_000);
    expect(counts).toEqual([4, 4, 4]);
    const all = await until("every spawn ended", async () => {
      const inFlight = await Promise.all(replicas.map(runsInFlight));
      most = Math.max(most, ...inFlight);
      const spawns = (await db.listAll("slack")).filter((r) => names.includes(r.name));
      return spawns.length === 12 && spawns.every((r) => r.status === "ready" || r.status === "failed") ? spawns : undefined;
    }, ALL_READY_MS);
    expect(all.filter((r) => r.status !== "ready").map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    expect(most, "no replica ran more than its cap at once").toBe(4);
    expect(hetzner.servers()).toHaveLength(12);
  }, 240_000);

  it("Socket Mode: each replica opens its own connection, and an envelope Slack delivers again to another replica is acted on once", async () => {
    // Socket Mode: the app-level token instead of the signing secret (no Request URL).
    const { db } = await freshCluster("C0SOCKET", { SLACK_SIGNING_SECRET: "", SLACK_APP_TOKEN: slack.appToken, REPLICA_SLOW_INSTALL_S: "1" });
    await until("three Socket Mode connections", () => (slack.socketConnections >= 3 ? true : undefined), 20_000);
    channels.add(CHANNEL);
    const payload = slashCommand({ text: "testagent hetzner --name sock-01", channel_id: CHANNEL, user_id: "U001", user_name: "u001" });
    // Slack spreads envelopes over the connections; a redelivery (same envelope id) lands on the next one.
    await slack.sendEnvelope("slash_commands", payload, { envelopeId: "env-replicas-1" });
    await slack.sendEnvelope("slash_commands", payload, { envelopeId: "env-replicas-1", retryAttempt: 1, retryReason: "timeout" });
    const rec = await until("the spawn ready", async () => {
      const found = (await db.listAll("slack")).filter((r) => r.name === "sock-01");
      return found.length === 1 && found[0]!.status === "ready" ? found : undefined;
    }, 60_000);
    expect(rec).toHaveLength(1);
    expect(hetzner.servers().map((srv) => srv.tags["spawnbot-spawn-id"])).toEqual([rec[0]!.id]);
    await expectOneReadyStatusEach(["sock-01"]);
    // Acted on twice, the second would have been refused as a second spawn of that name, privately.
    const privately = JSON.stringify([slack.ephemerals, slack.responses.map((r) => r.body), slack.dms("U001")]);
    expect(privately).not.toContain("already have a live spawn");
  }, 120_000);
});
