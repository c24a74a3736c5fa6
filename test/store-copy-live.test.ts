// A team moves from SQLite to PostgreSQL with spawns still running: the one SQLite bot (the same
// bot process as a replica, without SPAWNBOT_DATABASE_URL) makes two spawns through Slack (the
// fake, HTTP mode) on the Hetzner fake, whose servers are the real test sshd with real tmux
// sessions; it is stopped; `npm run store:copy` moves its data dir into an empty database; a
// PostgreSQL replica with the data dir's bot key and secret key then lists both spawns, finds their
// agent sessions running, and its expiry sweep deletes the one whose time ran out.
import { copyFileSync, mkdtempSync } from "node:fs";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { BOT_KEY_FILE, loadOrCreateBotKey } from "../src/orchestrator/index.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { signedPost, slashCommandBody, startSlackFake, type SlackFake } from "./fakes/slack-fake.js";
import { bundleEntry } from "./support/bundle.js";
import { markFirstBootDone } from "./support/cloud-e2e.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { startReplica, stopReplica, type Replica } from "./support/replicas.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";
import { until } from "./support/until.js";

const USER = "sbcopy1";
const SIGNING_SECRET = randomBytes(16).toString("hex");
const CHANNEL = "C0COPYLIVE";
const OWNER = "U0COPY01";
const SECRET_KEY_FILE = "secret.key"; // the data dir's secret key file (src/bot/access/secret-box.ts)
/**
 * The short-lived spawn's time to live: long enough for it to get ready on the SQLite bot, the stop,
 * the copy and the PostgreSQL replica's start (about 15 s here; a loaded machine takes a few
 * times that), short enough that the test sees its expiry.
 */
const SHORT_TTL_S = 90;
/** The PostgreSQL replica sweeps for expired spawns this often, so the expiry shows within seconds. */
const PG_EXPIRY_INTERVAL = "2s";
/** The SQLite bot sweeps only at its start (before any spawn): the expiry is left to the bot after the move. */
const SQLITE_EXPIRY_INTERVAL = "1h";

let pgServer: TestPostgres;
let sshd: TestSshd;
let slack: SlackFake;
let hetzner: HetznerFake;
let copyCli: string;
const running: Replica[] = [];
const stores: PgStore[] = [];

beforeAll(async () => {
  [pgServer, sshd, slack, hetzner, copyCli] = await Promise.all([
    startPostgres(), startSshd(USER), startSlackFake(), HetznerFake.start(), bundleEntry("src/store-copy.ts", "store-copy"),
  ]);
  markFirstBootDone();
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((r) => stopReplica(r, "SIGKILL")));
  await Promise.all(stores.map((s) => s.close()));
  killUserProcesses(USER);
  await Promise.all([sshd?.stop(), pgServer?.stop(), slack?.close(), hetzner?.close()]);
}, 60_000);

/** What both bots share: the Slack app, the cloud, the test sshd; the store and the expiry interval differ. */
function botEnv(over: Record<string, string>): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl,
    OPENROUTER_API_KEY: FAKE_KEY, SPAWNBOT_SHARE_WORKSPACE_KEY: "true", SPAWNBOT_LOG_LEVEL: "info",
    REPLICA_HETZNER_URL: hetzner.url, REPLICA_HETZNER_TOKEN: hetzner.validToken, REPLICA_SSH_PORT: String(sshd.port), REPLICA_SSH_USER: USER,
    ...over,
  };
}

/** A slash command from the owner to one bot; resolves with the private answer Slack received on its response_url. */
async function ask(bot: Replica, text: string): Promise<string> {
  const responseUrl = slack.responseUrl();
  const id = responseUrl.slice(responseUrl.lastIndexOf("/") + 1);
  const res = await signedPost(bot.slackUrl, slashCommandBody({ text, channel_id: CHANNEL, user_id: OWNER, user_name: "owner", response_url: responseUrl }), "application/x-www-form-urlencoded", SIGNING_SECRET);
  await res.text();
  expect(res.status).toBe(200);
  const answer = await until(`the answer to '${text}'`, () => slack.responses.find((r) => r.id === id), 30_000);
  return JSON.stringify(answer.body);
}

/** The spawn's status message in the channel (a root message naming it). */
function statusMessage(name: string) {
  return slack.messages(CHANNEL).filter((m) => !m.thread_ts && JSON.stringify(m.blocks ?? "").includes(`\`${name}\``));
}

function sessionAlive(session: string): boolean {
  return spawnSync("su", ["-", USER, "-c", `tmux has-session -t =${session}`]).status === 0;
}

function runCopy(dataDir: string, url: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [copyCli, "--", dataDir, url], { env: { PATH: process.env.PATH ?? "" }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe("store:copy from a SQLite data dir with live spawns", () => {
  it("the PostgreSQL bot lists them, finds their tmux sessions running, and deletes the one whose expiry passed", async () => {
    // 1. The SQLite bot, as a team ran it: its data dir holds the SQLite file, the bot key and the secret key.
    const sqliteDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-copylive-"));
    const botKey = loadOrCreateBotKey(sqliteDir);
    sshd.authorize(botKey.publicKey); // the bot's servers trust its key (cloud-init does this on a real VM)
    const sqliteBot = await startReplica("sqlite", botEnv({ SPAWNBOT_EXPIRY_INTERVAL: SQLITE_EXPIRY_INTERVAL }), sqliteDir);
    running.push(sqliteBot);
    expect(await ask(sqliteBot, "testagent hetzner --name copy-keep")).toContain("copy-keep");
    expect(await ask(sqliteBot, `testagent hetzner --name copy-short --ttl ${SHORT_TTL_S}s`)).toContain("copy-short");
    for (const name of ["copy-keep", "copy-short"]) {
      await until(`${name} ready on the SQLite bot`, () => statusMessage(name).some((m) => JSON.stringify(m.blocks).includes(`\`${name}\` · ready`)), 90_000);
    }
    expect(await stopReplica(sqliteBot, "SIGTERM")).toEqual({ code: 0, signal: null });
    const serversBefore = hetzner.servers();
    expect(serversBefore.length).toBe(2);

    // 2. The move: an admin runs store:copy on the stopped bot's data dir.
    const url = await pgServer.createDatabase();
    const copy = await runCopy(sqliteDir, url);
    expect(copy.err).toBe("");
    expect(copy.code).toBe(0);
    expect(copy.out).toMatch(/^ {2}spawns +2$/m);
    const store = await openPgStore(url);
    stores.push(store);
    const spawns = await store.listLive();
    expect(spawns.map((s) => [s.name, s.status]).sort()).toEqual([["copy-keep", "ready"], ["copy-short", "ready"]]);
    const keep = spawns.find((s) => s.name === "copy-keep")!;
    const short = spawns.find((s) => s.name === "copy-short")!;
    // The sessions ran on through the move: a bot's stop leaves its spawns' agents alone.
    expect([sessionAlive(keep.session), sessionAlive(short.session)]).toEqual([true, true]);

    // 3. The PostgreSQL bot on the new host, given the old data dir's bot key and secret key.
    const pgDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-copylive-pg-"));
    for (const file of [BOT_KEY_FILE, `${BOT_KEY_FILE}.pub`, SECRET_KEY_FILE]) copyFileSync(path.join(sqliteDir, file), path.join(pgDir, file));
    const pgBot = await startReplica("pg", botEnv({ SPAWNBOT_DATABASE_URL: url, SPAWNBOT_EXPIRY_INTERVAL: PG_EXPIRY_INTERVAL }), pgDir);
    running.push(pgBot);
    const listed = await ask(pgBot, "list");
    expect(Date.now(), "the short spawn expired before the PostgreSQL bot was asked: the machine is too slow for SHORT_TTL_S").toBeLessThan(short.expiresAt!);
    expect(listed).toContain("copy-keep");
    expect(listed).toContain("copy-short");
    // `status` reaches each server over SSH with the bot's key (the only one the sshd trusts) and checks the tmux session.
    const keepStatus = await ask(pgBot, "status copy-keep");
    expect(keepStatus).toContain(`agent session ${keep.session} is running`);
    expect(keepStatus).toMatch(/expires in (23h|1d)/);
    const shortStatus = await ask(pgBot, "status copy-short");
    expect(shortStatus).toContain(`agent session ${short.session} is running`);
    expect(shortStatus).toMatch(/expires in \d+(s|m)/);

    // 4. The expiry passes: the PostgreSQL bot's sweep deletes the server, tells the owner, and
    // redraws the status message the SQLite bot had posted (its reference came with the copy).
    const deleted = await until("copy-short deleted by the expiry sweep", async () => {
      const rec = await store.getSpawn(short.id);
      return rec?.status === "deleted" ? rec : undefined;
    }, SHORT_TTL_S * 1000 + 60_000);
    expect(deleted.deletedAt!).toBeGreaterThanOrEqual(short.expiresAt!);
    expect(hetzner.servers().map((s) => s.id)).toEqual(serversBefore.filter((s) => s.tags["spawnbot-spawn-id"] === keep.id).map((s) => s.id));
    await until("the owner told of the expiry", () => slack.dms(OWNER).some((m) => (m.text ?? JSON.stringify(m.blocks)).includes("copy-short expired and was deleted")), 30_000);
    await until("the status message redrawn as deleted", () => JSON.stringify(statusMessage("copy-short").at(-1)?.blocks ?? "").includes("deleted"), 30_000);
    expect(statusMessage("copy-short").length).toBe(1);
    // Recorded as the expiry's delete, after the move (the SQLite bot was stopped by then).
    const audit = (await store.listAudit({ limit: 100 })).filter((a) => a.spawnId === short.id && a.action === "delete");
    expect(audit.map((a) => a.userId)).toEqual(["expiry"]);
    expect(audit[0]!.at).toBeGreaterThanOrEqual(short.expiresAt!);
    // The other spawn is untouched.
    expect((await store.getSpawn(keep.id))?.status).toBe("ready");
    expect(sessionAlive(keep.session)).toBe(true);
    const after = await ask(pgBot, "status copy-keep");
    expect(after).toContain(`agent session ${keep.session} is running`);
  }, 300_000);
});
