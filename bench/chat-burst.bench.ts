// Chat economy under a burst: 50 /spawn commands within 5 s in one Slack channel (HTTP mode,
// the real adapter and bot), against the fake Slack enforcing the published limits (one post
// per second per channel, chat.update Tier 3, 429 with Retry-After) and spawns on the Hetzner
// fake that hands out the real sshd. Issue 8's targets: zero 429s, at most 15 Web API calls per
// spawn, every final state delivered within 60 s of its run ending.
import { afterAll, beforeAll, expect, it } from "vitest";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import { createLogger } from "../src/log.js";
import { HetznerFake } from "../test/fakes/hetzner-fake.js";
import { signedPost, slashCommandBody, startSlackFake, SLACK_FAKE_DEFAULTS, type SlackFake } from "../test/fakes/slack-fake.js";
import type { TestBot } from "../test/support/bot.js";
import { makeBotOnHetznerFake } from "../test/support/cloud-e2e.js";
import { killUserProcesses, startSshd, type TestSshd } from "../test/support/sshd.js";
import { machine, summarize } from "./support.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const SPAWNS = 50;
const WITHIN_MS = 5000;
const BOOT_MS = 5000;
const USER = "sbben-chat";
const CHANNEL = SLACK_FAKE_DEFAULTS.channelId;
const DEADLINE_MS = 240_000;

let slackFake: SlackFake;
let cloudFake: HetznerFake;
let sshd: TestSshd;
let bot: TestBot;
let slack: SlackAdapter;

beforeAll(async () => {
  slackFake = await startSlackFake({ enforceLimits: true });
  cloudFake = await HetznerFake.start({ bootDelayMs: BOOT_MS });
  sshd = await startSshd(USER);
  bot = makeBotOnHetznerFake({ fake: cloudFake, sshd, pollIntervalMs: 500, sshWait: { attempts: 5, baseDelayMs: 500, maxDelayMs: 2000 } });
  slack = new SlackAdapter(bot.core, { botToken: slackFake.botToken, signingSecret: SECRET, apiUrl: slackFake.apiUrl, port: 0 }, createLogger({ level: "silent", format: "json" }));
  await slack.start();
});

afterAll(async () => {
  await slack?.stop(5000);
  killUserProcesses(USER);
  await sshd?.stop();
  await cloudFake?.close();
  await slackFake?.close();
});

const nameOf = (i: number) => `burst-${String(i).padStart(2, "0")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When each spawn's final state first reached Slack: a root post or edit showing the result, or its result note. */
function deliveries(): Map<string, number> {
  const rootOf = new Map<string, string>(); // root ts → spawn name
  for (const m of slackFake.messages(CHANNEL)) {
    const name = /`(burst-\d\d)`/.exec(JSON.stringify(m.blocks ?? ""))?.[1];
    if (name && !m.thread_ts) rootOf.set(m.ts, name);
  }
  const at = new Map<string, number>();
  for (const c of slackFake.calls) {
    if (!c.ok || (c.method !== "chat.postMessage" && c.method !== "chat.update")) continue;
    const text = String((c.args.text as string | undefined) ?? "");
    const thread = typeof c.args.thread_ts === "string" ? c.args.thread_ts : undefined;
    let name: string | undefined;
    if (thread) name = text.startsWith("⚠️") ? undefined : rootOf.get(thread); // a result note
    else if (!/steps done$/.test(text)) name = /`(burst-\d\d)`/.exec(JSON.stringify(c.args.blocks ?? ""))?.[1]; // a root showing the result
    if (name && !at.has(name)) at.set(name, c.time);
  }
  return at;
}

it("keeps to Slack's limits and delivers every final state within 60 s of its run ending", async () => {
  const url = `http://127.0.0.1:${slack.port}/slack/events`;
  const callsBefore = slackFake.calls.length;
  const started = Date.now();
  const acks: Promise<Response>[] = [];
  for (let i = 0; i < SPAWNS; i++) {
    const body = slashCommandBody({ text: `spawn testagent hetzner --name ${nameOf(i)}`, user_id: `U${String(i).padStart(8, "0")}`, user_name: `user${i}`, response_url: slackFake.responseUrl() });
    acks.push(signedPost(url, body, "application/x-www-form-urlencoded", SECRET));
    await sleep((WITHIN_MS - 2000) / SPAWNS); // a margin for signing and sending under load
  }
  const startedWithin = Date.now() - started;
  expect((await Promise.all(acks)).every((r) => r.status === 200)).toBe(true);

  // Bounded wait: every run ended and every final state reached Slack.
  const endOf = async (i: number) => {
    const s = await bot.store.findSpawn(nameOf(i), { platform: "slack" });
    return s && s.status !== "provisioning" ? { status: s.status, at: s.readyAt ?? s.deletedAt ?? Date.now() } : undefined;
  };
  while (Date.now() - started < DEADLINE_MS) {
    const ended = (await Promise.all(Array.from({ length: SPAWNS }, (_, i) => endOf(i)))).filter(Boolean).length;
    if (ended === SPAWNS && deliveries().size === SPAWNS) break;
    await sleep(500);
  }
  const delivered = deliveries();
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < SPAWNS; i++) {
    const end = await endOf(i);
    statuses[end?.status ?? "unfinished"] = (statuses[end?.status ?? "unfinished"] ?? 0) + 1;
    const got = delivered.get(nameOf(i));
    if (end && got) lags.push(Math.max(0, got - end.at));
  }
  const calls = slackFake.calls.length - callsBefore;
  const byMethod: Record<string, number> = {};
  for (const c of slackFake.calls.slice(callsBefore)) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  const lag = summarize(lags);
  const lastEnd = Math.max(...(await Promise.all(Array.from({ length: SPAWNS }, (_, i) => endOf(i)))).map((end) => end?.at ?? 0)) - started;
  console.log(`machine: ${machine()}`);
  console.log(`${SPAWNS} spawns started within ${startedWithin} ms; runs ended: ${JSON.stringify(statuses)}, the last ${(lastEnd / 1000).toFixed(1)} s after the first command`);
  console.log(`Web API calls: ${calls} (${(calls / SPAWNS).toFixed(1)} per spawn) ${JSON.stringify(byMethod)}; 429s: ${slackFake.count429}`);
  console.log(`final state delivered after the run ended: n=${lag.n} p50=${(lag.p50 / 1000).toFixed(1)} s max=${(lag.max / 1000).toFixed(1)} s`);
  expect(statuses.ready).toBe(SPAWNS);
  expect(slackFake.count429).toBe(0);
  expect(calls / SPAWNS).toBeLessThanOrEqual(15);
  expect(lag.n).toBe(SPAWNS);
  expect(lag.max).toBeLessThanOrEqual(60_000);
});
