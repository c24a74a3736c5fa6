// The rules for single values in a command: hosts, public keys, prompts, step lists, model ids
// and plain flag values. Each check refuses with one line and the usage to show; the command
// grammar (grammar.ts) decides where each value goes. Value rules follow spawn's CLI (spec §6.1, §7).

import { isIPv6 } from "node:net";
import type { HostSpec, RepoSpec } from "./commands.js";
import { excerpt, findForbiddenCharacter, findNonAscii } from "./tokenize.js";
import { usageFor } from "./usage.js";

const MAX_PROMPT_LENGTH = 2000; // a task to start on, not a document
const MAX_KEY_COMMENT_LENGTH = 200; // ssh-keygen's default is user@host; longer is a paste of something else
const KEY_DATA_LENGTH = { min: 68, max: 3000 }; // ed25519's base64 is 68 chars; 16384-bit RSA is about 2,800
const DEFAULT_SSH_PORT = 22;
const MODEL_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.:-]*\/[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/; // spec §1.3, exactly one slash
const MAX_MODEL_ID_LENGTH = 128;
const STEP_RE = /^[a-z0-9-]{1,64}$/;
const SSH_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const MAX_HOSTNAME_LENGTH = 253; // DNS limit
const IPV4_OCTET_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const BUDGET_RE = /^\$?(\d{1,6})(\.\d{1,2})?$/; // dollars and at most cents, as OpenRouter's key limits; a leading $ is forgiven

const REPO_SLUG_RE = /^([A-Za-z0-9_.-]{1,100})\/([A-Za-z0-9_.-]{1,100})$/; // GitHub's owner and repository name characters
const URL_PATH_SEGMENT_RE = /^[A-Za-z0-9_.~-]{1,100}$/;
const GIT_REF_RE = /^[A-Za-z0-9._\/-]{1,200}$/; // branch, tag or commit; git's own rules narrowed to safe characters
const MAX_REPO_URL_LENGTH = 300;

/** Thrown only inside the grammar so each rule stays one line; parseCommand turns it into a value. */
export class Refusal extends Error {
  constructor(
    readonly error: string,
    readonly usage: string,
  ) {
    super(error);
  }
}

export function refuse(error: string, usage: string): never {
  throw new Refusal(error, usage);
}

/** Spawn's model id rule: provider/model, one slash, safe characters. */
export function isModelId(value: string): boolean {
  return value.length <= MAX_MODEL_ID_LENGTH && MODEL_ID_RE.test(value);
}

/**
 * A flag value that is not free text: printable ASCII on one line, and no leading `-`
 * (it would read as a flag to whatever program the value reaches).
 */
export function checkPlainValue(value: string, what: string, usage: string): void {
  const odd = findNonAscii(value);
  if (odd?.label === "U+000A") refuse(`${what} must be on one line`, usage);
  if (odd) refuse(`${what} '${excerpt(value)}' has a non-ASCII character (${odd.label} at character ${odd.position}); type it in plain ASCII`, usage);
  if (value.startsWith("-")) refuse(`${what} '${excerpt(value)}' must not start with '-'`, usage);
}

/** Free text for the agent. Shell-looking text is fine: prompts travel base64-encoded, never on a command line. */
export function parsePrompt(value: string, usage: string): string {
  if (value.trim() === "") refuse('--prompt is empty; give the task in quotes, e.g. --prompt "fix the failing tests"', usage);
  if (value.length > MAX_PROMPT_LENGTH) refuse(`--prompt is too long (${value.length} characters; the limit is ${MAX_PROMPT_LENGTH}); shorten it`, usage);
  const bad = findForbiddenCharacter(value, "\n");
  if (bad) refuse(`--prompt contains a control character (${bad.label} at character ${bad.position}); remove it`, usage);
  return value;
}

/** spawn's kebab-casing of names: lowercase, anything but [a-z0-9-] becomes `-`, runs collapse, ends trimmed. */
export function kebabCase(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "");
}

/** `--budget 5`, `--budget 2.50` or `--budget $5`: US dollars, more than 0. Policy caps it later. */
export function parseBudget(value: string, usage: string): number {
  const m = BUDGET_RE.exec(value.trim());
  const usd = m ? Number(`${m[1]}${m[2] ?? ""}`) : NaN;
  if (!m || !(usd > 0)) refuse(`--budget '${excerpt(value)}' is not an amount in US dollars; use e.g. --budget 5 or --budget 2.50 (more than 0)`, usage);
  return usd;
}

export function parseSteps(value: string, usage: string): string[] {
  if (value.trim() === "") return [];
  const steps: string[] = [];
  for (const part of value.split(",")) {
    const step = part.trim().toLowerCase();
    if (!STEP_RE.test(step) || step.startsWith("-")) refuse(`--steps '${excerpt(value)}' has a bad step name '${excerpt(step)}'; use names like github,auto-update separated by commas`, usage);
    if (!steps.includes(step)) steps.push(step);
  }
  return steps;
}

export function parseHost(value: string, usage: string): HostSpec {
  const bad = (rule: string): never => refuse(`--host '${excerpt(value)}' ${rule}`, usage);
  const at = value.indexOf("@");
  if (at < 0 || value.indexOf("@", at + 1) >= 0) bad("needs the form user@host[:port], e.g. root@203.0.113.10");
  const user = value.slice(0, at);
  const rest = value.slice(at + 1);
  if (!SSH_USER_RE.test(user)) bad("has a bad user name; use lowercase letters, digits, _ and -, starting with a letter or _");
  let host: string;
  let port: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    host = close < 0 ? "" : rest.slice(1, close);
    const after = close < 0 ? "" : rest.slice(close + 1);
    // Node accepts zone ids (fe80::1%eth0); only hex digits, colons and dots are allowed here.
    if (close < 0 || !/^[0-9a-fA-F:.]+$/.test(host) || !isIPv6(host)) bad("has a bad IPv6 address; write it like root@[2001:db8::1]:22");
    if (after !== "" && !after.startsWith(":")) bad("has text after the IPv6 address; write it like root@[2001:db8::1]:22");
    port = after === "" ? undefined : after.slice(1);
  } else {
    const parts = rest.split(":");
    if (parts.length > 2) bad("looks like an IPv6 address; put it in brackets, e.g. root@[2001:db8::1]:22");
    host = parts[0]!;
    port = parts[1];
    if (/^[0-9.]+$/.test(host)) {
      const octets = host.split(".");
      if (octets.length !== 4 || !octets.every((o) => IPV4_OCTET_RE.test(o))) bad("has a bad IPv4 address");
    } else if (host.length > MAX_HOSTNAME_LENGTH || !HOSTNAME_RE.test(host)) {
      bad("has a bad host name; use an IP address or a name like build.example.com");
    }
  }
  const portNumber = port === undefined ? DEFAULT_SSH_PORT : /^[0-9]{1,5}$/.test(port) ? Number(port) : 0;
  if (portNumber < 1 || portNumber > 65535) bad("has a bad port; use a number from 1 to 65535");
  return { user, host, port: portNumber };
}

/**
 * Checks only that the text looks like one line of a .pub file, `<type> <base64> [comment]`;
 * the key store validates the key itself. Chat formatting around it (`code`, quotes) is removed.
 */
export function parsePublicKey(raw: string): string {
  const usage = usageFor("keys");
  let line = raw.trim();
  const wrapped = /^(```|`|"|'|\u201C|\u2018)([\s\S]*?)(```|`|"|'|\u201D|\u2019)$/.exec(line);
  if (wrapped) line = wrapped[2]!.trim();
  if (line === "") refuse("keys add needs your SSH public key, e.g. keys add ssh-ed25519 AAAAC3... you@laptop", usage);
  if (line.startsWith("-----BEGIN")) refuse("that is a private key: never share it; send the one-line .pub file instead", usage);
  if (line.includes("\n")) refuse("paste the public key on one line, as it is in your .pub file", usage);
  const [type = "", data = "", ...commentWords] = line.split(/\s+/);
  if (!KEY_TYPES.includes(type)) refuse(`'${excerpt(type)}' is not an SSH public key type; use ${KEY_TYPES.join(", ")}`, usage);
  const looksBase64 = BASE64_RE.test(data) && data.length % 4 === 0 && data.length >= KEY_DATA_LENGTH.min && data.length <= KEY_DATA_LENGTH.max;
  if (!looksBase64) refuse(`the key data after ${type} is not base64; paste the whole line of your .pub file`, usage);
  const comment = commentWords.join(" ");
  if (comment.length > MAX_KEY_COMMENT_LENGTH) refuse(`the key comment is too long (the limit is ${MAX_KEY_COMMENT_LENGTH} characters); shorten it`, usage);
  return comment ? `${type} ${data} ${comment}` : `${type} ${data}`;
}

/**
 * `--repo owner/name[@ref]` or `--repo https://host/path[@ref]`. Credentials never go in the URL
 * (the token is saved in `settings`); names and refs are limited to characters safe on a shell line.
 */
export function parseRepo(value: string, usage: string): RepoSpec {
  const bad = (rule: string): never => refuse(`--repo '${excerpt(value)}' ${rule}`, usage);
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) bad("holds a user name or token: save your git token in `settings` instead and give the URL without it");
  const at = value.lastIndexOf("@");
  const source = at < 0 ? value : value.slice(0, at);
  const ref = at < 0 ? undefined : value.slice(at + 1);
  if (ref !== undefined) {
    const badRef = !GIT_REF_RE.test(ref) || ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".lock") || ref.includes("..") || ref.includes("//");
    if (badRef) bad("has a bad ref after @; give a branch, tag or commit such as main, v1.2.0 or 3f2a9c1");
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      return bad("is not a URL; use owner/name or https://host/owner/name");
    }
    if (url.protocol !== "https:") bad("must be an https URL (or owner/name)");
    if (url.search || url.hash || source.length > MAX_REPO_URL_LENGTH) bad("must be a plain repository URL with no query or fragment");
    const segments = url.pathname.split("/").filter(Boolean);
    if (segments.length === 0 || !segments.every((s) => URL_PATH_SEGMENT_RE.test(s) && s !== "." && s !== "..")) bad("has a bad path; use https://host/owner/name");
    return { source: `${url.origin}/${segments.join("/")}`, ...(ref ? { ref } : {}) };
  }
  const m = REPO_SLUG_RE.exec(source);
  if (!m || [m[1], m[2]].some((part) => part === "." || part === ".." || part!.startsWith("-"))) bad("is not a repository; use owner/name, e.g. --repo acme/webapp@main");
  return { source, ...(ref ? { ref } : {}) };
}
