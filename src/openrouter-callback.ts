// The HTTP side of Connect OpenRouter: GET <public url>/oauth/openrouter/<state>?code=… on the
// bot's public server. It only turns the request into (state, code) for the core and the core's
// answer into a small page; the URL is never logged, since it carries a live authorization code.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallbackAnswer } from "./bot/openrouter-connect.js";
import { OPENROUTER_CALLBACK_PREFIX } from "./bot/openrouter-connect.js";
import type { Logger } from "./log.js";

export type CallbackHandler = (state: string, code: string | undefined) => Promise<CallbackAnswer>;

/** A route for the public server: true if the request was ours (and is being answered). */
export function openRouterCallbackRoute(complete: CallbackHandler, logger: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://callback.invalid");
    if (!url.pathname.startsWith(OPENROUTER_CALLBACK_PREFIX)) return false;
    req.resume(); // no body is expected; drain it so the connection can be reused
    // GET only: a HEAD (a link checker) must not use up a sign-in.
    if (req.method !== "GET") {
      sendPage(res, { status: 405, title: "Connect OpenRouter", message: "open this link in a browser" });
      return true;
    }
    const state = url.pathname.slice(OPENROUTER_CALLBACK_PREFIX.length);
    complete(state, url.searchParams.get("code") ?? undefined).then(
      (answer) => {
        logger.info({ route: OPENROUTER_CALLBACK_PREFIX, status: answer.status }, "Connect OpenRouter callback answered");
        sendPage(res, answer);
      },
      (err: unknown) => {
        logger.error({ err, route: OPENROUTER_CALLBACK_PREFIX }, "Connect OpenRouter callback failed");
        sendPage(res, { status: 500, title: "Connect OpenRouter failed", message: "internal error; ask the bot for a new link" });
      },
    );
    return true;
  };
}

function sendPage(res: ServerResponse, a: CallbackAnswer): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(a.title)}</title></head>`
    + `<body><h1>${escapeHtml(a.title)}</h1><p>${escapeHtml(a.message)}</p></body></html>\n`;
  res.writeHead(a.status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    // The page's URL holds the code: no referrer leaves it, and the page runs nothing.
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
