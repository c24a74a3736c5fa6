// Behaviour of the SQLite store on real files in a temp dir: migrations, spawns, steps,
// preferences, keys, audit, and several connections writing one file at once.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreConflictError, StoreNotFoundError, type NewSpawn, type SyncStore as Store } from "./index.js";
import { openSqliteStore as openStore } from "./sqlite-store.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
import { LIST_FOR_CHANNEL_SQL } from "./sqlite-store.js";

// Slack-shaped ids: team T…, channel C…, user U….
const SLACK = { platform: "slack", workspace: "T024BE7LD", channel: "C024BE91L" };
const ALICE = { platform: "slack", userId: "U024BE7LH" };
const BOB = { platform: "slack", userId: "U0G9QF9C6" };

let dir: string;
let path: string;
let store: Store;
let clock = 1_767_225_600_000; // 2026-01-01T00:00:00Z; each newSpawn is 1 s later

function newSpawn(over: Partial<NewSpawn> = {}): NewSpawn {
  clock += 1000;
  return {
    id: randomUUID(), name: "fix-login", ...SLACK, ownerId: ALICE.userId, ownerName: "alice",
    agent: "claude", cloud: "hetzner", model: null, size: "cx22", zone: "fsn1",
    session: "spawn-fix-login", prompt: "Fix the flaky login test", createdAt: clock, expiresAt: null,
    ...over,
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spawnbot-store-"));
  path = join(dir, "nested", "spawnbot.db");
  store = openStore(path);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("opening a store", () => {
  it("creates the file and its parent directory, migrated to the latest schema in WAL mode", () => {
    expect(existsSync(path)).toBe(true);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
  });

  it("keeps the data dir 0700 and the database, -wal and -shm 0600, tightening looser modes left by an older version", () => {
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    const files = [path, `${path}-wal`, `${path}-shm`];
    store.recordIntent(newSpawn()); // a write, so the -wal holds data
    expect([mode(dirname(path)), ...files.map(mode)]).toEqual(["700", "600", "600", "600"]);
    store.close();
    // What an older spawnbot left: a 0755 folder and 0644 files.
    // An older process still has the file open, so its -wal and -shm exist as the new one opens.
    const old = new Database(path);
    old.prepare("INSERT INTO deliveries (key, at) VALUES ('k', 1)").run();
    chmodSync(dirname(path), 0o755);
    for (const f of files) chmodSync(f, 0o644);
    store = openStore(path);
    old.close();
    store.recordIntent(newSpawn({ name: "second" }));
    expect([mode(dirname(path)), ...files.map(mode)]).toEqual(["700", "600", "600", "600"]);
  });

  it("migration 11 moves shared Discord DM spawns to their owners' DMs, drops ended spawns' clear dashboard tokens and pre-confirmation sign-in links", () => {
    const v6 = join(dir, "v6.db");
    const raw = new Database(v6);
    for (const m of MIGRATIONS.filter((m) => m.version <= 6)) raw.exec(m.sql);
    raw.pragma("user_version = 6");
    const insert = raw.prepare(`INSERT INTO spawns (id, name, platform, workspace, channel, owner_id, owner_name, agent, cloud, status, session, meta, created_at)
      VALUES (?, ?, ?, ?, 'D1', ?, 'x', 'openclaw', 'hetzner', ?, ?, ?, 1)`);
    insert.run("s1", "in-dm", "discord", "dm", "U7", "ready", "in-dm", JSON.stringify({ dashboardToken: "live-token-0001" }));
    insert.run("s2", "in-guild", "discord", "G1", "U7", "deleted", "in-guild", JSON.stringify({ dashboardToken: "ended-token-002", other: "kept" }));
    insert.run("s3", "slack-one", "slack", "dm", "U8", "ready", "slack-one", "{}");
    raw.prepare("INSERT INTO audit (at, platform, workspace, user_id, action, detail) VALUES (1, 'discord', 'dm', 'U7', 'spawn', '{}')").run();
    const state = raw.prepare(`INSERT INTO oauth_states (state_hash, platform, user_id, workspace, channel, sealed_verifier, created_at, expires_at, used_at)
      VALUES (?, 'slack', 'U8', 'T1', 'C1', 'v1:x', 1, 2, ?)`);
    state.run("pending", null);
    state.run("used", 5);
    raw.close();

    const migrated = openStore(v6);
    expect(migrated.getSpawn("s1")).toMatchObject({ workspace: "dm:U7", meta: { dashboardToken: "live-token-0001" } });
    expect(migrated.getSpawn("s2")).toMatchObject({ workspace: "G1", meta: { other: "kept" } });
    expect(migrated.getSpawn("s2")!.meta).not.toHaveProperty("dashboardToken");
    expect(migrated.getSpawn("s3")!.workspace).toBe("dm"); // only Discord had the shared DM workspace
    expect(migrated.listAudit().map((a) => a.workspace)).toEqual(["dm:U7"]);
    expect(migrated.oauth.findOAuthState("pending")).toBeUndefined();
    expect(migrated.oauth.findOAuthState("used")).toMatchObject({ usedAt: 5, userName: "", confirmedAt: null, connectedAt: null });
    migrated.close();
  });

  it("migration 14 turns failed deletes and spawns left \"cleanup pending\" into clean-ups owed", () => {
    const v13 = join(dir, "v13.db");
    const raw = new Database(v13);
    for (const m of MIGRATIONS.filter((m) => m.version <= 13)) raw.exec(m.sql);
    raw.pragma("user_version = 13");
    const insert = raw.prepare(`INSERT INTO spawns (id, name, platform, workspace, channel, owner_id, owner_name, agent, cloud, status, session, meta, created_at, error)
      VALUES (?, ?, 'slack', 'T1', 'C1', 'U1', 'x', 'codex', 'hetzner', ?, ?, '{}', 1, ?)`);
    insert.run("s1", "failed-delete", "ready", "failed-delete", "delete failed: 503");
    insert.run("s2", "leftovers", "deleting", "leftovers", "cleanup pending: could not remove what leftovers made on hetzner (503)");
    insert.run("s3", "a-delete", "deleting", "a-delete", null);
    raw.prepare("INSERT INTO delete_retries (spawn_id, actor, attempts, next_at, last_error) VALUES ('s1', 'U1', 3, 777, '503')").run();
    raw.close();

    const migrated = openStore(v13);
    expect(migrated.upkeep.listCleanups()).toEqual([
      { spawnId: "s2", what: "leftovers", actor: "spawnbot", attempts: 1, nextAt: 0, lastError: "cleanup pending: could not remove what leftovers made on hetzner (503)" },
      { spawnId: "s1", what: "delete", actor: "U1", attempts: 3, nextAt: 777, lastError: "503" },
    ]);
    expect(migrated.upkeep.getCleanup("s3")).toBeUndefined(); // a delete in flight owes nothing yet
    migrated.close();
  });

  it("reopens an existing file without migrating again and keeps its data", () => {
    const made = store.recordIntent(newSpawn({ meta: { dashboardPort: "8080" } }));
    store.close();
    store = openStore(path);
    expect(store.getSpawn(made.id)).toEqual(made);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it("refuses a file written by a newer spawnbot", () => {
    store.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openStore(path)).toThrow(/newer than this build/);
    store = openStore(join(dir, "other.db")); // for afterEach
  });

  it("numbers its migrations 1, 2, 3 … in order", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it("keeps the write-ahead log from growing without bound under many small writes", () => {
    for (let i = 0; i < 3000; i++) store.recordIntent(newSpawn({ name: `load-${i}` }));
    // SQLite's auto-checkpoint resets the log every 1000 pages (~4 MB).
    expect(statSync(`${path}-wal`).size).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("spawns", () => {
  it("records an intent as pending and reads back every field", () => {
    const intent = newSpawn({ model: "anthropic/claude-sonnet-4", meta: { dashboardPort: "8080" } });
    const made = store.recordIntent(intent);
    expect(made).toEqual({
      ...intent, status: "pending", serverId: null, address: null, sshUser: null, sshPort: null,
      hostKey: null, error: null, readyAt: null, deletedAt: null, sshIdentity: "bot", options: null,
    });
    expect(store.getSpawn(made.id)).toEqual(made);
    expect(store.recordIntent(newSpawn({ name: "no-meta" })).meta).toEqual({});
  });

  it("updates only the fields a patch names, null clears and meta is replaced", () => {
    const made = store.recordIntent(newSpawn({ meta: { a: "1" } }));
    const ready = store.updateSpawn(made.id, {
      status: "ready", serverId: "58391734", address: "203.0.113.7", sshUser: "root", sshPort: 22,
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      readyAt: clock + 60_000, meta: { dashboardPort: "8080" }, error: "old",
    });
    expect(ready).toMatchObject({ status: "ready", sshPort: 22, meta: { dashboardPort: "8080" }, prompt: made.prompt });
    const cleared = store.updateSpawn(made.id, { error: null, sshPort: undefined });
    expect(cleared).toEqual({ ...ready, error: null });
    expect(store.getSpawn(made.id)).toEqual(cleared);
  });

  it("reports an unknown id on update", () => {
    expect(() => store.updateSpawn(randomUUID(), { status: "failed" })).toThrow(StoreNotFoundError);
    expect(store.getSpawn(randomUUID())).toBeUndefined();
  });

  it("refuses a second live spawn with the same name for the same owner", () => {
    store.recordIntent(newSpawn({ name: "api" }));
    expect(() => store.recordIntent(newSpawn({ name: "api" }))).toThrow(StoreConflictError);
    expect(store.listForOwner(ALICE)).toHaveLength(1);
  });

  it("lets another owner use the name, and the owner reuse it once the first is deleted", () => {
    const first = store.recordIntent(newSpawn({ name: "api" }));
    store.recordIntent(newSpawn({ name: "api", ownerId: BOB.userId, ownerName: "bob" }));
    store.updateSpawn(first.id, { status: "deleted", deletedAt: clock });
    const second = store.recordIntent(newSpawn({ name: "api" }));
    expect(second.status).toBe("pending");
    // …and the deleted one cannot come back to life while the name is taken.
    expect(() => store.updateSpawn(first.id, { status: "ready" })).toThrow(StoreConflictError);
  });

  it("rejects a status outside the known set", () => {
    const made = store.recordIntent(newSpawn());
    expect(() => store.updateSpawn(made.id, { status: "exploded" as "ready" })).toThrow(/CHECK/);
  });
});

describe("finding a spawn", () => {
  it("finds by exact id, by a unique id prefix of 4+ characters, and by name", () => {
    const made = store.recordIntent(newSpawn({ name: "docs" }));
    const opts = { owner: ALICE, platform: "slack" };
    expect(store.findSpawn(made.id, opts)?.id).toBe(made.id);
    expect(store.findSpawn(made.id.slice(0, 8).toUpperCase(), opts)?.id).toBe(made.id);
    expect(store.findSpawn("docs", opts)?.id).toBe(made.id);
    expect(store.findSpawn(made.id.slice(0, 3), opts)).toBeUndefined();
    expect(store.findSpawn("nothing-here", opts)).toBeUndefined();
  });

  it("ignores an id prefix shared by two spawns", () => {
    store.recordIntent(newSpawn({ id: "abcd1111-0000-4000-8000-000000000000", name: "one" }));
    store.recordIntent(newSpawn({ id: "abcd2222-0000-4000-8000-000000000000", name: "two" }));
    expect(store.findSpawn("abcd", { platform: "slack" })).toBeUndefined();
    expect(store.findSpawn("abcd2", { platform: "slack" })?.name).toBe("two");
  });

  it("prefers the caller's own spawn of that name, then the newest", () => {
    const mine = store.recordIntent(newSpawn({ name: "web" }));
    const bobs = store.recordIntent(newSpawn({ name: "web", ownerId: BOB.userId, ownerName: "bob" }));
    expect(store.findSpawn("web", { owner: ALICE, platform: "slack" })?.id).toBe(mine.id);
    expect(store.findSpawn("web", { owner: BOB, platform: "slack" })?.id).toBe(bobs.id);
    expect(store.findSpawn("web", { platform: "slack" })?.id).toBe(bobs.id);
  });

  it("looks only in the given channel and platform", () => {
    const elsewhere = store.recordIntent(newSpawn({ name: "ops", channel: "C0OTHER01" }));
    expect(store.findSpawn("ops", SLACK)).toBeUndefined();
    expect(store.findSpawn(elsewhere.id, SLACK)).toBeUndefined();
    expect(store.findSpawn("ops", { platform: "slack", workspace: SLACK.workspace })?.id).toBe(elsewhere.id);
    expect(store.findSpawn("ops", { platform: "discord" })).toBeUndefined();
  });
});

describe("listing spawns", () => {
  it("lists a channel's spawns newest first, later insert first on a tie", () => {
    const old = store.recordIntent(newSpawn({ name: "old" }));
    const mid = store.recordIntent(newSpawn({ name: "mid" }));
    const tie = store.recordIntent(newSpawn({ name: "tie", createdAt: mid.createdAt }));
    store.recordIntent(newSpawn({ name: "other-channel", channel: "C0OTHER01" }));
    const names = store.listForChannel("slack", SLACK.workspace, SLACK.channel).map((s) => s.name);
    expect(names).toEqual([tie.name, mid.name, old.name]);
  });

  it("filters case-insensitively on name, agent, cloud, model or status", () => {
    store.recordIntent(newSpawn({ name: "Frontend" }));
    store.recordIntent(newSpawn({ name: "b", agent: "codex" }));
    store.recordIntent(newSpawn({ name: "c", cloud: "digitalocean" }));
    store.recordIntent(newSpawn({ name: "d", model: "openai/gpt-5" }));
    const failed = store.recordIntent(newSpawn({ name: "e" }));
    store.updateSpawn(failed.id, { status: "failed" });
    const list = (filter: string) =>
      store.listForChannel("slack", SLACK.workspace, SLACK.channel, { filter }).map((s) => s.name);
    expect(list("FRONT")).toEqual(["Frontend"]);
    expect(list("Codex")).toEqual(["b"]);
    expect(list("ocean")).toEqual(["c"]);
    expect(list("gpt")).toEqual(["d"]);
    expect(list("fail")).toEqual(["e"]);
    expect(list("  ")).toHaveLength(5);
  });

  it("treats % and _ in a filter as literal characters", () => {
    store.recordIntent(newSpawn({ name: "load-100%" }));
    store.recordIntent(newSpawn({ name: "load-1000" }));
    store.recordIntent(newSpawn({ name: "a_b" }));
    store.recordIntent(newSpawn({ name: "axb" }));
    const list = (filter: string) => store.listAll("slack", { filter }).map((s) => s.name);
    expect(list("100%")).toEqual(["load-100%"]);
    expect(list("a_b")).toEqual(["a_b"]);
    expect(list("%")).toEqual(["load-100%"]);
  });

  it("returns 50 by default and honours a limit", () => {
    for (let i = 0; i < 60; i++) store.recordIntent(newSpawn({ name: `s${i}` }));
    expect(store.listForChannel("slack", SLACK.workspace, SLACK.channel)).toHaveLength(50);
    expect(store.listForOwner(ALICE, { limit: 3 }).map((s) => s.name)).toEqual(["s59", "s58", "s57"]);
  });

  it("pages with an offset and counts the whole list, filter and scope applied", () => {
    for (let i = 0; i < 60; i++) store.recordIntent(newSpawn({ name: `s${i}`, agent: i % 3 ? "claude" : "codex" }));
    store.recordIntent(newSpawn({ name: "bobs", ownerId: BOB.userId, channel: "C0OTHER01" }));
    expect(store.listForChannel("slack", SLACK.workspace, SLACK.channel, { limit: 25, offset: 50 }).map((s) => s.name)).toEqual(["s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1", "s0"]);
    expect(store.listAll("slack", { limit: 2, offset: 1 }).map((s) => s.name)).toEqual(["s59", "s58"]);
    expect(store.countListed({ platform: "slack", workspace: SLACK.workspace, channel: SLACK.channel })).toBe(60);
    expect(store.countListed({ platform: "slack" })).toBe(61);
    expect(store.countListed({ platform: "slack", ownerId: BOB.userId })).toBe(1);
    expect(store.countListed({ platform: "slack", ownerId: ALICE.userId }, "codex")).toBe(20);
    expect(store.countListed({ platform: "discord" })).toBe(0);
  });

  it("leaves dismissed spawns out of every list, count and name lookup, and keeps their row", () => {
    const failed = store.recordIntent(newSpawn({ name: "api" }));
    store.updateSpawn(failed.id, { status: "failed" });
    const live = store.recordIntent(newSpawn({ name: "api" }));
    expect(store.findSpawnsByName("api", { platform: "slack", workspace: SLACK.workspace }).map((s) => s.id)).toEqual([live.id, failed.id]);
    expect(store.dismissSpawn(failed.id)).toBe(true);
    expect(store.dismissSpawn(failed.id)).toBe(false); // once
    expect(store.listForChannel("slack", SLACK.workspace, SLACK.channel).map((s) => s.id)).toEqual([live.id]);
    expect(store.listForOwner(ALICE).map((s) => s.id)).toEqual([live.id]);
    expect(store.listAll("slack").map((s) => s.id)).toEqual([live.id]);
    expect(store.countListed({ platform: "slack" })).toBe(1);
    expect(store.findSpawnsByName("api", { platform: "slack", workspace: SLACK.workspace }).map((s) => s.id)).toEqual([live.id]);
    expect(store.getSpawn(failed.id)?.status).toBe("failed");
  });

  it("lists an owner's spawns and a platform's spawns newest first", () => {
    const a1 = store.recordIntent(newSpawn({ name: "a1" }));
    const b1 = store.recordIntent(newSpawn({ name: "b1", ownerId: BOB.userId, channel: "C0OTHER01" }));
    const a2 = store.recordIntent(newSpawn({ name: "a2", channel: "C0OTHER01" }));
    store.recordIntent(newSpawn({ name: "d1", platform: "discord", workspace: "1129", channel: "1130" }));
    expect(store.listForOwner(ALICE).map((s) => s.id)).toEqual([a2.id, a1.id]);
    expect(store.listAll("slack").map((s) => s.id)).toEqual([a2.id, b1.id, a1.id]);
  });

  it("lists live spawns on every platform and leaves out ended ones", () => {
    const live = store.recordIntent(newSpawn({ name: "live" }));
    const gone = store.recordIntent(newSpawn({ name: "gone" }));
    const cancelled = store.recordIntent(newSpawn({ name: "cancelled" }));
    const discord = store.recordIntent(newSpawn({ name: "d", platform: "discord", workspace: "1129", channel: "1" }));
    store.updateSpawn(gone.id, { status: "deleted" });
    store.updateSpawn(cancelled.id, { status: "cancelled" });
    store.updateSpawn(live.id, { status: "deleting" });
    expect(store.listLive().map((s) => s.id)).toEqual([discord.id, live.id]);
  });

  it("lists the newest 50 of a 100,000-spawn channel from the index, without a sort", () => {
    store.close();
    seedChannel(path, 100_000);
    store = openStore(path);
    const started = performance.now();
    const page = store.listForChannel("slack", SLACK.workspace, SLACK.channel);
    const elapsed = performance.now() - started;
    expect(page).toHaveLength(50);
    expect(page[0]?.name).toBe("bulk-100000");
    expect(elapsed).toBeLessThan(250); // typically ~1 ms; a full scan and sort takes far longer
    const raw = new Database(path, { readonly: true });
    const plan = raw.prepare<object, { detail: string }>(`EXPLAIN QUERY PLAN ${LIST_FOR_CHANNEL_SQL}`)
      .all({ ...SLACK, pattern: null, limit: 50, offset: 0 });
    raw.close();
    expect(plan.map((row) => row.detail)).toEqual([
      "SEARCH spawns USING INDEX spawns_by_channel (platform=? AND workspace=? AND channel=?)",
    ]);
  }, 30_000);
});

describe("steps", () => {
  it("upserts a step by sequence number and keeps when it started", () => {
    const { id } = store.recordIntent(newSpawn());
    expect(store.markStep(id, 1, "create-server", "pending", null, 100)).toMatchObject({ startedAt: null, endedAt: null });
    store.markStep(id, 1, "create-server", "running", "creating cx22 in fsn1", 200);
    store.markStep(id, 1, "create-server", "running", undefined, 250);
    const done = store.markStep(id, 1, "create-server", "succeeded", undefined, 300);
    expect(done).toEqual({
      spawnId: id, seq: 1, name: "create-server", state: "succeeded",
      detail: "creating cx22 in fsn1", startedAt: 200, endedAt: 300,
    });
    expect(store.markStep(id, 1, "create-server", "warned", null, 400)).toMatchObject({ detail: null, startedAt: 200, endedAt: 400 });
  });

  it("lists a spawn's steps by sequence number, with ended times only for ended steps", () => {
    const { id } = store.recordIntent(newSpawn());
    store.markStep(id, 3, "install-agent", "running", null, 30);
    store.markStep(id, 1, "create-server", "succeeded", null, 10);
    store.markStep(id, 2, "wait-for-ssh", "skipped", "host given", 20);
    expect(store.listSteps(id).map((s) => [s.seq, s.name, s.startedAt, s.endedAt])).toEqual([
      [1, "create-server", null, 10],
      [2, "wait-for-ssh", null, 20],
      [3, "install-agent", 30, null],
    ]);
    expect(store.listSteps(randomUUID())).toEqual([]);
  });

  it("refuses a step for a spawn it does not know", () => {
    expect(() => store.markStep(randomUUID(), 1, "create-server", "running")).toThrow(/FOREIGN KEY/);
  });
});

describe("model preferences", () => {
  it("sets, overwrites, lists by agent and clears a user's preferred model", () => {
    store.setModelPreference(ALICE, "codex", "openai/gpt-5");
    store.setModelPreference(ALICE, "claude", "anthropic/claude-opus-4");
    store.setModelPreference(ALICE, "claude", "anthropic/claude-sonnet-4");
    store.setModelPreference(BOB, "claude", "anthropic/claude-haiku-4");
    expect(store.getModelPreference(ALICE, "claude")).toBe("anthropic/claude-sonnet-4");
    expect(store.listModelPreferences(ALICE)).toEqual([
      { agent: "claude", model: "anthropic/claude-sonnet-4" },
      { agent: "codex", model: "openai/gpt-5" },
    ]);
    expect(store.clearModelPreference(ALICE, "claude")).toBe(true);
    expect(store.clearModelPreference(ALICE, "claude")).toBe(false);
    expect(store.getModelPreference(ALICE, "claude")).toBeUndefined();
    expect(store.getModelPreference(BOB, "claude")).toBe("anthropic/claude-haiku-4");
  });
});

describe("user keys", () => {
  const key = {
    fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop",
    keyType: "ssh-ed25519",
    comment: "alice@laptop",
  };

  it("adds a key once per user, lists and removes it", () => {
    const added = store.addUserKey(ALICE, key);
    expect(added).toMatchObject(key);
    expect(store.addUserKey(ALICE, { ...key, comment: "again" })).toEqual(added);
    store.addUserKey(BOB, key);
    expect(store.listUserKeys(ALICE)).toEqual([added]);
    expect(store.removeUserKey(ALICE, key.fingerprint)).toBe(true);
    expect(store.removeUserKey(ALICE, key.fingerprint)).toBe(false);
    expect(store.listUserKeys(ALICE)).toEqual([]);
    expect(store.listUserKeys(BOB)).toHaveLength(1);
  });
});

describe("audit log", () => {
  it("records who did what, newest first, optionally for one spawn", () => {
    const { id } = store.recordIntent(newSpawn());
    store.audit({ platform: "slack", userId: ALICE.userId, action: "spawn", spawnId: id, detail: { cloud: "hetzner" } }, 10);
    store.audit({ platform: "slack", userId: BOB.userId, action: "prefs-model-set" }, 20);
    store.audit({ platform: "slack", userId: ALICE.userId, action: "delete", spawnId: id }, 30);
    expect(store.listAudit().map((e) => e.action)).toEqual(["delete", "prefs-model-set", "spawn"]);
    expect(store.listAudit({ limit: 1 })).toHaveLength(1);
    const forSpawn = store.listAudit({ spawnId: id });
    expect(forSpawn.map((e) => e.action)).toEqual(["delete", "spawn"]);
    expect(forSpawn[1]).toMatchObject({ at: 10, userId: ALICE.userId, spawnId: id, detail: { cloud: "hetzner" } });
    expect(store.listAudit()[1]).toMatchObject({ spawnId: null, detail: {} });
  });
});

describe("several writers on one file", () => {
  const WRITES_PER_WRITER = 500, HOLD_MS = 300;

  it("makes writers wait for another process's lock instead of failing, and loses no row", async () => {
    const second = openStore(path);
    const holder = holdWriteLock(path, HOLD_MS);
    await holder.locked;
    const lockedAt = performance.now();
    let firstWriteAt = 0;
    const write = async (s: Store, ownerId: string) => {
      for (let i = 0; i < WRITES_PER_WRITER; i++) {
        const { id } = s.recordIntent(newSpawn({ name: `${ownerId}-${i}`, ownerId }));
        firstWriteAt ||= performance.now();
        s.markStep(id, 1, "create-server", "running");
        s.audit({ platform: "slack", userId: ownerId, action: "spawn", spawnId: id });
        if (i % 25 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the other writer in
      }
    };
    await Promise.all([write(store, ALICE.userId), write(second, BOB.userId)]);
    second.close();
    expect(await holder.exited).toBe(0);
    expect(firstWriteAt - lockedAt).toBeGreaterThan(HOLD_MS / 2);

    const reader = openStore(path);
    for (const owner of [ALICE, BOB]) {
      const spawns = reader.listForOwner(owner, { limit: 2 * WRITES_PER_WRITER });
      expect(spawns).toHaveLength(WRITES_PER_WRITER);
      expect(spawns.every((s) => reader.listSteps(s.id).length === 1)).toBe(true);
    }
    expect(reader.listAudit({ limit: 10 * WRITES_PER_WRITER })).toHaveLength(2 * WRITES_PER_WRITER);
    reader.close();
  }, 30_000);
});

/** A separate node process that takes the write lock (BEGIN IMMEDIATE) and holds it for holdMs. */
function holdWriteLock(file: string, holdMs: number): { locked: Promise<void>; exited: Promise<number | null> } {
  const script = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2]);
    db.exec("BEGIN IMMEDIATE");
    process.stdout.write("locked\\n");
    setTimeout(() => { db.exec("COMMIT"); db.close(); }, Number(process.argv[3]));`;
  const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
  const child = spawn(process.execPath, ["-e", script, sqlite, file, String(holdMs)], { stdio: ["ignore", "pipe", "inherit"] });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("locked") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited early with code ${code}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { locked, exited };
}

/** Bulk-load count spawns into the test channel in one statement; recordIntent one by one takes ~15 s. */
function seedChannel(file: string, count: number): void {
  const raw = new Database(file);
  raw.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)
    INSERT INTO spawns (id, name, platform, workspace, channel, owner_id, owner_name, agent, cloud,
      status, session, created_at)
    SELECT lower(hex(randomblob(16))), 'bulk-' || i, 'slack', @workspace, @channel, 'U0BULK', 'bulk',
      'claude', 'hetzner', 'deleted', 'spawn-bulk', @base + i FROM n`)
    .run({ count, workspace: SLACK.workspace, channel: SLACK.channel, base: clock });
  raw.close();
}
