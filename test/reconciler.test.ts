// The reconciler against the real Hetzner and DigitalOcean providers and their wire-level fakes,
// with a real SQLite store: orphans are reported once and deleted after the grace period (or
// only reported), a failed list deletes nothing, and a spawn whose server vanished is marked.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spec } from "./contracts/cloud-contract.js";
import type { TestBot } from "./support/bot.js";
import { ADMIN, OWNER, botLabels, bootBot, readySpawn, recordOutlet, secretsIn, closeUpkeepBot, upkeepBot, type Fakes, type Sent } from "./support/upkeep.js";

const GRACE_MS = 30 * 60_000;
const DELETE = { mode: "delete", graceMs: GRACE_MS } as const;
const REPORT = { mode: "report", graceMs: GRACE_MS } as const;
const T0 = Date.now();

let fakes: Fakes;
let bot: TestBot;
let sent: Sent;

beforeEach(async () => void ({ fakes, bot, sent } = await upkeepBot()));
afterEach(() => closeUpkeepBot(fakes, bot));

const hetznerIds = () => fakes.hetzner.servers().map((s) => s.id).sort();

describe("reconciler: orphan servers", () => {
  it("reports a server made for an unknown spawn to the admins once, then deletes it after the grace period, also across a restart", async () => {
    const owned = await readySpawn(bot, { cloud: "hetzner", serverId: null });
    const ownedServer = String(fakes.hetzner.addServer("owned", botLabels(owned.id)));
    await bot.store.updateSpawn(owned.id, { serverId: ownedServer });
    const orphan = String(fakes.hetzner.addServer("stray", botLabels(randomUUID())));

    const first = await bot.core.reconcile(DELETE, T0);
    expect(first.find((p) => p.cloud === "hetzner")).toMatchObject({ servers: 2, orphans: 1, deleted: 0, vanished: 0 });
    expect(sent.to(ADMIN)).toEqual([expect.stringContaining(`server ${orphan}`)]);
    expect(sent.to(ADMIN)[0]).toContain("will be deleted in 30m");
    expect(sent.to(OWNER.id)).toEqual([]);

    await bot.core.reconcile(DELETE, T0 + GRACE_MS / 2);
    expect(hetznerIds()).toEqual([orphan, ownedServer].sort());
    expect(sent.to(ADMIN)).toHaveLength(1); // told once, not every pass

    // A restarted bot remembers when the orphan was first seen: the grace period is not reset.
    await bot.store.close();
    bot = bootBot(fakes, bot.dataDir);
    sent = recordOutlet(bot);
    const calls = fakes.hetzner.calls.length;
    const late = await bot.core.reconcile(DELETE, T0 + GRACE_MS);
    console.info(`hetzner: ${fakes.hetzner.calls.length - calls} API calls for a pass that deleted one orphan: ${fakes.hetzner.calls.slice(calls).map((c) => c.action).join(", ")}`);
    expect(late.find((p) => p.cloud === "hetzner")).toMatchObject({ orphans: 1, deleted: 1 });
    expect(hetznerIds()).toEqual([ownedServer]);
    expect(sent.notes).toEqual([]);
    expect((await bot.store.getSpawn(owned.id))?.status).toBe("ready");
    expect((await bot.store.listAudit()).map((a) => [a.action, a.userId, a.detail.serverId])).toContainEqual(["orphan-deleted", "reconciler", orphan]);
    expect(await secretsIn(fakes, bot, sent)).toEqual([]);
  });

  it("keeps a server whose spawn is still being made (its id is not recorded yet)", async () => {
    const making = await readySpawn(bot, { cloud: "hetzner", serverId: null, status: "provisioning" });
    fakes.hetzner.addServer("making", botLabels(making.id));
    await bot.core.reconcile(DELETE, T0);
    await bot.core.reconcile(DELETE, T0 + 2 * GRACE_MS);
    expect(fakes.hetzner.servers()).toHaveLength(1);
    expect(sent.notes).toEqual([]);
  });

  it("in report mode tells the admins and never deletes", async () => {
    const orphan = String(fakes.hetzner.addServer("stray", botLabels(randomUUID())));
    for (const at of [T0, T0 + GRACE_MS, T0 + 10 * GRACE_MS]) await bot.core.reconcile(REPORT, at);
    expect(hetznerIds()).toEqual([orphan]);
    expect(sent.to(ADMIN)).toEqual([expect.stringContaining("SPAWNBOT_RECONCILE_MODE=report")]);
    expect((await bot.store.listAudit()).filter((a) => a.action.startsWith("orphan"))).toEqual([]);
  });

  it("skips a cloud whose list call fails: nothing is deleted and no spawn is marked", async () => {
    const orphan = String(fakes.hetzner.addServer("stray", botLabels(randomUUID())));
    const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null });
    const serverId = String(fakes.hetzner.addServer("mine", botLabels(rec.id)));
    await bot.store.updateSpawn(rec.id, { serverId });
    await bot.core.reconcile(REPORT, T0); // the orphan was seen and reported long ago
    const before = sent.notes.length;
    await bot.orchestrator.cloud("hetzner")!.deleteServer(serverId); // and now the spawn's server is really gone
    fakes.hetzner.inject({ kind: "server-error", times: 1, match: "GET /servers" });
    const passes = await bot.core.reconcile(DELETE, T0 + 5 * GRACE_MS);
    expect(passes.find((p) => p.cloud === "hetzner")).toMatchObject({ skipped: expect.stringMatching(/./), deleted: 0, vanished: 0 });
    expect(passes.find((p) => p.cloud === "digitalocean")?.skipped).toBeUndefined(); // the other cloud still ran
    expect(fakes.hetzner.servers().map((s) => s.id)).toContain(orphan);
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("ready");
    expect(sent.notes.length).toBe(before);
  });

  it("deletes an orphan droplet on DigitalOcean too, keeping the droplet a live spawn owns", async () => {
    const cloud = bot.orchestrator.cloud("digitalocean")!;
    const owned = await readySpawn(bot, { cloud: "digitalocean", serverId: null });
    const ownedServer = await cloud.createServer(spec({ spawnId: owned.id, tags: { "spawnbot-spawn-id": owned.id, "spawnbot-owner": "u1" } }));
    await bot.store.updateSpawn(owned.id, { serverId: ownedServer.serverId });
    const stray = await cloud.createServer(spec());
    await bot.core.reconcile(DELETE, T0);
    expect(sent.to(ADMIN)).toEqual([expect.stringContaining(`server ${stray.serverId}`)]);
    const calls = fakes.digitalocean.calls.length;
    const pass = await bot.core.reconcile(DELETE, T0 + GRACE_MS);
    expect(pass.find((p) => p.cloud === "digitalocean")).toMatchObject({ servers: 2, orphans: 1, deleted: 1 });
    expect(fakes.digitalocean.servers().map((s) => s.id)).toEqual([ownedServer.serverId]);
    console.info(`digitalocean: ${fakes.digitalocean.calls.length - calls} API calls for a pass that deleted one orphan`);
    expect(await secretsIn(fakes, bot, sent)).toEqual([]);
  });
});

describe("reconciler: vanished servers", () => {
  it("marks a ready spawn whose server is gone from Hetzner, redraws its status and tells its owner", async () => {
    // The server was deleted in the Hetzner console: the fake never had it.
    const rec = await readySpawn(bot, { cloud: "hetzner", serverId: "424242" });
    const passes = await bot.core.reconcile(DELETE, T0);
    expect(passes.find((p) => p.cloud === "hetzner")).toMatchObject({ vanished: 1 });
    const marked = (await bot.store.getSpawn(rec.id))!;
    expect(marked).toMatchObject({ status: "failed", error: expect.stringContaining("its server vanished from Hetzner") });
    expect(sent.statuses.map((s) => s.view.result?.message)).toEqual([expect.stringContaining("vanished from Hetzner")]);
    expect(sent.statuses[0]!.place).toEqual({ workspace: "W1", channel: "C1" });
    expect(sent.to(OWNER.id)).toEqual([expect.stringContaining(`${rec.name} is no longer usable`)]);
    await bot.core.reconcile(DELETE, T0 + 60_000);
    expect(sent.to(OWNER.id)).toHaveLength(1); // marked once: a failed spawn is no longer checked
    expect(await secretsIn(fakes, bot, sent)).toEqual([]);
  });
});

describe("reconciler: cost", () => {
  it("lists 120 Hetzner servers in 3 API calls per pass (pages of 50) and touches nothing it owns", async () => {
    for (let i = 0; i < 120; i++) {
      const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null });
      await bot.store.updateSpawn(rec.id, { serverId: String(fakes.hetzner.addServer(`own-${i}`, botLabels(rec.id))) });
    }
    const hBefore = fakes.hetzner.calls.length;
    const dBefore = fakes.digitalocean.calls.length;
    const started = performance.now();
    const passes = await bot.core.reconcile(DELETE, T0);
    const ms = performance.now() - started;
    const hCalls = fakes.hetzner.calls.length - hBefore;
    const dCalls = fakes.digitalocean.calls.length - dBefore;
    console.info(`reconcile pass: hetzner ${hCalls} calls for 120 servers, digitalocean ${dCalls} call(s) for 0, ${ms.toFixed(0)} ms`);
    expect(passes.find((p) => p.cloud === "hetzner")).toMatchObject({ servers: 120, orphans: 0, vanished: 0 });
    expect(hCalls).toBe(3);
    expect(dCalls).toBe(1);
    expect(sent.notes).toEqual([]);
  });
});
