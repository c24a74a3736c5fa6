// Idle spawns (SPAWNBOT_IDLE_AFTER) on the local cloud with real tmux: a spawn with its own
// OpenRouter key that spent nothing and had no one attached for the idle time is treated as
// expiring (owner told, expiry brought forward, then the expiry sweep deletes it); LLM spend, an
// attached tmux client and `extend` each count as use.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenRouterManagement } from "../src/bot/spawns/openrouter-management.js";
import { secrets } from "../src/secrets.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { requireTool } from "./support/sshd.js";
import { recordOutlet, type Sent } from "./support/upkeep.js";
import { until } from "./support/until.js";

const HOUR = 3_600_000;
const SETTINGS = { idleAfterMs: 6 * HOUR, reminderMs: HOUR };
const alice = { id: "U1", name: "alice" };
const tag = Math.random().toString(36).slice(2, 7);
const sessions: string[] = [];
let fake: OpenRouterFake;

beforeAll(async () => {
  requireTool("/usr/bin/tmux", "tmux");
  requireTool("/usr/bin/script", "bsdutils");
  fake = await OpenRouterFake.start();
  secrets.add(fake.managementKey);
});
afterAll(async () => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
  await fake.close();
});

function idleBot(clock: { now: number }): { bot: TestBot; sent: Sent } {
  const bot = makeBot({
    localHome: mkdtempSync(path.join(os.tmpdir(), "spawnbot-idle-home-")),
    settings: { clock: () => clock.now, openrouterManagementKey: fake.managementKey, shareWorkspaceKey: false, openrouter: { api: fake.apiUrl } },
  });
  return { bot, sent: recordOutlet(bot) };
}

/** A ready local spawn with its own key and a real tmux session of its name, as a run leaves it. */
async function readyWithKey(bot: TestBot, base: string, readyAt: number): Promise<{ id: string; name: string; hash: string }> {
  const id = randomUUID();
  const name = `${base}-${tag}`;
  sessions.push(name);
  execFileSync("tmux", ["new-session", "-d", "-s", name, "sleep 600"]);
  await bot.store.recordIntent({
    id, name, platform: "test", workspace: "W1", channel: "C1", ownerId: alice.id, ownerName: alice.name, agent: "testagent", cloud: "local",
    model: null, size: null, zone: null, session: name, prompt: null, createdAt: readyAt, expiresAt: readyAt + 7 * 24 * HOUR,
  });
  await bot.store.updateSpawn(id, { status: "ready", readyAt, serverId: "local", address: "localhost", sshUser: os.userInfo().username, sshPort: 0 });
  const made = await new OpenRouterManagement(fake.apiUrl, fake.managementKey).createKey({ name: `spawnbot ${name}`, limitUsd: 10, expiresAt: null });
  await bot.store.spawnKeys.recordSpawnKey({ spawnId: id, keyHash: made.data.hash, limitUsd: 10, expiresAt: null, createdAt: readyAt });
  return { id, name, hash: made.data.hash };
}

/** A terminal attached to the session, as a person logged in with `tmux attach` is. */
function attach(session: string): ChildProcess {
  return spawn("script", ["-qfc", `tmux attach -t '=${session}'`, "/dev/null"], { env: { ...process.env, TERM: "xterm-256color" }, stdio: ["pipe", "ignore", "ignore"] });
}

describe("idle spawns", () => {
  it("treats a spawn with no LLM spend and no session for the idle time as expiring, then the expiry sweep deletes it", async () => {
    const t0 = Date.now();
    const clock = { now: t0 };
    const { bot, sent } = idleBot(clock);
    const s = await readyWithKey(bot, "idle", t0);
    await bot.core.refreshSpend(); // usage 0: known, and nothing spent
    clock.now = t0 + 5 * HOUR;
    expect(await bot.core.sweepIdle(SETTINGS)).toEqual({ checked: 1, idle: 0, inUse: 0 });
    clock.now = t0 + 7 * HOUR;
    expect(await bot.core.sweepIdle(SETTINGS)).toEqual({ checked: 1, idle: 1, inUse: 0 });
    expect((await bot.store.getSpawn(s.id))!.expiresAt).toBe(clock.now + HOUR);
    expect(sent.to(alice.id).join()).toContain(`${s.name} has been idle for 7h (no LLM spend, no SSH session), so it now expires in 1h`);
    expect((await bot.store.listAudit({ spawnId: s.id, limit: 1 }))[0]).toMatchObject({ action: "idle", userId: "idle" });
    // Told once: the next pass finds the expiry already near.
    await bot.core.sweepIdle(SETTINGS);
    expect(sent.notes.filter((n) => JSON.stringify(n.view).includes("has been idle"))).toHaveLength(1);
    // The expiry sweep reminds at once (it is within the reminder time) and deletes at expiry.
    await bot.core.sweepExpiry({ reminderMs: HOUR }, clock.now);
    await bot.core.sweepExpiry({ reminderMs: HOUR }, clock.now + HOUR + 1000);
    expect((await bot.store.getSpawn(s.id))!.status).toBe("deleted");
    expect(fake.managed.has(s.hash)).toBe(false); // its key went with it
    await bot.store.close();
  });

  it("counts LLM spend, an attached terminal and extend as use", async () => {
    const t0 = Date.now();
    const clock = { now: t0 };
    const { bot } = idleBot(clock);
    const spending = await readyWithKey(bot, "spending", t0);
    const watched = await readyWithKey(bot, "watched", t0);
    const extended = await readyWithKey(bot, "extended", t0);
    await bot.core.refreshSpend();
    clock.now = t0 + 3 * HOUR;
    fake.spend(spending.hash, 0.5);
    await bot.core.refreshSpend(); // spend moved at t0 + 3h
    const client = attach(watched.name);
    try {
      await until("the terminal attached", () => spawnSync("tmux", ["list-clients", "-t", `=${watched.name}`]).stdout.toString().trim() !== "" || undefined);
      clock.now = t0 + 7 * HOUR;
      const conv = new RecordingConversation();
      await bot.core.handle(request(`extend ${extended.name} 1d`, alice), conv);
      expect(await bot.core.sweepIdle(SETTINGS)).toEqual({ checked: 3, idle: 0, inUse: 1 });
    } finally {
      client.kill();
    }
    // Without further use, each becomes idle 6 hours after its last use.
    clock.now = t0 + 9 * HOUR + 60_000;
    expect((await bot.core.sweepIdle(SETTINGS)).idle).toBe(1); // spending: last used at 3h
    expect((await bot.store.getSpawn(spending.id))!.expiresAt).toBe(clock.now + HOUR);
    clock.now = t0 + 13 * HOUR + 60_000;
    expect((await bot.core.sweepIdle(SETTINGS)).idle).toBe(2); // watched and extended: last used at 7h
    await bot.store.close();
  });
});
