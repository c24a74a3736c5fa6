// `npm run backup -- <file>` while the bot writes: the backup (its own process, as an admin runs it)
// holds every spawn committed before it began, restores as a working store, and never overwrites.
import { randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore, type NewSpawn, type Store } from "../src/bot/store/index.js";
import { makeBot } from "./support/bot.js";
import { bundleEntry } from "./support/bundle.js";
import { until } from "./support/until.js";

let backupCli: string;
let store: Store | undefined;

beforeAll(async () => {
  backupCli = await bundleEntry("src/backup.ts", "backup");
}, 120_000);

afterEach(async () => {
  await store?.close();
  store = undefined;
});

function newSpawn(i: number): NewSpawn {
  return {
    id: randomUUID(), name: `load-${i}`, platform: "slack", workspace: "T1", channel: "C1", ownerId: "U1", ownerName: "alice",
    agent: "codex", cloud: "hetzner", model: null, size: "cx23", zone: "nbg1", session: `spawn-load-${i}`, prompt: null, createdAt: Date.now(), expiresAt: null,
  };
}

function runBackup(dataDir: string, target: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [backupCli, "--", target], { env: { PATH: process.env.PATH ?? "", SPAWNBOT_DATA_DIR: dataDir }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

const tick = () => new Promise((r) => setImmediate(r));

describe("npm run backup", () => {
  it("taken under write load, restores every spawn committed before it began", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-backup-"));
    store = openStore(path.join(dataDir, "spawnbot.db"));
    const committed: string[] = [];
    let i = 0;
    const writeBatch = async () => {
      for (let n = 0; n < 20; n++) committed.push((await store!.recordIntent(newSpawn(i++))).id);
    };
    for (let n = 0; n < 100; n++) await writeBatch(); // 2,000 spawns, most of them still in the -wal file
    expect(existsSync(path.join(dataDir, "spawnbot.db-wal"))).toBe(true);

    const target = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-backup-out-")), "spawnbot-backup.db");
    const before = [...committed]; // every one of these is committed: each write was awaited, and better-sqlite3 writes synchronously
    let done = false;
    const backup = runBackup(dataDir, target).finally(() => (done = true));
    while (!done) {
      await writeBatch(); // the bot keeps writing while the backup runs
      await tick();
    }
    const result = await backup;
    expect(result.code, result.err).toBe(0);
    expect(committed.length).toBeGreaterThan(before.length); // the load really overlapped the backup
    const count = Number(/backed up (\d+) spawn/.exec(result.out)?.[1]);
    expect(count).toBeGreaterThanOrEqual(before.length);
    expect(result.out).toContain("bot_ed25519");

    // Restore as the README says: the backup becomes spawnbot.db in an empty data dir.
    const restoredDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-restored-"));
    copyFileSync(target, path.join(restoredDir, "spawnbot.db"));
    const restored = openStore(path.join(restoredDir, "spawnbot.db"));
    try {
      const missing: string[] = [];
      for (const id of before) if ((await restored.getSpawn(id)) === undefined) missing.push(id);
      expect(missing).toEqual([]);
      expect(await restored.getSpawn(before.at(-1)!)).toEqual(await store.getSpawn(before.at(-1)!));
      expect((await restored.countSpawns()).reduce((n, c) => n + c.count, 0)).toBe(count);
      // The restored store takes writes again.
      expect((await restored.recordIntent(newSpawn(i++))).status).toBe("pending");
    } finally {
      await restored.close();
    }
  });

  it("never overwrites a file and changes nothing when refused", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-backup-"));
    store = openStore(path.join(dataDir, "spawnbot.db"));
    await store.recordIntent(newSpawn(1));
    const target = path.join(dataDir, "precious.txt");
    writeFileSync(target, "keep me");
    const r = await runBackup(dataDir, target);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`spawnbot backup: ${target} already exists: choose a new file name (a backup never overwrites)`);
    expect(readFileSync(target, "utf8")).toBe("keep me");

    const none = await runBackup(path.join(dataDir, "nothing-here"), path.join(dataDir, "b.db"));
    expect(none.code).toBe(2);
    expect(none.err).toContain("there is no database at");
    expect(existsSync(path.join(dataDir, "b.db"))).toBe(false);
  });

  it("a checkpoint brings the main file up to date, so even a plain copy of spawnbot.db holds the spawns", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-backup-"));
    const file = path.join(dataDir, "spawnbot.db");
    store = openStore(file);
    const ids: string[] = [];
    for (let n = 0; n < 50; n++) ids.push((await store.recordIntent(newSpawn(n))).id);
    const copy = async (name: string) => {
      const to = path.join(dataDir, name);
      copyFileSync(file, to); // what an admin's cp does: the main file without its -wal
      const s = openStore(to);
      try {
        let found = 0;
        for (const id of ids) if (await s.getSpawn(id)) found++;
        return found;
      } finally {
        await s.close();
      }
    };
    expect(await copy("before.db")).toBeLessThan(ids.length); // still in the write-ahead log
    await store.checkpoint();
    expect(statSync(file).size).toBeGreaterThan(4096);
    expect(await copy("after.db")).toBe(ids.length);
  });

  it("the running bot checkpoints on its upkeep schedule, without anyone asking", async () => {
    const bot = makeBot({});
    const file = path.join(bot.dataDir, "spawnbot.db");
    const ids: string[] = [];
    for (let n = 0; n < 50; n++) ids.push((await bot.store.recordIntent(newSpawn(n))).id);
    const plainCopyHolds = async () => {
      const to = path.join(bot.dataDir, `copy-${Date.now()}.db`);
      copyFileSync(file, to);
      const s = openStore(to);
      try {
        for (const id of ids) if (!(await s.getSpawn(id))) return false;
        return true;
      } finally {
        await s.close();
      }
    };
    expect(await plainCopyHolds()).toBe(false);
    const HOUR = 3_600_000;
    const upkeep = bot.core.startUpkeep({ reminderMs: HOUR, sweepIntervalMs: HOUR, mode: "report", graceMs: HOUR, reconcileIntervalMs: HOUR, cleanupRetryMs: HOUR, walCheckpointMs: 50 });
    try {
      await until("a checkpoint of the write-ahead log", plainCopyHolds, 10_000);
      const later = (await bot.store.recordIntent(newSpawn(99))).id; // and again for writes after the first pass
      ids.push(later);
      await until("the next scheduled checkpoint", plainCopyHolds, 10_000);
    } finally {
      await upkeep.stop();
      await bot.store.close();
    }
  });
});
