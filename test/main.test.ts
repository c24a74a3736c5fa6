// The bot as a newcomer starts it: the built entry point with commands piped to stdin, its
// data dir, its exit codes, and a bad configuration refused with every problem listed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/bot/store/index.js";
import { openPgStore } from "../src/bot/store/pg/index.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { DATA_LEASE, DataLeaseHeldError, holdDataLease } from "../src/data-lease.js";
import { captureLogger } from "./support/capture.js";
import { signedPost, slashCommandBody, startSlackFake } from "./fakes/slack-fake.js";
import { startDiscordFake } from "./fakes/discord-fake.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const MAIN = path.join(ROOT, "dist", "main.js");

function runBot(input: string, env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-main-"));
  const r = spawnSync(process.execPath, [MAIN], {
    input, cwd: ROOT, timeout: 60_000,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SPAWNBOT_DATA_DIR: dataDir, ...env },
  });
  return { code: r.status, out: r.stdout.toString(), err: r.stderr.toString(), dataDir };
}

beforeAll(() => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "ignore" });
});

describe("npm start with commands on stdin", () => {
  it("answers help, agents and a dry run, then exits 0", () => {
    const { code, out } = runBot("help\n/spawn agents\nspawn codex local --dry-run -m openai/gpt-5\n");
    expect(code).toBe(0);
    expect(out).toContain("spawn <agent> <cloud> [flags]");
    expect(out).toMatch(/openclaw\s+OpenClaw — default model openrouter\/auto/);
    expect(out).toContain("model  openai/gpt-5 (from --model)");
  });

  it("creates its SQLite file and a private bot key under SPAWNBOT_DATA_DIR", () => {
    const { dataDir } = runBot("keys\n");
    expect(existsSync(path.join(dataDir, "spawnbot.db"))).toBe(true);
    expect(statSync(path.join(dataDir, "bot_ed25519")).mode & 0o777).toBe(0o600);
  });

  it("answers hostile input with an error line and carries on", () => {
    const { code, out } = runBot(`spawn codex local --model "$(reboot)"\nspawn с0dex local\n${"a".repeat(10_000)}\nagents\n`);
    expect(code).toBe(0);
    expect(out.match(/^error: /gm)).toHaveLength(3);
    expect(out).toContain("Agents:");
  });

  it("exits 1 when a spawn fails, with the reason; the address and its refusal by the network policy only in the log", () => {
    const { code, out, err } = runBot("spawn codex ssh --host nobody@127.0.0.1:1\n", { OPENROUTER_API_KEY: `sk-or-v1-${"a".repeat(64)}` });
    expect(code, err).toBe(1);
    expect(err).not.toContain("crashed");
    expect(out, err).toMatch(/failed: no SSH server answered at that address/);
    expect(out).not.toContain("127.0.0.1");
    expect(err).toMatch(/nobody@127\.0\.0\.1:1[\s\S]*refused by the network policy: 127\.0\.0\.1 is loopback/);
  });

  it("refuses to start on a bad configuration, listing every problem at once", () => {
    const { code, err } = runBot("", { SPAWNBOT_LOG_LEVEL: "loud", SPAWNBOT_DEFAULT_TTL: "forever", OPENROUTER_API_KEY: "short" });
    expect(code).toBe(2);
    expect(err).toContain("3 configuration problem(s)");
    expect(err).toMatch(/SPAWNBOT_LOG_LEVEL: must be one of/);
    expect(err).toMatch(/SPAWNBOT_DEFAULT_TTL: must be a duration/);
    expect(err).toMatch(/OPENROUTER_API_KEY: must be 20-256 printable characters/);
    expect(err).not.toContain("short");
  });
});

describe("npm start with SPAWNBOT_ADAPTER=slack", () => {
  it("serves signed slash commands in HTTP mode and stops cleanly on SIGTERM", async () => {
    const fake = await startSlackFake();
    const secret = "fedcba9876543210fedcba9876543210";
    const port = 20_000 + (process.pid % 20_000);
    const opsPort = port + 1;
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SPAWNBOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "spawnbot-main-")),
        SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: fake.apiUrl, SLACK_PORT: String(port), SPAWNBOT_OPS_PORT: String(opsPort),
      },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = await signedPost(`http://127.0.0.1:${port}/slack/events`, slashCommandBody({ text: "agents", response_url: fake.responseUrl() }), "application/x-www-form-urlencoded", secret)
          .then((r) => r.status, () => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status, stderr).toBe(200);
      for (let i = 0; i < 100 && !fake.responses.some((r) => JSON.stringify(r.body).includes("openclaw")); i++) await new Promise((r) => setTimeout(r, 50));
      expect(JSON.stringify(fake.responses)).toContain("openclaw");
      expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()).toMatch(/spawnbot_chat_api_calls_total\{platform="slack"\} \d+/);
      child.kill("SIGTERM");
      expect(await exited, stderr).toBe(0);
      expect(stderr).not.toContain(fake.botToken);
    } finally {
      child.kill("SIGKILL");
      await fake.close();
    }
  });
});

describe("npm start with SPAWNBOT_ADAPTER=discord and the http transport", () => {
  it("serves signed interactions on the public server without a gateway connection, and stops cleanly on SIGTERM", async () => {
    const fake = await startDiscordFake({ token: "fake-bot-token-for-the-main-test" });
    const port = 20_000 + (process.pid % 20_000) + 2; // beside the Slack test's two ports
    const opsPort = port + 1;
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SPAWNBOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "spawnbot-main-")),
        SPAWNBOT_ADAPTER: "discord", DISCORD_TOKEN: fake.token, DISCORD_APP_ID: fake.appId, DISCORD_API_URL: fake.restApi,
        SPAWNBOT_DISCORD_TRANSPORT: "http", SPAWNBOT_DISCORD_PUBLIC_KEY: fake.publicKeyHex,
        SPAWNBOT_PUBLIC_URL: `http://127.0.0.1:${port}`, SPAWNBOT_GATEWAY_PORT: String(port), SPAWNBOT_OPS_PORT: String(opsPort),
      },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let ready = 0;
      while (Date.now() < deadline && ready !== 200) {
        ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`).then((r) => r.status, () => 0);
        if (ready !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(ready, stderr).toBe(200);
      await fake.setInteractionsEndpoint(`http://127.0.0.1:${port}/discord/interactions`);
      const ref = fake.chatInput({ user: { id: "400000000000000031", username: "alice" }, name: "spawn", subcommand: "agents" });
      await fake.waitFor(() => JSON.stringify(fake.webhookMessages(ref.token)).includes("openclaw"), 10_000, "the agents list");
      expect(fake.httpDeliveries).toEqual([expect.objectContaining({ status: 200, accepted: true })]);
      expect(fake.identifiedIntents).toBeNull(); // no gateway session was opened
      child.kill("SIGTERM");
      expect(await exited, stderr).toBe(0);
      expect(stderr).not.toContain(fake.token);
    } finally {
      child.kill("SIGKILL");
      await fake.close();
    }
  });
});

describe("one bot per data dir", () => {
  const LEASE_TTL_S = 15; // short for the test, long enough that a loaded machine's slow start-up does not let it lapse
  const env = (dataDir: string) => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", SPAWNBOT_DATA_DIR: dataDir, SPAWNBOT_LEASE_TTL: `${LEASE_TTL_S}s` });
  const second = (dataDir: string, input = "list --all\n") => spawnSync(process.execPath, [MAIN], { input, cwd: ROOT, timeout: 60_000, env: env(dataDir) });

  it("refuses a second process with one line naming the holder, and a new one takes over after the killed holder's lease expires", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-lease-"));
    // The first bot waits at the console for input that never comes.
    const first = spawn(process.execPath, [MAIN], { cwd: ROOT, env: env(dataDir), stdio: ["pipe", "ignore", "pipe"] });
    let firstLog = "";
    first.stderr.on("data", (d: Buffer) => (firstLog += d.toString()));
    try {
      const store = openStore(path.join(dataDir, "spawnbot.db"));
      // Past its start-up recovery: what is in flight from now on is the first bot's own.
      const deadline = Date.now() + 30_000;
      while (!firstLog.includes("spawnbot started") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await store.leases.get("data-owner"))?.holder).toContain(`pid ${first.pid}`);
      // A run the first bot has in flight: a second bot must not end it.
      const now = Date.now();
      await store.recordIntent({ id: "0b6c5f3e-1111-4222-8333-444455556666", name: "in-flight", platform: "console", workspace: "local", channel: "console", ownerId: "u", ownerName: "u",
        agent: "codex", cloud: "local", model: null, size: null, zone: null, session: "in-flight", prompt: null, createdAt: now, expiresAt: null });
      await store.updateSpawn("0b6c5f3e-1111-4222-8333-444455556666", { status: "provisioning" });

      const refused = second(dataDir);
      expect(refused.status).toBe(3);
      const lines = refused.stderr.toString().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`another spawnbot holds the data in ${dataDir}: ${os.hostname()} pid ${first.pid}`);
      expect((await store.getSpawn("0b6c5f3e-1111-4222-8333-444455556666"))!.status).toBe("provisioning");
      expect((await store.leases.get("data-owner"))?.holder).toContain(`pid ${first.pid}`);

      first.kill("SIGKILL");
      await new Promise((r) => first.once("exit", r));
      // Killed, its lease runs out LEASE_TTL_S after its last heartbeat; then a new bot takes over.
      await new Promise((r) => setTimeout(r, LEASE_TTL_S * 1000 + 500));
      const takeover = second(dataDir);
      expect(takeover.status, takeover.stderr.toString()).toBe(0);
      expect(takeover.stdout.toString() + takeover.stderr.toString()).toContain("took over the data from a bot that stopped heartbeating");
      // Only the holder runs recovery: now the interrupted run is dealt with.
      expect((await store.getSpawn("0b6c5f3e-1111-4222-8333-444455556666"))!.status).not.toBe("provisioning");
      // An orderly stop gives the lease up: the next start need not wait.
      expect(await store.leases.get("data-owner")).toBeUndefined();
      await store.close();
    } finally {
      first.kill("SIGKILL");
    }
  });
});

describe("the data lease's refusal", () => {
  it("names the holder and says how long until a killed holder's lease expires", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-lease-"));
    const store = openStore(path.join(dataDir, "spawnbot.db"));
    try {
      await store.leases.acquire(DATA_LEASE, "build-01 pid 4242 (abc123)", 30_000);
      let err: unknown;
      try {
        await holdDataLease(store, { dataDir, ttlMs: 30_000, logger: captureLogger(), onLost: () => undefined });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataLeaseHeldError);
      expect((err as Error).message).toMatch(new RegExp(`^another spawnbot holds the data in ${dataDir}: build-01 pid 4242 \\(abc123\\), last heartbeat 0 s ago\\. Stop it first; if it was killed, start again after its lease expires in (29|30) s$`));
      expect((await store.leases.get(DATA_LEASE))?.holder).toBe("build-01 pid 4242 (abc123)");
    } finally {
      await store.close();
    }
  });
});

describe("npm start on PostgreSQL (SPAWNBOT_DATABASE_URL)", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it("keeps what the bot records in the database, not in a SQLite file, and a restarted bot reads it back", async () => {
    const url = await pg.createDatabase();
    const secretKey = randomBytes(32).toString("hex");
    const first = runBot("prefs model codex openai/gpt-5.3-codex\n", { SPAWNBOT_DATABASE_URL: url, SPAWNBOT_SECRET_KEY: secretKey });
    // stderr may warn that OpenRouter's model list is out of reach (no network here), nothing worse.
    expect(first.err).not.toMatch(/cannot start|ERROR|FATAL|crashed/);
    expect(first.code).toBe(0);
    expect(existsSync(path.join(first.dataDir, "spawnbot.db"))).toBe(false);
    const store = await openPgStore(url);
    try {
      expect(await store.listModelPreferences({ platform: "console", userId: os.userInfo().username })).toEqual([{ agent: "codex", model: "openai/gpt-5.3-codex" }]);
      expect(await store.leases.get(DATA_LEASE)).toBeUndefined(); // an orderly stop gives the lease up
    } finally {
      await store.close();
    }
    // Another process (its own data dir) with the bot's secret key is the same bot; without it, it refuses.
    const second = runBot("prefs\n", { SPAWNBOT_DATABASE_URL: url, SPAWNBOT_SECRET_KEY: secretKey });
    expect(second.out).toContain("codex: openai/gpt-5.3-codex");
    const stranger = runBot("prefs\n", { SPAWNBOT_DATABASE_URL: url });
    expect(stranger.code).toBe(2);
    expect(stranger.err.trim()).toMatch(/^spawnbot cannot start: this database's secrets are sealed with another secret key/);
  });

  it("refuses to start with one line when the database cannot be reached, never showing its password", () => {
    const { code, out, err } = runBot("help\n", { SPAWNBOT_DATABASE_URL: "postgres://spawnbot:hunter2-very-secret@127.0.0.1:1/spawnbot" });
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toMatch(/^spawnbot cannot start: the PostgreSQL database of SPAWNBOT_DATABASE_URL cannot be used/);
    expect(err).not.toContain("hunter2-very-secret");
  });
});
