// The small HTML pages of Connect OpenRouter: the confirmation form that names the account, and
// one-line outcome pages. Every value shown is escaped; the pages run no script and load nothing.
import { createHash } from "node:crypto";
import { COMMAND_PLATFORMS, commandFor } from "./adapters/common/command-syntax.js";
import type { CallbackAnswer, CommandHint } from "./bot/index.js";

const STYLE = [
  "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:24px 16px;background:#f6f7f9;color:#1d2330}",
  "main{max-width:34rem;margin:0 auto;background:#fff;border:1px solid #dde1e7;border-radius:10px;padding:20px 24px}",
  "h1{font-size:1.4rem;margin:0 0 12px}",
  "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:12px 0;padding:12px;background:#f0f3f8;border-radius:8px}",
  "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}",
  "button{font:inherit;font-weight:600;color:#fff;background:#3056d3;border:0;border-radius:8px;padding:10px 18px;cursor:pointer;width:100%}",
  ".note{color:#5a6272;font-size:.9rem}",
  "code{font:.95em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f3f8;border-radius:4px;padding:1px 5px;white-space:nowrap}",
].join("");

/** The page's one stylesheet is allowed by its hash, so the CSP can stay script-free and closed. */
const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;
export const PAGE_CSP = `default-src 'none'; style-src ${STYLE_HASH}; base-uri 'none'; frame-ancestors 'none'`;

/** The confirmation form posts back here with this one-time value (also in a cookie only this page's path sees). */
export interface ConfirmForm {
  action: string;
  csrf: string;
}

export function renderPage(a: CallbackAnswer, form?: ConfirmForm): string {
  const body = a.account && form ? confirmBody(a, a.account, form) : `<p>${escapeHtml(a.message)}${a.hint ? `; ${hintHtml(a.hint)}` : ""}</p>`;
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    + `<title>${escapeHtml(a.title)}</title><style>${STYLE}</style></head>`
    + `<body><main><h1>${escapeHtml(a.title)}</h1>${body}</main></body></html>\n`;
}

function confirmBody(a: CallbackAnswer, account: NonNullable<CallbackAnswer["account"]>, form: ConfirmForm): string {
  return "<p>This link saves an OpenRouter key to this chat account:</p><dl>"
    + `<dt>Chat user</dt><dd>${escapeHtml(account.userName)} (id ${escapeHtml(account.userId)})</dd>`
    + `<dt>Where</dt><dd>${escapeHtml(account.place)} on ${escapeHtml(account.platform)}</dd></dl>`
    + `<p>${escapeHtml(a.message)}</p>`
    + `<form method="post" action="${escapeHtml(form.action)}"><input type="hidden" name="csrf" value="${escapeHtml(form.csrf)}">`
    + `<button type="submit">Continue to OpenRouter as ${escapeHtml(account.userName)}</button></form>`
    + `<p class="note">Not you? Close this page: nothing has been saved. The link works once and expires in ${account.minutesLeft} minute(s).</p>`;
}

const CHAT_NAMES: Record<(typeof COMMAND_PLATFORMS)[number], string> = { slack: "Slack", discord: "Discord", console: "the console" };

/** The hint's command as typed in the chat the link came from; for an unknown link, as typed in each. */
function hintHtml(h: CommandHint): string {
  const code = (platform: string) => `<code>${escapeHtml(commandFor(platform, h.words))}</code>`;
  if (h.platform) return `${escapeHtml(h.lead)} ${code(h.platform)}`;
  const each = COMMAND_PLATFORMS.map((p) => `${code(p)} in ${CHAT_NAMES[p]}`);
  return `${escapeHtml(h.lead)} ${each.slice(0, -1).join(", ")} or ${each.at(-1)}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
