// A spawn's dashboard token (the secret in its dashboard URL) is kept sealed in the store: the
// database file never holds it in clear, the connect details still carry it, and a token an older
// version stored in clear keeps working and is sealed at start-up.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ConnectView } from "../src/bot/views/views.js";
import type { AgentSpec } from "../src/orchestrator/index.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { TEST_AGENT } from "./support/test-agent.js";

/** The test agent with a token-protected dashboard, like OpenClaw's `/?token=…`. */
const DASH_AGENT: AgentSpec = {
  ...TEST_AGENT, key: "dashagent", name: "Dashboard Agent",
  configFiles: [{ path: ".dashagent/auth.json", mode: 0o600, content: '{ "token": "{token}" }\n' }],
  dashboard: { port: 18789, path: "/?token={token}" },
};
const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-dashtoken-home-"));
const names = [`dt-${Math.random().toString(36).slice(2, 8)}`];

afterAll(() => {
  for (const n of names) spawnSync("tmux", ["kill-session", "-t", `=${n}`]);
});

/** Every byte of the store's files on disk. */
const dbBytes = (bot: TestBot) => readdirSync(bot.dataDir).filter((f) => f.startsWith("spawnbot.db"))
  .map((f) => readFileSync(path.join(bot.dataDir, f)).toString("latin1")).join("");

async function connect(bot: TestBot, name: string): Promise<ConnectView> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(`connect ${name}`), conv);
  return conv.lastPrivate() as ConnectView;
}

describe("dashboard tokens at rest", () => {
  it("are stored sealed: the database file never holds the token, and connect still gives the working URL", async () => {
    const bot = makeBot({ localHome: home, agents: [DASH_AGENT] });
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn dashagent local --name ${names[0]}`), conv);
    await bot.core.idle();
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
    const first = conv.private.find((v) => v.kind === "connect") as ConnectView;
    const token = /token=([0-9a-f]{32})$/.exec(first.dashboardUrl ?? "")?.[1];
    expect(token, JSON.stringify(first)).toBeDefined();
    // The host's config has it (the agent needs it); the store only sealed.
    expect(readFileSync(path.join(home, ".dashagent/auth.json"), "utf8")).toContain(token!);
    const rec = (await bot.store.findSpawn(names[0]!, { platform: "test" }))!;
    expect(Object.keys(rec.meta)).toEqual(["dashboardTokenSealed"]);
    expect(rec.meta.dashboardTokenSealed).toMatch(/^v1:/);
    expect((await connect(bot, names[0]!)).dashboardUrl).toBe(`http://localhost:18789/?token=${token}`);
    expect(dbBytes(bot)).not.toContain(token!);
    await bot.store.close();
  }, 60_000);

  it("keeps a token an older version stored in clear working, sealed at start-up and gone from the file", async () => {
    const first = makeBot({ localHome: home, agents: [DASH_AGENT] });
    const legacyToken = "5eed".repeat(8);
    const made = await first.store.recordIntent({
      id: crypto.randomUUID(), name: "legacy-dash", platform: "test", workspace: "W1", channel: "C1", ownerId: "U1", ownerName: "alice",
      agent: "dashagent", cloud: "local", model: null, size: null, zone: null, session: "legacy-dash", prompt: null,
      createdAt: Date.now(), expiresAt: null,
    });
    await first.store.updateSpawn(made.id, { status: "ready", address: "localhost", sshUser: "u", serverId: "local", meta: { dashboardToken: legacyToken } });
    await first.store.close();
    expect(dbBytes(first)).toContain(legacyToken); // what an older version left on disk

    // A restart: the start-up pass seals it.
    const bot = makeBot({ localHome: home, agents: [DASH_AGENT], dataDir: first.dataDir });
    await bot.core.recover({ startUp: true });
    expect(Object.keys((await bot.store.getSpawn(made.id))!.meta)).toEqual(["dashboardTokenSealed"]);
    expect((await connect(bot, "legacy-dash")).dashboardUrl).toBe(`http://localhost:18789/?token=${legacyToken}`);
    await bot.store.close(); // the last connection checkpoints the WAL into the file
    expect(dbBytes(bot)).not.toContain(legacyToken);
  });
});
