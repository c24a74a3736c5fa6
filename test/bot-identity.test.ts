// Replicas on one database are one bot: a new replica (empty data dir) takes the bot's SSH key
// from the database, so it reaches the servers another replica made; a replica with another SSH
// key or another secret key refuses to start with one line. Real PostgreSQL; SQLite alike.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settleBotIdentity } from "../src/bot-identity.js";
import { loadSecretBox } from "../src/bot/index.js";
import { openStore, type Store } from "../src/bot/store/index.js";
import { openPgStore } from "../src/bot/store/pg/index.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let pg: TestPostgres;
const opened: Store[] = [];
const dataDir = () => mkdtempSync(path.join(os.tmpdir(), "spawnbot-identity-"));

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await pg?.stop();
});

async function replica(url: string, dir = dataDir(), secretKey?: Buffer) {
  const store = await openPgStore(url);
  opened.push(store);
  return { dir, answer: await settleBotIdentity(store, loadSecretBox(dir, secretKey), dir) };
}

describe("one bot identity across replicas", () => {
  it("gives a new replica the bot's SSH key from the database, and keeps the first replica's", async () => {
    const url = await pg.createDatabase();
    const shared = randomBytes(32);
    const first = await replica(url, dataDir(), shared);
    const second = await replica(url, dataDir(), shared);
    expect(typeof first.answer).toBe("object");
    expect(second.answer).toEqual(first.answer); // the same key pair: what the first one's servers trust
    // The first made its key file as a lone bot does; the second wrote none of its own.
    expect(readFileSync(path.join(first.dir, "bot_ed25519"), "utf8")).toBe((first.answer as { privateKey: string }).privateKey);
    expect(() => readFileSync(path.join(second.dir, "bot_ed25519"))).toThrow();
    // Restarted, each still is the same bot.
    expect((await replica(url, first.dir, shared)).answer).toEqual(first.answer);
  });

  it("refuses a replica with another secret key, in one line that names what to do", async () => {
    const url = await pg.createDatabase();
    await replica(url, dataDir(), randomBytes(32));
    const other = await replica(url, dataDir(), randomBytes(32));
    expect(other.answer).toMatch(/^spawnbot cannot start: this database's secrets are sealed with another secret key .*SPAWNBOT_SECRET_KEY/);
    expect(typeof other.answer === "string" && !other.answer.includes("\n")).toBe(true);
  });

  it("refuses a replica whose own SSH key is not the bot's, naming both fingerprints", async () => {
    const url = await pg.createDatabase();
    const shared = randomBytes(32);
    await replica(url, dataDir(), shared);
    const lone = dataDir();
    await settleBotIdentity(await openSqliteLike(lone), loadSecretBox(lone, shared), lone); // a bot of its own made a key file in lone
    const joined = await replica(url, lone, shared);
    expect(joined.answer).toMatch(/^spawnbot cannot start: this process's SSH key \(.*bot_ed25519, SHA256:[A-Za-z0-9+/]+\) is not the bot's \(SHA256:[A-Za-z0-9+/]+\)/);
  });

  it("is the same bot across restarts on SQLite, with its key file in the data dir", async () => {
    const dir = dataDir();
    const store = await openSqliteLike(dir);
    const box = loadSecretBox(dir);
    const first = await settleBotIdentity(store, box, dir);
    expect(await settleBotIdentity(store, box, dir)).toEqual(first);
    expect(readFileSync(path.join(dir, "bot_ed25519"), "utf8")).toBe((first as { privateKey: string }).privateKey);
  });
});

async function openSqliteLike(dir: string): Promise<Store> {
  const store = openStore(path.join(dir, "spawnbot.db"));
  opened.push(store);
  return store;
}
