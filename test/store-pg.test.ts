// The PostgreSQL store beyond the contract: it answers a long scripted session exactly as the SQLite
// store does, replicas racing on one database never both win a check-then-write, migrations run
// once when replicas start together, and statements stop at the configured timeout.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, StoreConflictError, type NewSpawn, type Store } from "../src/bot/store/index.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../src/bot/store/migrations.js";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { PG_MIGRATIONS } from "../src/bot/store/pg/migrations.js";
import { createPool } from "../src/bot/store/pg/pool.js";
import { freePort } from "./support/free-port.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let server: TestPostgres;
const opened: PgStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

async function freshPg(url?: string): Promise<PgStore> {
  const store = await openPgStore(url ?? (await server.createDatabase()));
  opened.push(store);
  return store;
}

function freshSqlite(): { store: Store; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-sqlite-parity-"));
  return { store: openStore(path.join(dir, "spawnbot.db")), dir };
}

const ALICE = { platform: "slack", userId: "U024BE7LH" };
const BOB = { platform: "slack", userId: "U0G9QF9C6" };
const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

function spawnAt(n: number, over: Partial<NewSpawn> = {}): NewSpawn {
  const id = `${n.toString(16).padStart(8, "0")}-4b1e-4c2a-9d3e-${n.toString(16).padStart(12, "0")}`;
  return {
    id, name: `spawn-${n}`, platform: "slack", workspace: "T024BE7LD", channel: "C024BE91L", ownerId: ALICE.userId, ownerName: "alice",
    agent: "claude", cloud: "hetzner", model: "anthropic/claude-sonnet-4", size: "cx22", zone: "fsn1", session: `spawn-${n}`,
    prompt: "Fix the flaky login test", createdAt: T0 + n * 1000, expiresAt: T0 + 86_400_000, ...over,
  };
}

/** Drive a store through most of its surface; every answer goes into the transcript. */
async function session(store: Store): Promise<unknown[]> {
  const t: unknown[] = [];
  const note = async (label: string, value: unknown) => t.push([label, await value]);
  for (let n = 1; n <= 6; n++) await note(`intent ${n}`, store.recordIntent(spawnAt(n, n === 4 ? { ownerId: BOB.userId, ownerName: "bob", name: "spawn-1" } : {})));
  await note("same ms", store.recordIntent(spawnAt(7, { createdAt: T0 + 6000, name: "same-ms", meta: { dashboardPort: "18789" }, sshIdentity: "owner", options: { host: { user: "me", host: "203.0.113.7", port: 22 }, steps: ["github"] } })));
  await note("conflict", Promise.resolve().then(() => store.recordIntent(spawnAt(8, { name: "spawn-2" }))).catch((e: unknown) => [e instanceof StoreConflictError, (e as Error).message]));
  await note("ready", store.updateSpawn(spawnAt(1).id, { status: "ready", serverId: "srv-1", address: "198.51.100.4", sshUser: "root", sshPort: 22, hostKey: "ssh-ed25519 AAAAC3", readyAt: T0 + 60_000, meta: { dashboardPort: "3000" } }));
  await note("failed", store.updateSpawn(spawnAt(2).id, { status: "failed", error: "the cloud said no" }));
  await note("revive conflict", store.recordIntent(spawnAt(9, { name: "spawn-2" })));
  await note("revive old", Promise.resolve().then(() => store.updateSpawn(spawnAt(2).id, { status: "pending" })).catch((e: unknown) => [(e as Error).name, (e as Error).message]));
  await note("clear", store.updateSpawn(spawnAt(3).id, { model: null, expiresAt: null }));
  await note("dismiss", store.dismissSpawn(spawnAt(2).id, T0 + 70_000));
  await note("dismiss again", store.dismissSpawn(spawnAt(2).id, T0 + 71_000));
  for (const ref of [spawnAt(5).id, "spawn-1", spawnAt(6).id.slice(0, 8), "0000", "nope"]) {
    await note(`find ${ref}`, store.findSpawn(ref, { owner: BOB, platform: "slack", workspace: "T024BE7LD" }));
  }
  await note("namesakes", store.findSpawnsByName("spawn-1", { owner: BOB, platform: "slack" }));
  await note("channel", store.listForChannel("slack", "T024BE7LD", "C024BE91L", { limit: 4, offset: 1 }));
  await note("channel filter", store.listForChannel("slack", "T024BE7LD", "C024BE91L", { filter: "SAME_" }));
  await note("filter escape", store.listForChannel("slack", "T024BE7LD", "C024BE91L", { filter: "%" }));
  await note("owner", store.listForOwner(ALICE, { filter: "ready" }));
  await note("all", store.listAll("slack", { limit: 100 }));
  await note("counted", store.countListed({ platform: "slack", workspace: "T024BE7LD", ownerId: ALICE.userId }, "spawn"));
  await note("live", store.listLive());
  await note("counts", store.countSpawns());
  await note("times", store.recentTimesToReady(5));
  await note("live owner", store.countLive({ platform: "slack", ownerId: ALICE.userId }));
  await note("since", store.countStartedSince({ platform: "slack", workspace: "T024BE7LD" }, T0 + 3000));
  await note("step 1", store.markStep(spawnAt(1).id, 1, "provision", "running", "creating", T0 + 1));
  await note("step 1 ok", store.markStep(spawnAt(1).id, 1, "provision", "succeeded", undefined, T0 + 2));
  await note("step 2", store.markStep(spawnAt(1).id, 2, "install", "failed", null, T0 + 3));
  await note("steps", store.listSteps(spawnAt(1).id));
  await note("prefs", (async () => {
    await store.setModelPreference(ALICE, "codex", "openai/gpt-5");
    await store.setModelPreference(ALICE, "claude", "anthropic/claude-opus-4");
    await store.setModelPreference(ALICE, "Zed", "x/y");
    return [await store.getModelPreference(ALICE, "codex"), await store.clearModelPreference(ALICE, "codex"), await store.clearModelPreference(ALICE, "codex"), await store.listModelPreferences(ALICE)];
  })());
  await note("keys", (async () => {
    const a = await store.addUserKey(ALICE, { fingerprint: "SHA256:b", publicKey: "ssh-ed25519 AAAAb", keyType: "ssh-ed25519", comment: "laptop" });
    const again = await store.addUserKey(ALICE, { fingerprint: "SHA256:b", publicKey: "ssh-ed25519 AAAAother", keyType: "ssh-ed25519", comment: "x" });
    return [a.publicKey, again.publicKey, (await store.listUserKeys(ALICE)).length, await store.removeUserKey(ALICE, "SHA256:b"), await store.removeUserKey(ALICE, "SHA256:b")];
  })());
  for (let i = 0; i < 4; i++) {
    await store.audit({ platform: "slack", workspace: "T024BE7LD", channel: "C024BE91L", userId: ALICE.userId, action: i % 2 ? "delete" : "spawn", spawnId: spawnAt(1 + (i % 2)).id, detail: { agent: "claude", n: i, nested: { ok: true } } }, T0 + (i < 2 ? 5 : 6));
  }
  await store.audit({ platform: "console", userId: "me", action: "prefs" }, T0 + 7);
  await note("audit", store.listAudit({ limit: 3 }));
  await note("audit spawn", store.listAudit({ spawnId: spawnAt(2).id }));
  await note("shares", (async () => [
    await store.addShare(spawnAt(1).id, BOB, T0), await store.addShare(spawnAt(1).id, { platform: "slack", userId: "U3" }, T0), await store.addShare(spawnAt(1).id, BOB, T0),
    await store.listShares(spawnAt(1).id), await store.listSharedWith(BOB), await store.removeShare(spawnAt(1).id, BOB), await store.listShares(spawnAt(1).id),
  ])());
  await note("tokens", (async () => {
    await store.saveTunnelToken({ tokenHash: "h1", spawnId: spawnAt(1).id, user: BOB, createdAt: T0, expiresAt: T0 + 1000, revokedAt: null });
    await store.saveTunnelToken({ tokenHash: "h2", spawnId: spawnAt(1).id, user: null, createdAt: T0, expiresAt: null, revokedAt: null });
    return [await store.findTunnelToken("h1"), await store.revokeUserTunnelTokens(spawnAt(1).id, BOB, T0 + 5), await store.revokeTunnelTokens(spawnAt(1).id, T0 + 6), await store.findTunnelToken("h2"), await store.findTunnelToken("h3")];
  })());
  await note("chat", (async () => {
    await store.chat.saveUserSecret(ALICE, "openrouter", { sealed: "v1.sealed", last4: "abcd", updatedAt: T0 });
    await store.chat.saveMessageRef(spawnAt(1).id, "slack", { channel: "C024BE91L", ts: "1767225600.000100" });
    return [await store.chat.getUserSecret(ALICE, "openrouter"), await store.chat.getMessageRef(spawnAt(1).id, "slack"), await store.chat.claimDelivery("k1", 60_000, T0),
      await store.chat.claimDelivery("k1", 60_000, T0 + 1), await store.chat.claimDelivery("k1", 60_000, T0 + 120_000), await store.chat.deleteUserSecret(ALICE, "openrouter"), await store.chat.getUserSecret(ALICE, "openrouter")];
  })());
  await note("upkeep", (async () => {
    await store.upkeep.markReminded(spawnAt(1).id, T0 + 86_400_000, T0);
    const next = (n: number) => T0 + n * 60_000;
    return [[...(await store.upkeep.remindedExpiries())], await store.upkeep.oweCleanup(spawnAt(3).id, "delete", "U1", "503", next), await store.upkeep.oweCleanup(spawnAt(3).id, "delete", "expiry", "504", next),
      await store.upkeep.oweCleanup(spawnAt(4).id, "leftovers", "spawnbot", "host unreachable", next), await store.upkeep.listCleanups(), await store.upkeep.listCleanups("delete"),
      await store.upkeep.oweCleanup(spawnAt(4).id, "delete", "U2", "now a delete", next), await store.upkeep.listCleanups("leftovers"),
      await store.upkeep.seeOrphan("hetzner", "42", null, T0), await store.upkeep.seeOrphan("hetzner", "42", "x", T0 + 9),
      await store.upkeep.markOrphanReported("hetzner", "42", T0 + 10), await store.upkeep.listOrphans("hetzner"), await store.upkeep.settleCleanup(spawnAt(3).id), await store.upkeep.getCleanup(spawnAt(3).id),
      await store.upkeep.getCleanup(spawnAt(4).id)];
  })());
  await note("identity", (async () => [
    await store.identity.get("ssh-key"), await store.identity.claim("ssh-key", "first", T0), await store.identity.claim("ssh-key", "second", T0 + 1), await store.identity.get("ssh-key"),
  ])());
  await note("oauth", (async () => {
    const rec = { stateHash: "s1", user: ALICE, userName: "alice", workspace: "T024BE7LD", channel: "C024BE91L", sealedVerifier: "v1.x", createdAt: T0, expiresAt: T0 + 600_000 };
    await store.oauth.saveOAuthState(rec);
    return [await store.oauth.consumeOAuthState("s1", "c1", T0 + 1), await store.oauth.confirmOAuthState("s1", T0 + 2), await store.oauth.confirmOAuthState("s1", T0 + 3),
      await store.oauth.consumeOAuthState("s1", "c1", T0 + 4), await store.oauth.consumeOAuthState("s1", "c2", T0 + 5), await store.oauth.markOAuthConnected("s1", T0 + 6), await store.oauth.findOAuthState("s1")];
  })());
  await note("hosts", (async () => {
    await store.hosts.saveSharedHost({ platform: "slack", workspace: "T024BE7LD", target: "ops@b:22", channels: ["C2"], addedBy: "U1", addedAt: T0 });
    await store.hosts.saveSharedHost({ platform: "slack", workspace: "T024BE7LD", target: "ops@a:22", channels: ["C1", "C2"], addedBy: "U1", addedAt: T0 });
    return [await store.hosts.listSharedHosts("slack", "T024BE7LD"), await store.hosts.removeSharedHost("slack", "T024BE7LD", "ops@b:22"), await store.hosts.pinHostKey("h:22", "k1", ALICE, T0),
      await store.hosts.noteSeenKey("h:22", "k1", T0 + 1), await store.hosts.getPin("h:22")];
  })());
  await note("spawn keys", (async () => {
    await store.spawnKeys.recordSpawnKey({ spawnId: spawnAt(1).id, keyHash: "kh1", limitUsd: 2.5, expiresAt: null, createdAt: T0, sealedKey: "v1.k" });
    await store.spawnKeys.recordSpawnKey({ spawnId: spawnAt(2).id, keyHash: "kh2", limitUsd: 10, expiresAt: T0 + 5, createdAt: T0 });
    await store.spawnKeys.recordSpawnKey({ spawnId: "gone", keyHash: "kh3", limitUsd: 1, expiresAt: null, createdAt: T0 });
    await store.spawnKeys.markRevokeDue(spawnAt(1).id, T0 + 10);
    return [await store.spawnKeys.listKeysToRevoke(T0 + 20), await store.spawnKeys.recordRevokeFailure(spawnAt(1).id, "502", (n) => T0 + n * 1000),
      await store.spawnKeys.markKeyDeleted(spawnAt(2).id, T0 + 30), await store.spawnKeys.recordRevokeFailure(spawnAt(2).id, "x", () => 0), await store.spawnKeys.getSpawnKey(spawnAt(1).id)];
  })());
  await note("leases", (async () => [
    await store.leases.acquire("data", "a", 1000, T0), await store.leases.acquire("data", "a", 1000, T0 + 500), await store.leases.acquire("data", "b", 1000, T0 + 2000),
    await store.leases.release("data", "a"), await store.leases.get("data"),
  ])());
  await note("send slots", (async () => [
    await store.sendSlots.reserve("slack:T024BE7LD:post:C1", 1000, 1, T0), await store.sendSlots.reserve("slack:T024BE7LD:post:C1", 1000, 1, T0 + 10),
    await store.sendSlots.reserve("slack:T024BE7LD:chat.update", 1200, 1, T0 + 20), await store.sendSlots.reserve("slack:T024BE7LD:post:C1", 1000, 1, T0 + 5000),
    await store.sendSlots.reserve("slack:T024BE7LD:post:C1", 1000, 1, T0 + 5000),
  ])());
  await costsSession(store, note);
  return t;
}

const DAY_MS = 86_400_000;
const DEC = Date.UTC(2025, 11, 1);
const FEB = Date.UTC(2026, 1, 1);
const MID_JAN = T0 + 20 * DAY_MS; // "now" of the cost reads: January is under way

/**
 * Spawns around the month of January 2026: made in December and ended or still live in January, made
 * and ended in January, failed without a deletion time, free, unpriced, priced without a currency,
 * made after it. Spends of 0.1, 0.7 and 0.08 in one group: SQLite's total() sums them to 0.88, where
 * plain addition gives 0.8799999999999999 in any order.
 */
async function costsSession(store: Store, note: (label: string, value: unknown) => Promise<unknown>): Promise<void> {
  const hetzner = (perHour: number) => ({ kind: "priced" as const, perHour, currency: "EUR", source: "hetzner price list 2026-01" });
  const made: [number, Partial<NewSpawn>, Parameters<Store["costs"]["recordPrice"]>[1] | undefined, { status: "ready" | "deleted" | "failed" | "cancelled"; deletedAt?: number }][] = [
    [20, { createdAt: DEC + 10 * DAY_MS }, hetzner(0.0071), { status: "deleted", deletedAt: T0 + 2 * DAY_MS + 3 * 3_600_000 }],
    [21, { createdAt: DEC + 5 * DAY_MS, cloud: "digitalocean", size: "s-1vcpu-2gb" }, { kind: "priced", perHour: 0.02679, currency: "USD", source: "digitalocean sizes" }, { status: "ready" }],
    [22, { createdAt: T0 + 3 * DAY_MS }, hetzner(0.0071), { status: "deleted", deletedAt: T0 + 5 * DAY_MS + 17 }],
    [23, { createdAt: T0 + 4 * DAY_MS }, hetzner(0.0119), { status: "failed" }],
    [24, { createdAt: T0 + 6 * DAY_MS, cloud: "local", channel: "C0ABCDEF1" }, { kind: "free", perHour: 3, currency: "EUR", source: "a host the bot does not pay for" }, { status: "ready" }],
    [25, { createdAt: T0 + 7 * DAY_MS, ownerId: BOB.userId, ownerName: "bob" }, undefined, { status: "ready" }],
    [26, { createdAt: FEB + DAY_MS }, hetzner(0.0071), { status: "ready" }],
    [27, { createdAt: DEC + DAY_MS }, hetzner(0.0071), { status: "deleted", deletedAt: DEC + 2 * DAY_MS }],
    [28, { createdAt: T0 + 8 * DAY_MS }, hetzner(0.0071), { status: "ready" }],
    [29, { createdAt: T0 + 9 * DAY_MS, cloud: "aws", agent: "codex" }, { kind: "priced", perHour: 0.0416, source: "aws pricing api" }, { status: "cancelled", deletedAt: T0 + 9 * DAY_MS + 5_400_000 }],
    [30, { createdAt: T0 + 10 * DAY_MS, cloud: "gcp" }, { kind: "unknown", source: "no price list for gcp" }, { status: "ready" }],
  ];
  for (const [n, over, price, end] of made) {
    await store.recordIntent(spawnAt(n, over));
    if (price) await store.costs.recordPrice(spawnAt(n).id, price);
    await store.updateSpawn(spawnAt(n).id, end);
  }
  const id = (n: number) => spawnAt(n).id;
  await note("price once", (async () => {
    await store.costs.recordPrice(id(20), hetzner(0.5));
    return [await store.costs.getCost(id(20)), await store.costs.getCost(id(24)), await store.costs.getCost(id(29)), await store.costs.getCost("nope")];
  })());
  await note("spend", (async () => [
    await store.costs.recordSpend(id(22), { usage: 0.1, limit: 2.5, at: T0 + 4 * DAY_MS }),
    await store.costs.recordSpend(id(22), { usage: 0.1, limit: 2.5, at: T0 + 4 * DAY_MS + 60_000 }),
    await store.costs.recordSpend(id(23), { usage: 0.7, limit: null, at: T0 + 5 * DAY_MS }),
    await store.costs.recordSpend(id(28), { usage: 0.05, limit: 1, at: T0 + 9 * DAY_MS }),
    await store.costs.recordSpend(id(28), { usage: 0.08, limit: 1, at: T0 + 10 * DAY_MS }),
    await store.costs.recordSpend(id(1), { usage: 1.25, limit: 5, at: T0 + 11 * DAY_MS }),
  ])());
  await note("notices", (async () => [
    await store.costs.claimNotice(id(22), "warned", T0 + 12 * DAY_MS), await store.costs.claimNotice(id(22), "warned", T0 + 13 * DAY_MS),
    await store.costs.claimNotice(id(22), "stopped", T0 + 14 * DAY_MS), await store.costs.getCost(id(22)),
    await store.costs.clearNotices(id(22)), await store.costs.claimNotice(id(22), "stopped", T0 + 15 * DAY_MS), await store.costs.claimNotice("nope", "warned", T0),
    await store.costs.getCost(id(22)),
  ])());
  await note("active", (async () => {
    await store.costs.markActive(id(25), T0 + 8 * DAY_MS);
    await store.costs.markActive(id(25), T0 + 7 * DAY_MS);
    await store.costs.markActive(id(20), T0 + DAY_MS);
    await store.costs.markActive(id(3), T0 + 100);
    const first = await store.costs.getCost(id(25));
    await store.costs.markActive(id(25), T0 + 9 * DAY_MS);
    return [first, await store.costs.getCost(id(25)), await store.costs.getCost(id(20)), await store.costs.getCost(id(3))];
  })());
  await note("many", (async () => [[...(await store.costs.getCosts([id(28), id(20), "nope", id(22), id(20)]))], [...(await store.costs.getCosts([]))]])());
  await note("budget", (async () => [
    await store.costs.claimBudgetNotice("slack:T024BE7LD", "2026-01", "warned", T0 + 3), await store.costs.claimBudgetNotice("slack:T024BE7LD", "2026-01", "warned", T0 + 4),
    await store.costs.claimBudgetNotice("slack:T024BE7LD", "2026-01", "stopped", T0 + 5), await store.costs.claimBudgetNotice("slack:T024BE7LD", "2026-02", "warned", FEB),
  ])());
  const january = { from: T0, to: FEB, now: MID_JAN };
  await note("january", store.costs.spendBetween({ platform: "slack" }, january));
  await note("january workspace", store.costs.spendBetween({ platform: "slack", workspace: "T024BE7LD" }, january));
  await note("january channel", store.costs.spendBetween({ platform: "slack", workspace: "T024BE7LD", channel: "C0ABCDEF1" }, january));
  await note("january channel, no workspace", store.costs.spendBetween({ platform: "slack", channel: "C024BE91L" }, january));
  await note("january bob", store.costs.spendBetween({ platform: "slack", workspace: "T024BE7LD", ownerId: BOB.userId }, january));
  await note("december", store.costs.spendBetween({ platform: "slack", workspace: "T024BE7LD" }, { from: DEC, to: T0, now: MID_JAN }));
  await note("window not begun", store.costs.spendBetween({ platform: "slack" }, { from: FEB, to: Date.UTC(2026, 2, 1), now: MID_JAN }));
  await note("other platform", store.costs.spendBetween({ platform: "discord" }, january));
  await note("totals", store.costs.totals(MID_JAN));
}

describe("the PostgreSQL store", () => {
  it("answers a long session exactly as the SQLite store does (records, order, counts, numbers not strings)", async () => {
    const sqlite = freshSqlite();
    const expected = await session(sqlite.store);
    await sqlite.store.close();
    rmSync(sqlite.dir, { recursive: true, force: true });
    const actual = await session(await freshPg());
    for (let i = 0; i < expected.length; i++) expect(actual[i]).toStrictEqual(expected[i]);
    expect(actual).toHaveLength(expected.length);
  });

  it("has a PostgreSQL twin of every SQLite migration, with the same version and description", () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.description])).toEqual(MIGRATIONS.map((m) => [m.version, m.description]));
  });

  it("migrates once when replicas start together, and records each version once", async () => {
    const url = await server.createDatabase();
    const replicas = await Promise.all([1, 2, 3].map(() => freshPg(url)));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_version ORDER BY version");
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect((await replicas[2]!.recordIntent(spawnAt(1))).status).toBe("pending");
    expect(await replicas[0]!.getSpawn(spawnAt(1).id)).toMatchObject({ status: "pending" });
  });

  it("refuses a database migrated by a newer spawnbot, naming both versions", async () => {
    const url = await server.createDatabase();
    await freshPg(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO schema_version (version, description, applied_at) VALUES ($1, 'from the future', 0)", [SCHEMA_VERSION + 1]);
    await client.end();
    await expect(openPgStore(url)).rejects.toThrow(`database has schema version ${SCHEMA_VERSION + 1}, newer than this build's ${SCHEMA_VERSION}`);
  });

  it("lets only one of several replicas win each check-then-write", async () => {
    const url = await server.createDatabase();
    const replicas = await Promise.all([1, 2, 3, 4].map(() => freshPg(url)));
    const settle = (fn: (s: PgStore, i: number) => Promise<unknown>) => Promise.allSettled(replicas.flatMap((s, i) => [fn(s, i), fn(s, i + 10)]));

    const named = await settle((s, i) => s.recordIntent(spawnAt(100 + i, { name: "fix-login" })));
    expect(named.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(named.filter((r) => r.status === "rejected").every((r) => r.reason instanceof StoreConflictError)).toBe(true);

    const claims = await settle((s) => s.chat.claimDelivery("slack:Ev0PV52K21", 60_000));
    expect(claims.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);

    const leases = await settle((s, i) => s.leases.acquire("data", `replica-${i}`, 30_000));
    const winners = leases.map((r) => (r as PromiseFulfilledResult<{ ok: boolean }>).value).filter((r) => r.ok);
    expect(winners).toHaveLength(1);

    const oauth = { stateHash: "race", user: ALICE, userName: "alice", workspace: "T1", channel: "C1", sealedVerifier: "v1.x", createdAt: Date.now(), expiresAt: Date.now() + 600_000 };
    await replicas[0]!.oauth.saveOAuthState(oauth);
    const confirmed = await settle((s) => s.oauth.confirmOAuthState("race"));
    expect(confirmed.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);
    const consumed = await settle((s, i) => s.oauth.consumeOAuthState("race", `code-${i}`));
    expect(consumed.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);

    const ownerOf = (named.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ id: string }>).value.id;
    const failures = await settle((s) => s.upkeep.oweCleanup(ownerOf, "delete", "expiry", "503", (n) => n));
    expect(failures.every((r) => r.status === "fulfilled")).toBe(true);
    expect((await replicas[0]!.upkeep.getCleanup(ownerOf))?.attempts).toBe(replicas.length * 2);

    const dismissed = await settle((s) => s.dismissSpawn(ownerOf));
    expect(dismissed.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);

    await replicas[0]!.costs.recordPrice(ownerOf, { kind: "priced", perHour: 0.0071, currency: "EUR", source: "hetzner price list" });
    const warned = await settle((s, i) => s.costs.claimNotice(ownerOf, "warned", 1000 + i));
    expect(warned.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);
    const budget = await settle((s, i) => s.costs.claimBudgetNotice("slack:T1", "2026-01", "warned", 1000 + i));
    expect(budget.map((r) => (r as PromiseFulfilledResult<boolean>).value).filter(Boolean)).toHaveLength(1);

    const pins = await settle((s, i) => s.hosts.pinHostKey("203.0.113.9:22", `ssh-ed25519 AAAA${i}`, { platform: "slack", userId: `U${i}` }));
    const pinned = new Set(pins.map((r) => (r as PromiseFulfilledResult<{ hostKey: string }>).value.hostKey));
    expect(pinned.size).toBe(1);
  });

  it("stops a statement at the configured timeout", async () => {
    const pool = createPool(server.url, { statementTimeoutMs: 200 });
    try {
      const started = Date.now();
      await expect(pool.query("SELECT pg_sleep(5)")).rejects.toMatchObject({ code: "57014" }); // query_canceled
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await pool.query<{ statement_timeout: string }>("SHOW statement_timeout")).rows[0]!.statement_timeout).toBe("200ms");
    } finally {
      await pool.end();
    }
  });

  it("reports a server it cannot reach without the URL's password", async () => {
    const port = await freePort();
    const err = await openPgStore(`postgres://spawnbot:hunter2-secret@127.0.0.1:${port}/spawnbot`).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(`${(err as Error).message} ${(err as Error).stack}`).not.toContain("hunter2");
  });
});
