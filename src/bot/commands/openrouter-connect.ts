// "Connect OpenRouter": a user gets an OpenRouter key without pasting one anywhere. The bot answers
// privately with a one-time link to its own public server, whose page says whose account the key
// will be saved to and needs a click (a POST) before it sends the browser on to OpenRouter's OAuth
// PKCE page; so someone who opens another person's link sees that before anything is saved.
// OpenRouter sends the browser back to <public url>/oauth/openrouter/<state>?code=…, and the bot
// trades the code and its verifier for the user's key (POST <api>/auth/keys), then seals it
// exactly as `settings` does.
// Wire format: https://openrouter.ai/docs/guides/overview/auth/oauth and the API reference's
// "Exchange authorization code for API key".
import { createHash, randomBytes } from "node:crypto";
import * as v from "valibot";
import { secrets } from "../../secrets.js";
import { auditAction } from "../access/audit-trail.js";
import { plural } from "../views/format.js";
import type { CoreContext, Invocation } from "../context.js";
import type { OAuthStateRecord, UserRef } from "../store/index.js";
import { OPENROUTER_KEY_RE, saveApiKey } from "./user-settings.js";
import { error, text, type View } from "../views/views.js";

/** The callback's path on the public server; the state follows it as the last path segment. */
export const OPENROUTER_CALLBACK_PREFIX = "/oauth/openrouter/";
/** The confirmation page's path (the link handed out in chat); the state follows it. */
export const OPENROUTER_CONNECT_PREFIX = "/oauth/openrouter/connect/";
export const OPENROUTER_DEFAULT_URLS = { api: "https://openrouter.ai/api/v1", auth: "https://openrouter.ai/auth" } as const;
/** Long enough to sign in (and maybe sign up) at OpenRouter, short enough that a stray link goes stale. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
const RANDOM_BYTES = 32; // state and verifier: 256 bits, 43 base64url characters (RFC 7636 allows 43-128)
const STATE_RE = /^[A-Za-z0-9_-]{43}$/;
const CODE_RE = /^[A-Za-z0-9._~-]{1,512}$/; // OpenRouter's codes are opaque; refuse anything a URL would not carry plainly
const EXCHANGE_TIMEOUT_MS = 15_000; // the browser is waiting on this request
const MAX_ERROR_TEXT = 200;
const PLATFORM_NAMES: Record<string, string> = { slack: "Slack", discord: "Discord", console: "the console" };
const DISCORD_DM_PREFIX = "dm:"; // the Discord adapter's workspace for one user's DM with the bot

/** Whose account a link saves the key to, as the confirmation page shows it. */
export interface ConnectAccount {
  userName: string;
  userId: string;
  platform: string;
  /** "workspace T123" or "direct messages with the bot". */
  place: string;
  minutesLeft: number;
}

/**
 * A command a page suggests after its message: `lead` then the command `words` (the core's
 * grammar), which the page writes in the syntax of the chat the link came from (`platform`), or
 * of every chat when the link is unknown.
 */
export interface CommandHint {
  lead: string;
  words: string;
  platform?: string;
}

/** What a Connect OpenRouter page says: an HTTP status and one line; `account` makes it the confirmation form. */
export interface CallbackAnswer {
  status: number;
  title: string;
  message: string;
  hint?: CommandHint;
  account?: ConnectAccount;
}

/** The way out of a link that cannot be used: a new one, asked for where the old one was. */
export const newLinkHint = (platform?: string): CommandHint => ({ lead: "ask the bot for a new link with", words: "settings openrouter", platform });

/** The click on the confirmation page: on to OpenRouter, or a page saying why not. */
export type ConfirmAnswer = { redirect: string } | CallbackAnswer;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const verifierContext = (stateHash: string, user: UserRef) => `${user.platform}:${user.userId}:openrouter-oauth:${stateHash}`;
/** S256: base64url of the SHA-256 of the verifier, no padding. */
export const codeChallenge = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

function urls(ctx: CoreContext): { api: string; auth: string } {
  const o = ctx.settings.openrouter;
  return { api: o?.api ?? OPENROUTER_DEFAULT_URLS.api, auth: o?.auth ?? OPENROUTER_DEFAULT_URLS.auth };
}

const fail = (status: number, message: string, hint?: CommandHint, title = "Connect OpenRouter failed"): CallbackAnswer => ({ status, title, message, ...(hint ? { hint } : {}) });
const usedUp = (rec: OAuthStateRecord): CallbackAnswer => rec.connectedAt !== null
  ? fail(410, `this sign-in link was already used: OpenRouter is connected for ${rec.userName || rec.user.userId}, and nothing changed now`,
    { ...newLinkHint(rec.user.platform), lead: "if you need another, ask the bot for a new link with" }, "Link already used")
  : fail(410, "this sign-in link was already used", newLinkHint(rec.user.platform), "Link already used");

/** The pending sign-in for a state from a URL; undefined for a malformed or unknown one. */
async function findState(ctx: CoreContext, state: string): Promise<OAuthStateRecord | undefined> {
  return STATE_RE.test(state) ? ctx.store.oauth.findOAuthState(sha256(state)) : undefined;
}

/** `settings openrouter`: a private one-time link to the bot's confirmation page. */
export async function handleConnectOpenRouter(ctx: CoreContext, inv: Invocation): Promise<void> {
  const publicUrl = ctx.settings.publicUrl;
  if (!publicUrl) {
    return inv.conv.whisper(error("Connect OpenRouter needs the bot's public URL: an admin sets SPAWNBOT_PUBLIC_URL (served over HTTPS); until then add your key in `settings`"));
  }
  const state = randomBytes(RANDOM_BYTES).toString("base64url");
  const verifier = randomBytes(RANDOM_BYTES).toString("base64url");
  const stateHash = sha256(state);
  const now = Date.now();
  const ttlMs = ctx.settings.oauthStateTtlMs ?? OAUTH_STATE_TTL_MS;
  await ctx.store.oauth.saveOAuthState({
    stateHash, user: inv.user, userName: inv.req.user.name, workspace: inv.req.workspace, channel: inv.req.channel,
    sealedVerifier: ctx.secretBox.seal(verifier, verifierContext(stateHash, inv.user)), createdAt: now, expiresAt: now + ttlMs,
  });
  await auditAction(ctx, inv, "openrouter-connect-start");
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  return inv.conv.whisper(text([
    `Open this link, check that it names you, continue to OpenRouter, sign in and approve spawnbot: ${publicUrl}${OPENROUTER_CONNECT_PREFIX}${state}`,
    `It is for you only, works once and expires in ${plural(minutes, "minute")}; the key OpenRouter makes is saved (encrypted) for your spawns. Asking again cancels this link.`,
  ], "Connect OpenRouter"));
}

/** GET of the link: whose account the key goes to, or why the link cannot be used. Changes nothing. */
export async function connectPage(ctx: CoreContext, state: string): Promise<CallbackAnswer> {
  const rec = await findState(ctx, state);
  if (!rec) return fail(404, "this sign-in link is unknown", newLinkHint());
  if (rec.confirmedAt !== null || rec.usedAt !== null) return usedUp(rec);
  const now = Date.now();
  if (rec.expiresAt <= now) return fail(410, "this sign-in link has expired", newLinkHint(rec.user.platform));
  const platform = PLATFORM_NAMES[rec.user.platform] ?? rec.user.platform;
  const place = rec.user.platform === "discord" && rec.workspace.startsWith(DISCORD_DM_PREFIX) ? "direct messages with the bot" : `workspace ${rec.workspace}`;
  return {
    status: 200, title: "Connect OpenRouter",
    message: "Continue only if this is your own chat account: the key OpenRouter makes for the account you sign in with there will be saved to it and pay for its spawns.",
    account: { userName: rec.userName || rec.user.userId, userId: rec.user.userId, platform, place, minutesLeft: Math.max(1, Math.ceil((rec.expiresAt - now) / 60_000)) },
  };
}

/** The POST from the confirmation page (its CSRF check done by the HTTP side): use the click up and go to OpenRouter. */
export async function confirmConnect(ctx: CoreContext, state: string): Promise<ConfirmAnswer> {
  const rec = await findState(ctx, state);
  if (!rec) return fail(404, "this sign-in link is unknown", newLinkHint());
  const now = Date.now();
  if (rec.confirmedAt === null && rec.usedAt === null && rec.expiresAt <= now) return fail(410, "this sign-in link has expired", newLinkHint(rec.user.platform));
  if (!(await ctx.store.oauth.confirmOAuthState(rec.stateHash, now))) return usedUp(rec);
  const verifier = ctx.secretBox.open(rec.sealedVerifier, verifierContext(rec.stateHash, rec.user));
  await ctx.store.audit({ platform: rec.user.platform, workspace: rec.workspace, channel: rec.channel, userId: rec.user.userId, action: "openrouter-connect-confirmed", detail: {} });
  // The state rides in the callback's path: OpenRouter documents only that it adds ?code=, not
  // whether a query already on callback_url survives.
  const link = new URL(urls(ctx).auth);
  link.searchParams.set("callback_url", `${ctx.settings.publicUrl ?? ""}${OPENROUTER_CALLBACK_PREFIX}${state}`);
  link.searchParams.set("code_challenge", codeChallenge(verifier));
  link.searchParams.set("code_challenge_method", "S256");
  return { redirect: link.href };
}

/**
 * The browser came back from OpenRouter. An unknown, unconfirmed, used or expired state, or a
 * missing code, changes nothing; otherwise the state is used up before the exchange, so a replay
 * cannot race it. A reload of the success page (same code) says it is done, not that it failed.
 */
export async function completeConnectOpenRouter(ctx: CoreContext, state: string, code: string | undefined): Promise<CallbackAnswer> {
  const rec = await findState(ctx, state);
  if (!rec) return fail(404, "this sign-in link is unknown", newLinkHint());
  const codeHash = code === undefined ? undefined : sha256(code);
  if (rec.usedAt !== null) {
    if (rec.connectedAt !== null && codeHash !== undefined && codeHash === rec.codeHash) return connected();
    return usedUp(rec);
  }
  const now = Date.now();
  if (rec.expiresAt <= now) return fail(410, "this sign-in link has expired", newLinkHint(rec.user.platform));
  if (rec.confirmedAt === null) return fail(403, "this sign-in did not start from the bot's page; open the link from the chat again and continue from there");
  if (!code || !codeHash || !CODE_RE.test(code)) return fail(400, "OpenRouter sent no usable code; open the link from the chat again and approve the request");
  // Not registered with the redactor: it goes only to OpenRouter, is spent with its code, and
  // registering every one would grow the redactor for the life of the process.
  const verifier = ctx.secretBox.open(rec.sealedVerifier, verifierContext(rec.stateHash, rec.user));
  if (!(await ctx.store.oauth.consumeOAuthState(rec.stateHash, codeHash, now))) return usedUp(rec);
  const place = { workspace: rec.workspace, channel: rec.channel };
  const outlet = ctx.outlets.get(rec.user.platform);
  // The chat note is a courtesy: the page says the same, so a platform hiccup must not fail the sign-in.
  const tell = (view: View) => outlet?.notify(rec.user.userId, view, place).catch((err: unknown) => {
    ctx.log.warn({ err, userId: rec.user.userId }, "Connect OpenRouter: the chat note could not be sent");
  });
  const exchanged = await exchangeCode(urls(ctx).api, code, verifier);
  if ("problem" in exchanged) {
    await ctx.store.audit({ platform: rec.user.platform, ...place, userId: rec.user.userId, action: "openrouter-connect-failed", detail: { problem: exchanged.problem } });
    ctx.log.warn({ userId: rec.user.userId, problem: exchanged.problem }, "Connect OpenRouter: the code exchange failed");
    await tell(error(`Connect OpenRouter failed: ${exchanged.problem}; try again with \`settings openrouter\``));
    return fail(502, exchanged.problem, newLinkHint(rec.user.platform));
  }
  await saveApiKey(ctx, rec.user, place, exchanged.key, "openrouter-oauth");
  await ctx.store.oauth.markOAuthConnected(rec.stateHash);
  const last4 = exchanged.key.slice(-4);
  await tell(text(`OpenRouter is connected: your new key ending in ${last4} is saved (encrypted) and used by your new spawns`, "Connect OpenRouter"));
  return connected();
}

function connected(): CallbackAnswer {
  return { status: 200, title: "OpenRouter connected", message: "spawnbot has your OpenRouter key now; you can close this page and go back to the chat" };
}

const KeyAnswer = v.object({ key: v.pipe(v.string(), v.regex(OPENROUTER_KEY_RE)) });
const ErrorAnswer = v.object({ error: v.object({ message: v.optional(v.string()) }) });

/** POST <api>/auth/keys. The key is only ever returned; a problem never holds it. */
export async function exchangeCode(apiUrl: string, code: string, verifier: string): Promise<{ key: string } | { problem: string }> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl.replace(/\/$/, "")}/auth/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ code, code_verifier: verifier, code_challenge_method: "S256" }),
      signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    });
  } catch (err) {
    const timedOut = (err as Error).name === "TimeoutError";
    return { problem: timedOut ? "OpenRouter did not answer in time" : "OpenRouter could not be reached" };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok) {
    const parsed = v.safeParse(KeyAnswer, body);
    return parsed.success ? { key: parsed.output.key } : { problem: "OpenRouter answered without a usable key" };
  }
  const err = v.safeParse(ErrorAnswer, body);
  const said = err.success && err.output.error.message ? `: ${secrets.redact(err.output.error.message).slice(0, MAX_ERROR_TEXT)}` : "";
  return { problem: `OpenRouter refused the sign-in (HTTP ${res.status}${said})` };
}
