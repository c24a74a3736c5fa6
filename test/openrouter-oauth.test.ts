// Connect OpenRouter end to end over real HTTP: `settings openrouter` gives a private one-time
// link to the bot's own page, which names the account and needs a click (a POST carrying a
// one-time value that matches its cookie) before it sends the browser to OpenRouter. The test
// plays the browser with plain HTTP requests, cookies and forms through a wire-level fake of
// OpenRouter's OAuth PKCE flow and back to the bot's public server, whose callback trades the
// code for the user's key.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseCommand } from "../src/bot/grammar/grammar.js";
import { loadConfig } from "../src/config.js";
import type { ChatPlace } from "../src/bot/outlet.js";
import type { View } from "../src/bot/views/views.js";
import { createLogger } from "../src/log.js";
import { startPublicServer } from "../src/public-server.js";
import { SecretRedactor } from "../src/secrets.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { freePort } from "./support/free-port.js";

const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
const session = `oauth-${process.pid}`;
const SECRET_NAME = "openrouter-api-key";

/** Lets every line through as written, so the test sees whether a key would have reached the log. */
class NoRedaction extends SecretRedactor {
  override redact(text: string): string {
    return text;
  }
}

interface Note { userId: string; view: View; place?: ChatPlace }

interface Harness {
  bot: TestBot;
  fake: OpenRouterFake;
  publicUrl: string;
  home: string;
  notes: Note[];
  logs: string[];
  convs: RecordingConversation[];
  close(): Promise<void>;
}

const open: Harness[] = [];

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

afterAll(() => {
  spawnSync("tmux", ["kill-session", "-t", `=${session}`]);
});

/** A bot with no workspace key, its public server on 127.0.0.1 and a fake OpenRouter. */
async function setup(opts: { ttlMs?: number; withPublicUrl?: boolean } = {}): Promise<Harness> {
  const fake = await OpenRouterFake.start();
  const logs: string[] = [];
  const logger = createLogger({
    level: "debug", format: "json", redactor: new NoRedaction(),
    destination: new Writable({ write(chunk: Buffer, _enc, done) { logs.push(chunk.toString("utf8")); done(); } }),
  });
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-oauth-home-"));
  const bot = makeBot({
    apiKey: "", localHome: home, logger, publicUrl: opts.withPublicUrl === false ? undefined : publicUrl,
    settings: { openrouter: { api: fake.apiUrl, auth: fake.authUrl }, oauthStateTtlMs: opts.ttlMs },
  });
  // The public server exactly as main.ts starts it when SPAWNBOT_PUBLIC_URL is set.
  const server = await startPublicServer(bot.core, { port, host: "127.0.0.1" }, logger);
  const notes: Note[] = [];
  bot.core.attachOutlet({ platform: "test", notify: async (userId, view, place) => void notes.push({ userId, view, place }), status: async () => {} });
  const h: Harness = {
    bot, fake, publicUrl, home, notes, logs, convs: [],
    close: async () => {
      await server.close();
      await fake.close();
      await bot.store.close();
    },
  };
  open.push(h);
  return h;
}

/** `settings openrouter` as user; the link it answered with privately. */
async function askLink(h: Harness, user = alice): Promise<string> {
  const conv = new RecordingConversation();
  h.convs.push(conv);
  await h.bot.core.handle(request("settings openrouter", user), conv);
  expect(conv.public).toEqual([]);
  const shown = JSON.stringify(conv.lastPrivate());
  const link = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/openrouter\/connect\/[A-Za-z0-9_-]{43})/.exec(shown)?.[1];
  if (!link) throw new Error(`no sign-in link in ${shown}`);
  return link;
}

interface Page { status: number; body: string; headers: Headers; location?: string }

async function get(url: string, headers: Record<string, string> = {}): Promise<Page> {
  const res = await fetch(url, { redirect: "manual", headers });
  return { status: res.status, body: await res.text(), headers: res.headers, location: res.headers.get("location") ?? undefined };
}

/** The browser opens the chat link: the bot's page, its form's one-time value and the cookie it set. */
async function openLink(link: string): Promise<Page & { csrf?: string; cookie?: string }> {
  const page = await get(link);
  const csrf = /name="csrf" value="([A-Za-z0-9_-]{43})"/.exec(page.body)?.[1];
  const cookie = page.headers.get("set-cookie")?.split(";")[0];
  return { ...page, csrf, cookie };
}

/** The click on "Continue to OpenRouter": the form's POST as a browser sends it from that page. */
async function clickContinue(link: string, form: { csrf?: string; cookie?: string }, headers: Record<string, string> = {}): Promise<Page> {
  const res = await fetch(link, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", ...(form.cookie ? { cookie: form.cookie } : {}), ...headers },
    body: new URLSearchParams({ csrf: form.csrf ?? "" }).toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers, location: res.headers.get("location") ?? undefined };
}

/** Open the link and click Continue; where the bot sends the browser (OpenRouter's sign-in URL). */
async function confirm(link: string): Promise<string> {
  const page = await openLink(link);
  expect(page.status).toBe(200);
  const next = await clickContinue(link, page);
  expect(next.status).toBe(303);
  return next.location!;
}

/** The whole browser trip: the bot's page, the click, (fake) OpenRouter approving, back to the callback. */
async function signIn(link: string): Promise<{ authUrl: string; callbackUrl: string; status: number; body: string }> {
  const authUrl = await confirm(link);
  const consent = await get(authUrl);
  expect(consent.status).toBe(302);
  const page = await get(consent.location!);
  return { authUrl, callbackUrl: consent.location!, status: page.status, body: page.body };
}

/** OpenRouter issues a code for `challenge` and sends the browser to callbackUrl with it. */
async function codeForChallenge(h: Harness, callbackUrl: string, challenge: string): Promise<string> {
  const q = new URLSearchParams({ callback_url: callbackUrl, code_challenge: challenge, code_challenge_method: "S256" });
  const consent = await get(`${h.fake.authUrl}?${q}`);
  return consent.location!;
}

const params = (link: string) => new URL(link).searchParams;
const stateOf = (link: string) => link.slice(link.lastIndexOf("/") + 1);
const callbackFor = (h: Harness, link: string) => `${h.publicUrl}/oauth/openrouter/${stateOf(link)}`;
const storedKey = (h: Harness, user = alice) => h.bot.store.chat.getUserSecret({ platform: "test", userId: user.id }, SECRET_NAME);

/** Every byte of the store on disk, every chat message, note, audit row and log line. */
async function everywhere(h: Harness): Promise<string> {
  const db = readdirSync(h.bot.dataDir).filter((f) => f.startsWith("spawnbot.db")).map((f) => readFileSync(path.join(h.bot.dataDir, f)).toString("latin1")).join("");
  const chat = JSON.stringify(h.convs.map((c) => [c.public, c.private, c.statuses]));
  return [db, chat, JSON.stringify(h.notes), JSON.stringify(await h.bot.store.listAudit()), h.logs.join("")].join("\n");
}

describe("Connect OpenRouter", () => {
  it("opens the bot's page naming the account, and after the click gets the user a key through OpenRouter's PKCE flow", async () => {
    const h = await setup();
    const link = await askLink(h);
    const page = await openLink(link);
    expect(page.status).toBe(200);
    expect(page.body).toContain("alice (id U1)");
    expect(page.body).toContain("workspace W1 on test");
    expect(page.body).toContain("Continue to OpenRouter as alice");
    expect(page.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page.body).toMatch(/<form method="post" action="\/oauth\/openrouter\/connect\/[A-Za-z0-9_-]{43}">/);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; base-uri 'none'; frame-ancestors 'none'/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.cookie).toBe(`spawnbot-connect=${page.csrf}`);
    expect(page.headers.get("set-cookie")).toContain(`Path=${new URL(link).pathname}; Max-Age=900; HttpOnly; SameSite=Strict`);
    expect(h.fake.exchanges).toHaveLength(0);

    const next = await clickContinue(link, page);
    expect(next.status).toBe(303);
    const authUrl = next.location!;
    expect(authUrl.startsWith(`${h.fake.authUrl}?`)).toBe(true);
    expect(params(authUrl).get("callback_url")).toBe(callbackFor(h, link));
    expect(params(authUrl).get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params(authUrl).get("code_challenge_method")).toBe("S256");
    expect(next.headers.get("referrer-policy")).toBe("no-referrer");

    const consent = await get(authUrl);
    const done = await get(consent.location!);
    expect(done.status).toBe(200);
    expect(done.body).toContain("OpenRouter connected");
    expect(done.body).toContain("go back to the chat");

    // The exchange went over the wire as documented.
    expect(h.fake.exchanges).toHaveLength(1);
    expect(h.fake.exchanges[0]!.contentType).toContain("application/json");
    expect(h.fake.exchanges[0]!.body).toEqual({ code: expect.any(String), code_verifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), code_challenge_method: "S256" });

    const key = h.fake.issuedKeys[0]!;
    const stored = await storedKey(h);
    expect(stored?.last4).toBe(key.slice(-4));
    expect(stored?.sealed).not.toContain(key);
    expect(h.notes).toEqual([{ userId: alice.id, view: expect.objectContaining({ kind: "text" }), place: { workspace: "W1", channel: "C1" } }]);
    expect(JSON.stringify(h.notes[0]!.view)).toContain(`ending in ${key.slice(-4)}`);
    expect((await h.bot.store.listAudit()).map((a) => a.action)).toEqual(expect.arrayContaining(["openrouter-connect-start", "openrouter-connect-confirmed", "settings-api-key-set"]));
    expect((await h.bot.store.listAudit()).map((a) => [a.action, a.detail])).toContainEqual(["settings-api-key-set", { via: "openrouter-oauth" }]);

    const conv = new RecordingConversation();
    h.convs.push(conv);
    await h.bot.core.handle(request("settings"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "settings", apiKey: { source: "yours", last4: key.slice(-4) } });
    await h.bot.core.handle(request(`spawn testagent local --name ${session}`), conv);
    const [result] = (await h.bot.core.idle()) as { outcome: string }[];
    expect(result?.outcome).toBe("ready");
    expect(readFileSync(path.join(h.home, ".spawnrc"), "utf8")).toContain(key);

    expect(await everywhere(h)).not.toContain(key);
    expect(done.body).not.toContain(key);
    // The log has each page's outcome, but neither the key, the link's state nor the code from the URLs.
    const log = h.logs.join("");
    expect(log).toContain("Connect OpenRouter page shown");
    expect(log).toContain("Connect OpenRouter callback answered");
    expect(log).not.toContain(new URL(consent.location!).searchParams.get("code")!);
    expect(log).not.toContain(stateOf(link));
  }, 60_000);

  it("shows a second person who opens someone's link whose account it is, and saves nothing until the click", async () => {
    const h = await setup();
    const link = await askLink(h, alice);
    // Bob opens Alice's link (forwarded, or read over her shoulder): the page names Alice, twice.
    for (let n = 0; n < 2; n++) {
      const page = await openLink(link);
      expect(page.status).toBe(200);
      expect(page.body).toContain("alice (id U1)");
      expect(page.body).toContain("Not you? Close this page: nothing has been saved.");
    }
    // Opening it changed nothing: no code exists at OpenRouter, no key, the link is unconfirmed.
    expect(h.fake.exchanges).toHaveLength(0);
    expect(await storedKey(h, alice)).toBeUndefined();
    expect(await storedKey(h, bob)).toBeUndefined();
    // A code sent straight to the callback, skipping the click, is refused and changes nothing.
    const skipped = await codeForChallenge(h, callbackFor(h, link), "x".repeat(43));
    const refused = await get(skipped);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("did not start from the bot&#39;s page");
    expect(h.fake.exchanges).toHaveLength(0);
    expect(await storedKey(h, alice)).toBeUndefined();
    // Alice's own click still works afterwards.
    expect((await signIn(link)).status).toBe(200);
    expect((await storedKey(h, alice))?.last4).toBe(h.fake.issuedKeys[0]!.slice(-4));
  });

  it("refuses a click that did not come from the page in the same browser, and changes nothing", async () => {
    const h = await setup();
    const link = await askLink(h);
    const page = await openLink(link);
    const other = await openLink(link); // another browser's view of the page: its own value and cookie
    const attempts: Page[] = [
      await clickContinue(link, { csrf: page.csrf }), // no cookie: a form on another site, or a script
      await clickContinue(link, { csrf: page.csrf, cookie: other.cookie }), // the value from another view
      await clickContinue(link, { cookie: page.cookie }), // the cookie without the form's value
      await clickContinue(link, page, { "sec-fetch-site": "cross-site" }), // another site pressing our button
      await clickContinue(link, { csrf: "x".repeat(2000), cookie: page.cookie }), // not our form
    ];
    for (const a of attempts) {
      expect(a.status).toBe(403);
      expect(a.body).toContain("only works on the page the chat link opened");
    }
    expect((await fetch(link, { method: "PUT" })).status).toBe(405);
    expect((await fetch(link, { method: "HEAD" })).status).toBe(405);
    expect((await h.bot.store.listAudit()).map((a) => a.action)).not.toContain("openrouter-connect-confirmed");
    // None of that used the link up.
    expect((await clickContinue(link, page)).status).toBe(303);
  });

  it("works once: a second visit says the link was used, and a reload of the success page still says connected", async () => {
    const h = await setup();
    const link = await askLink(h);
    const first = await signIn(link);
    expect(first.status).toBe(200);
    const before = await storedKey(h);

    const reload = await get(first.callbackUrl);
    expect(reload.status).toBe(200);
    expect(reload.body).toContain("OpenRouter connected");

    const again = await openLink(link);
    expect(again.status).toBe(410);
    expect(again.body).toContain("Link already used");
    expect(again.body).toContain("this sign-in link was already used: OpenRouter is connected for alice");
    expect(again.body).not.toContain("<form");
    expect(again.csrf).toBeUndefined();

    // Another code on the used link (someone else's sign-in sent here) is refused.
    const foreign = await codeForChallenge(h, first.callbackUrl.split("?")[0]!, "x".repeat(43));
    expect((await get(foreign)).status).toBe(410);

    expect(h.fake.exchanges).toHaveLength(1); // neither the reload nor the replay reached OpenRouter
    expect(await storedKey(h)).toEqual(before);
    expect(h.notes).toHaveLength(1);
  });

  it("says the link was used when the page is reloaded or clicked again after Continue", async () => {
    const h = await setup();
    const link = await askLink(h);
    const page = await openLink(link);
    expect((await clickContinue(link, page)).status).toBe(303);
    const reload = await openLink(link);
    expect(reload.status).toBe(410);
    expect(reload.body).toContain("this sign-in link was already used; ask the bot for a new link");
    const twice = await clickContinue(link, page);
    expect(twice.status).toBe(410);
    expect(twice.body).toContain("already used");
  });

  it("suggests the new link's command in the syntax of the chat the link was asked for in", async () => {
    const h = await setup();
    const conv = new RecordingConversation();
    await h.bot.core.handle({ ...request("settings openrouter"), platform: "discord", workspace: "G1" }, conv);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/openrouter\/connect\/[A-Za-z0-9_-]{43})/.exec(JSON.stringify(conv.lastPrivate()))![1]!;
    const page = await openLink(link);
    expect(page.body).toContain("on Discord");
    expect((await clickContinue(link, page)).status).toBe(303);
    const reload = await openLink(link);
    expect(reload.status).toBe(410);
    expect(reload.body).toContain("this sign-in link was already used; ask the bot for a new link with <code>/spawn settings openrouter:True</code>");
    const unknown = await get(`${link.slice(0, -10)}${"A".repeat(10)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain("<code>/spawn settings openrouter</code> in Slack");
  });

  it("lets only one of two simultaneous callbacks with the same code through", async () => {
    const h = await setup();
    const consent = await get(await confirm(await askLink(h)));
    const pages = await Promise.all([get(consent.location!), get(consent.location!)]);
    // The second is either refused while the first trades the code, or (if the first already
    // finished) treated as a reload of the success page; never a second exchange.
    expect(pages.map((p) => p.status)).toContain(200);
    expect(pages.map((p) => p.status).every((s) => s === 200 || s === 410)).toBe(true);
    expect(h.fake.exchanges).toHaveLength(1);
    expect((await storedKey(h))?.last4).toBe(h.fake.issuedKeys[0]!.slice(-4));
  });

  it("gives each of 50 users their own key, and measures the callback's round trip", async () => {
    const h = await setup();
    const times: number[] = [];
    for (let n = 0; n < 50; n++) {
      const user = { id: `U${100 + n}`, name: `user${n}` };
      const consent = await get(await confirm(await askLink(h, user)));
      const started = performance.now();
      expect((await get(consent.location!)).status).toBe(200);
      times.push(performance.now() - started);
      expect((await storedKey(h, user))?.last4).toBe(h.fake.issuedKeys[n]!.slice(-4));
    }
    times.sort((a, b) => a - b);
    console.log(`Connect OpenRouter callback (state check, exchange with the fake, seal, store) over ${times.length}: p50 ${times[24]!.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
    expect(new Set(h.fake.issuedKeys).size).toBe(50);
    expect(await everywhere(h)).not.toMatch(/sk-or-v1-[0-9a-f]{64}/);
  });

  it("refuses an expired link on its page and its button, and stores nothing", async () => {
    const h = await setup({ ttlMs: 300 });
    const link = await askLink(h);
    expect(JSON.stringify(h.convs[0]!.private)).toContain("expires in 1 minute");
    const early = await openLink(link);
    await new Promise((r) => setTimeout(r, 400));
    const page = await openLink(link);
    expect(page.status).toBe(410);
    expect(page.body).toContain("expired");
    expect(page.body).toContain("settings openrouter");
    const late = await clickContinue(link, early);
    expect(late.status).toBe(410);
    expect(late.body).toContain("expired");
    expect(h.fake.exchanges).toHaveLength(0);
    expect(await storedKey(h)).toBeUndefined();
    expect(h.notes).toEqual([]);
  });

  it("fails clearly when the code was issued for another verifier, stores nothing and uses the link up", async () => {
    const h = await setup();
    const link = await askLink(h);
    await confirm(link);
    const callbackWithForeignCode = await codeForChallenge(h, callbackFor(h, link), "x".repeat(43));
    const page = await get(callbackWithForeignCode);
    expect(page.status).toBe(502);
    expect(page.body).toContain("OpenRouter refused the sign-in (HTTP 403: Invalid code_verifier)");
    expect(await storedKey(h)).toBeUndefined();
    expect(h.notes).toHaveLength(1);
    expect(h.notes[0]).toMatchObject({ userId: alice.id, view: { kind: "error", message: expect.stringContaining("Connect OpenRouter failed") } });
    expect((await get(callbackWithForeignCode)).status).toBe(410); // a failure's reload is not a success
    expect((await openLink(link)).status).toBe(410);
    expect(await storedKey(h)).toBeUndefined();
  });

  it("never lands a code signed for another user's link on this user's account", async () => {
    const h = await setup();
    const aliceLink = await askLink(h, alice);
    const bobLink = await askLink(h, bob);
    await confirm(aliceLink);
    const bobAuth = await confirm(bobLink);
    // Bob's sign-in at OpenRouter (his challenge) is sent to Alice's callback.
    const mixed = await codeForChallenge(h, callbackFor(h, aliceLink), params(bobAuth).get("code_challenge")!);
    const page = await get(mixed);
    expect(page.status).toBe(502);
    expect(page.body).toContain("HTTP 403");
    expect(await storedKey(h, alice)).toBeUndefined();
    expect(await storedKey(h, bob)).toBeUndefined();
    // Bob's own sign-in still works, for Bob only.
    const consent = await get(bobAuth);
    expect((await get(consent.location!)).status).toBe(200);
    expect((await storedKey(h, bob))?.last4).toBe(h.fake.issuedKeys[0]!.slice(-4));
    expect(await storedKey(h, alice)).toBeUndefined();
    expect(h.notes.map((n) => [n.userId, n.view.kind])).toEqual([[alice.id, "error"], [bob.id, "text"]]);
  });

  it("escapes every value it shows on the page", async () => {
    const h = await setup();
    const mallory = { id: "U9<b>", name: `<script>alert("x")</script>&'` };
    const link = await askLink(h, mallory);
    const page = await openLink(link);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain("<script>");
    expect(page.body).not.toContain("<b>");
    expect(page.body).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39; (id U9&#60;b&#62;)");
  });

  it("answers a missing, forged or cancelled state with a plain error page and changes nothing", async () => {
    const h = await setup();
    const older = await askLink(h);
    const link = await askLink(h); // asking again cancels the older link
    expect((await openLink(older)).status).toBe(404);
    const callback = callbackFor(h, link);
    const authUrl = await confirm(link);
    const cases: [string, number, string][] = [
      [`${h.publicUrl}/oauth/openrouter/?code=abc`, 404, "unknown"],
      [`${h.publicUrl}/oauth/openrouter/${"A".repeat(43)}?code=abc`, 404, "unknown"],
      [`${h.publicUrl}/oauth/openrouter/not-a-state%3Cscript%3E?code=abc`, 404, "unknown"],
      [`${h.publicUrl}/oauth/openrouter/connect/not-a-state%3Cscript%3E`, 404, "unknown"],
      [`${callbackFor(h, older)}?code=abc`, 404, "unknown"],
      [callback, 400, "no usable code"],
      [`${callback}?code=bad%20code`, 400, "no usable code"],
    ];
    for (const [url, status, words] of cases) {
      const page = await get(url);
      expect([url, page.status]).toEqual([url, status]);
      expect(page.body).toContain(words);
      expect(page.body).not.toContain("<script>");
    }
    expect((await fetch(`${callback}?code=abc`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${callback}?code=abc`, { method: "HEAD" })).status).toBe(405);
    expect(h.fake.exchanges).toHaveLength(0);
    expect(await storedKey(h)).toBeUndefined();
    // None of that used the link up.
    const consent = await get(authUrl);
    expect((await get(consent.location!)).status).toBe(200);
    expect((await storedKey(h))?.last4).toBe(h.fake.issuedKeys[0]!.slice(-4));
  });

  it("marks the page's cookie Secure when the public URL is https", async () => {
    const h = await setup();
    const link = await askLink(h);
    const port = await freePort();
    const tls = await startPublicServer(h.bot.core, { port, host: "127.0.0.1", publicUrl: "https://spawnbot.example.com" }, createLogger({ level: "silent", format: "json" }));
    try {
      const page = await get(link.replace(h.publicUrl, `http://127.0.0.1:${port}`));
      expect(page.status).toBe(200);
      expect(page.headers.get("set-cookie")).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await tls.close();
    }
  });

  it("reports OpenRouter being down without storing anything", async () => {
    const h = await setup();
    h.fake.failNext(500);
    const page = await signIn(await askLink(h));
    expect(page.status).toBe(502);
    expect(page.body).toContain("HTTP 500");
    expect(await storedKey(h)).toBeUndefined();
  });

  it("says what to set when the bot has no public URL, and makes no link", async () => {
    const h = await setup({ withPublicUrl: false });
    const conv = new RecordingConversation();
    await h.bot.core.handle(request("settings openrouter"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("SPAWNBOT_PUBLIC_URL") });
    expect(await h.bot.store.listAudit()).toEqual([]);
  });

  it("reads OpenRouter's sign-in and API URLs from the environment, OpenRouter's own by default", () => {
    expect(loadConfig({}).openrouter).toEqual({ api: "https://openrouter.ai/api/v1", auth: "https://openrouter.ai/auth" });
    expect(loadConfig({ OPENROUTER_API_URL: "http://127.0.0.1:9/api/v1/", OPENROUTER_AUTH_URL: "http://127.0.0.1:9/auth" }).openrouter)
      .toEqual({ api: "http://127.0.0.1:9/api/v1", auth: "http://127.0.0.1:9/auth" });
    expect(() => loadConfig({ OPENROUTER_API_URL: "not a url" })).toThrow(/OPENROUTER_API_URL: must be a URL/);
  });

  it("parses `settings openrouter` and refuses other words after settings", () => {
    const catalog = { agents: ["codex"], clouds: ["local"] };
    expect(parseCommand("settings openrouter", catalog)).toEqual({ ok: true, command: { kind: "settings-openrouter" } });
    expect(parseCommand("settings", catalog)).toEqual({ ok: true, command: { kind: "settings" } });
    expect(parseCommand("settings github", catalog)).toMatchObject({ ok: false, error: expect.stringContaining("'openrouter'") });
    expect(parseCommand("settings openrouter now", catalog)).toMatchObject({ ok: false, error: expect.stringContaining("unexpected extra word 'now'") });
  });
});

