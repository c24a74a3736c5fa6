// The Slack adapter with real Bolt in HTTP mode and in Socket Mode against the wire-level fake
// Slack, spawning on the real test sshd: what the channel sees, what only the requester sees,
// buttons with their permissions, settings, App Home, retries acted on once, and 429s honoured.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackAdapter } from "../src/adapters/slack/index.js";
import {
  appHomeOpenedEvent, blockActionsPayload, interactiveBody, SLACK_FAKE_DEFAULTS as D, signedPost, slashCommand, slashCommandBody,
  startSlackFake, viewSubmissionPayload, type SlackFake,
} from "./fakes/slack-fake.js";
import { until } from "./support/until.js";
import { makeBot, type TestBot, authorizeUsers } from "./support/bot.js";
import { captureLogger, captureSecret } from "./support/capture.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";

const USER = "sbt-slack";
const SIGNING_SECRET = "0123456789abcdef0123456789abcdef";
captureSecret(SIGNING_SECRET); // production registers it with the redactor; the suite's scan looks for it
const FORM = "application/x-www-form-urlencoded";
const BOB = "U0BOB";
const ADMIN = "U0ADMIN";
const USER_KEY = `sk-or-v1-${"feedc0de".repeat(8)}`;

let sshd: TestSshd;
let fake: SlackFake;
let bot: TestBot;
let slack: SlackAdapter;
let url: string;

const logger = captureLogger();


/** Whose each minted response_url is, to tell private answers apart. */
const responseOwners = new Map<string, string>();
function responseUrlFor(user: string): string {
  const u = fake.responseUrl();
  responseOwners.set(u.slice(u.lastIndexOf("/") + 1), user);
  return u;
}

/** A signed /spawn as Slack would POST it, with a response_url the fake records. */
function command(text: string, fields: Record<string, string> = {}, opts: Parameters<typeof signedPost>[4] = {}) {
  const body = slashCommandBody({ text, response_url: responseUrlFor(fields.user_id ?? D.userId), ...fields });
  return signedPost(url, body, FORM, SIGNING_SECRET, opts);
}

/** A click on a button of the Home tab the bot published for the user, as Slack sends it (no channel, message or response_url). */
function homeClick(actionId: string, value: string, user: string = D.userId) {
  return signedPost(url, interactiveBody(fake.homeClick({ actionId, value, user })), FORM, SIGNING_SECRET);
}

function click(actionId: string, spawnId: string, rootTs: string, user: string = D.userId, triggerId?: string) {
  const payload = blockActionsPayload({ actionId, value: spawnId, user, userName: user === BOB ? "bob" : user === ADMIN ? "admin" : "alice", messageTs: rootTs, responseUrl: responseUrlFor(user), triggerId });
  return signedPost(url, interactiveBody(payload), FORM, SIGNING_SECRET);
}

/** Everything anyone in the channel can read: root messages and their threads. */
function publicText(channel: string = D.channelId): string {
  return JSON.stringify(fake.messages(channel));
}

/** Everything private to one user: ephemeral messages, response_url answers, DMs. */
function privateTo(user: string): string {
  const responses = fake.responses.filter((r) => responseOwners.get(r.id) === user).map((r) => r.body);
  return JSON.stringify([fake.ephemerals.filter((e) => e.user === user), responses, fake.dms(user)]);
}

const spawnsOf = (user: string) => bot.store.listForOwner({ platform: "slack", userId: user }, { limit: 100 });
const sessionAlive = (name: string) => spawnSync("su", ["-", USER, "-c", `tmux has-session -t =${name}`]).status === 0;

beforeAll(async () => {
  sshd = await startSshd(USER);
  fake = await startSlackFake({ enforceLimits: true });
  bot = makeBot({ admins: [ADMIN] });
  await authorizeUsers(sshd, bot.core, "slack", [D.userId, "U0DAVE", "U0CAROL"]);
  slack = new SlackAdapter(bot.core, { botToken: fake.botToken, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl, port: 0 }, logger);
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop(2000);
  await fake?.close();
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("Slack over HTTP: requests are signed", () => {
  it("answers help privately through the response_url and posts nothing public", async () => {
    const res = await command("help");
    expect(res.status).toBe(200);
    await until("the help answer", () => fake.responses.find((r) => JSON.stringify(r.body).includes("spawn <agent> <cloud>")));
    expect(fake.responses.at(-1)!.body).toMatchObject({ response_type: "ephemeral" });
    expect(fake.messages(D.channelId)).toEqual([]);
  });

  it("answers with an ephemeral message when Slack refuses the response_url (used up)", async () => {
    const used = fake.responseUrl();
    for (let i = 0; i < 5; i++) await fetch(used, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `use ${i}` }) });
    const answered = fake.responses.length;
    expect((await command("help", { response_url: used })).status).toBe(200);
    const ephemeral = await until("the help answer as an ephemeral message", () => fake.ephemerals.find((e) => e.user === D.userId && JSON.stringify(e).includes("spawn <agent> <cloud>")));
    expect(ephemeral.channel).toBe(D.channelId);
    expect(fake.responses.length).toBe(answered); // the sixth use was refused, not recorded
    expect(fake.messages(D.channelId)).toEqual([]);
  });

  it("rejects a bad signature and a stale timestamp, and acts on neither", async () => {
    const before = fake.calls.length;
    expect((await command("spawn testagent ssh --host a@127.0.0.1 --name bad-sig", {}, { badSignature: true })).status).toBe(401);
    expect((await command("spawn testagent ssh --host a@127.0.0.1 --name stale", {}, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.calls.length).toBe(before);
    expect((await spawnsOf(D.userId)).map((s) => s.name)).not.toContain("bad-sig");
    expect((await spawnsOf(D.userId)).map((s) => s.name)).not.toContain("stale");
  });

  it("acks within Slack's 3 seconds even while a spawn runs", async () => {
    const started = Date.now();
    const res = await command("list");
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("refuses an API key pasted into the command, privately and without echoing it", async () => {
    await command(`prefs key ${USER_KEY}`);
    const answer = await until("the refusal", () => fake.responses.find((r) => JSON.stringify(r.body).includes("never paste one")));
    expect(JSON.stringify(answer)).not.toContain("feedc0de");
    expect(publicText()).not.toContain("feedc0de");
  });
});

describe("a spawn from Slack, end to end on the real sshd", () => {
  let spawnId: string;
  let rootTs: string;
  let callsForSpawn: number;

  beforeAll(async () => {
    const callsBefore = slack.counts.calls;
    const res = await command(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name slack-e2e --model openai/gpt-5`);
    expect(res.status).toBe(200);
    const rec = await until("the spawn record", async () => (await spawnsOf(D.userId)).find((s) => s.name === "slack-e2e"));
    spawnId = rec.id;
    await until("the run to end", async () => ["ready", "failed"].includes((await bot.store.getSpawn(spawnId))!.status));
    await bot.core.idle();
    await slack.idle();
    await until("the result in the thread", () => fake.messages(D.channelId).find((m) => m.thread_ts && m.text?.includes("is ready")));
    callsForSpawn = slack.counts.calls - callsBefore;
    rootTs = fake.messages(D.channelId).find((m) => !m.thread_ts || m.thread_ts === m.ts)!.ts;
  });

  it("starts the agent in a live tmux session", async () => {
    expect((await bot.store.getSpawn(spawnId))!.status).toBe("ready");
    expect(sessionAlive("slack-e2e")).toBe(true);
  });

  it("keeps one root message in the channel with the checklist, edited in place to its final state", () => {
    const roots = fake.messages(D.channelId).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.text).toContain("alice spawned Test Agent on Existing host over SSH · openai/gpt-5");
    expect(root.edits).toBeGreaterThan(0);
    const blocks = JSON.stringify(root.blocks);
    expect(blocks).toContain("✅");
    for (const button of ["spawn_connect", "spawn_extend", "spawn_delete"]) expect(blocks).toContain(button);
  });

  it("puts the result in the thread, mentioning only the requester", () => {
    const thread = fake.thread(D.channelId, rootTs);
    const result = thread.find((m) => m.ts !== rootTs && m.text?.includes("is ready"))!;
    expect(result.text).toContain(`<@${D.userId}>`);
    expect(thread.filter((m) => m.text?.includes("<@"))).toHaveLength(1);
  });

  it("sends the connect details only to the requester", () => {
    expect(privateTo(D.userId)).toContain(`tmux attach -t 'slack-e2e'`);
    expect(privateTo(D.userId)).toContain(`-p ${sshd.port}`);
    expect(publicText()).not.toContain("tmux attach");
    expect(publicText()).not.toContain("known_hosts");
  });

  it("shows the host's address only to the requester: the channel's checklist says existing host", () => {
    expect(privateTo(D.userId)).toContain(`${USER}@127.0.0.1`);
    for (const hidden of ["127.0.0.1", `:${sshd.port}`, `-p ${sshd.port}`, sshd.hostKey.split(" ")[1]!]) expect(publicText()).not.toContain(hidden);
    expect(publicText()).toContain("existing host");
  });

  it("never shows a secret in the channel", () => {
    for (const secret of [FAKE_KEY, fake.botToken, SIGNING_SECRET]) {
      expect(publicText()).not.toContain(secret);
      expect(privateTo(D.userId)).not.toContain(secret);
    }
  });

  it("costs a bounded number of Web API calls", () => {
    expect(callsForSpawn).toBeGreaterThanOrEqual(3); // root post, at least one edit, the result note
    expect(callsForSpawn).toBeLessThanOrEqual(15);
    console.log(`Slack Web API calls for one spawn: ${callsForSpawn}`);
  });

  it("gives the connect details to the owner's Connect click and refuses another member's", async () => {
    await click("spawn_connect", spawnId, rootTs, BOB);
    await until("bob's refusal", () => privateTo(BOB).includes("only alice, an admin or someone it is shared with"));
    expect(privateTo(BOB)).not.toContain("tmux attach");
    const before = fake.responses.length;
    await click("spawn_connect", spawnId, rootTs);
    await until("alice's connect details", () => fake.responses.slice(before).some((r) => JSON.stringify(r.body).includes("tmux attach")));
  });

  it("pushes the expiry on Extend for the owner only", async () => {
    const before = (await bot.store.getSpawn(spawnId))!.expiresAt!;
    await click("spawn_extend", spawnId, rootTs, BOB);
    await until("bob's refusal", () => privateTo(BOB).includes("only alice or an admin can extend"));
    expect((await bot.store.getSpawn(spawnId))!.expiresAt).toBe(before);
    await click("spawn_extend", spawnId, rootTs);
    await until("the new expiry", async () => (await bot.store.getSpawn(spawnId))!.expiresAt! > before);
  });

  it("does not act twice on a redelivered click", async () => {
    const audits = async () => (await bot.store.listAudit({ spawnId })).filter((a) => a.action === "extend").length;
    const before = await audits();
    const trigger = "13345224609.738474920.8088930838d88f008e0";
    await click("spawn_extend", spawnId, rootTs, D.userId, trigger);
    await click("spawn_extend", spawnId, rootTs, D.userId, trigger);
    await until("the extend", async () => (await audits()) === before + 1);
    await slack.idle();
    expect(await audits()).toBe(before + 1);
  });

  it("deletes once on a double click of Delete, and the status message says deleted", async () => {
    await click("spawn_delete", spawnId, rootTs, BOB);
    await until("bob's refusal", () => privateTo(BOB).includes("only alice or an admin can delete"));
    await Promise.all([click("spawn_delete", spawnId, rootTs), click("spawn_delete", spawnId, rootTs)]);
    await until("the delete", async () => (await bot.store.getSpawn(spawnId))!.status === "deleted");
    await slack.idle();
    expect((await bot.store.listAudit({ spawnId })).filter((a) => a.action === "delete")).toHaveLength(1);
    expect(sessionAlive("slack-e2e")).toBe(false);
    const root = await until("the deleted root", () => fake.messages(D.channelId).find((m) => m.ts === rootTs && m.text?.includes("was deleted")));
    expect(JSON.stringify(root.blocks)).not.toContain("spawn_delete");
  });
});

describe("retries", () => {
  it("starts one spawn for a slash command delivered twice (X-Slack-Retry-Num)", async () => {
    const fields = { trigger_id: "9999.8888.retry-one", response_url: fake.responseUrl() };
    const text = `spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name retried --dry-run`;
    const body = slashCommandBody({ text, ...fields });
    await signedPost(url, body, FORM, SIGNING_SECRET);
    await signedPost(url, body, FORM, SIGNING_SECRET, { retryNum: 1, retryReason: "http_timeout" });
    await slack.idle();
    const plans = fake.responses.filter((r) => JSON.stringify(r.body).includes("Dry run") && JSON.stringify(r.body).includes("retried"));
    expect(plans).toHaveLength(1);
  });

  it("honours a 429's Retry-After and still delivers the final state", async () => {
    // The status post: a run that ends while its post waits needs no edit at all, so the post is what gets limited.
    fake.rateLimitNext("chat.postMessage", 1, 2);
    const before = fake.count429;
    await command(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name limited`);
    const rec = await until("the spawn", async () => (await spawnsOf(D.userId)).find((s) => s.name === "limited"));
    await until("the run to end", async () => (await bot.store.getSpawn(rec.id))!.status === "ready");
    await bot.core.idle();
    await until("the final state", () => fake.messages(D.channelId).find((m) => m.text?.includes("alice spawned Test Agent") && m.text.includes("limited is ready")), 30_000);
    expect(fake.count429 - before).toBe(2);
    expect(slack.counts.rateLimited).toBeGreaterThanOrEqual(2);
  });
});

describe("a status post that waits (a busy channel)", () => {
  it("goes out once with the final state and the mention when the run ended meanwhile, with no separate result note", async () => {
    fake.rateLimitNext("chat.postMessage", 6, 1); // the status post waits 6 s; the run ends meanwhile
    await command(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name waited`);
    const rec = await until("the spawn", async () => (await spawnsOf(D.userId)).find((s) => s.name === "waited"));
    await until("the run to end", async () => (await bot.store.getSpawn(rec.id))!.status === "ready");
    await bot.core.idle();
    const root = await until("the status message", () => fake.messages(D.channelId).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? "").includes("`waited`")), 30_000);
    await slack.idle();
    expect(root.text).toContain(`<@${D.userId}>`);
    expect(root.text).toContain("waited is ready");
    expect(JSON.stringify(root.blocks)).toContain("spawn_connect");
    expect(fake.thread(D.channelId, root.ts).filter((m) => m.ts !== root.ts)).toEqual([]);
  });
});

describe("a channel the bot cannot post in", () => {
  it("follows the run in the requester's DM instead, never failing the spawn", async () => {
    fake.blockChannel("C0LOCKED", "not_in_channel");
    await command(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name dm-status`, { channel_id: "C0LOCKED", user_id: "U0DAVE", user_name: "dave" });
    const rec = await until("the spawn", async () => (await spawnsOf("U0DAVE")).find((s) => s.name === "dm-status"));
    await until("the run to end", async () => (await bot.store.getSpawn(rec.id))!.status === "ready");
    await bot.core.idle();
    await slack.idle();
    const dm = await until("the status in the DM", () => fake.dms("U0DAVE").find((m) => m.text?.includes("dave spawned Test Agent")));
    expect(dm.edits).toBeGreaterThan(0);
    expect(fake.messages("C0LOCKED")).toEqual([]);
    expect(privateTo("U0DAVE")).toContain("tmux attach -t 'dm-status'");
  });
});

describe("settings and App Home", () => {
  it("opens the settings modal for /spawn settings", async () => {
    await command("settings");
    const opened = await until("the modal", () => fake.openedViews.find((v) => v.view.callback_id === "spawn_settings"));
    expect(JSON.stringify(opened.view)).toContain("model__codex");
  });

  it("shows form errors beside the fields and saves nothing", async () => {
    const values = { api_key: { value: { type: "plain_text_input", value: "sk-nope" } }, model__codex: { value: { type: "plain_text_input", value: "gpt5" } } };
    const res = await signedPost(url, interactiveBody(viewSubmissionPayload({ callbackId: "spawn_settings", values })), FORM, SIGNING_SECRET);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe("errors");
    expect(Object.keys(body.errors).sort()).toEqual(["api_key", "model__codex"]);
    expect(JSON.stringify(body)).not.toContain("sk-nope");
    expect(await bot.store.chat.getUserSecret({ platform: "slack", userId: D.userId }, "openrouter-api-key")).toBeUndefined();
  });

  it("saves the key sealed, answers privately with its last four characters only, and refreshes the home", async () => {
    const values = { api_key: { value: { type: "plain_text_input", value: USER_KEY } }, model__codex: { value: { type: "plain_text_input", value: "openai/gpt-5" } } };
    const res = await signedPost(url, interactiveBody(viewSubmissionPayload({ callbackId: "spawn_settings", values, privateMetadata: JSON.stringify({ channel: D.channelId }) })), FORM, SIGNING_SECRET);
    expect(res.status).toBe(200);
    await until("the saved key", () => bot.store.chat.getUserSecret({ platform: "slack", userId: D.userId }, "openrouter-api-key"));
    await slack.idle();
    expect((await bot.store.chat.getUserSecret({ platform: "slack", userId: D.userId }, "openrouter-api-key"))!.sealed).not.toContain(USER_KEY);
    expect(privateTo(D.userId)).toContain("ending in c0de");
    expect(JSON.stringify(fake.calls)).not.toContain(USER_KEY);
    expect(JSON.stringify(fake.homeViews.get(D.userId))).toContain("yours, ending in c0de");
    expect(await bot.store.getModelPreference({ platform: "slack", userId: D.userId }, "codex")).toBe("openai/gpt-5");
  });

  it("runs Connect OpenRouter from its Home button and answers privately (here: the public URL to set)", async () => {
    const home = JSON.stringify(await until("the home view", () => fake.homeViews.get(D.userId)));
    expect(home).toContain("connect_openrouter");
    expect((await homeClick("connect_openrouter", "openrouter")).status).toBe(200);
    await until("the Connect OpenRouter answer", () => privateTo(D.userId).includes("SPAWNBOT_PUBLIC_URL"));
    expect(publicText()).not.toContain("SPAWNBOT_PUBLIC_URL");
  });

  it("publishes the user's spawns with their state and actions on App Home", async () => {
    const res = await signedPost(url, JSON.stringify(appHomeOpenedEvent(D.userId)), "application/json", SIGNING_SECRET);
    expect(res.status).toBe(200);
    await slack.idle();
    const home = JSON.stringify(await until("the home view", () => fake.homeViews.get(D.userId)));
    expect(home).toContain("limited");
    expect(home).toContain("expires in");
    expect(home).toContain("spawn_connect");
    expect(home).toContain("slack-e2e"); // the deleted one, listed after the live ones
    // This month's spend of the user's spawns (adopted hosts: free; no LLM key of their own).
    expect(home).toMatch(/Your costs in \d{4}-\d{2} \(cloud \+ LLM\).*total: \$0\.00 cloud \+ \$0\.00 LLM · \d+ spawns/);
  });

  it("extends a spawn from its Home button: the answer comes privately and the Home tab is published again", async () => {
    const rec = await until("a live spawn", async () => (await spawnsOf(D.userId)).find((s) => s.name === "limited" && s.expiresAt));
    const published = fake.calls.filter((c) => c.method === "views.publish").length;
    expect((await homeClick("spawn_extend", rec.id)).status).toBe(200);
    await until("the new expiry", async () => (await bot.store.getSpawn(rec.id))!.expiresAt! > rec.expiresAt!);
    await until("the private answer", () => privateTo(D.userId).includes("limited now expires in"));
    await until("the Home tab again", () => fake.calls.filter((c) => c.method === "views.publish").length > published);
    expect(publicText()).not.toContain("limited now expires in");
  });
});

describe("Slack over Socket Mode", () => {
  let socket: SlackAdapter;

  beforeAll(async () => {
    socket = new SlackAdapter(bot.core, { botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl, port: 0, clientPingTimeoutMs: 1000 }, logger);
    await socket.start();
  });
  afterAll(async () => {
    await socket?.stop(2000);
  });

  it("acks a slash command envelope and spawns on the real sshd once, even when Slack redelivers it", async () => {
    const payload = slashCommand({ text: `spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name socket-e2e`, user_id: "U0CAROL", user_name: "carol", response_url: fake.responseUrl() });
    const ack = await fake.sendEnvelope("slash_commands", payload, { envelopeId: "env-socket-1" });
    expect(ack.envelope_id).toBe("env-socket-1");
    await fake.sendEnvelope("slash_commands", payload, { envelopeId: "env-socket-1", retryAttempt: 1, retryReason: "timeout" });
    const rec = await until("the spawn", async () => (await spawnsOf("U0CAROL")).find((s) => s.name === "socket-e2e"));
    await until("the run to end", async () => (await bot.store.getSpawn(rec.id))!.status === "ready");
    await bot.core.idle();
    await socket.idle();
    expect(await spawnsOf("U0CAROL")).toHaveLength(1);
    expect(sessionAlive("socket-e2e")).toBe(true);
    await until("the result note", () => fake.messages(D.channelId).some((m) => m.text?.includes("<@U0CAROL> socket-e2e is ready")));
    expect(JSON.stringify(fake.responses)).toContain("tmux attach -t 'socket-e2e'");
  });
});
