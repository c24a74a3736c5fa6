// Shares and tunnel tokens in the store: idempotent shares, tokens kept only as hashes.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { openSqliteStore as openStore } from "./sqlite-store.js";
import { MIGRATIONS } from "./migrations.js";

function storeWithSpawn() {
  const store = openStore(path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-access-")), "s.db"));
  const rec = store.recordIntent({
    id: crypto.randomUUID(), name: "demo", platform: "test", workspace: "W", channel: "C", ownerId: "U1", ownerName: "alice",
    agent: "codex", cloud: "ssh", model: null, size: null, zone: null, session: "demo", prompt: null, createdAt: 1, expiresAt: null,
  });
  return { store, rec };
}

describe("shares", () => {
  it("adds a share once, lists it both ways and removes it", () => {
    const { store, rec } = storeWithSpawn();
    const bob = { platform: "test", userId: "U2" };
    expect(store.addShare(rec.id, bob)).toBe(true);
    expect(store.addShare(rec.id, bob)).toBe(false);
    expect(store.listShares(rec.id)).toEqual([bob]);
    expect(store.listSharedWith(bob)).toEqual([rec.id]);
    expect(store.removeShare(rec.id, bob)).toBe(true);
    expect(store.listShares(rec.id)).toEqual([]);
  });
});

describe("tunnel tokens", () => {
  it("finds a token by its hash and revokes every token of a spawn", () => {
    const { store, rec } = storeWithSpawn();
    const alice = { platform: "test", userId: "U1" };
    store.saveTunnelToken({ tokenHash: "a".repeat(64), spawnId: rec.id, user: alice, createdAt: 1, expiresAt: 100, revokedAt: null });
    store.saveTunnelToken({ tokenHash: "b".repeat(64), spawnId: rec.id, user: null, createdAt: 2, expiresAt: null, revokedAt: null });
    expect(store.findTunnelToken("a".repeat(64))).toMatchObject({ spawnId: rec.id, user: alice, expiresAt: 100, revokedAt: null });
    expect(store.revokeTunnelTokens(rec.id, 50)).toBe(2);
    expect(store.findTunnelToken("b".repeat(64))?.revokedAt).toBe(50);
    expect(store.findTunnelToken("c".repeat(64))).toBeUndefined();
  });

  it("revokes only the links given to one user, and says which", () => {
    const { store, rec } = storeWithSpawn();
    const alice = { platform: "test", userId: "U1" };
    const bob = { platform: "test", userId: "U2" };
    store.saveTunnelToken({ tokenHash: "a".repeat(64), spawnId: rec.id, user: alice, createdAt: 1, expiresAt: null, revokedAt: null });
    store.saveTunnelToken({ tokenHash: "b".repeat(64), spawnId: rec.id, user: bob, createdAt: 2, expiresAt: null, revokedAt: null });
    store.saveTunnelToken({ tokenHash: "c".repeat(64), spawnId: rec.id, user: bob, createdAt: 3, expiresAt: null, revokedAt: null });
    expect(store.revokeUserTunnelTokens(rec.id, bob, 10).sort()).toEqual(["b".repeat(64), "c".repeat(64)]);
    expect(store.revokeUserTunnelTokens(rec.id, bob, 20)).toEqual([]); // already revoked
    expect(store.findTunnelToken("c".repeat(64))?.revokedAt).toBe(10);
    expect(store.findTunnelToken("a".repeat(64))?.revokedAt).toBeNull();
  });
});

describe("what a spawn marks on its host", () => {
  it("tells spawns recorded before marking from new ones, across the upgrade", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-access-")), "old.db");
    const raw = new Database(file);
    // The file as the migration before the marking one left it (its number changes as branches merge).
    const marking = MIGRATIONS.find((m) => m.sql.includes("marked_host"))!.version;
    for (const m of MIGRATIONS.filter((m) => m.version < marking)) raw.exec(m.sql);
    raw.pragma(`user_version = ${marking - 1}`);
    raw.prepare(`INSERT INTO spawns (id, name, platform, workspace, channel, owner_id, owner_name, agent, cloud, status, session, meta, created_at)
      VALUES ('old-1', 'old', 'test', 'W', 'C', 'U1', 'alice', 'codex', 'ssh', 'ready', 'old', '{}', 1)`).run();
    raw.close();
    const store = openStore(file);
    expect(store.getSpawn("old-1")!.markedHost).toBe(false);
    const rec = store.recordIntent({
      id: crypto.randomUUID(), name: "new", platform: "test", workspace: "W", channel: "C", ownerId: "U1", ownerName: "alice",
      agent: "codex", cloud: "ssh", model: null, size: null, zone: null, session: "new", prompt: null, createdAt: 2, expiresAt: null,
    });
    expect(store.getSpawn(rec.id)!.markedHost).toBeUndefined(); // absent: marked
  });
});
