// The Slack and Discord outlets, with real Bolt and discord.js against their wire-level fakes: an
// expiry reminder reaches the owner as a DM, and the spawn's status message (posted by its run)
// is edited to say it was deleted when it expires.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../src/adapters/discord/index.js";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import { createLogger } from "../src/log.js";
import { startDiscordFake, type DiscordFake } from "./fakes/discord-fake.js";
import { SLACK_FAKE_DEFAULTS as D, startSlackFake, type SlackFake } from "./fakes/slack-fake.js";
import type { TestBot } from "./support/bot.js";
import { botLabels, bootBot, readySpawn, startFakes, type Fakes } from "./support/upkeep.js";

const silent = createLogger({ level: "silent", format: "json" });
const SETTINGS = { reminderMs: 3_600_000 };
const T0 = Date.now();

let clouds: Fakes;
let bot: TestBot;

beforeEach(async () => {
  clouds = await startFakes();
  bot = bootBot(clouds);
});

afterEach(async () => {
  await bot.store.close();
  await clouds.close();
});

/** A ready spawn on Hetzner asked for in a chat, expiring in 20 minutes. */
async function spawnFrom(where: { platform: string; workspace: string; channel: string; ownerId: string; ownerName: string }) {
  const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null, expiresAt: T0 + 20 * 60_000, now: T0, where, name: "chatty" });
  return bot.store.updateSpawn(rec.id, { serverId: String(clouds.hetzner.addServer(rec.name, botLabels(rec.id))) });
}

describe("Slack outlet", () => {
  let fake: SlackFake;
  let slack: SlackAdapter;

  beforeEach(async () => {
    fake = await startSlackFake();
    slack = new SlackAdapter(bot.core, { botToken: fake.botToken, signingSecret: "0123456789abcdef0123456789abcdef", apiUrl: fake.apiUrl, port: 0 }, silent);
    await slack.start();
  });

  afterEach(async () => {
    await slack.stop(2000);
    await fake.close();
  });

  it("DMs the owner a reminder and edits the spawn's status message when it expires", async () => {
    const rec = await spawnFrom({ platform: "slack", workspace: D.teamId, channel: D.channelId, ownerId: D.userId, ownerName: D.userName });
    // The run posted the status message (as chat.postMessage) and kept where it is.
    const posted = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: "POST", headers: { authorization: `Bearer ${fake.botToken}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: D.channelId, text: "alice spawned Test Agent on Hetzner" }),
    }).then((r) => r.json() as Promise<{ ts: string }>);
    await bot.core.messageRefs("slack").save(rec.id, { team: D.teamId, channel: D.channelId, ts: posted.ts });

    await bot.core.sweepExpiry(SETTINGS, T0);
    expect(fake.dms(D.userId).map((m) => m.text)).toEqual([expect.stringContaining("chatty expires in 20m")]);
    expect(JSON.stringify(fake.messages(D.channelId))).not.toContain("expires in"); // private: nothing in the channel

    await bot.core.sweepExpiry(SETTINGS, T0 + 20 * 60_000);
    const root = fake.messages(D.channelId).find((m) => m.ts === posted.ts)!;
    expect(root.edits).toBe(1);
    expect(JSON.stringify(root)).toContain("chatty was deleted");
    expect(fake.dms(D.userId).map((m) => m.text)).toEqual([expect.stringContaining("expires in"), expect.stringContaining("chatty expired and was deleted")]);
    expect(clouds.hetzner.servers()).toEqual([]);
  });
});

describe("Discord outlet", () => {
  let fake: DiscordFake;
  let discord: DiscordAdapter;

  beforeEach(async () => {
    fake = await startDiscordFake();
    discord = new DiscordAdapter(bot.core, { token: fake.token, appId: fake.appId, apiUrl: fake.restApi }, silent);
    await discord.start();
  });

  afterEach(async () => {
    await discord.stop(2000);
    await fake.close();
  });

  it("DMs the owner a reminder and edits the spawn's status message when it expires", async () => {
    const alice = { id: "400000000000000001", username: "alice" };
    fake.addUser(alice);
    const rec = await spawnFrom({ platform: "discord", workspace: fake.guildId, channel: fake.channelId, ownerId: alice.id, ownerName: alice.username });
    const posted = await fetch(`${fake.restApi}/v10/channels/${fake.channelId}/messages`, {
      method: "POST", headers: { authorization: `Bot ${fake.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "alice spawned Test Agent on Hetzner" }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    await bot.core.messageRefs("discord").save(rec.id, { channel: fake.channelId, message: posted.id });

    await bot.core.sweepExpiry(SETTINGS, T0);
    expect(JSON.stringify(fake.dms(alice.id))).toContain("chatty expires in 20m");
    expect(JSON.stringify(fake.channelMessages(fake.channelId))).not.toContain("expires in");

    await bot.core.sweepExpiry(SETTINGS, T0 + 20 * 60_000);
    const root = fake.message(posted.id)!;
    expect(root.edits).toBe(1);
    expect(JSON.stringify(root.embeds)).toContain("chatty was deleted");
    expect(JSON.stringify(fake.dms(alice.id))).toContain("chatty expired and was deleted");
    expect(clouds.hetzner.servers()).toEqual([]);
  });
});
