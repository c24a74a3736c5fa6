// Kill tests: the bot runs as a real child process (test/support/crash-bot.ts) against the Hetzner
// fake (its servers are the real test sshd) and is SIGKILLed at every step boundary of a run, in the
// middle of provisioning and of install; the restarted bot continues the run: every spawn ends
// ready with exactly one server, and what the console prints is true. Only a spawn whose server
// was removed behind the bot's back ends failed, saying why.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type SpawnRecord, type StepRecord } from "../src/bot/store/index.js";
import { loadOrCreateBotKey, STEPS } from "../src/orchestrator/index.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { bundleEntry } from "./support/bundle.js";
import { killUserProcesses, prepareUser, startSshd, type TestSshd } from "./support/sshd.js";
import { until } from "./support/until.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const USER = "sbrec1";
const RUN_TIMEOUT_MS = 45_000;
/** Every kill point tried and whether it ended ready, for bench/RESULTS.md. */
const tally: { point: string; ready: boolean; resumeMs?: number }[] = [];

let sshd: TestSshd;
let entry: string;

beforeAll(async () => {
  entry = await bundleEntry("test/support/crash-bot.ts", "crash-bot");
  sshd = await startSshd(USER);
  mkdirSync("/var/lib/spawnbot", { recursive: true }); // the test host plays a VM whose first boot is done
  writeFileSync("/var/lib/spawnbot/cloud-init-complete", new Date().toISOString());
}, 60_000);

afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
  if (tally.length) {
    process.stdout.write(`kill points: ${tally.filter((t) => t.ready).length}/${tally.length} ready after restart: ${tally.map((t) => `${t.point}${t.ready ? "" : " (NOT ready)"}${t.resumeMs === undefined ? "" : ` [next step ${t.resumeMs} ms after start]`}`).join(", ")}\n`);
  }
});

interface Trial { fake: HetznerFake; dataDir: string }

async function newTrial(bootDelayMs = 0): Promise<Trial> {
  prepareUser(USER); // a fresh home: nothing installed, no sessions from an earlier trial
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-crash-"));
  sshd.authorize(loadOrCreateBotKey(dataDir).publicKey);
  return { fake: await HetznerFake.start({ bootDelayMs }), dataDir };
}

interface Bot { child: ChildProcess; out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function startBot(t: Trial, env: Record<string, string> = {}, apiUrl = t.fake.url): Bot {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT, stdio: ["pipe", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", CRASH_DATA_DIR: t.dataDir, CRASH_HETZNER_URL: apiUrl,
      CRASH_HETZNER_TOKEN: t.fake.validToken, CRASH_SSH_PORT: String(sshd.port), CRASH_SSH_USER: USER, ...env,
    },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the bot did not exit within ${RUN_TIMEOUT_MS} ms; stdout: ${out}\nstderr: ${err.slice(-2000)}`));
    }, RUN_TIMEOUT_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return { child, out: () => out, err: () => err, exited };
}

/** Read the bot's SQLite file as it is now (the child may be writing it). */
async function snapshot(t: Trial, name: string): Promise<{ rec: SpawnRecord | undefined; steps: StepRecord[]; live: SpawnRecord[] }> {
  const store = openStore(path.join(t.dataDir, "spawnbot.db"));
  try {
    const rec = (await store.listAll("console")).find((r) => r.name === name);
    return { rec, steps: rec ? await store.listSteps(rec.id) : [], live: await store.listLive() };
  } finally {
    await store.close();
  }
}

/** Restart the bot, ask for the spawn's status and quit at the end of input (the console waits for resumed runs). */
async function restart(t: Trial, name: string, opts: { apiUrl?: string; expectCode?: number } = {}): Promise<{ out: string; resumeMs?: number }> {
  const before = Date.now();
  const bot = startBot(t, {}, opts.apiUrl);
  bot.child.stdin!.end(`status ${name}\n`);
  const { code } = await bot.exited;
  expect(code, bot.err()).toBe(opts.expectCode ?? 0);
  // From the restart to the resumed run's next step starting (the log line the run writes).
  const resumed = bot.err().split("\n").map((l) => { try { return JSON.parse(l) as { msg?: string; time?: number }; } catch { return {}; } })
    .find((l) => l.msg === "step started" && typeof l.time === "number");
  return { out: bot.out(), resumeMs: resumed?.time !== undefined ? resumed.time - before : undefined };
}

function sessionAlive(name: string): boolean {
  return spawnSync("su", ["-", USER, "-c", `tmux has-session -t =${name}`]).status === 0;
}

/** The guarantees after a restart: the run went on to ready on its one server, the console says so truly. */
async function expectResumedReady(t: Trial, name: string, restarted: { out: string; resumeMs?: number }, point: string): Promise<void> {
  const { rec, steps } = await snapshot(t, name);
  const servers = t.fake.servers();
  const ready = rec?.status === "ready" && servers.length === 1 && servers[0]!.tags["spawnbot-spawn-id"] === rec.id && sessionAlive(name);
  tally.push({ point, ready, resumeMs: restarted.resumeMs });
  expect(rec?.status, rec?.error ?? "").toBe("ready");
  expect(servers.map((s) => s.tags["spawnbot-spawn-id"]), "exactly one server, the spawn's").toEqual([rec!.id]);
  expect(steps.filter((s) => s.state === "running" || s.state === "pending" || s.state === "failed")).toEqual([]);
  expect(sessionAlive(name), "the spawn's tmux session").toBe(true);
  // The status message follows the resumed run to its result (`status`, asked at start-up, saw it going on).
  expect(restarted.out).toContain(`[${name}] ready`);
  const cut = steps.find((s) => s.detail?.includes("resumed after the bot restarted"));
  if (cut) expect(restarted.out).toMatch(new RegExp(`${STEPS.find((s) => s.name === cut.name)!.title}.* — .*resumed after the bot restarted`));
}

// The steps a testagent spawn on Hetzner goes through (no --prompt, no dashboard, no --steps).
const RUN_STEPS = ["validate", "credentials", "provision", "wait-ssh", "cloud-init", "install", "env", "keys", "configure", "launch", "boot-hook", "connect-info"];
const KILL_POINTS = ["spawn:provisioning", ...RUN_STEPS.map((s) => `${s}:running`), "connect-info:succeeded"];

describe("SIGKILL at every step boundary, then restart", () => {
  it.each(KILL_POINTS)("killed at %s: the restarted bot continues the run to ready on its one server", async (point) => {
    const t = await newTrial();
    try {
      const name = `k-${point.replace(/[^a-z]/g, "")}`.slice(0, 30);
      const bot = startBot(t, { CRASH_AT: point });
      bot.child.stdin!.write(`spawn testagent hetzner --name ${name}\n`);
      const { signal } = await bot.exited;
      expect(signal, bot.err()).toBe("SIGKILL");
      expect(["pending", "provisioning"]).toContain((await snapshot(t, name)).rec?.status); // killed in flight
      await expectResumedReady(t, name, await restart(t, name), point);
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});

describe("SIGKILL inside a step", () => {
  it("mid-provision, before the server id was recorded: the server made before the crash is found by its spawn-id tag and used", async () => {
    const t = await newTrial(2000);
    try {
      const name = "k-midprovision";
      const bot = startBot(t);
      bot.child.stdin!.write(`spawn testagent hetzner --name ${name}\n`);
      await until("the create call", () => t.fake.servers().length === 1);
      bot.child.kill("SIGKILL");
      await bot.exited;
      expect((await snapshot(t, name)).rec?.serverId).toBeNull();
      await expectResumedReady(t, name, await restart(t, name), "mid-provision");
      expect(t.fake.calls.filter((c) => c.action === "POST /servers"), "no second server was made").toHaveLength(1);
      expect(t.fake.calls.filter((c) => c.action.startsWith("DELETE /servers/"))).toHaveLength(0);
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);

  it("mid-install: the install step runs again, says it was resumed, and the spawn becomes ready", async () => {
    const t = await newTrial();
    try {
      const name = "k-midinstall";
      const bot = startBot(t, { CRASH_SLOW_INSTALL_S: "4" });
      bot.child.stdin!.write(`spawn slowagent hetzner --name ${name}\n`);
      await until("install running", async () => (await snapshot(t, name)).steps.find((s) => s.name === "install")?.state === "running", 30_000);
      await new Promise((r) => setTimeout(r, 1000)); // inside the slow install
      bot.child.kill("SIGKILL");
      await bot.exited;
      await expectResumedReady(t, name, await restart(t, name), "mid-install");
      expect((await snapshot(t, name)).steps.find((s) => s.name === "install")).toMatchObject({ state: "succeeded", detail: expect.stringContaining("resumed after the bot restarted") });
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});

describe("a cloud that cannot be reached at restart", () => {
  it("does not stop a run whose server answers: it goes on to ready over SSH", async () => {
    const t = await newTrial();
    try {
      const name = "k-unreachable";
      const bot = startBot(t, { CRASH_AT: "install:running" });
      bot.child.stdin!.write(`spawn testagent hetzner --name ${name}\n`);
      await bot.exited;
      await expectResumedReady(t, name, await restart(t, name, { apiUrl: "http://127.0.0.1:1/v1" }), "cloud API unreachable at restart");
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});

describe("a server removed behind the bot's back while it was down", () => {
  it("ends the run failed, saying why, with nothing left behind", async () => {
    const t = await newTrial();
    try {
      const name = "k-gone";
      const bot = startBot(t, { CRASH_AT: "install:running" });
      bot.child.stdin!.write(`spawn testagent hetzner --name ${name}\n`);
      await bot.exited;
      const serverId = (await snapshot(t, name)).rec!.serverId!;
      // Someone deletes it in the provider's console.
      const res = await fetch(`${t.fake.url}/servers/${serverId}`, { method: "DELETE", headers: { Authorization: `Bearer ${t.fake.validToken}` } });
      expect(res.ok).toBe(true);
      await until("the server gone", () => t.fake.servers().length === 0);
      const { out } = await restart(t, name, { expectCode: 1 });
      const { rec, live } = await snapshot(t, name);
      expect(rec?.status).toBe("failed");
      expect(rec?.error).toBe(`its server ${serverId} was removed while the bot restarted; spawn again`);
      expect(live).toEqual([]);
      expect(out).toContain(`[${name}] failed`);
      tally.push({ point: "server removed behind the bot's back (failed, with the reason: correct)", ready: true });
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});

describe("a spawn that was ready before the crash", () => {
  it("is left running: its server, its session and its ready status survive the restart", async () => {
    const t = await newTrial();
    try {
      const name = "k-ready";
      const bot = startBot(t);
      bot.child.stdin!.write(`spawn testagent hetzner --name ${name}\n`);
      await until("ready", () => bot.out().includes(`[${name}] ready:`), 30_000);
      bot.child.kill("SIGKILL");
      await bot.exited;
      const { out } = await restart(t, name);
      const { rec, live } = await snapshot(t, name);
      expect(rec?.status).toBe("ready");
      expect(t.fake.servers().map((s) => s.tags["spawnbot-spawn-id"])).toEqual(live.map((r) => r.id));
      expect(sessionAlive(name)).toBe(true);
      expect(out).toContain(`[${name} · ready]`);
      expect(out).toContain(`agent session ${name} is running`);
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});

describe("sshd stopped in the middle of install and started again", () => {
  it("reconnects when the install step retries, with the pinned host key, and the spawn becomes ready", async () => {
    const t = await newTrial();
    try {
      const name = "k-sshdstop";
      const bot = startBot(t, { CRASH_SLOW_INSTALL_S: "3" });
      bot.child.stdin!.write(`spawn slowagent hetzner --name ${name}\n`);
      await until("install running", async () => (await snapshot(t, name)).steps.find((s) => s.name === "install")?.state === "running", 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      await sshd.stop();
      killUserProcesses(USER); // the connections of the stopped sshd go too
      await new Promise((r) => setTimeout(r, 1000));
      await sshd.start();
      bot.child.stdin!.end();
      const { code } = await bot.exited;
      expect(code, bot.err()).toBe(0); // the console exits 0 when every spawn is ready
      const { rec, steps } = await snapshot(t, name);
      expect(rec?.status).toBe("ready");
      expect(steps.find((s) => s.name === "install")?.state).toBe("succeeded");
      expect(t.fake.servers()).toHaveLength(1); // its server, kept: the spawn is live
      expect(bot.out()).toContain(`[${name}] ready`);
      tally.push({ point: "sshd stopped mid-install and started again (no restart of the bot; the install retry reconnected)", ready: true });
    } finally {
      await sshd.start();
      await t.fake.close();
    }
  }, 60_000);
});

describe("SIGTERM", () => {
  it("stops taking commands, lets the running step finish, exits within the grace period; the next start continues the run to ready", async () => {
    const t = await newTrial();
    try {
      const name = "k-sigterm";
      const bot = startBot(t, { CRASH_SLOW_INSTALL_S: "2", CRASH_GRACE_MS: "10000" });
      bot.child.stdin!.write(`spawn slowagent hetzner --name ${name}\n`);
      await until("install running", async () => (await snapshot(t, name)).steps.find((s) => s.name === "install")?.state === "running", 30_000);
      const sent = Date.now();
      bot.child.kill("SIGTERM");
      const { code } = await bot.exited;
      expect(Date.now() - sent).toBeLessThan(10_000);
      expect(code, bot.err()).toBe(0);
      const { rec, steps } = await snapshot(t, name);
      expect(steps.find((s) => s.name === "install")?.state).toBe("succeeded"); // reached the safe point
      expect(steps.find((s) => s.name === "env")?.state).toBe("pending"); // and went no further
      expect(rec?.status).toBe("provisioning");
      expect(bot.err()).toContain("runs stopped at a step boundary");
      await expectResumedReady(t, name, await restart(t, name), "SIGTERM at a step boundary");
      expect((await snapshot(t, name)).steps.find((s) => s.name === "install")?.detail, "a finished step is not run again").not.toContain("resumed");
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);

  it("exits at the deadline when a step outlasts it, logging what was left; the next start continues the run to ready", async () => {
    const t = await newTrial();
    try {
      const name = "k-deadline";
      const bot = startBot(t, { CRASH_SLOW_INSTALL_S: "30", CRASH_GRACE_MS: "1000" });
      bot.child.stdin!.write(`spawn slowagent hetzner --name ${name}\n`);
      await until("install running", async () => (await snapshot(t, name)).steps.find((s) => s.name === "install")?.state === "running", 30_000);
      const sent = Date.now();
      bot.child.kill("SIGTERM");
      await bot.exited;
      expect(Date.now() - sent).toBeLessThan(4000);
      expect(bot.err()).toMatch(/"runs":\[\{"spawnId":"[0-9a-f-]+","step":"install"\}\].*still inside a step at the shutdown deadline/);
      await expectResumedReady(t, name, await restart(t, name), "SIGTERM past the deadline");
    } finally {
      killUserProcesses(USER);
      await t.fake.close();
    }
  }, 60_000);
});
