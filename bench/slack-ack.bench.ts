// Ack latency of /spawn in Slack HTTP mode: signed requests to the bot (real Bolt, the whole
// core behind it) side by side with a bare Bolt app that only acks, against the fake Slack.
// Phase 1: 200 sequential requests (the closing-note number). Phase 2: 1,000 requests at
// concurrency 50 to each app, interleaved (issue 8's target: p99 ≤ 50 ms and ≤ 1.5 × bare).
import { App } from "@slack/bolt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import { createLogger } from "../src/log.js";
import { signedPost, slashCommandBody, startSlackFake, type SlackFake } from "../test/fakes/slack-fake.js";
import { makeBot, type TestBot } from "../test/support/bot.js";
import { machine, pool, summarize } from "./support.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const TEXT = "spawn codex ssh --host dev@127.0.0.1:2222 --model openai/gpt-5 --dry-run";
let fake: SlackFake;
let bot: TestBot;
let slack: SlackAdapter;
let bare: App;
let bareUrl: string;

beforeAll(async () => {
  fake = await startSlackFake();
  bot = makeBot();
  slack = new SlackAdapter(bot.core, { botToken: fake.botToken, signingSecret: SECRET, apiUrl: fake.apiUrl, port: 0 }, createLogger({ level: "silent", format: "json" }));
  await slack.start();
  bare = new App({ token: fake.botToken, signingSecret: SECRET, clientOptions: { slackApiUrl: fake.apiUrl }, deferInitialization: true });
  bare.command("/spawn", async ({ ack }) => { await ack(); });
  await bare.init();
  const server = (await bare.start({ port: 0 })) as unknown as import("node:http").Server;
  bareUrl = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await slack.stop(5000);
  await bare.stop();
  await fake.close();
});

async function timedRequest(url: string): Promise<number> {
  const body = slashCommandBody({ text: TEXT, response_url: fake.responseUrl() });
  const started = performance.now();
  const res = await signedPost(url, body, "application/x-www-form-urlencoded", SECRET);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  expect(res.status).toBe(200);
  return ms;
}

it("acks /spawn fast, alone and under concurrency, next to a bare Bolt app", async () => {
  const botUrl = `http://127.0.0.1:${slack.port}/slack/events`;
  for (let i = 0; i < 20; i++) await timedRequest(botUrl); // warm-up: JIT, sockets, SQLite pages
  const sequential: number[] = [];
  for (let i = 0; i < 200; i++) sequential.push(await timedRequest(botUrl));
  await slack.idle();

  const botSamples: number[] = [];
  const bareSamples: number[] = [];
  const jobs = Array.from({ length: 2000 }, (_, i) => i);
  await pool(jobs, 50, async (i) => {
    if (i % 2 === 0) botSamples.push(await timedRequest(botUrl));
    else bareSamples.push(await timedRequest(bareUrl));
  });
  await slack.idle();

  const seq = summarize(sequential);
  const b = summarize(botSamples);
  const r = summarize(bareSamples);
  const fmt = (s: ReturnType<typeof summarize>) => `n=${s.n} p50=${s.p50.toFixed(1)} ms p99=${s.p99.toFixed(1)} ms max=${s.max.toFixed(1)} ms`;
  console.log(`machine: ${machine()}`);
  console.log(`sequential, spawnbot: ${fmt(seq)}`);
  console.log(`concurrency 50, spawnbot: ${fmt(b)}`);
  console.log(`concurrency 50, bare Bolt: ${fmt(r)}`);
  console.log(`p99 ratio spawnbot/bare: ${(b.p99 / r.p99).toFixed(2)}`);
  expect(fake.responses.length).toBeGreaterThanOrEqual(1200); // every request was answered, not just acked
});
