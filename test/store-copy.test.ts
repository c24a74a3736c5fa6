// `npm run store:copy` as an admin runs it (its own process): a SQLite data dir with live spawns,
// sealed secrets and audit rows lands in an empty PostgreSQL database, which then answers as the
// SQLite store did; a non-empty database is refused with one line and left as it was.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type NewSpawn, type Store } from "../src/bot/store/index.js";
import { openSqliteStore } from "../src/bot/store/sqlite-store.js";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { bundleEntry } from "./support/bundle.js";
import { freePort } from "./support/free-port.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let server: TestPostgres;
let copyCli: string;
const opened: PgStore[] = [];

beforeAll(async () => {
  [server, copyCli] = await Promise.all([startPostgres(), bundleEntry("src/store-copy.ts", "store-copy")]);
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

function runCopy(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [copyCli, "--", ...args], { env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

const ALICE = { platform: "slack", userId: "U024BE7LH" };
const BOB = { platform: "slack", userId: "U0G9QF9C6" };
const T0 = Date.now() - 3_600_000;

function spawnAt(n: number, over: Partial<NewSpawn> = {}): NewSpawn {
  const id = crypto.randomUUID();
  return {
    id, name: `spawn-${n}`, platform: "slack", workspace: "T024BE7LD", channel: "C024BE91L", ownerId: ALICE.userId, ownerName: "alice",
    agent: "codex", cloud: "hetzner", model: "openai/gpt-5", size: "cx23", zone: "nbg1", session: `spawnbot-spawn-${n}`, prompt: null,
    createdAt: T0 + n * 1000, expiresAt: T0 + 86_400_000, ...over,
  };
}

/** A data dir as a team's bot leaves it: live and ended spawns, history, keys, secrets, a lease. */
function teamDataDir(): { dir: string; ids: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-copy-"));
  const store = openSqliteStore(path.join(dir, "spawnbot.db")); // written as the bot left it, synchronously
  const ids: string[] = [];
  for (let n = 1; n <= 5; n++) ids.push(store.recordIntent(spawnAt(n, n === 5 ? { createdAt: T0 + 4000 } : {})).id); // 4 and 5: the same ms
  store.updateSpawn(ids[0]!, { status: "ready", serverId: "58512401", address: "198.51.100.4", sshUser: "root", sshPort: 22, hostKey: "ssh-ed25519 AAAAC3Nza", readyAt: T0 + 90_000, meta: { dashboardPort: "18789", dashboardToken: "v1.sealed-token" } });
  store.updateSpawn(ids[1]!, { status: "provisioning", serverId: "58512402" });
  store.updateSpawn(ids[2]!, { status: "failed", error: "Hetzner said: server limit reached" });
  store.updateSpawn(ids[3]!, { status: "deleted", deletedAt: T0 + 100_000 });
  for (const [seq, name] of ["validate", "provision", "install"].entries()) {
    store.markStep(ids[0]!, seq, name, "running", null, T0 + seq * 10);
    store.markStep(ids[0]!, seq, name, "succeeded", `took ${seq + 1} s`, T0 + seq * 10 + 5);
  }
  for (let i = 0; i < 7; i++) store.audit({ platform: "slack", workspace: "T024BE7LD", channel: "C024BE91L", userId: ALICE.userId, action: "spawn", spawnId: ids[i % 5]!, detail: { agent: "codex", i } }, T0 + Math.floor(i / 2));
  store.chat.saveUserSecret(ALICE, "openrouter", { sealed: "v1.nonce.ciphertext.tag", last4: "9f3a", updatedAt: T0 });
  store.chat.saveMessageRef(ids[0]!, "slack", { channel: "C024BE91L", ts: "1767225600.000100" });
  store.chat.claimDelivery("slack:Ev0PV52K21", 24 * 3_600_000, Date.now());
  store.addUserKey(ALICE, { fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s", publicKey: "ssh-ed25519 AAAAlaptop", keyType: "ssh-ed25519", comment: "alice@laptop" });
  store.setModelPreference(ALICE, "codex", "openai/gpt-5");
  store.addShare(ids[0]!, BOB, T0);
  store.saveTunnelToken({ tokenHash: "a".repeat(64), spawnId: ids[0]!, user: BOB, createdAt: T0, expiresAt: null, revokedAt: null });
  store.hosts.pinHostKey("198.51.100.4:22", "ssh-ed25519 AAAAC3Nza", ALICE, T0);
  store.spawnKeys.recordSpawnKey({ spawnId: ids[0]!, keyHash: "8d6f0e", limitUsd: 10, expiresAt: null, createdAt: T0, sealedKey: "v1.sealed-key" });
  store.upkeep.markReminded(ids[0]!, T0 + 86_400_000, T0);
  store.leases.acquire("data", "old-host:4242:abcd", 30_000);
  store.close();
  return { dir, ids };
}

/** What the bot reads back about a store's spawns, history and users. */
async function view(store: Store | PgStore, ids: string[]) {
  return {
    spawns: await Promise.all(ids.map((id) => store.getSpawn(id))),
    live: await store.listLive(),
    channel: await store.listForChannel("slack", "T024BE7LD", "C024BE91L"),
    steps: await store.listSteps(ids[0]!),
    audit: await store.listAudit({ limit: 100 }),
    secret: await store.chat.getUserSecret(ALICE, "openrouter"),
    ref: await store.chat.getMessageRef(ids[0]!, "slack"),
    keys: await store.listUserKeys(ALICE),
    prefs: await store.listModelPreferences(ALICE),
    shares: await store.listSharedWith(BOB),
    token: await store.findTunnelToken("a".repeat(64)),
    pin: await store.hosts.getPin("198.51.100.4:22"),
    spawnKey: await store.spawnKeys.getSpawnKey(ids[0]!),
    reminded: [...(await store.upkeep.remindedExpiries())],
  };
}

describe("npm run store:copy", () => {
  it("copies a data dir into an empty database, which then answers as the SQLite store did", async () => {
    const { dir, ids } = teamDataDir();
    const sqlite = openStore(path.join(dir, "spawnbot.db"));
    const before = await view(sqlite, ids);
    await sqlite.close();
    const url = await server.createDatabase();

    const r = await runCopy(dir, url);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^copied \d+ row\(s\) from .*spawnbot\.db into PostgreSQL in \d+ ms:/);
    expect(r.out).toMatch(/^ {2}spawns +5$/m);
    expect(r.out).toMatch(/^ {2}audit +7$/m);
    expect(r.out).toMatch(/^ {2}user_secrets +1$/m);
    // Every SQLite table is listed but the lease, which belongs to the process that held it, and
    // the send slots, which pace only the next few seconds' messages.
    const raw = new Database(path.join(dir, "spawnbot.db"), { readonly: true });
    const tables = raw.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all().map((t) => t.name);
    raw.close();
    const listed = [...r.out.matchAll(/^ {2}(\w+) +\d+$/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(tables.filter((t) => t !== "leases" && t !== "send_slots").sort());

    const pg = await openPgStore(url);
    opened.push(pg);
    expect(await view(pg, ids)).toStrictEqual(before);
    expect(before.live.map((s) => s.status)).toEqual(["pending", "provisioning", "ready"]);
    expect(await pg.leases.get("data")).toBeUndefined();
    // A delivery already acted on before the move is still not acted on again.
    expect(await pg.chat.claimDelivery("slack:Ev0PV52K21", 24 * 3_600_000)).toBe(false);

    // Ids and list order continue after the copied rows.
    await pg.audit({ platform: "slack", userId: ALICE.userId, action: "delete", spawnId: ids[0]! }, T0 + 10_000);
    const newest = (await pg.listAudit({ limit: 1 }))[0]!;
    expect(newest.id).toBeGreaterThan(Math.max(...before.audit.map((a) => a.id)));
    const sameMs = await pg.recordIntent(spawnAt(6, { createdAt: T0 + 4000, name: "spawn-6" }));
    const order = (await pg.listForChannel("slack", "T024BE7LD", "C024BE91L")).map((s) => s.id);
    expect(order.indexOf(sameMs.id)).toBeLessThan(order.indexOf(ids[4]!)); // the later insert of the same ms is newer
  });

  it("refuses a database that already holds spawnbot data, with one line, and changes nothing", async () => {
    const { dir } = teamDataDir();
    const url = await server.createDatabase();
    expect((await runCopy(dir, url)).code).toBe(0);
    const pg = await openPgStore(url);
    opened.push(pg);
    const audit = await pg.listAudit({ limit: 100 });

    const again = await runCopy(dir, url);
    expect(again.code).toBe(2);
    expect(again.out).toBe("");
    expect(again.err).toMatch(/^spawnbot store:copy: the PostgreSQL database already holds spawnbot data \(5 spawns, .*7 audit.*\); copy into an empty database\n$/);
    expect(await pg.listAudit({ limit: 100 })).toStrictEqual(audit);
  });

  it("explains a missing store, a wrong URL and an unreachable server in one line, never with the password", async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "spawnbot-copy-empty-"));
    const missing = await runCopy(empty, server.url);
    expect([missing.code, missing.err]).toEqual([2, `spawnbot store:copy: no SQLite store at ${path.join(empty, "spawnbot.db")}: give the bot's data dir (holding spawnbot.db) or the file itself\n`]);

    const wrong = await runCopy(teamDataDir().dir, "mysql://root:hunter2-secret@db/spawnbot");
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/^spawnbot store:copy: the PostgreSQL URL must be a postgres:\/\/ \(or postgresql:\/\/\) URL[^\n]*\n$/);

    const port = await freePort();
    const unreachable = await runCopy(teamDataDir().dir, `postgres://spawnbot:hunter2-secret@127.0.0.1:${port}/spawnbot`);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/^spawnbot store:copy failed, nothing was copied: .+\n$/);
    expect(`${wrong.err}${unreachable.err}`).not.toContain("hunter2");

    const usage = await runCopy(empty);
    expect([usage.code, usage.err]).toEqual([2, expect.stringMatching(/^usage: npm run store:copy -- <sqlite data dir or file> <postgres url>/)]);
  });
});
