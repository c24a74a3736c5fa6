// The adapter contract (test/contracts/adapter-contract.ts) on the three adapters, each through its
// real transport: the console over its input and output streams, Slack with real Bolt against the
// wire-level fake Slack (signed HTTP), Discord with discord.js against the fake gateway and REST,
// and Discord again over its HTTP transport (signed POSTs to the bot's public server).
// Spawns go to the local cloud, in a home of their own.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { ConsoleAdapter } from "../src/adapters/console/index.js";
import { DiscordAdapter } from "../src/adapters/discord/index.js";
import { registerCommands } from "../src/adapters/discord/register.js";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import { startPublicServer } from "../src/public-server.js";
import { describeAdapterContract, type AdapterDriver } from "./contracts/adapter-contract.js";
import { startDiscordFake } from "./fakes/discord-fake.js";
import { SLACK_FAKE_DEFAULTS as D, signedPost, slashCommandBody, startSlackFake } from "./fakes/slack-fake.js";
import { makeBot, type TestBot } from "./support/bot.js";
import { captureLogger, captureSecret } from "./support/capture.js";

const SIGNING_SECRET = "abcdef0123456789abcdef0123456789";
captureSecret(SIGNING_SECRET);
const QUIET_MS = 200; // an adapter is settled when nothing new was sent for this long
const SETTLE_LIMIT_MS = 30_000;

function localBot(): TestBot {
  return makeBot({ localHome: mkdtempSync(path.join(os.tmpdir(), "spawnbot-contract-home-")) });
}

/** Wait until the bot and the adapter are idle and nothing new appeared for QUIET_MS. */
async function quiet(bot: TestBot, snapshot: () => string, adapterIdle: () => Promise<void> = async () => undefined): Promise<void> {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  let last = "";
  for (;;) {
    await bot.core.idle();
    await adapterIdle();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const now = snapshot();
    if (now === last || Date.now() > deadline) return;
    last = now;
  }
}

describeAdapterContract("console", async () => {
  const bot = localBot();
  const input = new PassThrough();
  const output = new PassThrough();
  let out = "";
  output.on("data", (d: Buffer) => (out += d.toString()));
  const adapter = new ConsoleAdapter({ core: bot.core, input, output, interactive: false, user: { id: "U1", name: "alice" } });
  const running = adapter.run();
  const type = async (line: string) => void input.write(`${line}\n`);
  let name = "";
  return {
    platform: "console", bot, shared: false,
    spawn: (n) => type(`spawn testagent local --name ${(name = n)}`),
    list: () => type("list"),
    connect: () => type(`connect ${name}`),
    delete: () => type(`delete ${name}`),
    refused: () => type("connect nosuch-spawn"),
    publicText: () => out,
    privateText: () => out,
    posts: () => out.split("\n").slice(0, -1).map((text, i) => ({ id: `line ${i}`, text })), // each printed line, once complete
    settle: () => quiet(bot, () => out),
    close: async () => { input.end(); await running; },
  } satisfies AdapterDriver;
});

describeAdapterContract("Slack (HTTP mode)", async () => {
  const bot = localBot();
  const fake = await startSlackFake();
  const slack = new SlackAdapter(bot.core, { botToken: fake.botToken, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl, port: 0 }, captureLogger());
  await slack.start();
  const url = `http://127.0.0.1:${slack.port}/slack/events`;
  const mine = new Set<string>(); // the response_urls minted for the requester's commands
  const command = async (text: string) => {
    const responseUrl = fake.responseUrl();
    mine.add(responseUrl.slice(responseUrl.lastIndexOf("/") + 1));
    const res = await signedPost(url, slashCommandBody({ text, response_url: responseUrl }), "application/x-www-form-urlencoded", SIGNING_SECRET);
    if (res.status !== 200) throw new Error(`Slack answered ${res.status}`);
  };
  const privateText = () => JSON.stringify([fake.ephemerals.filter((e) => e.user === D.userId), fake.responses.filter((r) => mine.has(r.id)).map((r) => r.body), fake.dms(D.userId)]);
  const publicText = () => JSON.stringify(fake.messages(D.channelId));
  const posts = () => [
    ...[...fake.messages(D.channelId), ...fake.dms(D.userId)].map((m) => ({ id: `${m.channel}/${m.ts}`, text: JSON.stringify([m.text, m.blocks]) })),
    ...fake.ephemerals.map((e, i) => ({ id: `ephemeral ${i}`, text: JSON.stringify([e.text, e.blocks]) })),
    ...fake.responses.map((r, i) => ({ id: `response ${i}`, text: JSON.stringify(r.body) })),
  ];
  let name = "";
  return {
    platform: "slack", bot, shared: true,
    spawn: (n) => command(`spawn testagent local --name ${(name = n)}`),
    list: () => command("list"),
    connect: () => command(`connect ${name}`),
    delete: () => command(`delete ${name}`),
    refused: () => command("connect nosuch-spawn"),
    publicText, privateText, posts,
    settle: () => quiet(bot, () => privateText() + publicText(), () => slack.idle()),
    close: async () => { await slack.stop(2000); await fake.close(); },
  } satisfies AdapterDriver;
});

for (const transport of ["gateway", "http"] as const) describeAdapterContract(transport === "gateway" ? "Discord (gateway)" : "Discord (HTTP interactions)", async () => {
  const bot = localBot();
  const fake = await startDiscordFake();
  const alice = { id: "400000000000000011", username: "alice" };
  const agents = bot.orchestrator.agents.map((a) => ({ key: a.key, name: a.name }));
  await registerCommands({ token: fake.token, appId: fake.appId, apiUrl: fake.restApi, guildId: fake.guildId, agents });
  const logger = captureLogger();
  const discord = new DiscordAdapter(bot.core, { token: fake.token, appId: fake.appId, apiUrl: fake.restApi, transport, publicKey: fake.publicKeyHex }, logger);
  const server = transport === "http" ? await startPublicServer(bot.core, { port: 0, host: "127.0.0.1" }, logger, [discord.interactionsRoute!]) : undefined;
  await discord.start();
  if (server) await fake.setInteractionsEndpoint(`http://127.0.0.1:${server.port}/discord/interactions`);
  const tokens: string[] = [];
  const command = async (subcommand: string, options: Record<string, string> = {}) => {
    tokens.push(fake.chatInput({ user: alice, name: "spawn", subcommand, options }).token);
  };
  const privateText = () => JSON.stringify([tokens.map((t) => fake.webhookMessages(t)), fake.dms(alice.id)]);
  const publicText = () => JSON.stringify([fake.channelMessages(fake.channelId), ...fake.threads.map((t) => fake.channelMessages(t.id))]);
  const posts = () => {
    const all = [fake.channelMessages(fake.channelId), ...fake.threads.map((t) => fake.channelMessages(t.id)), ...tokens.map((t) => fake.webhookMessages(t)), fake.dms(alice.id)].flat();
    return [...new Map(all.map((m) => [m.id, { id: m.id, text: JSON.stringify([m.content, m.embeds]) }])).values()];
  };
  let name = "";
  return {
    platform: "discord", bot, shared: true,
    spawn: (n) => command("spawn", { agent: "testagent", cloud: "local", name: (name = n) }),
    list: () => command("list"),
    connect: () => command("connect", { target: name }),
    delete: () => command("delete", { target: name }),
    refused: () => command("connect", { target: "nosuch-spawn" }),
    publicText, privateText, posts,
    settle: () => quiet(bot, () => privateText() + publicText(), async () => { await fake.httpIdle(); await discord.idle(); }),
    close: async () => { await discord.stop(2000); await server?.close(); await fake.close(); },
  } satisfies AdapterDriver;
});
