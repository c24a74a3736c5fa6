// Self-test of the Discord fake, driven by a real discord.js Client (and REST for command
// registration): if discord.js accepts every payload and the fake records what discord.js sends,
// the fake is good enough to stand in for Discord in the bot's tests. All traffic is 127.0.0.1.
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  ActionRowBuilder, ButtonBuilder, ButtonStyle, ChannelType, Client, GatewayIntentBits, MessageFlags, ModalBuilder,
  PermissionFlagsBits, REST, Routes, SlashCommandBuilder, TextInputStyle, type Interaction, type TextChannel,
} from "discord.js";
import { startDiscordFake, type DiscordFake } from "./discord-fake.js";

const ALICE = { id: "400000000000000001", username: "alice" };

describe("discord fake against a real discord.js client", () => {
  let fake: DiscordFake;
  let client: Client;
  const seen = new Map<string, Interaction>();
  /** Anything discord.js disliked about a payload would surface here. */
  const clientErrors: unknown[] = [];
  /** The discord.js Interaction built from the INTERACTION_CREATE the fake sent with this id. */
  const delivered = (id: string) => fake.waitFor(() => seen.get(id), 5_000, `interaction ${id} to reach the client`);
  const general = () => client.channels.cache.get(fake.channelId) as TextChannel;

  beforeAll(async () => {
    // A short heartbeat interval so the test sees several beats within a second.
    fake = await startDiscordFake({ heartbeatIntervalMs: 100 });
    fake.addUser(ALICE);
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restApi } });
    client.on("interactionCreate", (i) => void seen.set(i.id, i));
    client.on("error", (e) => void clientErrors.push(e)).on("shardError", (e) => void clientErrors.push(e));
    const ready = once(client, "clientReady");
    await client.login(fake.token);
    await ready;
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
  });


  it("logs in: IDENTIFY with the Guilds intent, READY, then GUILD_CREATE caches guild and channel", () => {
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.appId);
    expect(fake.identifiedIntents).toBe(GatewayIntentBits.Guilds);
    expect(client.guilds.cache.get(fake.guildId)?.name).toBe("spawnbot-test");
    expect(general().type).toBe(ChannelType.GuildText);
    expect(fake.calls.find((c) => c.path === "/gateway/bot")?.status).toBe(200);
  });

  it("refuses a wrong token on REST (login rejects) and on the gateway (close 4004)", async () => {
    const intruder = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restApi } });
    await expect(intruder.login("not-the-token")).rejects.toMatchObject({ code: "TokenInvalid" });
    await intruder.destroy();

    const ws = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
    const [hello] = (await once(ws, "message")) as [Buffer];
    expect(JSON.parse(hello.toString())).toMatchObject({ op: 10, d: { heartbeat_interval: 100 } });
    ws.send(JSON.stringify({ op: 2, d: { token: "not-the-token", intents: 1, properties: {} } }));
    const [code] = (await once(ws, "close")) as [number];
    expect(code).toBe(4004);
  });

  it("stores guild commands registered with REST.put", async () => {
    const spawn = new SlashCommandBuilder().setName("spawn").setDescription("Spawn an agent")
      .addSubcommand((s) => s.setName("run").setDescription("Run a task")
        .addStringOption((o) => o.setName("prompt").setDescription("What to do").setRequired(true).setAutocomplete(true))
        .addIntegerOption((o) => o.setName("count").setDescription("How many")));
    const rest = new REST({ api: fake.restApi }).setToken(fake.token);
    const saved = (await rest.put(Routes.applicationGuildCommands(fake.appId, fake.guildId), { body: [spawn.toJSON()] })) as { id: string }[];
    expect(saved).toEqual(fake.commands(fake.guildId));
    expect(saved[0]).toMatchObject({ name: "spawn", type: 1, application_id: fake.appId, guild_id: fake.guildId });
    expect(fake.commands()).toEqual([]);
    // Overwriting keeps the command's id, as Discord does.
    const again = (await rest.put(Routes.applicationGuildCommands(fake.appId, fake.guildId), { body: [spawn.toJSON()] })) as { id: string }[];
    expect(again[0]!.id).toBe(saved[0]!.id);
  });

  it("delivers a slash command; deferReply(ephemeral) + editReply land in the fake; a second reply is refused", async () => {
    const { id, token } = fake.chatInput({
      user: ALICE, name: "spawn", subcommand: "run", options: { prompt: "fix the bug", count: 2 }, admin: true,
    });
    const i = await delivered(id);
    if (!i.isChatInputCommand()) throw new Error("expected a chat input command");
    expect(i.options.getSubcommand()).toBe("run");
    expect(i.options.getString("prompt")).toBe("fix the bug");
    expect(i.options.getInteger("count")).toBe(2); // typed from the registered command
    expect(i.channel?.id).toBe(fake.channelId); // cached from GUILD_CREATE
    expect(i.inCachedGuild()).toBe(true);
    expect(i.memberPermissions?.has(PermissionFlagsBits.Administrator)).toBe(true);
    expect(i.user.username).toBe("alice");

    await i.deferReply({ flags: MessageFlags.Ephemeral });
    expect(await fake.waitForCallback(id)).toMatchObject({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    const edited = await i.editReply("working on it");
    expect(edited.flags.has(MessageFlags.Ephemeral)).toBe(true);
    const [original] = fake.webhookMessages(token);
    expect(original).toMatchObject({ content: "working on it", ephemeral: true, edits: 1 });
    expect(original!.flags & MessageFlags.Loading).toBe(0);
    expect(fake.channelMessages(fake.channelId).map((m) => m.id)).not.toContain(original!.id);

    // discord.js refuses locally; on the wire the fake answers 40060 like Discord.
    await expect(i.reply("again")).rejects.toMatchObject({ code: "InteractionAlreadyReplied" });
    await expect(client.rest.post(Routes.interactionCallback(id, token), { body: { type: 4, data: { content: "again" } }, auth: false }))
      .rejects.toMatchObject({ status: 400, code: 40060 });

    const followUp = await i.followUp({ content: "done", flags: MessageFlags.Ephemeral });
    expect(fake.webhookMessages(token).map((m) => [m.id, m.content])).toEqual([[original!.id, "working on it"], [followUp.id, "done"]]);
  });

  it("answers a slash command in a DM: reply withResponse, fetchReply, a deleted follow-up", async () => {
    const dm = fake.dmChannel(ALICE.id);
    const { id, token } = fake.chatInput({ user: ALICE, channelId: dm.id, name: "spawn" });
    const i = await delivered(id);
    if (!i.isChatInputCommand()) throw new Error("expected a chat input command");
    expect(i.guildId).toBeNull();
    expect(i.user.id).toBe(ALICE.id);
    const response = await i.reply({ content: "hi in DM", withResponse: true }); // ?with_response=true -> 200 body
    expect(response.interaction.id).toBe(id);
    expect(response.resource?.message?.content).toBe("hi in DM");
    expect((await i.fetchReply()).id).toBe(response.resource?.message?.id);
    expect(fake.webhookMessages(token)[0]).toMatchObject({ channelId: dm.id, content: "hi in DM", ephemeral: false });
    const extra = await i.followUp("one more");
    await i.deleteReply(extra);
    expect(fake.webhookMessages(token).map((m) => m.content)).toEqual(["hi in DM"]);
  });

  it("sends, edits and threads channel messages and DMs through the client's REST", async () => {
    const channel = await client.channels.fetch(fake.channelId, { force: true });
    expect(fake.calls.some((c) => c.method === "GET" && c.path === `/channels/${fake.channelId}`)).toBe(true);
    if (channel?.type !== ChannelType.GuildText) throw new Error("expected a text channel");

    const msg = await channel.send("hello");
    await msg.edit("hello, edited");
    const thread = await msg.startThread({ name: "agent run" });
    expect(thread.id).toBe(msg.id); // a thread from a message takes the message's id
    expect(thread.type).toBe(ChannelType.PublicThread);
    expect(thread.parentId).toBe(fake.channelId);
    await thread.send("in the thread");

    expect(fake.channelMessages(fake.channelId).find((m) => m.id === msg.id)).toMatchObject({ content: "hello, edited", edits: 1 });
    expect(fake.threads).toEqual([expect.objectContaining({ id: msg.id, parentId: fake.channelId, name: "agent run", starterMessageId: msg.id })]);
    expect(fake.channelMessages(thread.id).map((m) => m.content)).toEqual(["in the thread"]);
    await expect(msg.startThread({ name: "twice" })).rejects.toMatchObject({ code: 160004 });

    const alice = await client.users.fetch(ALICE.id);
    await alice.send("psst");
    // The DM already holds the reply to the DM slash command of the previous test.
    expect(fake.dms(ALICE.id).map((m) => m.content)).toEqual(["hi in DM", "psst"]);
    expect((await client.users.createDM(ALICE.id, { force: true })).id).toBe(fake.dmChannel(ALICE.id).id);
  });

  it("delivers button, modal submit and autocomplete interactions and records their answers", async () => {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId("stop:1").setLabel("Stop").setStyle(ButtonStyle.Danger));
    const posted = await general().send({ content: "Agent ready", components: [row] });

    const click = fake.button({ user: ALICE, messageId: posted.id, customId: "stop:1" });
    const b = await delivered(click.id);
    if (!b.isButton()) throw new Error("expected a button");
    expect(b.customId).toBe("stop:1");
    expect(b.message.id).toBe(posted.id);
    await b.showModal(new ModalBuilder().setCustomId("confirm:1").setTitle("Stop the agent?")
      .addLabelComponents((l) => l.setLabel("Why").setTextInputComponent((t) => t.setCustomId("reason").setStyle(TextInputStyle.Short))));
    expect(await fake.waitForCallback(click.id)).toMatchObject({ type: 9, data: { custom_id: "confirm:1" } });

    const submit = fake.modalSubmit({ user: ALICE, customId: "confirm:1", fields: { reason: "done here" }, messageId: posted.id });
    const s = await delivered(submit.id);
    if (!s.isModalSubmit() || !s.isFromMessage()) throw new Error("expected a modal submit from a message");
    expect(s.fields.getTextInputValue("reason")).toBe("done here");
    await s.update({ content: "Agent stopped", components: [] }); // callback 7 edits the button's message
    expect(fake.callbacks.get(submit.id)?.type).toBe(7);
    expect(fake.message(posted.id)).toMatchObject({ content: "Agent stopped", components: [], edits: 1 });

    const typing = fake.autocomplete({ user: ALICE, name: "spawn", subcommand: "run", focused: "prompt", value: "fi" });
    const a = await delivered(typing.id);
    if (!a.isAutocomplete()) throw new Error("expected autocomplete");
    expect(a.options.getFocused(true)).toMatchObject({ name: "prompt", value: "fi" });
    await a.respond([{ name: "fix the bug", value: "fix" }]);
    expect(await fake.waitForCallback(typing.id)).toMatchObject({ type: 8, data: { choices: [{ name: "fix the bug", value: "fix" }] } });
  });

  it("rate limits: a 429 is Discord's RatelimitedResponse with a whole-second Retry-After", async () => {
    const route = `POST /channels/${fake.channelId}/messages`;
    const post = () => fetch(`${fake.restApi}/v10/channels/${fake.channelId}/messages`, {
      method: "POST", headers: { authorization: `Bot ${fake.token}`, "content-type": "application/json" }, body: JSON.stringify({ content: "raw" }),
    });
    fake.rateLimitNext(route, 0.4);
    const perRoute = await post();
    expect(perRoute.status).toBe(429);
    expect(await perRoute.json()).toEqual({ message: "You are being rate limited.", retry_after: 0.4, global: false, code: 0 });
    expect(perRoute.headers.get("retry-after")).toBe("1");
    expect(perRoute.headers.get("x-ratelimit-scope")).toBe("user");
    expect(perRoute.headers.get("x-ratelimit-reset-after")).toBe("0.400");
    expect(perRoute.headers.get("x-ratelimit-global")).toBeNull();

    fake.rateLimitNext(route, 2.25, 1, { global: true });
    const global = await post();
    expect(await global.json()).toEqual({ message: "You are being rate limited.", retry_after: 2.25, global: true, code: 0 });
    expect(global.headers.get("retry-after")).toBe("3");
    expect(global.headers.get("x-ratelimit-global")).toBe("true");
    expect(global.headers.get("x-ratelimit-bucket")).toBeNull();
  });

  it("rate limits: discord.js waits out a global 429 for the whole seconds of its Retry-After", async () => {
    const route = `POST /channels/${fake.channelId}/messages`;
    fake.rateLimitNext(route, 0.3, 1, { global: true });
    const t0 = Date.now();
    const msg = await general().send("after a global 429");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // the header's 1 s, not the body's 0.3
    expect(fake.message(msg.id)?.content).toBe("after a global 429");
  });

  it("rate limits: one 429 is waited out by discord.js; delayNext holds an answer back", async () => {
    const route = `POST /channels/${fake.channelId}/messages`;
    fake.rateLimitNext(route, 0.4);
    const limitedBefore = fake.count429;
    const t0 = Date.now();
    const msg = await general().send("after a 429");
    const waited = Date.now() - t0;
    // The bucket is spent (remaining 0), so discord.js waits for its X-RateLimit-Reset-After.
    expect(waited).toBeGreaterThanOrEqual(380);
    expect(waited).toBeLessThan(3_000);
    expect(fake.count429 - limitedBefore).toBe(1);
    expect(fake.calls.filter((c) => `${c.method} ${c.path}` === route).slice(-2).map((c) => c.status)).toEqual([429, 200]);
    expect(fake.message(msg.id)?.content).toBe("after a 429");

    fake.delayNext("PATCH /channels/", 300);
    const t1 = Date.now();
    await msg.edit("slow edit");
    expect(Date.now() - t1).toBeGreaterThanOrEqual(280);
  });

  it("answers raw HTTP like Discord: rate-limit headers, 401 without the bot token, 404 for unknown routes", async () => {
    const ok = await fetch(`${fake.restApi}/v10/users/@me`, { headers: { Authorization: `Bot ${fake.token}` } });
    expect(ok.status).toBe(200);
    for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-reset-after", "x-ratelimit-bucket"])
      expect(ok.headers.get(h)).toBeTruthy();
    const noAuth = await fetch(`${fake.restApi}/v10/channels/${fake.channelId}`);
    expect([noAuth.status, await noAuth.json()]).toEqual([401, { message: "401: Unauthorized", code: 0 }]);
    const nowhere = await fetch(`${fake.restApi}/v10/nowhere`, { headers: { Authorization: `Bot ${fake.token}` } });
    expect([nowhere.status, await nowhere.json()]).toEqual([404, { message: "404: Not Found", code: 0 }]);
  });

  it("blockChannel makes channel calls fail with 403 Missing Access", async () => {
    fake.blockChannel(fake.channelId);
    await expect(general().send("blocked")).rejects.toMatchObject({ status: 403, code: 50001 });
    fake.unblockChannel(fake.channelId);
  });

  it("expired interaction tokens: editReply fails with 50027 while bot-token edits still work", async () => {
    const { id } = fake.chatInput({ user: ALICE, name: "spawn", subcommand: "run", options: { prompt: "slow job" } });
    const i = await delivered(id);
    if (!i.isChatInputCommand()) throw new Error("expected a chat input command");
    await i.deferReply();
    const status = await general().send("status: running");
    fake.expireInteractionTokens();
    await expect(i.editReply("finished")).rejects.toMatchObject({ status: 401, code: 50027 });
    await status.edit("status: finished");
    expect(fake.message(status.id)).toMatchObject({ content: "status: finished", edits: 1 });
  });

  it("ACKs heartbeats, and a RECONNECT leads to RESUME -> RESUMED after which interactions still arrive", async () => {
    await fake.waitFor(() => fake.heartbeatAcks >= 2, 3_000, "two heartbeat ACKs");
    expect(client.ws.ping).toBeGreaterThanOrEqual(0);

    fake.requestReconnect();
    await fake.waitFor(() => fake.resumes === 1, 5_000, "the client to resume");
    const { id } = fake.chatInput({ user: ALICE, name: "spawn", subcommand: "run", options: { prompt: "after resume" } });
    const i = await delivered(id);
    if (!i.isChatInputCommand()) throw new Error("expected a chat input command");
    await i.reply({ content: "still here" });
    expect((await fake.waitForCallback(id)).type).toBe(4);
    expect(fake.internalErrors).toEqual([]);
    expect(clientErrors).toEqual([]);
  });
});

describe("discord fake: privileged intents", () => {
  it("closes IDENTIFY with 4014 when it asks for an intent not enabled in the portal", async () => {
    const fake = await startDiscordFake({ privilegedIntents: 0 });
    const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.MessageContent], rest: { api: fake.restApi } });
    try {
      await expect(client.login(fake.token)).rejects.toThrow(/disallowed intents/i);
      expect(fake.identifiedIntents).toBeNull();
    } finally {
      await client.destroy();
      await fake.close();
    }
  });
});
