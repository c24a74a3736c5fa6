// Each dashboard on its own origin, proven in a real browser: Debian's Chromium (driven by
// playwright-core) opens the links the bot hands out for two spawns, A and B, whose dashboards
// are reached through the bot's public server and a real sshd. With SPAWNBOT_TUNNEL_DOMAIN a
// dashboard built with root-absolute paths works, and A's service worker and cookies never reach
// B; the /t/<token>/ fallback keeps workers and cookies inside each tunnel's prefix.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type LookupFunction } from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import type { ConnectView } from "../src/bot/views/views.js";
import { startPublicServer } from "../src/public-server.js";
import { authorizeUsers, makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { captureLogger } from "./support/capture.js";
import { freePort } from "./support/free-port.js";
import { killUserProcesses, requireTool, startSshd, type TestSshd } from "./support/sshd.js";
import { TEST_AGENT } from "./support/test-agent.js";

const USER = "sbt-browser";
const CHROMIUM = "/usr/bin/chromium";
/** The tunnel domain of this test; Chromium resolves every name under it to 127.0.0.1. */
const DOMAIN = "tunnels.test";
/** How long a page gets to fill in its results (script, fetch, WebSocket) before the check fails. */
const PAGE_RESULT_TIMEOUT_MS = 10_000;
const NOT_YET = "pending";

/** The dashboard on the spawns' host: built like a Vite app, with root-absolute paths everywhere. */
const INDEX_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>dashboard</title></head><body>
<p>script: <span id="script">${NOT_YET}</span></p><p>api: <span id="api">${NOT_YET}</span></p>
<p>ws: <span id="ws">${NOT_YET}</span></p><p>cookie: <span id="cookie">${NOT_YET}</span></p>
<script src="/assets/app.js"></script></body></html>`;

const APP_JS = `const show = (id, text) => { document.getElementById(id).textContent = text; };
show("script", "loaded from /assets/app.js");
fetch("/api").then((r) => r.json()).then((j) => { show("api", j.answer); show("cookie", j.cookie || "(none)"); }, (e) => show("api", "failed: " + e));
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
ws.onopen = () => ws.send("ping");
ws.onmessage = (m) => show("ws", "echo " + m.data);
ws.onerror = () => show("ws", "failed");`;

/** A worker that answers /api itself: wherever it is in control, the page shows it. */
const SW_JS = `self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => {
  if (new URL(e.request.url).pathname.endsWith("/api")) {
    e.respondWith(new Response(JSON.stringify({ answer: "intercepted by a service worker", cookie: "" }), { headers: { "content-type": "application/json" } }));
  }
});`;

/** Registers sw.js (relative to the page) for the scope in ?scope=, and says how it went. */
const SW_PAGE = `<!doctype html><html><body><p id="sw">${NOT_YET}</p><script>
const scope = new URLSearchParams(location.search).get("scope") || "./";
navigator.serviceWorker.register("sw.js", { scope }).then(
  () => navigator.serviceWorker.ready.then((r) => { document.getElementById("sw").textContent = "registered for " + new URL(r.scope).pathname; }),
  (e) => { document.getElementById("sw").textContent = "refused: " + e.name; });
</script></body></html>`;

/** Cookies a careless (or hostile) dashboard sets: for the parent domain, and escaping its path. */
const DASHBOARD_COOKIES = [`wide=1; Path=/; Domain=${DOMAIN}`, "escape=1; Path=/x; Path=/", "plain=1; Path=/"];

let sshd: TestSshd;
let bot: TestBot;
let dashboard: http.Server;
const dashboardHits: string[] = [];
let publicPort: number;
let fallbackPort: number;
const servers: Array<{ close(): Promise<void> }> = [];
let userDataDir: string;
let browser: BrowserContext;
/** The links the bot handed out, and their tokens. */
const links = { a: "", b: "" };
const tokens = { a: "", b: "" };

function startDashboard(): Promise<number> {
  dashboard = http.createServer((req, res) => {
    const url = req.url ?? "/";
    dashboardHits.push(url);
    const send = (type: string, body: string, headers: Record<string, string | string[]> = {}) =>
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", ...headers }).end(body);
    const pathname = url.split("?")[0];
    if (pathname === "/") return send("text/html; charset=utf-8", INDEX_HTML);
    if (pathname === "/assets/app.js") return send("text/javascript", APP_JS);
    if (pathname === "/api") return send("application/json", JSON.stringify({ answer: "from the dashboard", cookie: req.headers.cookie ?? "" }));
    if (pathname === "/sw.js") return send("text/javascript", SW_JS, { "Service-Worker-Allowed": "/" });
    if (pathname === "/sw-page") return send("text/html; charset=utf-8", SW_PAGE);
    if (pathname === "/set-cookies") return send("text/html; charset=utf-8", "<p id=done>cookies set</p>", { "Set-Cookie": DASHBOARD_COOKIES });
    res.writeHead(404, { "Content-Type": "text/plain" }).end("no such dashboard page");
  });
  const wss = new WebSocketServer({ noServer: true });
  dashboard.on("upgrade", (req, socket, head) => {
    if (req.url !== "/ws") return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (data) => ws.send((data as Buffer).toString())));
  });
  return new Promise((r) => dashboard.listen(0, "127.0.0.1", () => r((dashboard.address() as { port: number }).port)));
}

async function spawnLink(name: string): Promise<string> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(`spawn dashagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name ${name}`), conv);
  await bot.core.idle();
  const view = conv.private.find((v): v is ConnectView => v.kind === "connect");
  if (!view?.gatewayUrl) throw new Error(`spawn ${name} gave no dashboard link: ${JSON.stringify(conv.private)}`);
  return view.gatewayUrl;
}

/** What the dashboard page wrote into its DOM, once every result is in (or the time is up). */
async function pageResults(page: Page): Promise<Record<"script" | "api" | "ws" | "cookie", string>> {
  const ids = ["script", "api", "ws", "cookie"] as const;
  await page
    .waitForFunction((args) => args.ids.every((id) => document.getElementById(id)?.textContent !== args.notYet), { ids: [...ids], notYet: NOT_YET }, { timeout: PAGE_RESULT_TIMEOUT_MS })
    .catch(() => undefined); // a result that never came is shown as "pending" in the assertion below
  const out = {} as Record<(typeof ids)[number], string>;
  for (const id of ids) out[id] = (await page.textContent(`#${id}`)) ?? "";
  return out;
}

async function textOf(page: Page, selector: string): Promise<string> {
  await page.waitForFunction((s) => document.querySelector(s)?.textContent !== "pending", selector, { timeout: PAGE_RESULT_TIMEOUT_MS });
  return (await page.textContent(selector)) ?? "";
}

/** Node's own client, resolving the tunnel domain to 127.0.0.1 as Chromium is told to. */
const toLoopback: LookupFunction = (_host, opts, cb) =>
  opts.all ? (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { lookup: toLoopback }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** One raw HTTP/1.1 exchange, for request lines no client library sends; answers the status line. */
function rawStatusLine(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let got = "";
    socket.on("data", (d: Buffer) => {
      got += d.toString();
      if (got.includes("\r\n")) {
        resolve(got.split("\r\n")[0]!);
        socket.destroy();
      }
    });
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  requireTool(CHROMIUM, "chromium");
  sshd = await startSshd(USER);
  const dashboardPort = await startDashboard();
  publicPort = await freePort();
  const logger = captureLogger();
  const dashAgent = { ...TEST_AGENT, key: "dashagent", name: "Dashboard Agent", dashboard: { port: dashboardPort, path: "/" } };
  bot = makeBot({ agents: [dashAgent], publicUrl: `http://127.0.0.1:${publicPort}`, logger, settings: { tunnelDomain: DOMAIN } });
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  // The bot's public server as main.ts starts it with SPAWNBOT_TUNNEL_DOMAIN, and a second one
  // without, for the fallback path form (a token works in either form).
  servers.push(await startPublicServer(bot.core, { port: publicPort, host: "127.0.0.1", tunnelDomain: DOMAIN }, logger));
  const fallback = await startPublicServer(bot.core, { port: 0, host: "127.0.0.1" }, logger);
  servers.push(fallback);
  fallbackPort = fallback.port;
  links.a = await spawnLink("alpha");
  links.b = await spawnLink("beta");
  tokens.a = new URL(links.a).hostname.split(".")[0]!;
  tokens.b = new URL(links.b).hostname.split(".")[0]!;
  userDataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
      "--no-proxy-server",
      `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`,
      // Service workers need a secure context; the test's gateway is plain HTTP, so its two origins are named here.
      `--unsafely-treat-insecure-origin-as-secure=${new URL(links.a).origin},${new URL(links.b).origin}`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  dashboard?.closeAllConnections();
  dashboard?.close();
  await bot?.store.close();
  killUserProcesses(USER);
  await sshd?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe("dashboard links with a tunnel domain", () => {
  it("are <token>.<domain> on the public URL's scheme and port, one DNS-safe token each", () => {
    for (const link of [links.a, links.b]) expect(link).toMatch(new RegExp(`^http://[a-z2-7]{26}\\.tunnels\\.test:${publicPort}/$`));
    expect(tokens.a).not.toBe(tokens.b);
  });

  it("serve a dashboard built with root-absolute paths: its script, fetch('/api') and WebSocket at /ws work", async () => {
    const page = await browser.newPage();
    await page.goto(links.a);
    expect(await pageResults(page)).toEqual({ script: "loaded from /assets/app.js", api: "from the dashboard", ws: "echo ping", cookie: "(none)" });
    await page.close();
  });

  it("keep a service worker registered by A's dashboard out of B's pages", async () => {
    const a = await browser.newPage();
    await a.goto(`${links.a}sw-page?scope=/`);
    expect(await textOf(a, "#sw")).toBe("registered for /");
    // The worker is real and in control on A's origin: A's /api is now answered by it.
    await a.goto(links.a);
    expect((await pageResults(a)).api).toBe("intercepted by a service worker");
    expect(await a.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await a.close();

    const b = await browser.newPage();
    await b.goto(links.b);
    const results = await pageResults(b);
    expect(await b.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
    expect(await b.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
    expect(results.api).toBe("from the dashboard"); // B's request reached B's dashboard, not A's worker
    expect(results.script).toBe("loaded from /assets/app.js");
    await b.close();
  });

  it("keep cookies set by A's dashboard, even for the parent domain, from B", async () => {
    const a = await browser.newPage();
    await a.goto(`${links.a}set-cookies`);
    expect(await a.textContent("#done")).toBe("cookies set");
    const jar = await browser.cookies();
    expect(jar.map((c) => c.name).sort()).toEqual(["escape", "plain", "wide"]);
    for (const c of jar) expect(c.domain).toBe(`${tokens.a}.${DOMAIN}`); // host-only: the Domain attribute was dropped
    await a.close();

    const b = await browser.newPage();
    await b.goto(links.b);
    expect((await pageResults(b)).cookie).toBe("(none)");
    await b.close();
  });

  it("never serve the bot's own pages on a tunnel host, nor a tunnel on the bot's own host", async () => {
    const hits = dashboardHits.length;
    // The Connect OpenRouter callback exists on the bot's host; on a tunnel host the path is the dashboard's.
    const onTunnel = await get(`http://${tokens.a}.${DOMAIN}:${publicPort}/oauth/openrouter/${"A".repeat(43)}?code=x`);
    expect(onTunnel).toEqual({ status: 404, body: "no such dashboard page" });
    expect(dashboardHits.length).toBe(hits + 1);
    const onBot = await get(`http://127.0.0.1:${publicPort}/oauth/openrouter/${"A".repeat(43)}?code=x`);
    expect(onBot.body).toContain("Connect OpenRouter");
    // A live token on the bot's own host, in the path form: refused without reaching the dashboard.
    const pathOnBot = await get(`http://127.0.0.1:${publicPort}/t/${tokens.a}/api`);
    expect(pathOnBot.status).toBe(404);
    expect(pathOnBot.body).toContain("unknown or has expired");
    expect(dashboardHits.length).toBe(hits + 1);
  });

  it("answer unknown tokens, the bare domain and deeper names with the tunnel's 404, and accept an upper-case host", async () => {
    const hits = dashboardHits.length;
    for (const host of [`${"a".repeat(26)}.${DOMAIN}`, DOMAIN, `x.${tokens.a}.${DOMAIN}`, `not-a-token.${DOMAIN}`]) {
      const res = await get(`http://${host}:${publicPort}/api`);
      expect(res.status, host).toBe(404);
      expect(res.body, host).toContain("unknown or has expired");
    }
    // An absolute-form request names another target than its Host: refused, not passed upstream.
    const absolute = await rawStatusLine(publicPort, `GET http://127.0.0.1:${publicPort}/api HTTP/1.1\r\nHost: ${tokens.a}.${DOMAIN}\r\n\r\n`);
    expect(absolute).toBe("HTTP/1.1 404 Not Found");
    expect(dashboardHits.length).toBe(hits);
    const upper = await get(`http://${tokens.a.toUpperCase()}.TUNNELS.TEST:${publicPort}/api`);
    expect(JSON.parse(upper.body)).toMatchObject({ answer: "from the dashboard" });
  });
});

describe("the /t/<token>/ fallback without a tunnel domain", () => {
  const fallbackLink = (token: string) => `http://127.0.0.1:${fallbackPort}/t/${token}/`;

  it("refuses a service worker that asks for the whole shared origin (Service-Worker-Allowed is dropped)", async () => {
    const page = await browser.newPage();
    await page.goto(`${fallbackLink(tokens.a)}sw-page?scope=/`);
    expect(await textOf(page, "#sw")).toBe("refused: SecurityError");
    await page.close();
  });

  it("keeps a service worker in its own tunnel's prefix: B's page is not controlled", async () => {
    const a = await browser.newPage();
    await a.goto(`${fallbackLink(tokens.a)}sw-page`);
    expect(await textOf(a, "#sw")).toBe(`registered for /t/${tokens.a}/`);
    await a.close();
    const b = await browser.newPage();
    await b.goto(fallbackLink(tokens.b));
    expect(await b.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
    const answer = await b.evaluate(async () => (await (await fetch("api")).json()) as { answer: string });
    expect(answer.answer).toBe("from the dashboard");
    await b.close();
  });

  it("keeps A's cookies, even one with a second Path=/, from B's tunnel", async () => {
    await browser.clearCookies();
    const a = await browser.newPage();
    await a.goto(`${fallbackLink(tokens.a)}set-cookies`);
    const jar = await browser.cookies(`http://127.0.0.1:${fallbackPort}/t/${tokens.a}/`);
    // Every cookie, whatever Path or Domain the dashboard gave, is host-only and under A's prefix.
    expect(jar.map((c) => `${c.name} ${c.domain} ${c.path}`).sort()).toEqual(["escape", "plain", "wide"].map((n) => `${n} 127.0.0.1 /t/${tokens.a}/`));
    await a.close();
    const b = await browser.newPage();
    await b.goto(fallbackLink(tokens.b));
    const seen = await b.evaluate(async () => (await (await fetch("api")).json()) as { cookie: string });
    expect(seen.cookie).toBe("");
    await b.close();
  });

  it("cannot serve a dashboard built with root-absolute paths (the README's stated limit)", async () => {
    const page = await browser.newPage();
    const script = page.waitForResponse((r) => r.url().endsWith("/assets/app.js"));
    await page.goto(fallbackLink(tokens.b));
    const answer = await script;
    // The script went to the bot's own host, outside the tunnel, so the page stays blank.
    expect([answer.url(), answer.status()]).toEqual([`http://127.0.0.1:${fallbackPort}/assets/app.js`, 404]);
    expect(await page.textContent("#script")).toBe(NOT_YET);
    await page.close();
  });
});
