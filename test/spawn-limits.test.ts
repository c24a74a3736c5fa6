// Spawn limits through the bot core: the N+1th live spawn and the N+1th start in a rolling hour
// are refused with a clear message, nothing is recorded, the refusal is audited; ended spawns,
// starts older than an hour and other workspaces do not count; admins are held to them too.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPEN_POLICY, type SpawnLimits } from "../src/bot/access/policy.js";
import type { ChatRequest } from "../src/bot/request.js";
import { makeBot, RecordingConversation, type TestBot } from "./support/bot.js";

const tag = Math.random().toString(36).slice(2, 7);
const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-lim-home-"));
const sessions: string[] = [];
const alice = { user: { id: "U1", name: "alice" }, workspace: "W1", channel: "C1" };
const bob = { user: { id: "U2", name: "bob" }, workspace: "W1", channel: "C2" };
const root = { user: { id: "UA", name: "root" }, workspace: "W1", channel: "C1" };
const dave = { user: { id: "U4", name: "dave" }, workspace: "W2", channel: "C1" };
type Who = typeof alice;

afterAll(() => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
});

function botWith(limits: Partial<SpawnLimits>): TestBot {
  return makeBot({ admins: ["UA"], localHome: home, policy: { ...OPEN_POLICY, limits: { ...OPEN_POLICY.limits, ...limits } } });
}

/** Ask for a real spawn of the test agent on the local cloud and wait for its run to end. */
async function spawn(bot: TestBot, who: Who, name: string): Promise<RecordingConversation> {
  const full = `${name}-${tag}`;
  sessions.push(full);
  const conv = new RecordingConversation();
  const req: ChatRequest = { platform: "test", workspace: who.workspace, channel: who.channel, user: who.user, text: `spawn testagent local --name ${full}` };
  await bot.core.handle(req, conv);
  await bot.core.idle();
  return conv;
}

const recorded = async (bot: TestBot) => (await bot.store.listAll("test", { limit: 1000 })).length;
const lastRefusal = async (bot: TestBot) => (await bot.store.listAudit({ limit: 1 }))[0];

async function expectRefused(bot: TestBot, who: Who, name: string, code: string, message: RegExp): Promise<void> {
  const before = await recorded(bot);
  const conv = await spawn(bot, who, name);
  expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringMatching(message) });
  expect(conv.statuses).toEqual([]);
  expect(await recorded(bot)).toBe(before); // nothing recorded, nothing started
  expect(await lastRefusal(bot)).toMatchObject({ action: "refused", userId: who.user.id, detail: { code, attempted: "spawn" } });
}

const ready = (conv: RecordingConversation) => expect(conv.statuses.at(-1)?.result).toMatchObject({ outcome: "ready" });

describe("live spawns", () => {
  it("refuses a user's third live spawn at a limit of two, and allows it again once one is deleted", async () => {
    const bot = botWith({ livePerUser: 2, livePerWorkspace: 3 });
    ready(await spawn(bot, alice, "l1"));
    ready(await spawn(bot, alice, "l2"));
    await expectRefused(bot, alice, "l3", "live-limit-user", /^you already have 2 live spawns, the most one person may have; delete one/);
    const conv = new RecordingConversation();
    await bot.core.handle({ platform: "test", workspace: "W1", channel: "C1", user: alice.user, text: `delete l1-${tag}` }, conv);
    expect(conv.statuses.at(-1)?.result).toMatchObject({ outcome: "deleted", message: expect.stringContaining("was deleted by") });
    ready(await spawn(bot, alice, "l3"));
  });

  it("refuses the workspace's fourth live spawn at a limit of three, admins included, other workspaces unaffected", async () => {
    const bot = botWith({ livePerUser: 2, livePerWorkspace: 3 });
    ready(await spawn(bot, alice, "w1"));
    ready(await spawn(bot, alice, "w2"));
    ready(await spawn(bot, bob, "w3"));
    await expectRefused(bot, bob, "w4", "live-limit-workspace", /^this workspace already has 3 live spawns, the most it may have/);
    await expectRefused(bot, root, "w5", "live-limit-workspace", /SPAWNBOT_MAX_LIVE_PER_WORKSPACE/);
    ready(await spawn(bot, dave, "w6"));
    expect(await bot.store.countLive({ platform: "test", workspace: "W1" })).toBe(3);
  });
});

describe("spawns per rolling hour", () => {
  /** A spawn started `ago` ms before now that has since ended, as the store keeps it. */
  async function startedBefore(bot: TestBot, who: Who, ago: number, name: string): Promise<void> {
    const at = Date.now() - ago;
    const rec = await bot.store.recordIntent({
      id: crypto.randomUUID(), name, platform: "test", workspace: who.workspace, channel: who.channel, ownerId: who.user.id, ownerName: who.user.name,
      agent: "testagent", cloud: "local", model: null, size: null, zone: null, session: name, prompt: null, createdAt: at, expiresAt: null,
    });
    await bot.store.updateSpawn(rec.id, { status: "deleted", deletedAt: at + 60_000 });
  }

  it("counts a user's starts in the last hour, ended ones too, and says when the next one fits", async () => {
    const bot = botWith({ hourlyPerUser: 2, hourlyPerWorkspace: 3 });
    await startedBefore(bot, alice, 2 * 3_600_000, "old"); // outside the window: does not count
    await startedBefore(bot, alice, 50 * 60_000, "h0");
    ready(await spawn(bot, alice, "h1"));
    await expectRefused(bot, alice, "h2", "hourly-limit-user", /^you started 2 spawns in the last hour, the most one person may; try again in (10m|9m)$/);
    // The workspace limit is separate: bob's first start fits (3 in W1), his second does not.
    ready(await spawn(bot, bob, "h3"));
    await expectRefused(bot, bob, "h4", "hourly-limit-workspace", /^this workspace started 3 spawns in the last hour, the most it may; try again in/);
    ready(await spawn(bot, dave, "h5"));
  });

  it("applies no limit when a limit is 0", async () => {
    const bot = botWith({});
    for (let i = 0; i < 12; i++) await startedBefore(bot, alice, 60_000, `z${i}`);
    const conv = new RecordingConversation();
    await bot.core.handle({ platform: "test", workspace: "W1", channel: "C1", user: alice.user, text: "spawn testagent local --dry-run" }, conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan" });
  });
});
