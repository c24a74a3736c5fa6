// The expiry sweep with a real SQLite store and the real Hetzner provider against its fake:
// one private reminder ahead of expiry (also across a restart), deletion at expiry with the
// status message redrawn and the owner told, and deletes that fail kept visible and retried.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordingConversation, request, type TestBot } from "./support/bot.js";
import { until } from "./support/until.js";
import { OWNER, PLATFORM, botLabels, bootBot, readySpawn, recordOutlet, secretsIn, closeUpkeepBot, upkeepBot, type Fakes, type Sent } from "./support/upkeep.js";
import { DELETE_RETRY_BASE_MS } from "../src/bot/spawns/spawn-removal.js";

const HOUR = 3_600_000;
const SETTINGS = { reminderMs: HOUR };
const T0 = Date.now();

let fakes: Fakes;
let bot: TestBot;
let sent: Sent;

beforeEach(async () => void ({ fakes, bot, sent } = await upkeepBot()));
afterEach(() => closeUpkeepBot(fakes, bot));

/** A ready spawn on Hetzner with a real (fake) server, expiring at expiresAt. */
async function hetznerSpawn(expiresAt: number, name?: string) {
  const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null, expiresAt, name, now: T0 });
  const serverId = String(fakes.hetzner.addServer(rec.name, botLabels(rec.id)));
  return bot.store.updateSpawn(rec.id, { serverId });
}

describe("expiry: reminders", () => {
  it("reminds the owner once, privately, with how to extend; a restart does not repeat it; an extension is reminded again", async () => {
    const rec = await hetznerSpawn(T0 + 30 * 60_000, "short");
    const later = await hetznerSpawn(T0 + 5 * HOUR, "long");
    expect(await bot.core.sweepExpiry(SETTINGS, T0)).toMatchObject({ reminded: 1, deleted: 0 });
    expect(sent.notes).toEqual([expect.objectContaining({ userId: OWNER.id, place: { workspace: "W1", channel: "C1" } })]);
    expect(sent.to(OWNER.id)[0]).toContain("short expires in 30m");
    expect(sent.to(OWNER.id)[0]).toContain("extend short");
    await bot.core.sweepExpiry(SETTINGS, T0 + 60_000);

    await bot.store.close();
    bot = bootBot(fakes, bot.dataDir);
    sent = recordOutlet(bot);
    await bot.core.sweepExpiry(SETTINGS, T0 + 2 * 60_000);
    expect(sent.notes).toEqual([]);

    // The owner extends (the command's own path), so the new expiry gets its own reminder in time.
    const conv = new RecordingConversation();
    await bot.core.handle({ ...request("extend short 2h", OWNER), platform: PLATFORM }, conv);
    const extended = (await bot.store.getSpawn(rec.id))!.expiresAt!;
    expect(extended).toBeGreaterThan(T0 + HOUR);
    await bot.core.sweepExpiry(SETTINGS, extended - HOUR / 2);
    expect(sent.to(OWNER.id)).toEqual([expect.stringContaining("short expires in 30m")]);
    expect((await bot.store.getSpawn(later.id))?.status).toBe("ready");
  });
});

describe("expiry: deletion", () => {
  it("deletes an expired spawn's server, records it deleted, redraws its status message and tells the owner", async () => {
    const rec = await hetznerSpawn(T0 + 10 * 60_000, "brief");
    await bot.core.sweepExpiry(SETTINGS, T0);
    expect(await bot.core.sweepExpiry(SETTINGS, T0 + 10 * 60_000)).toMatchObject({ deleted: 1, failed: 0 });
    expect(fakes.hetzner.servers()).toEqual([]);
    expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "deleted", deletedAt: T0 + 10 * 60_000 });
    expect(sent.statuses).toEqual([{ place: { workspace: "W1", channel: "C1" }, view: expect.objectContaining({ spawnId: rec.id, result: { outcome: "deleted", message: "brief was deleted" } }) }]);
    expect(sent.to(OWNER.id)).toEqual([expect.stringContaining("brief expires in 10m"), expect.stringContaining("brief expired and was deleted")]);
    expect((await bot.store.listAudit({ spawnId: rec.id })).map((a) => [a.action, a.userId])).toEqual([["delete", "expiry"]]);
    expect(await bot.core.sweepExpiry(SETTINGS, T0 + HOUR)).toEqual({ reminded: 0, deleted: 0, failed: 0 });
  });

  it("keeps a spawn its owner extends after its expiry delete failed", async () => {
    const rec = await hetznerSpawn(T0 - 1, "saved");
    fakes.hetzner.inject({ kind: "server-error", times: 1, match: "DELETE /servers" });
    expect(await bot.core.sweepExpiry(SETTINGS, T0)).toMatchObject({ failed: 1 });
    await bot.store.updateSpawn(rec.id, { expiresAt: T0 + 5 * HOUR }); // what `extend saved` stores
    expect(await bot.core.sweepExpiry(SETTINGS, T0 + 10 * DELETE_RETRY_BASE_MS)).toMatchObject({ deleted: 0, failed: 0 });
    expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "ready", error: null });
    expect(fakes.hetzner.servers()).toHaveLength(1);
  });

  it("leaves a delete that a stopped process left half-done to start-up recovery, which finishes it", async () => {
    const rec = await hetznerSpawn(T0 + 5 * HOUR, "halfway");
    await bot.store.updateSpawn(rec.id, { status: "deleting" });
    expect(await bot.core.sweepExpiry(SETTINGS, T0)).toMatchObject({ deleted: 0 });
    expect(fakes.hetzner.servers()).toHaveLength(1);
    await bot.core.recover({ startUp: true });
    expect(fakes.hetzner.servers()).toEqual([]);
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("deleted");
  });

  it("counts a server already gone from the cloud as deleted", async () => {
    const rec = await readySpawn(bot, { cloud: "hetzner", serverId: "424242", expiresAt: T0 - 1, now: T0 - HOUR });
    expect(await bot.core.sweepExpiry(SETTINGS, T0)).toMatchObject({ deleted: 1 });
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("deleted");
  });

  it("keeps a spawn whose delete hits server errors visible with its error, tells the owner once, and deletes it on a later sweep", async () => {
    const rec = await hetznerSpawn(T0 - 1, "stuck");
    fakes.hetzner.inject({ kind: "server-error", times: 1, match: "DELETE /servers" });
    expect(await bot.core.sweepExpiry(SETTINGS, T0)).toMatchObject({ deleted: 0, failed: 1 });
    expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "ready", error: expect.stringMatching(/^delete failed: /) });
    expect((await bot.store.listLive()).map((r) => r.id)).toContain(rec.id);
    expect(fakes.hetzner.servers()).toHaveLength(1);
    expect(sent.to(OWNER.id)).toEqual([expect.stringContaining("stuck expired but could not be deleted")]);
    const conv = new RecordingConversation();
    await bot.core.handle({ ...request("status stuck", OWNER), platform: PLATFORM }, conv);
    expect(JSON.stringify(conv.private)).toContain("delete failed: ");

    // Backoff: not before the retry is due; then a second failure, not told again.
    expect(await bot.core.sweepExpiry(SETTINGS, T0 + 10_000)).toMatchObject({ failed: 0, deleted: 0 });
    fakes.hetzner.inject({ kind: "server-error", times: 1, match: "DELETE /servers" });
    expect(await bot.core.sweepExpiry(SETTINGS, T0 + DELETE_RETRY_BASE_MS)).toMatchObject({ failed: 1 });
    expect(await bot.store.upkeep.getCleanup(rec.id)).toMatchObject({ attempts: 2, nextAt: T0 + 3 * DELETE_RETRY_BASE_MS });
    expect(sent.to(OWNER.id)).toHaveLength(1);

    expect(await bot.core.sweepExpiry(SETTINGS, T0 + 3 * DELETE_RETRY_BASE_MS)).toMatchObject({ deleted: 1 });
    expect(fakes.hetzner.servers()).toEqual([]);
    expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "deleted", error: null });
    expect(await bot.store.upkeep.getCleanup(rec.id)).toBeUndefined();
    expect((await bot.store.listAudit({ spawnId: rec.id })).map((a) => a.action).reverse()).toEqual(["delete-failed", "delete-failed", "delete"]);
    expect(await secretsIn(fakes, bot, sent)).toEqual([]);
  });

  it("retries a failed `delete` command in the sweep, and keeps a secret in the cloud's answer out of every message and the audit log", async () => {
    const rec = await hetznerSpawn(T0 + 5 * HOUR, "manual");
    fakes.hetzner.rejectNext({ match: "DELETE /servers", status: 423, code: "locked", message: `server is locked (token ${fakes.hetzner.validToken})` });
    const conv = new RecordingConversation();
    await bot.core.handle({ ...request("delete manual", OWNER), platform: PLATFORM }, conv);
    const answer = JSON.stringify(conv.private);
    expect(answer).toContain("could not delete manual");
    expect(answer).not.toContain(fakes.hetzner.validToken);
    expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "ready", error: expect.stringContaining("delete failed") });
    expect((await bot.store.getSpawn(rec.id))!.error).toContain("server is locked (token "); // the cloud's words are kept, its secret is not
    expect((await bot.store.getSpawn(rec.id))!.error).not.toContain(fakes.hetzner.validToken);

    expect(await bot.core.sweepExpiry(SETTINGS, Date.now() + DELETE_RETRY_BASE_MS)).toMatchObject({ deleted: 1 });
    expect(fakes.hetzner.servers()).toEqual([]);
    expect(sent.to(OWNER.id)).toEqual([expect.stringContaining("an earlier delete did not finish; this retry did")]);
    expect(await secretsIn(fakes, bot, sent)).toEqual([]);
  });
});

describe("expiry: cost", () => {
  it("sweeps 1,000 live spawns, reminding the 500 due, in well under a second", async () => {
    for (let i = 0; i < 1000; i++) await readySpawn(bot, { cloud: "hetzner", serverId: String(1_000_000 + i), expiresAt: T0 + (i % 2 ? 30 * 60_000 : 5 * HOUR), now: T0 });
    const started = performance.now();
    const report = await bot.core.sweepExpiry(SETTINGS, T0);
    const first = performance.now() - started;
    const again = performance.now();
    await bot.core.sweepExpiry(SETTINGS, T0 + 1000);
    const second = performance.now() - again;
    console.info(`expiry sweep over 1000 live spawns: ${first.toFixed(0)} ms with 500 reminders, ${second.toFixed(0)} ms with none due`);
    expect(report).toEqual({ reminded: 500, deleted: 0, failed: 0 });
    expect(sent.notes).toHaveLength(500);
    expect(fakes.hetzner.calls).toEqual([]); // a sweep with nothing to delete makes no cloud call
    expect(second).toBeLessThan(1000);
  });
});

describe("upkeep schedule", () => {
  it("runs the sweep and the reconciler at start and on their intervals, and nothing after stop", async () => {
    await hetznerSpawn(Date.now() + 10 * 60_000, "soon");
    const lists = () => fakes.hetzner.calls.filter((c) => c.action === "GET /servers").length;
    const upkeep = bot.core.startUpkeep({ reminderMs: HOUR, sweepIntervalMs: 20, mode: "report", graceMs: HOUR, reconcileIntervalMs: 20, cleanupRetryMs: HOUR });
    try {
      await until("the reminder", () => sent.to(OWNER.id).length > 0);
      await until("three reconcile passes", () => lists() >= 3);
    } finally {
      await upkeep.stop();
    }
    const calls = fakes.hetzner.calls.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(fakes.hetzner.calls.length).toBe(calls);
    expect(sent.to(OWNER.id)).toHaveLength(1); // many sweeps, one reminder
  });
});
