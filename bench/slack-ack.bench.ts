// Ack latency of /spawn in Slack HTTP mode: signed requests to the bot (real Bolt, the whole
// core behind it) side by side with a bare Bolt app that only acks, against the fake Slack.
// Phase 1: 200 sequential requests from this process. Phase 2: 1,000 requests to each app at
// concurrency 50, interleaved, sent by a separate load-generator process (bench/load-generator.mjs)
// so the client's event loop is not the server's. Issue 8's target: p99 ≤ 50 ms and ≤ 1.5 × bare.
import { spawn } from "node:child_process";
import { App } from "@slack/bolt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import { createLogger } from "../src/log.js";
import { signedPost, slackSignature, slashCommandBody, startSlackFake, type SlackFake } from "../test/fakes/slack-fake.js";
import { makeBot, type TestBot } from "../test/support/bot.js";
import { machine, summarize } from "./support.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const TEXT = "spawn codex ssh --host dev@127.0.0.1:2222 --model openai/gpt-5 --dry-run";
const CONCURRENCY = 50;
const PER_APP = 1000;
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

/** A signed request prepared here, sent by the load generator (the signature holds 5 minutes). */
function prepared(label: string, url: string) {
  const body = slashCommandBody({ text: TEXT, response_url: fake.responseUrl() });
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/x-www-form-urlencoded", "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "x-slack-request-timestamp": String(timestamp), "x-slack-signature": slackSignature(SECRET, timestamp, body),
  };
  return { label, url, headers, body };
}

async function loadFromChild(jobs: ReturnType<typeof prepared>[]): Promise<{ samples: Record<string, number[]>; failed: number }> {
  const child = spawn(process.execPath, [new URL("./load-generator.mjs", import.meta.url).pathname, String(CONCURRENCY)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  child.stdin.end(JSON.stringify(jobs));
  const code = await exited;
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(out);
}

it("acks /spawn fast, alone and under concurrency, next to a bare Bolt app", async () => {
  const botUrl = `http://127.0.0.1:${slack.port}/slack/events`;
  for (let i = 0; i < 20; i++) await timedRequest(botUrl); // warm-up: JIT, sockets, SQLite pages
  const sequential: number[] = [];
  for (let i = 0; i < 200; i++) sequential.push(await timedRequest(botUrl));
  await slack.idle();

  // A short warm-up burst through the child too, so both apps' sockets and JIT are warm.
  await loadFromChild(Array.from({ length: 100 }, (_, i) => (i % 2 ? prepared("bare", bareUrl) : prepared("bot", botUrl))));
  await slack.idle();
  const answeredBefore = fake.responses.length;
  const jobs = Array.from({ length: 2 * PER_APP }, (_, i) => (i % 2 ? prepared("bare", bareUrl) : prepared("bot", botUrl)));
  const { samples, failed } = await loadFromChild(jobs);
  await slack.idle();

  const seq = summarize(sequential);
  const b = summarize(samples.bot ?? []);
  const r = summarize(samples.bare ?? []);
  const fmt = (s: ReturnType<typeof summarize>) => `n=${s.n} p50=${s.p50.toFixed(1)} ms p99=${s.p99.toFixed(1)} ms max=${s.max.toFixed(1)} ms`;
  console.log(`machine: ${machine()}`);
  console.log(`sequential, spawnbot: ${fmt(seq)}`);
  console.log(`concurrency ${CONCURRENCY} (separate load process), spawnbot: ${fmt(b)}`);
  console.log(`concurrency ${CONCURRENCY} (separate load process), bare Bolt: ${fmt(r)}`);
  console.log(`p99 ratio spawnbot/bare: ${(b.p99 / r.p99).toFixed(2)}`);
  expect(failed).toBe(0);
  expect(b.n).toBe(PER_APP);
  expect(fake.responses.length - answeredBefore).toBe(PER_APP); // every request was answered, not just acked
});
