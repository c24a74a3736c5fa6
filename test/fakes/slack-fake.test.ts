// Self-test of the Slack fake, driven only by the real clients: @slack/web-api's WebClient,
// @slack/socket-mode's SocketModeClient and @slack/bolt's App in HTTP and Socket Mode. If these
// pass, the fake is a Slack those clients cannot tell apart for the features the adapter uses.
import type { AddressInfo } from "node:net";
import { App, LogLevel, SocketModeReceiver, webApi, type Logger } from "@slack/bolt";
import { SocketModeClient } from "@slack/socket-mode";
import { SlackApi, slackErrorCode, slackErrorMessages } from "../../src/adapters/slack/api.js";
import { createLogger } from "../../src/log.js";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  appHomeOpenedEvent, blockActionsPayload, interactiveBody, signedPost, slashCommand, slashCommandBody, startSlackFake,
  triggerId, viewSubmissionPayload, type SlackFake, type SlackFakeOptions,
} from "./slack-fake.js";

const { WebClient, ErrorCode } = webApi;
type WebClientOptions = NonNullable<ConstructorParameters<typeof WebClient>[1]>;
const SECRET = "0123456789abcdef0123456789abcdef";
const FORM = "application/x-www-form-urlencoded";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeSlack(opts?: SlackFakeOptions): Promise<SlackFake> {
  const fake = await startSlackFake(opts);
  cleanups.push(() => fake.close());
  return fake;
}

/** Bolt and the SDK log through this; tests keep the lines instead of printing them. */
function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  let level = LogLevel.DEBUG;
  const at = (name: string) => (...msg: unknown[]) => { lines.push(`${name} ${msg.map(String).join(" ")}`); };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), setLevel: (l) => { level = l; }, getLevel: () => level, setName: () => {} };
}

/** A WebClient on the fake that never retries unless told to. */
function webClient(fake: SlackFake, token: string = fake.botToken, opts: WebClientOptions = {}) {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger(), ...opts });
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The Slack error code a rejected WebClient call carries. */
async function slackError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e as { code?: string; data?: { error?: string } });
  if (!err) throw new Error("expected the call to fail");
  expect(err.code).toBe(ErrorCode.PlatformError);
  return String(err.data?.error);
}

describe("Web API", () => {
  it("posts, threads, updates and deletes messages and records every call", async () => {
    const fake = await fakeSlack();
    const web = webClient(fake);
    const me = await web.auth.test();
    expect(me).toMatchObject({ ok: true, user_id: "U0BOT", bot_id: "B0BOT", team_id: "T0FAKE", is_enterprise_install: false });

    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*hello*" } }];
    const root = await web.chat.postMessage({ channel: "C1", text: "hello", blocks });
    expect(root.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(root).toMatchObject({ channel: "C1", message: { type: "message", text: "hello", blocks, bot_id: "B0BOT", user: "U0BOT" } });
    const reply = await web.chat.postMessage({ channel: "C1", text: "in thread", thread_ts: root.ts! });
    expect(reply.message?.thread_ts).toBe(root.ts);
    expect(Number(reply.ts)).toBeGreaterThan(Number(root.ts));
    expect(fake.thread("C1", root.ts!).map((m) => m.text)).toEqual(["hello", "in thread"]);
    // blocks travel as a JSON string inside the form; the fake records them decoded.
    expect(fake.calls.find((c) => c.method === "chat.postMessage")?.args.blocks).toEqual(blocks);

    const upd = await web.chat.update({ channel: "C1", ts: root.ts!, text: "edited" });
    expect(upd).toMatchObject({ channel: "C1", ts: root.ts, text: "edited", message: { text: "edited", blocks } });
    expect(fake.messages("C1")[0]).toMatchObject({ text: "edited", edits: 1 });
    expect(await slackError(web.chat.update({ channel: "C1", ts: "1.000001", text: "x" }))).toBe("message_not_found");

    await web.chat.delete({ channel: "C1", ts: reply.ts! });
    expect(fake.messages("C1")).toHaveLength(1);
    expect(await slackError(web.chat.postMessage({ channel: "C1", text: "" }))).toBe("no_text");
    fake.blockChannel("C9");
    expect(await slackError(web.chat.postMessage({ channel: "C9", text: "x" }))).toBe("channel_not_found");
    expect(fake.calls.map((c) => [c.method, c.ok])).toContainEqual(["chat.postMessage", false]);
    expect(fake.calls.every((c) => c.status === 200 && c.args.token === undefined)).toBe(true);
  });

  it("serves ephemerals, DMs, modals, the home tab and users.info", async () => {
    const fake = await fakeSlack();
    const web = webClient(fake);
    const eph = await web.chat.postEphemeral({ channel: "C1", user: "U1", text: "only you", thread_ts: "1.000002" });
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemerals).toEqual([{ channel: "C1", user: "U1", text: "only you", thread_ts: "1.000002", message_ts: eph.message_ts }]);
    fake.removeFromChannel("C1", "U2");
    expect(await slackError(web.chat.postEphemeral({ channel: "C1", user: "U2", text: "x" }))).toBe("user_not_in_channel");

    const dm = await web.conversations.open({ users: "U1" });
    expect(dm.channel?.id).toBe("D1");
    await web.chat.postMessage({ channel: dm.channel!.id!, text: "psst" });
    await web.chat.postMessage({ channel: "U1", text: "to the user id" });
    expect(fake.dms("U1").map((m) => m.text)).toEqual(["psst", "to the user id"]);
    expect(await web.conversations.open({ users: "U1" })).toMatchObject({ already_open: true, channel: { id: "D1", is_im: true } });

    const trigger = triggerId();
    const modal = { type: "modal" as const, callback_id: "spawn", title: { type: "plain_text" as const, text: "Spawn" }, blocks: [] };
    const opened = await web.views.open({ trigger_id: trigger, view: modal });
    expect(opened.view).toMatchObject({ type: "modal", callback_id: "spawn", team_id: "T0FAKE" });
    expect(opened.view?.id).toMatch(/^V/);
    expect(fake.openedViews[0]).toMatchObject({ method: "views.open", id: opened.view!.id, trigger_id: trigger, view: modal });
    expect(await slackError(web.views.open({ trigger_id: trigger, view: modal }))).toBe("exchanged_trigger_id");
    const stale = `${Date.now() - 4000}.000000000001.${"ab".repeat(16)}`;
    expect(await slackError(web.views.open({ trigger_id: stale, view: modal }))).toBe("expired_trigger_id");
    expect(await slackError(web.views.open({ trigger_id: "123.456.abc", view: modal }))).toBe("invalid_trigger_id");
    const updated = await web.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: { ...modal, callback_id: "spawn2" } });
    expect(updated.view).toMatchObject({ id: opened.view!.id, callback_id: "spawn2" });
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
    expect(await slackError(web.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: modal }))).toBe("hash_conflict");

    const home = { type: "home" as const, blocks: [{ type: "section", text: { type: "mrkdwn" as const, text: "Your agents" } }] };
    const pub = await web.views.publish({ user_id: "U1", view: home });
    expect(pub.view).toMatchObject({ type: "home", blocks: home.blocks });
    expect(fake.homeViews.get("U1")).toMatchObject({ type: "home", blocks: home.blocks });

    fake.setUser({ id: "U1", name: "ada", real_name: "Ada Lovelace", tz: "Europe/London" });
    expect((await web.users.info({ user: "U1" })).user).toMatchObject({ id: "U1", name: "ada", real_name: "Ada Lovelace", tz: "Europe/London", is_admin: false });
    expect(await slackError(web.apiCall("spawn.nothing"))).toBe("unknown_method");
  });

  it("refuses blocks over Block Kit's limits with invalid_blocks and says why in response_metadata", async () => {
    const fake = await fakeSlack();
    const web = webClient(fake);
    const section = (text: string) => ({ type: "section", text: { type: "mrkdwn" as const, text } });
    /** The whole error body of a refused call, as the WebClient hands it over. */
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e as { data?: Record<string, unknown> });
      if (!err) throw new Error("expected the call to fail");
      return err.data!;
    };

    await web.chat.postMessage({ channel: "C1", text: "fifty", blocks: Array.from({ length: 50 }, (_, i) => section(`row ${i}`)) });
    await web.chat.postMessage({ channel: "C1", text: "long", blocks: [section("x".repeat(3000))] });
    expect(await refusal(web.chat.postMessage({ channel: "C1", text: "51", blocks: Array.from({ length: 51 }, (_, i) => section(`row ${i}`)) }))).toEqual({
      ok: false, error: "invalid_blocks", errors: ["no more than 50 items allowed [json-pointer:/blocks]"],
      response_metadata: { messages: ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"] },
    });
    const tooLong = await refusal(web.chat.postMessage({ channel: "C1", text: "long", blocks: [section("ok"), section("x".repeat(3001))] }));
    expect(tooLong).toMatchObject({ error: "invalid_blocks", response_metadata: { messages: ["[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]"] } });
    expect(fake.messages("C1").map((m) => m.text)).toEqual(["fifty", "long"]); // refused calls post nothing

    const posted = fake.messages("C1")[0]!;
    const update = await refusal(web.chat.update({ channel: "C1", ts: posted.ts, text: "x", blocks: [{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }] }));
    expect(update.response_metadata).toEqual({ messages: ["[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"] });
    const buttons = Array.from({ length: 26 }, (_, i) => ({ type: "button" as const, action_id: `b${i}`, text: { type: "plain_text" as const, text: i === 0 ? "b".repeat(76) : "ok" } }));
    const ephemeral = await refusal(web.chat.postEphemeral({ channel: "C1", user: "U1", text: "x", blocks: [{ type: "actions", elements: buttons }] }));
    expect(ephemeral.errors).toEqual([
      "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
      "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ]);
    expect(fake.ephemerals).toEqual([]);
  });

  it("refuses views over Block Kit's limits (100 blocks on a Home tab, 24-character modal titles) with invalid_arguments", async () => {
    const fake = await fakeSlack();
    const web = webClient(fake);
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "section", text: { type: "mrkdwn" as const, text: `spawn ${i}` } }));
    await web.views.publish({ user_id: "U1", view: { type: "home", blocks: blocks(100) } });
    const home = await web.views.publish({ user_id: "U1", view: { type: "home", blocks: blocks(101) } }).then(() => undefined, (e: { data?: Record<string, unknown> }) => e.data);
    expect(home).toEqual({ ok: false, error: "invalid_arguments", response_metadata: { messages: ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"] } });
    expect((fake.homeViews.get("U1")!.blocks as unknown[]).length).toBe(100); // the refused one did not replace it
    const noUser = await web.views.publish({ user_id: "", view: { type: "home", blocks: [] } }).then(() => undefined, (e: { data?: Record<string, unknown> }) => e.data);
    expect(noUser).toMatchObject({ error: "invalid_arguments", response_metadata: { messages: ["invalid `user_id`"] } });

    const modal = { type: "modal" as const, title: { type: "plain_text" as const, text: "A title of 25 characters" + "!" }, blocks: blocks(1) };
    const opened = await web.views.open({ trigger_id: triggerId(), view: modal }).then(() => undefined, (e: { data?: Record<string, unknown> }) => e.data);
    expect(opened).toMatchObject({ error: "invalid_arguments", response_metadata: { messages: ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"] } });
    expect(fake.openedViews).toEqual([]);
  });

  it("the adapter's SlackApi logs which block Slack refused and why, and the call fails", async () => {
    const fake = await fakeSlack();
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", destination: { write: (l: string) => (lines.push(l), true) } as unknown as NodeJS.WritableStream });
    const api = new SlackApi(webClient(fake), log);
    const blocks = Array.from({ length: 51 }, (_, i) => ({ type: "section", text: { type: "mrkdwn", text: `spawn ${i}` } }));
    const failed = await api.postMessage("T0FAKE", "C1", { text: "list", blocks }).then(() => undefined, (e: unknown) => e);
    expect(slackErrorCode(failed)).toBe("invalid_blocks");
    expect(slackErrorMessages(failed)).toEqual(["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "Slack refused what the bot rendered");
    expect(logged).toMatchObject({ level: 50, error: "invalid_blocks", lane: "post:C1", problems: ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"] });
    api.close();
  });

  it("checks tokens like Slack and accepts JSON bodies and token fields", async () => {
    const fake = await fakeSlack();
    expect(await slackError(webClient(fake, "xoxb-wrong").chat.postMessage({ channel: "C1", text: "x" }))).toBe("invalid_auth");
    expect(await slackError(webClient(fake, "").chat.postMessage({ channel: "C1", text: "x" }))).toBe("not_authed");
    expect(await slackError(webClient(fake, fake.appToken).chat.postMessage({ channel: "C1", text: "x" }))).toBe("not_allowed_token_type");
    expect(await slackError(webClient(fake).apps.connections.open({}))).toBe("not_allowed_token_type");
    expect((await webClient(fake, fake.appToken).apps.connections.open({})).url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);

    const json = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: "POST", headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${fake.botToken}` },
      body: JSON.stringify({ channel: "C2", text: "json", blocks: [{ type: "divider" }] }),
    });
    expect(await json.json()).toMatchObject({ ok: true, channel: "C2", message: { blocks: [{ type: "divider" }] } });
    const form = await fetch(`${fake.apiUrl}chat.postMessage`, { method: "POST", headers: { "content-type": FORM }, body: new URLSearchParams({ token: fake.botToken, channel: "C2", text: "form" }) });
    expect(await form.json()).toMatchObject({ ok: true });
    expect(fake.messages("C2").map((m) => m.text)).toEqual(["json", "form"]);
  });

  it("enforces Slack's rate limits with 429 and Retry-After", async () => {
    const fake = await fakeSlack({ enforceLimits: true });
    const web = webClient(fake, fake.botToken, { rejectRateLimitedCalls: true });
    const outcomes: (string | number)[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(await web.chat.postMessage({ channel: "C1", text: `m${i}` }).then(
        () => "ok",
        (e: { code?: string; retryAfter?: number }) => (e.code === ErrorCode.RateLimitedError ? (e.retryAfter ?? -1) : String(e.code)),
      ));
    }
    expect(outcomes).toEqual(["ok", "ok", 1, 1]); // burst of 2, then Retry-After: 1
    expect((await web.chat.postMessage({ channel: "C2", text: "other channel" })).ok).toBe(true);
    expect(fake.count429).toBe(2);
    expect(fake.calls.filter((c) => c.status === 429).every((c) => c.error === "ratelimited")).toBe(true);

    // chat.update is Tier 3: a burst of 10, then 429 until the bucket refills at 50/min.
    const { ts } = await web.chat.postMessage({ channel: "C3", text: "x" });
    let granted = 0;
    for (let i = 0; i < 12; i++) granted += await web.chat.update({ channel: "C3", ts: ts!, text: `v${i}` }).then(() => 1, () => 0);
    expect(granted).toBe(10);
    expect(fake.count429).toBe(4);
  });

  it("scripts 429s, platform errors and delays on demand", async () => {
    const fake = await fakeSlack();
    const strict = webClient(fake, fake.botToken, { rejectRateLimitedCalls: true });
    fake.rateLimitNext("chat.update", 7);
    const err = await strict.chat.update({ channel: "C1", ts: "1.1", text: "x" }).catch((e: unknown) => e as { code?: string; retryAfter?: number });
    expect(err).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });

    // Without rejectRateLimitedCalls the WebClient waits out Retry-After and retries by itself.
    const patient = webClient(fake, fake.botToken, { retryConfig: { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 10 } });
    fake.rateLimitNext("chat.postMessage", 1);
    const started = Date.now();
    expect((await patient.chat.postMessage({ channel: "C1", text: "eventually" })).ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fake.calls.filter((c) => c.method === "chat.postMessage").map((c) => c.status)).toEqual([429, 200]);

    fake.failNext("chat.postMessage", "is_archived", 2);
    expect(await slackError(strict.chat.postMessage({ channel: "C1", text: "x" }))).toBe("is_archived");
    expect(await slackError(strict.chat.postMessage({ channel: "C1", text: "x" }))).toBe("is_archived");
    expect((await strict.chat.postMessage({ channel: "C1", text: "x" })).ok).toBe(true);
    fake.delayNext("auth.test", 300);
    const t0 = Date.now();
    await strict.auth.test();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(fake.count429).toBe(2);
    fake.reset();
    expect([fake.calls.length, fake.count429]).toEqual([0, 0]);
  });

  it("records response URL posts and answers 200 ok, at most 5 times per URL", async () => {
    const fake = await fakeSlack();
    const url = fake.responseUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\/R\d+$/);
    const post = () => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "done", response_type: "in_channel", replace_original: true }) });
    const first = await post();
    expect([first.status, await first.text()]).toEqual([200, "ok"]);
    expect(fake.responses[0]).toMatchObject({ id: url.split("/").pop(), body: { text: "done", response_type: "in_channel", replace_original: true } });
    for (let i = 0; i < 4; i++) await post();
    expect((await post()).status).toBe(404);
    expect(fake.responses).toHaveLength(5);
  });
});

describe("Bolt in HTTP mode against the fake", () => {
  async function boltHttp(fake: SlackFake) {
    const app = new App({
      token: fake.botToken, signingSecret: SECRET, logger: quietLogger(),
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });
    const seen: { retryNum?: number; retryReason?: string }[] = [];
    const homeClicks: Record<string, unknown>[] = [];
    app.command("/spawn", async ({ command, ack, respond, client }) => {
      await ack();
      if (command.text === "modal") {
        await client.views.open({ trigger_id: command.trigger_id, view: { type: "modal", callback_id: "spawn_modal", title: { type: "plain_text", text: "Spawn" }, blocks: [] } });
      } else {
        await respond({ response_type: "ephemeral", text: `got ${command.text}` });
      }
    });
    app.action("approve", async ({ ack, body, client }) => {
      await ack();
      if (body.type === "block_actions" && body.channel && body.message) await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: "approved" });
    });
    app.action("refresh_home", async ({ ack, body, respond }) => {
      await ack();
      const b = body as unknown as Record<string, unknown>;
      homeClicks.push({ container: b.container, view: b.view, channel: b.channel, message: b.message, response_url: b.response_url, canRespond: respond !== undefined });
    });
    app.view("spawn_modal", async ({ ack, view }) => {
      await ack({ response_action: "errors", errors: { name: `bad: ${view.state.values.name?.input?.value ?? ""}` } });
    });
    app.event("app_home_opened", async ({ event, client, context }) => {
      seen.push({ retryNum: context.retryNum, retryReason: context.retryReason });
      await client.views.publish({ user_id: event.user, view: { type: "home", blocks: [{ type: "section", text: { type: "mrkdwn", text: "home" } }] } });
    });
    // Port 0 works: start() takes listen options and resolves with the node http.Server.
    const server = await app.start({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.stop());
    return { app, seen, homeClicks, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` };
  }

  it("acks a signed slash command, respond() reaches the response URL, bad signatures get 401", async () => {
    const fake = await fakeSlack();
    const { url } = await boltHttp(fake);
    const res = await signedPost(url, slashCommandBody({ text: "hello", response_url: fake.responseUrl() }), FORM, SECRET);
    expect(res.status).toBe(200);
    await until(() => fake.responses.length === 1, "respond()");
    expect(fake.responses[0]?.body).toEqual({ response_type: "ephemeral", text: "got hello" });

    const bad = await signedPost(url, slashCommandBody({ text: "forged", response_url: fake.responseUrl() }), FORM, SECRET, { badSignature: true });
    expect(bad.status).toBe(401);
    const stale = await signedPost(url, slashCommandBody({ text: "replayed", response_url: fake.responseUrl() }), FORM, SECRET, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const wrongSecret = await signedPost(url, slashCommandBody({ text: "x", response_url: fake.responseUrl() }), FORM, "f".repeat(32));
    expect(wrongSecret.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.responses).toHaveLength(1);

    // A fresh trigger_id in the command lets the handler open a modal within Slack's 3 s.
    expect((await signedPost(url, slashCommandBody({ text: "modal" }), FORM, SECRET)).status).toBe(200);
    await until(() => fake.openedViews.length === 1, "views.open");
    expect(fake.openedViews[0]?.view).toMatchObject({ callback_id: "spawn_modal" });
  });

  it("handles block_actions, view_submission and events with retry headers", async () => {
    const fake = await fakeSlack();
    const { url, seen } = await boltHttp(fake);
    const posted = await webClient(fake).chat.postMessage({ channel: "C1", text: "approve?" });
    const click = blockActionsPayload({ actionId: "approve", value: "42", channel: "C1", messageTs: posted.ts!, responseUrl: fake.responseUrl() });
    expect((await signedPost(url, interactiveBody(click), FORM, SECRET)).status).toBe(200);
    await until(() => fake.messages("C1")[0]?.text === "approved", "chat.update from the action");
    // Listener `client`s are pooled per team and add team_id to every call.
    expect(fake.calls.find((c) => c.method === "chat.update")?.args.team_id).toBe("T0FAKE");

    const submit = viewSubmissionPayload({ callbackId: "spawn_modal", values: { name: { input: { type: "plain_text_input", value: "x" } } } });
    const answer = await signedPost(url, interactiveBody(submit), FORM, SECRET);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ response_action: "errors", errors: { name: "bad: x" } });

    const event = await signedPost(url, JSON.stringify(appHomeOpenedEvent("U0ALICE")), "application/json", SECRET, { retryNum: 1, retryReason: "http_timeout" });
    expect(event.status).toBe(200);
    await until(() => fake.homeViews.has("U0ALICE"), "views.publish from the event");
    expect(seen).toEqual([{ retryNum: 1, retryReason: "http_timeout" }]);
  });

  it("delivers App Home clicks as Slack sends them: the published home view as container, no channel, message or response_url", async () => {
    const fake = await fakeSlack();
    const { url, homeClicks } = await boltHttp(fake);
    expect(() => fake.homeClick({ actionId: "refresh_home" })).toThrow(/no Home tab/);
    const published = await webClient(fake).views.publish({ user_id: "U0ALICE", view: { type: "home", blocks: [{ type: "actions", elements: [{ type: "button", action_id: "refresh_home", text: { type: "plain_text", text: "Refresh" } }] }] } });
    const click = fake.homeClick({ actionId: "refresh_home", user: "U0ALICE" });
    expect((await signedPost(url, interactiveBody(click), FORM, SECRET)).status).toBe(200);
    await until(() => homeClicks.length === 1, "the Home click to reach Bolt");
    expect(homeClicks[0]).toEqual({
      container: { type: "view", view_id: published.view!.id }, view: expect.objectContaining({ id: published.view!.id, type: "home", hash: published.view!.hash }),
      channel: undefined, message: undefined, response_url: undefined, canRespond: false,
    });
  });
});

describe("Socket Mode against the fake", () => {
  it("sends the documented hello and refuses reused tickets", async () => {
    const fake = await fakeSlack();
    const { url } = await webClient(fake, fake.appToken).apps.connections.open({});
    const ws = new WebSocket(url!);
    cleanups.push(() => ws.terminate());
    const hello = await new Promise<unknown>((resolve, reject) => {
      ws.once("message", (d) => resolve(JSON.parse((d as Buffer).toString())));
      ws.once("error", reject);
    });
    expect(hello).toMatchObject({ type: "hello", num_connections: 1, connection_info: { app_id: "A0FAKE" }, debug_info: { approximate_connection_time: expect.any(Number) } });
    const again = new WebSocket(url!);
    again.on("error", () => {}); // terminate() after a refused upgrade reports an error; expected here
    const status = await new Promise<number>((resolve) => again.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    again.terminate();
    expect(status).toBe(401);
  });

  it("delivers envelopes to a real SocketModeClient and gets its acks", async () => {
    const fake = await fakeSlack();
    const client = new SocketModeClient({ appToken: fake.appToken, logger: quietLogger(), clientPingTimeout: 1000, clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } } });
    client.on("slash_commands", async ({ ack, body }: { ack: (r?: object) => Promise<void>; body: { text: string } }) => { await ack({ text: `echo ${body.text}` }); });
    client.on("interactive", async ({ ack }: { ack: () => Promise<void> }) => { await ack(); });
    await client.start();
    cleanups.push(() => client.disconnect());
    expect(fake.socketConnections).toBe(1);
    expect(await fake.sendEnvelope("slash_commands", slashCommand({ text: "hi" }))).toMatchObject({ payload: { text: "echo hi" } });
    const ack = await fake.sendEnvelope("interactive", blockActionsPayload({ actionId: "a" }), { envelopeId: "env-1" });
    expect(ack).toEqual({ envelope_id: "env-1", payload: {} });
    await expect(fake.sendEnvelope("events_api", appHomeOpenedEvent("U1"), { timeoutMs: 200 })).rejects.toThrow(/no ack/);
  });

  it("runs a Bolt App in Socket Mode: slash command ack, event redelivery, reconnect on disconnect", async () => {
    const fake = await fakeSlack();
    const clientOptions = { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } };
    // App({socketMode:true}) cannot set clientPingTimeout, which is also the reconnect delay: build the receiver.
    const receiver = new SocketModeReceiver({ appToken: fake.appToken, logger: quietLogger(), clientPingTimeout: 300, installerOptions: { clientOptions } });
    const app = new App({ token: fake.botToken, receiver, logger: quietLogger(), clientOptions });
    const retries: (number | undefined)[] = [];
    app.command("/spawn", async ({ command, ack }) => { await ack(`on it: ${command.text}`); });
    app.event("app_home_opened", async ({ context }) => { retries.push(context.retryNum); });
    await app.start();
    cleanups.push(() => app.stop());

    const ack = await fake.sendEnvelope("slash_commands", slashCommand({ text: "claude", response_url: fake.responseUrl() }));
    expect(ack.payload).toEqual({ text: "on it: claude" });
    // Events are acked by Bolt before the listener runs; a redelivery carries retry_attempt.
    const event = appHomeOpenedEvent("U1");
    expect(await fake.sendEnvelope("events_api", event, { envelopeId: "ev-1" })).toEqual({ envelope_id: "ev-1", payload: {} });
    await fake.sendEnvelope("events_api", event, { envelopeId: "ev-1", retryAttempt: 1, retryReason: "timeout" });
    await until(() => retries.length === 2, "both deliveries");
    expect(retries).toEqual([0, 1]); // Socket Mode says 0 on a first delivery (HTTP mode: undefined)

    fake.disconnectSockets("refresh_requested");
    await until(() => fake.socketConnectsTotal === 2 && fake.socketConnections === 1, "reconnect after disconnect");
    expect((await fake.sendEnvelope("slash_commands", slashCommand({ text: "again" }))).payload).toEqual({ text: "on it: again" });
    expect(fake.calls.filter((c) => c.method === "apps.connections.open")).toHaveLength(2);
  });
});
