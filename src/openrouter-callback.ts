// The HTTP side of Connect OpenRouter on the bot's public server:
//   GET  /oauth/openrouter/connect/<state>   the confirmation page naming the account (changes nothing)
//   POST /oauth/openrouter/connect/<state>   its "Continue" button: 303 to OpenRouter's sign-in
//   GET  /oauth/openrouter/<state>?code=…    OpenRouter's callback: the code is traded for the key
// It only turns requests into calls on the core and the core's answers into pages. The URLs are
// never logged: they carry the link's state and a live authorization code.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallbackAnswer, ConfirmAnswer } from "./bot/index.js";
import { newLinkHint, OPENROUTER_CALLBACK_PREFIX, OPENROUTER_CONNECT_PREFIX } from "./bot/index.js";
import type { Logger } from "./log.js";
import { PAGE_CSP, renderPage, type ConfirmForm } from "./openrouter-pages.js";

export interface ConnectHandlers {
  page(state: string): Promise<CallbackAnswer>;
  confirm(state: string): Promise<ConfirmAnswer>;
  callback(state: string, code: string | undefined): Promise<CallbackAnswer>;
}

/** Double-submit cookie: set by the page, scoped to its path, SameSite=Strict so no other site's form carries it. */
const CSRF_COOKIE = "spawnbot-connect";
const CSRF_BYTES = 32;
const CSRF_RE = /^[A-Za-z0-9_-]{43}$/;
const CSRF_COOKIE_MAX_AGE_S = 15 * 60; // a little over a link's 10-minute life
const MAX_FORM_BYTES = 1024; // one hidden field; anything bigger is not our form

export interface ConnectRouteOptions {
  /** Mark the cookie Secure (the public URL is https). */
  secureCookies: boolean;
}

/** A route for the public server: true if the request was ours (and is being answered). */
export function openRouterCallbackRoute(handlers: ConnectHandlers, opts: ConnectRouteOptions, logger: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  const answerWith = (res: ServerResponse, route: string, work: Promise<void>) => work.catch((err: unknown) => {
    logger.error({ err, route }, "Connect OpenRouter page failed");
    if (!res.headersSent) sendPage(res, { status: 500, title: "Connect OpenRouter failed", message: "internal error", hint: newLinkHint() });
  });
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://callback.invalid");
    if (url.pathname.startsWith(OPENROUTER_CONNECT_PREFIX)) {
      const state = url.pathname.slice(OPENROUTER_CONNECT_PREFIX.length);
      if (req.method === "GET") {
        req.resume();
        void answerWith(res, OPENROUTER_CONNECT_PREFIX, showConfirmation(handlers, state, url.pathname, opts, res, logger));
      } else if (req.method === "POST") {
        void answerWith(res, OPENROUTER_CONNECT_PREFIX, continueToOpenRouter(handlers, state, req, res, logger));
      } else {
        req.resume();
        sendPage(res, { status: 405, title: "Connect OpenRouter", message: "open this link in a browser" });
      }
      return true;
    }
    if (!url.pathname.startsWith(OPENROUTER_CALLBACK_PREFIX)) return false;
    req.resume(); // no body is expected; drain it so the connection can be reused
    // GET only: a HEAD (a link checker) must not use up a sign-in.
    if (req.method !== "GET") {
      sendPage(res, { status: 405, title: "Connect OpenRouter", message: "open this link in a browser" });
      return true;
    }
    const state = url.pathname.slice(OPENROUTER_CALLBACK_PREFIX.length);
    void answerWith(res, OPENROUTER_CALLBACK_PREFIX, handlers.callback(state, url.searchParams.get("code") ?? undefined).then((answer) => {
      logger.info({ route: OPENROUTER_CALLBACK_PREFIX, status: answer.status }, "Connect OpenRouter callback answered");
      sendPage(res, answer);
    }));
    return true;
  };
}

/** GET: the page that names the account, with a fresh one-time value in the form and a cookie. */
async function showConfirmation(handlers: ConnectHandlers, state: string, path: string, opts: ConnectRouteOptions, res: ServerResponse, logger: Logger): Promise<void> {
  const answer = await handlers.page(state);
  logger.info({ route: OPENROUTER_CONNECT_PREFIX, status: answer.status }, "Connect OpenRouter page shown");
  if (!answer.account) return sendPage(res, answer);
  const csrf = randomBytes(CSRF_BYTES).toString("base64url");
  const form: ConfirmForm = { action: path, csrf };
  const cookie = `${CSRF_COOKIE}=${csrf}; Path=${path}; Max-Age=${CSRF_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict${opts.secureCookies ? "; Secure" : ""}`;
  sendPage(res, answer, form, { "set-cookie": cookie });
}

/** POST: only this browser's own click on the page continues; anything else changes nothing. */
async function continueToOpenRouter(handlers: ConnectHandlers, state: string, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const refused = { status: 403, title: "Connect OpenRouter", message: "this button only works on the page the chat link opened, in the same browser; open the link from the chat again" };
  // Browsers say where a form post came from; another site's page must not press our button.
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") {
    req.resume();
    return sendPage(res, refused);
  }
  const form = await readForm(req);
  const sent = form?.get("csrf") ?? "";
  const kept = cookieValue(req.headers.cookie, CSRF_COOKIE) ?? "";
  if (!CSRF_RE.test(sent) || !CSRF_RE.test(kept) || !timingSafeEqual(Buffer.from(sent), Buffer.from(kept))) return sendPage(res, refused);
  const answer = await handlers.confirm(state);
  if ("redirect" in answer) {
    logger.info({ route: OPENROUTER_CONNECT_PREFIX, status: 303 }, "Connect OpenRouter confirmed");
    res.writeHead(303, { location: answer.redirect, "cache-control": "no-store", "referrer-policy": "no-referrer" });
    res.end();
    return;
  }
  logger.info({ route: OPENROUTER_CONNECT_PREFIX, status: answer.status }, "Connect OpenRouter confirmation refused");
  sendPage(res, answer);
}

/** A small urlencoded form body, or undefined when it is not one. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined; // stop reading; the page answer closes the exchange
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sendPage(res: ServerResponse, a: CallbackAnswer, form?: ConfirmForm, extra: Record<string, string> = {}): void {
  res.writeHead(a.status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    // The page's URL holds the state or a code: no referrer leaves it, and the page runs nothing.
    "referrer-policy": "no-referrer",
    "content-security-policy": PAGE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    ...extra,
  });
  res.end(renderPage(a, form));
}
