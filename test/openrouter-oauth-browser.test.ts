// Connect OpenRouter in a real browser: Debian's Chromium (driven by playwright-core) opens the
// link a user got in chat, sees whose account it is, clicks Continue, passes through the fake
// OpenRouter's sign-in and lands on the success page; the page's stylesheet is allowed by its
// CSP, the one-time value and its SameSite cookie carry the click, and a form on another site
// cannot press the button even with the page's value in hand.
import http from "node:http";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPublicServer } from "../src/public-server.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { captureLogger } from "./support/capture.js";
import { freePort } from "./support/free-port.js";
import { requireTool } from "./support/sshd.js";

const CHROMIUM = "/usr/bin/chromium";
const SECRET_NAME = "openrouter-api-key";
const BUTTON_BLUE = "rgb(48, 86, 211)"; // the page's button colour: proof that its stylesheet applied under the CSP

let fake: OpenRouterFake;
let bot: TestBot;
let publicUrl: string;
let server: { close(): Promise<void> };
let attacker: http.Server;
let attackerUrl: string;
let browser: Browser;

/** `settings openrouter` as this user: the link from the private answer. */
async function askLink(user: { id: string; name: string }): Promise<string> {
  const conv = new RecordingConversation();
  await bot.core.handle(request("settings openrouter", user), conv);
  const link = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/openrouter\/connect\/[A-Za-z0-9_-]{43})/.exec(JSON.stringify(conv.lastPrivate()))?.[1];
  if (!link) throw new Error(`no link in ${JSON.stringify(conv.private)}`);
  return link;
}

const storedKey = (userId: string) => bot.store.chat.getUserSecret({ platform: "test", userId }, SECRET_NAME);

async function freshContext(): Promise<BrowserContext> {
  return browser.newContext();
}

beforeAll(async () => {
  requireTool(CHROMIUM, "chromium");
  fake = await OpenRouterFake.start();
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  const logger = captureLogger();
  bot = makeBot({ apiKey: "", logger, publicUrl, settings: { openrouter: { api: fake.apiUrl, auth: fake.authUrl } } });
  server = await startPublicServer(bot.core, { port, host: "127.0.0.1" }, logger);
  // Another site (localhost is a different site from 127.0.0.1) whose page posts a form to ?to=.
  attacker = http.createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://localhost").searchParams;
    const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><form id=f method=post action="${esc(q.get("to") ?? "")}">`
      + `<input type=hidden name=csrf value="${esc(q.get("csrf") ?? "")}"></form><script>document.getElementById("f").submit()</script>`);
  });
  await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", () => r()));
  attackerUrl = `http://localhost:${(attacker.address() as { port: number }).port}`;
  browser = await chromium.launch({ // a fresh temporary profile each run
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--no-proxy-server"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  attacker?.closeAllConnections();
  attacker?.close();
  await fake?.close();
  await bot?.store.close();
});

describe("Connect OpenRouter in Chromium", () => {
  it("shows whose account it is, continues on the click through OpenRouter to a success page that survives a reload", async () => {
    const link = await askLink({ id: "U1", name: "alice" });
    const context = await freshContext();
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
    await page.goto(link);
    expect(await page.textContent("dl")).toContain("alice (id U1)");
    const button = page.getByRole("button", { name: "Continue to OpenRouter as alice" });
    expect(await button.evaluate((b) => getComputedStyle(b).backgroundColor)).toBe(BUTTON_BLUE);
    expect(await page.getAttribute('meta[name="viewport"]', "content")).toBe("width=device-width, initial-scale=1");
    expect(await storedKey("U1")).toBeUndefined();

    await Promise.all([page.waitForURL(/\/oauth\/openrouter\/[A-Za-z0-9_-]{43}\?code=/), button.click()]);
    expect(await page.textContent("h1")).toBe("OpenRouter connected");
    expect((await storedKey("U1"))?.last4).toBe(fake.issuedKeys.at(-1)!.slice(-4));
    await page.reload();
    expect(await page.textContent("h1")).toBe("OpenRouter connected");
    await page.goto(link);
    expect(await page.textContent("h1")).toBe("Link already used");
    expect(await page.locator("form").count()).toBe(0);
    expect(fake.exchanges).toHaveLength(1);
    expect(cspErrors).toEqual([]);
    await context.close();
  }, 60_000);

  it("refuses a form on another site that posts the page's own value, and the real click still works", async () => {
    const link = await askLink({ id: "U2", name: "bob" });
    const context = await freshContext();
    const page = await context.newPage();
    await page.goto(link);
    const csrf = await page.getAttribute('input[name="csrf"]', "value");
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The same browser, with the page's cookie set, is made to post from another site.
    const other = await context.newPage();
    await other.goto(`${attackerUrl}/?${new URLSearchParams({ to: link, csrf: csrf! })}`);
    await other.waitForURL(link);
    expect(await other.textContent("body")).toContain("only works on the page the chat link opened");
    expect((await bot.store.listAudit()).filter((a) => a.action === "openrouter-connect-confirmed" && a.userId === "U2")).toEqual([]);
    // Bob's own click on the page he opened goes through.
    await Promise.all([page.waitForURL(/\?code=/), page.getByRole("button", { name: "Continue to OpenRouter as bob" }).click()]);
    expect(await page.textContent("h1")).toBe("OpenRouter connected");
    expect(await storedKey("U2")).toBeDefined();
    await context.close();
  }, 60_000);
});
