// The Discord adapter over the HTTP transport: interactions POSTed by the fake Discord to the
// bot's public server at /discord/interactions, signed with the application's Ed25519 key, as
// Discord does for an app with an Interactions Endpoint URL. The URL is saved only after it answers
// a PING and refuses a bad signature; a forged, stale or foreign signature gets 401 and acts on
// nothing; each interaction's first answer is the HTTP response (no callback by REST), and the
// same handlers as the gateway's serve commands, buttons, autocomplete and forms. Spawns run on
// the real test sshd, as in test/discord.test.ts.
import { generateKeyPairSync } from "node:crypto";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordAdapter } from "../src/adapters/discord/index.js";
import { registerCommands } from "../src/adapters/discord/register.js";
import { startPublicServer } from "../src/public-server.js";
import { startDiscordFake, type CommandOpts, type DiscordFake, type InteractionRef } from "./fakes/discord-fake.js";
import type { PostResult } from "./fakes/discord-interactions-http.js";
import { authorizeUsers, makeBot, type TestBot } from "./support/bot.js";
import { captureLogger } from "./support/capture.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { until } from "./support/until.js";

const USER = "sbt-dischttp";
const ALICE = { id: "400000000000000021", username: "alice" };
const EPHEMERAL = 64;
const SKEW_S = 6 * 60; // past the 5 minutes a signed request may be old (or early)

let sshd: TestSshd;
let fake: DiscordFake;
let bot: TestBot;
let discord: DiscordAdapter;
let server: { port: number; close(): Promise<void> };
let beforeStart: PostResult;
const logger = captureLogger();

const command = (subcommand: string, options: CommandOpts["options"] = {}, deliver = true): InteractionRef =>
  fake.chatInput({ user: ALICE, name: "spawn", subcommand, options }, deliver);
const sshSpawn = (name: string) => ({ agent: "testagent", cloud: "ssh", host: `${USER}@127.0.0.1:${sshd.port}`, name });
const spawnsNamed = async (name: string) => (await bot.store.listForOwner({ platform: "discord", userId: ALICE.id }, { limit: 100 })).filter((s) => s.name === name);
const statusMessage = (name: string) => fake.channelMessages(fake.channelId).find((m) => m.embeds[0]?.author?.name === name);
const answersTo = (ref: InteractionRef) => JSON.stringify(fake.webhookMessages(ref.token));
const deliveriesOf = (ref: InteractionRef) => fake.httpDeliveries.filter((d) => d.interactionId === ref.id);
/** Callbacks the bot sent by REST instead of in the HTTP response. */
const restCallbacks = () => fake.calls.filter((c) => c.path.startsWith("/interactions/"));

async function settled(name: string): Promise<string> {
  const rec = await until(`the spawn ${name}`, async () => (await spawnsNamed(name))[0]);
  await until(`${name}'s run to end`, async () => ["ready", "failed"].includes((await bot.store.getSpawn(rec.id))!.status), 30_000);
  await bot.core.idle();
  await discord.idle();
  await fake.httpIdle();
  return rec.id;
}

beforeAll(async () => {
  sshd = await startSshd(USER);
  fake = await startDiscordFake();
  bot = makeBot();
  await authorizeUsers(sshd, bot.core, "discord", [ALICE.id]);
  const agents = bot.orchestrator.agents.map((a) => ({ key: a.key, name: a.name }));
  await registerCommands({ token: fake.token, appId: fake.appId, apiUrl: fake.restApi, guildId: fake.guildId, agents });
  discord = new DiscordAdapter(bot.core, { token: fake.token, appId: fake.appId, apiUrl: fake.restApi, transport: "http", publicKey: fake.publicKeyHex }, logger);
  server = await startPublicServer(bot.core, { port: 0, host: "127.0.0.1" }, logger, [discord.interactionsRoute!]);
  // Discord checks the URL when it is saved: a PING, and a badly signed request.
  await fake.setInteractionsEndpoint(`http://127.0.0.1:${server.port}/discord/interactions`);
  beforeStart = await fake.postToEndpoint(fake.payloadOf(command("list", {}, false).id));
  await discord.start();
});

afterAll(async () => {
  await discord?.stop(2000);
  await server?.close();
  await fake?.close();
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("the Interactions Endpoint URL", () => {
  it("answers Discord's PING with a PONG, so the Developer Portal saves it", async () => {
    const ping = { id: "900000000000000001", application_id: fake.appId, type: 1, version: 1, token: "ping-token" };
    expect(await fake.postToEndpoint(ping)).toEqual({ status: 200, body: { type: 1 } });
  });

  it("takes no interaction before the adapter is started", () => {
    expect(beforeStart.status).toBe(503);
  });

  it("serves nothing but POST", async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/discord/interactions`);
    expect(res.status).toBe(405);
  });
});

describe("signatures", () => {
  /** A list command that was never delivered, posted with `opts`; the bot must act on none of them. */
  async function refused(opts: Parameters<DiscordFake["postToEndpoint"]>[1]): Promise<PostResult> {
    const ref = command("list", {}, false);
    const res = await fake.postToEndpoint(fake.payloadOf(ref.id), opts);
    await discord.idle();
    expect(fake.callbacks.has(ref.id)).toBe(false);
    expect(fake.webhookMessages(ref.token)).toEqual([]);
    return res;
  }

  it("refuses a forged signature, or none, with 401", async () => {
    expect(await refused({ corrupt: true })).toMatchObject({ status: 401, body: { message: "invalid request signature" } });
    expect((await refused({ unsigned: true })).status).toBe(401);
  });

  it("refuses a request signed with another key with 401", async () => {
    expect((await refused({ key: generateKeyPairSync("ed25519").privateKey })).status).toBe(401);
  });

  it("refuses a correctly signed request more than 5 minutes old, or early, with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await refused({ timestamp: now - SKEW_S })).status).toBe(401);
    expect((await refused({ timestamp: now + SKEW_S })).status).toBe(401);
  });

  it("refuses a body changed after signing: the signature covers the raw bytes", async () => {
    const tamper = (body: string) => {
      const changed = body.replace('"name":"list"', '"name":"help"');
      expect(changed).not.toBe(body);
      return changed;
    };
    expect((await refused({ tamper })).status).toBe(401);
  });
});

describe("a spawn over the HTTP transport, end to end on the real sshd", () => {
  let ref: InteractionRef;
  let spawnId: string;

  beforeAll(async () => {
    ref = command("spawn", sshSpawn("dhttp-e2e"));
    spawnId = await settled("dhttp-e2e");
  });

  it("answers the command with a private deferred reply in the HTTP response, not by REST", () => {
    expect(deliveriesOf(ref)).toEqual([expect.objectContaining({ status: 200, accepted: true, body: { type: 5, data: { flags: EPHEMERAL } } })]);
    expect(restCallbacks()).toEqual([]);
  });

  it("reaches ready, with the agent in a live tmux session", async () => {
    expect((await bot.store.getSpawn(spawnId))!.status).toBe("ready");
    expect(spawnSync("su", ["-", USER, "-c", "tmux has-session -t =dhttp-e2e"]).status).toBe(0);
  });

  it("keeps one status message in the channel and gives the connect details only to the requester", async () => {
    await until("the final status", () => statusMessage("dhttp-e2e")?.embeds[0]?.description?.includes("dhttp-e2e is ready"));
    expect(fake.channelMessages(fake.channelId).filter((m) => m.embeds[0]?.author?.name === "dhttp-e2e")).toHaveLength(1);
    expect(answersTo(ref)).toContain("tmux attach -t 'dhttp-e2e'");
    expect(fake.webhookMessages(ref.token).every((m) => m.ephemeral)).toBe(true);
    expect(JSON.stringify(fake.channelMessages(fake.channelId))).not.toContain("tmux attach");
  });

  it("serves a button on the status message through the same handler", async () => {
    const click = fake.button({ user: ALICE, messageId: statusMessage("dhttp-e2e")!.id, customId: `spawn:connect:${spawnId}` });
    await until("the connect details", () => answersTo(click).includes("tmux attach -t 'dhttp-e2e'"));
    expect(deliveriesOf(click)[0]).toMatchObject({ accepted: true, body: { type: 5 } });
  });

  it("answers autocomplete with its choices as the response", async () => {
    const typing = fake.autocomplete({ user: ALICE, name: "spawn", subcommand: "status", focused: "target", value: "dhttp" });
    const answer = await fake.waitForCallback(typing.id);
    expect(answer.type).toBe(8);
    expect(answer.data!.choices).toEqual([expect.objectContaining({ value: spawnId })]);
  });
});

describe("settings over HTTP", () => {
  it("opens the modal as the response, and answers its submit privately", async () => {
    const open = command("settings");
    expect(await fake.waitForCallback(open.id)).toMatchObject({ type: 9, data: { custom_id: "spawn:settings" } });
    const submit = fake.modalSubmit({ user: ALICE, customId: "spawn:settings", fields: { api_key: "", add_key: "", models: "not a line" } });
    expect(await fake.waitForCallback(submit.id)).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(answersTo(submit)).toContain("is not agent=model");
    expect(restCallbacks()).toEqual([]);
  });
});

describe("redeliveries", () => {
  it("starts one spawn for an interaction POSTed twice, and the second POST acts on nothing", async () => {
    const ref = command("spawn", sshSpawn("dhttp-twice"));
    fake.redeliver(ref.id);
    await settled("dhttp-twice");
    expect(await spawnsNamed("dhttp-twice")).toHaveLength(1);
    // Acted on twice, the second would be refused for the name the first took, in the same private reply.
    expect(answersTo(ref)).not.toContain("already have a live spawn");
    expect(answersTo(ref)).toContain("tmux attach -t 'dhttp-twice'");
    const [first, second] = deliveriesOf(ref);
    expect(first).toMatchObject({ status: 200, accepted: true });
    // The retry gets a plain deferral (Discord keeps the first answer it took).
    expect(second).toMatchObject({ status: 200, body: { type: 5, data: { flags: EPHEMERAL } } });
  });
});

describe("the transport itself", () => {
  it("answers within Discord's 3 s, measured over 200 interactions posted in bursts of 20", async () => {
    const latencies: number[] = [];
    for (let burst = 0; burst < 10; burst++) {
      const sent = Date.now();
      const refs = Array.from({ length: 20 }, () => command("agents"));
      for (const ref of refs) latencies.push((await fake.waitForCallback(ref.id)).time - sent);
      await discord.idle();
      await fake.httpIdle();
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
    // Both ends share this process: the fake's signing and its handling of the answers' edits count too.
    console.log(`Discord interaction POST → first answer taken by the fake over ${latencies.length} interactions (bursts of 20): p50 ${p50} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms`);
    expect(p99).toBeLessThan(3000);
  });

  it("answered every interaction POSTed in time, and the fake met nothing it did not understand", async () => {
    await fake.httpIdle();
    expect(fake.httpDeliveries.filter((d) => d.status === 0)).toEqual([]); // 0: no response within Discord's 3 s
    expect(fake.httpDeliveries.filter((d) => !d.accepted && d.status === 200).map((d) => d.error)).toEqual(["40060 Interaction has already been acknowledged."]);
    expect(fake.internalErrors).toEqual([]);
  });
});
