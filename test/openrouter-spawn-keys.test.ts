// Per-spawn OpenRouter keys through the bot core, against the fake Management API: a spawn of a
// member without their own key gets a key of its own (capped, expiring with it, moved by extend,
// deleted on delete, expiry, a failed run and crash clean-up, retried when OpenRouter fails), and
// without a management key the workspace key is handed out only when an admin said so.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoreSettings } from "../src/bot/context.js";
import { OpenRouterManagement } from "../src/bot/spawns/openrouter-management.js";
import type { View } from "../src/bot/views/views.js";
import { STEPS } from "../src/orchestrator/index.js";
import { secrets } from "../src/secrets.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { FAKE_KEY, TEST_AGENT } from "./support/test-agent.js";

const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-keyhome-"));
const tag = Math.random().toString(36).slice(2, 7);
const started: string[] = [];
const alice = { id: "U1", name: "alice" };
const BROKEN_AGENT = { ...TEST_AGENT, key: "brokenagent", name: "Broken Agent", binary: "brokenagent", install: "exit 3" };
let fake: OpenRouterFake;

beforeAll(async () => {
  fake = await OpenRouterFake.start();
  secrets.add(fake.managementKey); // main.ts registers OPENROUTER_MANAGEMENT_KEY the same way
});
afterAll(async () => {
  for (const n of started) spawnSync("tmux", ["kill-session", "-t", `=${n}`]);
  await fake.close();
});

/** A bot on the local cloud whose workspace key is FAKE_KEY; a management key unless told otherwise. */
function keyBot(settings: Partial<CoreSettings> = {}, extra: { dataDir?: string } = {}): TestBot {
  return makeBot({
    localHome: home, agents: [BROKEN_AGENT], dataDir: extra.dataDir,
    settings: {
      openrouterManagementKey: fake.managementKey, shareWorkspaceKey: false, openrouter: { api: fake.apiUrl },
      spawnBudget: { defaultUsd: 10, maxUsd: 25 }, ...settings,
    },
  });
}

const name = (base: string) => {
  const n = `${base}-${tag}`;
  started.push(n);
  return n;
};
const lines = (v: View | undefined) => JSON.stringify(v ?? null);
const keyOf = (hash: string) => fake.managed.get(hash)?.key;
const callsFor = (hash: string) => fake.managementCalls.filter((c) => c.path.endsWith(hash)).map((c) => c.method);

async function spawnReady(bot: TestBot, cmd: string, conv = new RecordingConversation()) {
  await bot.core.handle(request(cmd, alice), conv);
  await bot.core.idle();
  expect(conv.statuses.at(-1)?.result, lines(conv.private.at(-1))).toMatchObject({ outcome: "ready" });
  const rec = (await bot.store.listForOwner({ platform: "test", userId: alice.id }))[0]!;
  return { rec, conv, key: (await bot.store.spawnKeys.getSpawnKey(rec.id))! };
}

describe("a spawn of a member without their own key, with a management key", () => {
  it("gets a key of its own, named after it and its owner, capped at --budget and expiring with it; extend moves it, delete deletes it", async () => {
    const bot = keyBot();
    const n = name("own-key");
    const posts = fake.managementCalls.filter((c) => c.method === "POST").length;
    const { rec, conv, key } = await spawnReady(bot, `spawn testagent local --name ${n} --budget 3 --ttl 2h`);
    const made = fake.managed.get(key.keyHash)!.data;
    expect(made).toMatchObject({ name: `spawnbot ${n} alice ${rec.id.slice(0, 8)}`, limit: 3, limit_remaining: 3, disabled: false });
    expect(made.expires_at).toBe(new Date(rec.expiresAt!).toISOString());
    expect(fake.managementCalls.filter((c) => c.method === "POST").length).toBe(posts + 1);
    // The host holds the spawn's key and never the workspace's; the store holds only the hash.
    const spawnrc = readFileSync(path.join(home, ".spawnrc"), "utf8");
    expect(spawnrc).toContain(`OPENROUTER_API_KEY='${keyOf(key.keyHash)}'`);
    expect(spawnrc).not.toContain(FAKE_KEY);
    expect(JSON.stringify(await bot.store.getSpawn(rec.id))).not.toContain(keyOf(key.keyHash));

    // status reads the key's spend from OpenRouter.
    fake.spend(key.keyHash, 1.25);
    await bot.core.handle(request(`status ${n}`, alice), conv);
    expect(lines(conv.lastPrivate())).toContain("its own OpenRouter key: $1.25 spent of its $3.00 limit");

    await bot.core.handle(request(`extend ${n} 4h`, alice), conv);
    const extended = (await bot.store.getSpawn(rec.id))!.expiresAt!;
    expect(fake.managed.get(key.keyHash)!.data.expires_at).toBe(new Date(extended).toISOString());
    expect(fake.managementCalls.filter((c) => c.method === "PATCH").at(-1)?.body).toEqual({ expires_at: new Date(extended).toISOString() });
    expect((await bot.store.spawnKeys.getSpawnKey(rec.id))?.expiresAt).toBe(extended);
    expect(lines(conv.lastPrivate())).not.toContain("OpenRouter");

    await bot.core.handle(request(`delete ${n}`, alice), conv);
    expect(fake.managed.has(key.keyHash)).toBe(false);
    expect((await bot.store.spawnKeys.getSpawnKey(rec.id))?.deletedAt).not.toBeNull();
    // The whole lifecycle: create, read (status), move (extend), delete.
    expect([fake.managementCalls.find((c) => c.method === "POST" && c.status === 201 && (c.body as { name: string }).name.includes(n))?.method, ...callsFor(key.keyHash)])
      .toEqual(["POST", "GET", "PATCH", "DELETE"]);
  });

  it("uses the bot's default budget without --budget, and refuses one above the bot's maximum before making anything", async () => {
    const bot = keyBot();
    const n = name("default-budget");
    const { key } = await spawnReady(bot, `spawn testagent local --name ${n}`);
    expect(fake.managed.get(key.keyHash)?.data.limit).toBe(10);
    await bot.core.handle(request(`delete ${n}`, alice), new RecordingConversation());

    const calls = fake.managementCalls.length;
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${name("too-much")} --budget 500`, alice), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("--budget $500.00 is above this bot's most per spawn ($25.00)") });
    expect(fake.managementCalls.length).toBe(calls);
    expect(await bot.store.listLive()).toEqual([]);
  });

  it("tells the owner when OpenRouter keeps the key's old expiry on extend", async () => {
    const bot = keyBot();
    const n = name("kept-expiry");
    const { rec, conv, key } = await spawnReady(bot, `spawn testagent local --name ${n} --ttl 1h`);
    fake.patchExpiry = "ignore"; // OpenRouter's published PATCH schema read strictly: expires_at is dropped
    try {
      await bot.core.handle(request(`extend ${n} 3h`, alice), conv);
    } finally {
      fake.patchExpiry = "accept";
    }
    expect(lines(conv.lastPrivate())).toContain("OpenRouter kept its key's old expiry, so the agent loses model access in 1h");
    expect((await bot.store.spawnKeys.getSpawnKey(rec.id))?.expiresAt).toBe(rec.expiresAt);
    await bot.core.handle(request(`delete ${n}`, alice), conv);
    expect(fake.managed.has(key.keyHash)).toBe(false);
  });

  it("deletes the key when the spawn expires", async () => {
    const bot = keyBot();
    const { rec, key } = await spawnReady(bot, `spawn testagent local --name ${name("expires")} --ttl 1h`);
    expect(await bot.core.sweepExpiry({ reminderMs: 0 }, rec.expiresAt! + 1)).toMatchObject({ deleted: 1 });
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("deleted");
    expect(fake.managed.has(key.keyHash)).toBe(false);
  });

  it("keeps a key OpenRouter failed to delete on record and deletes it on a later clean-up pass, after its backoff", async () => {
    const bot = keyBot();
    const n = name("retry");
    const { rec, key } = await spawnReady(bot, `spawn testagent local --name ${n}`);
    fake.failManagement(500);
    const before = Date.now();
    await bot.core.handle(request(`delete ${n}`, alice), new RecordingConversation());
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("deleted"); // the spawn is gone; its key is owed
    expect(fake.managed.has(key.keyHash)).toBe(true);
    const owed = (await bot.store.spawnKeys.getSpawnKey(rec.id))!;
    expect(owed).toMatchObject({ attempts: 1, deletedAt: null, lastError: expect.stringContaining("HTTP 500") });
    expect(owed.revokeAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(await bot.core.retryKeyRevocations(before + 1_000)).toEqual({ deleted: 0, failed: 0 }); // not due yet
    expect(await bot.core.retryKeyRevocations(owed.revokeAt!)).toEqual({ deleted: 1, failed: 0 });
    expect(fake.managed.has(key.keyHash)).toBe(false);
  });

  it("deletes the key of a run that failed", async () => {
    const bot = keyBot();
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn brokenagent local --name ${name("broken")}`, alice), conv);
    await bot.core.idle();
    expect(conv.statuses.at(-1)?.result).toMatchObject({ outcome: "failed" });
    const rec = (await bot.store.listForOwner({ platform: "test", userId: alice.id }))[0]!;
    const key = (await bot.store.spawnKeys.getSpawnKey(rec.id))!;
    expect(key.deletedAt).not.toBeNull();
    expect(fake.managed.has(key.keyHash)).toBe(false);
  }, 60_000);

  it("deletes the key of a run cancelled by delete while it was being made", async () => {
    const bot = keyBot();
    const n = name("cancelled");
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${n}`, alice), conv);
    await bot.core.handle(request(`delete ${n}`, alice), conv);
    await bot.core.idle();
    expect(conv.statuses.at(-1)?.result).toMatchObject({ outcome: "cancelled" });
    const key = (await bot.store.spawnKeys.getSpawnKey((await bot.store.findSpawn(n, { platform: "test" }))!.id))!;
    expect(fake.managed.has(key.keyHash)).toBe(false);
  });

  it("refuses the spawn with a clear message when OpenRouter will not make the key, and starts nothing", async () => {
    const bot = keyBot({ openrouterManagementKey: `sk-or-v1-${"9".repeat(64)}` }); // revoked or mistyped at OpenRouter
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${name("no-key")}`, alice), conv);
    await bot.core.idle();
    expect(conv.lastPrivate()).toMatchObject({
      kind: "error", message: expect.stringContaining("could not make this spawn's own OpenRouter key (OpenRouter's key API answered HTTP 401: Invalid credentials)"),
    });
    expect(conv.statuses).toEqual([]);
    expect(await bot.store.listLive()).toEqual([]);
    expect(lines(conv.lastPrivate())).not.toContain("9999999999");
  });
});

describe("crash clean-up", () => {
  it("deletes the key of a run a restart interrupted, and of a spawn that ended before its key was deleted", async () => {
    const first = keyBot();
    const api = new OpenRouterManagement(fake.apiUrl, fake.managementKey);
    const leftovers = [];
    for (const [n, status] of [[name("crashed"), "provisioning"], [name("ended"), "failed"]] as const) {
      const rec = await first.store.recordIntent({
        id: crypto.randomUUID(), name: n, platform: "test", workspace: "W1", channel: "C1", ownerId: alice.id, ownerName: alice.name,
        agent: "testagent", cloud: "local", model: "m", size: null, zone: null, session: n, prompt: null, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000,
      });
      // What handleSpawn leaves when the process dies: the key made and recorded, the run cut short.
      const { data } = await api.createKey({ name: `spawnbot ${n} alice ${rec.id.slice(0, 8)}`, limitUsd: 10, expiresAt: rec.expiresAt });
      await first.store.spawnKeys.recordSpawnKey({ spawnId: rec.id, keyHash: data.hash, limitUsd: 10, expiresAt: rec.expiresAt, createdAt: Date.now() });
      await first.store.updateSpawn(rec.id, { status });
      for (const [i, s] of STEPS.entries()) await first.store.markStep(rec.id, i, s.name, i === 0 ? "running" : "pending", null);
      leftovers.push({ rec, hash: data.hash });
    }
    await first.store.close();

    const restarted = keyBot({}, { dataDir: first.dataDir });
    const report = await restarted.core.recover({ startUp: true });
    expect(report.ended).toEqual([leftovers[0]!.rec.id]);
    expect(fake.managed.has(leftovers[0]!.hash)).toBe(false);
    // The failed spawn is not live, so recovery does not see it; the clean-up pass does.
    expect(fake.managed.has(leftovers[1]!.hash)).toBe(true);
    expect(await restarted.core.retryKeyRevocations()).toEqual({ deleted: 1, failed: 0 });
    expect(fake.managed.has(leftovers[1]!.hash)).toBe(false);
    const keys = await Promise.all(leftovers.map((l) => restarted.store.spawnKeys.getSpawnKey(l.rec.id)));
    expect(keys.every((k) => k?.deletedAt !== null)).toBe(true);
  });
});

describe("crash clean-up of a key made but not yet recorded", () => {
  it("finds the key of a spawn left pending by its name and deletes it, leaving every other key of the account alone", async () => {
    const first = keyBot();
    const api = new OpenRouterManagement(fake.apiUrl, fake.managementKey);
    const n = name("unrecorded");
    const rec = await first.store.recordIntent({
      id: crypto.randomUUID(), name: n, platform: "test", workspace: "W1", channel: "C1", ownerId: alice.id, ownerName: alice.name,
      agent: "testagent", cloud: "local", model: "m", size: null, zone: null, session: n, prompt: null, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000,
    });
    // The process died after OpenRouter answered and before the hash was stored: the spawn is still "pending".
    const made = await api.createKey({ name: `spawnbot ${n} alice ${rec.id.slice(0, 8)}`, limitUsd: 10, expiresAt: rec.expiresAt });
    const someoneElses = await api.createKey({ name: `ci key for ${n}`, limitUsd: 1, expiresAt: null });
    await first.store.close();

    const restarted = keyBot({}, { dataDir: first.dataDir });
    await restarted.core.recover({ startUp: true });
    expect((await restarted.store.getSpawn(rec.id))?.status).toBe("failed");
    expect(fake.managed.has(made.data.hash)).toBe(false);
    expect(fake.managed.has(someoneElses.data.hash)).toBe(true);
  });
});

describe("without a management key", () => {
  it("refuses a member without their own key and says how to add one, making nothing", async () => {
    const bot = keyBot({ openrouterManagementKey: undefined });
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${name("refused")}`, alice), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("does not hand its workspace OpenRouter key to spawns: add your own key with `settings`") });
    expect(await bot.store.listAll("test")).toEqual([]);

    const none = keyBot({ openrouterManagementKey: undefined, openrouterApiKey: undefined });
    await none.core.handle(request(`spawn testagent local --name ${name("refused2")}`, alice), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("no OpenRouter API key: add yours with `settings`") });
  });

  it("hands out the workspace key when an admin set SPAWNBOT_SHARE_WORKSPACE_KEY=true", async () => {
    const bot = keyBot({ openrouterManagementKey: undefined, shareWorkspaceKey: true });
    const calls = fake.managementCalls.length;
    const n = name("shared");
    const { rec } = await spawnReady(bot, `spawn testagent local --name ${n}`);
    expect(readFileSync(path.join(home, ".spawnrc"), "utf8")).toContain(FAKE_KEY);
    expect(await bot.store.spawnKeys.getSpawnKey(rec.id)).toBeUndefined();
    expect(fake.managementCalls.length).toBe(calls);
    await bot.core.handle(request(`delete ${n}`, alice), new RecordingConversation());
  });
});

describe("a member with their own key", () => {
  it("spawns with it as before, with or without a management key, and hears that --budget does not apply", async () => {
    const own = `sk-or-v1-${"c".repeat(64)}`;
    const bot = keyBot();
    const conv = new RecordingConversation();
    expect(await bot.core.saveSettings(request("", alice), conv, { apiKey: own })).toEqual({});
    const calls = fake.managementCalls.length;
    const n = name("mine");
    const { rec } = await spawnReady(bot, `spawn testagent local --name ${n} --budget 5`, conv);
    expect(readFileSync(path.join(home, ".spawnrc"), "utf8")).toContain(own);
    expect(await bot.store.spawnKeys.getSpawnKey(rec.id)).toBeUndefined();
    expect(fake.managementCalls.length).toBe(calls);
    expect(lines(conv.private.find((v) => lines(v).includes("--budget")))).toContain("--budget applies only to keys the bot makes for a spawn; your own key's limits are set at openrouter.ai/keys");
    await bot.core.handle(request(`delete ${n}`, alice), conv);
  });
});
