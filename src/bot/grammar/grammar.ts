// Parses the text of a chat command (what follows `/spawn`) into a typed Command, or into a
// one-line error plus the usage line to show. Value rules follow spawn's CLI (spec §6.1, §7).

import type { Command, ParseResult, SpawnCommand } from "./commands.js";
import { looksLikeSecret } from "../../secrets.js";
import { isTooLong, parseDuration } from "./duration.js";
import { checkPlainValue, isModelId, kebabCase, parseBudget, parseHost, parsePrompt, parseRepo, parsePublicKey, parseSteps, Refusal, refuse } from "./grammar-values.js";
import { nearest } from "./suggest.js";
import { excerpt, findForbiddenCharacter, findNonAscii, isFlagToken, tokenize, type Token } from "./tokenize.js";
import { COMMANDS, GENERAL_USAGE, SPAWN_FLAGS, commandNamed, usageFor, type CommandName, type SpawnFlagKey } from "./usage.js";

export interface GrammarCatalog {
  agents: readonly string[];
  clouds: readonly string[];
  agentAliases?: Record<string, string>;
  cloudAliases?: Record<string, string>;
}

export const MAX_COMMAND_LENGTH = 4000; // chat commands are short; a 10 kB "command" is a paste gone wrong or an attack
const MAX_ERROR_LENGTH = 300; // one readable line in every chat client
const MAX_LISTED_NAMES_CHARS = 120; // room for "available: …" inside MAX_ERROR_LENGTH

const NAME_KEY_RE = /^[a-z0-9_-]{1,64}$/; // agent and cloud keys (spec §6.1)
const MAX_RAW_NAME_LENGTH = 128; // spawn checks --name before kebab-casing it
const SERVER_NAME = { min: 3, max: 63 }; // cloud resource names; spawn's server-name rule
const SIZE_RE = /^[a-zA-Z0-9._-]{1,63}$/;
const ZONE_RE = /^[a-zA-Z0-9_-]{1,63}$/;
const TARGET_RE = /^[a-zA-Z0-9-]{1,63}$/;
const USER_ID_RE = /^[A-Za-z0-9._-]{1,64}$/; // platform user ids (Slack U123, Discord snowflakes, console names)
const LIST_FILTER_RE = /^[a-zA-Z0-9._/:-]{1,64}$/;
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const HELP_FLAGS = ["--help", "-h"];

/** Never throws: every input, however hostile, gives a command or a one-line error. */
export function parseCommand(text: string, catalog: GrammarCatalog): ParseResult {
  try {
    return { ok: true, command: parseText(text, catalog) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: oneLine(err.error), usage: err.usage };
    return { ok: false, error: "could not read this command (internal parser error); please report it", usage: GENERAL_USAGE };
  }
}

function parseText(input: unknown, catalog: GrammarCatalog): Command {
  if (typeof input !== "string") refuse("the command must be text", GENERAL_USAGE);
  if (input.length > MAX_COMMAND_LENGTH) {
    refuse(`the command is too long (${input.length} characters; the limit is ${MAX_COMMAND_LENGTH}); shorten it`, GENERAL_USAGE);
  }
  const text = input.replace(/\r\n/g, "\n");
  const bad = findForbiddenCharacter(text, "\t\n");
  if (bad) refuse(`the command contains a control character (${bad.label} at character ${bad.position}); remove it and send again`, GENERAL_USAGE);
  // A key typed into chat has already been seen by the platform; at least never act on it or echo it.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY/.test(text)) refuse("that is a private key: never share it; send the one-line .pub file instead", usageFor("keys"));
  if (looksLikeSecret(text)) {
    refuse("that looks like an API key, token or private key: never paste one into a chat message; set your OpenRouter key in the private `settings` form", usageFor("settings"));
  }
  const body = text.replace(/^\s*\/spawn(?=\s|$)/i, "");

  // `keys add` takes the rest of the line as typed: key comments may hold quotes and apostrophes.
  const keyLine = /^\s*keys\s+add(?:\s+([\s\S]*))?$/i.exec(body);
  if (keyLine) return { kind: "keys-add", publicKey: parsePublicKey(keyLine[1] ?? "") };

  const tokenized = tokenize(body);
  if (!tokenized.ok) refuse(tokenized.error, GENERAL_USAGE);
  const [first, ...rest] = tokenized.tokens;
  if (!first) return { kind: "help" };
  if (isFlagToken(first) && HELP_FLAGS.includes(first.text)) return { kind: "help" };

  const verb = isFlagToken(first) ? undefined : commandNamed(first.text.toLowerCase());
  const args = verb ? rest : tokenized.tokens;
  const command = verb ?? (startsSpawn(tokenized.tokens, catalog) ? "spawn" : unknownFirstWord(first.text, catalog));
  if (args.some((t) => isFlagToken(t) && HELP_FLAGS.includes(t.text))) return { kind: "help", topic: command };
  return PARSERS[command](args, catalog);
}

const PARSERS: Record<CommandName, (args: Token[], catalog: GrammarCatalog) => Command> = {
  spawn: parseSpawn,
  list: parseList,
  status: (args) => ({ kind: "status", target: parseTarget(args, "status") }),
  delete: (args) => ({ kind: "delete", target: parseTarget(args, "delete") }),
  connect: (args) => ({ kind: "connect", target: parseTarget(args, "connect") }),
  restart: (args) => ({ kind: "restart", target: parseTarget(args, "restart") }),
  extend: parseExtend,
  budget: parseBudgetCommand,
  costs: parseCosts,
  share: (args) => ({ kind: "share", ...parseShare(args, "share") }),
  unshare: (args) => ({ kind: "unshare", ...parseShare(args, "unshare") }),
  prefs: parsePrefs,
  keys: parseKeys,
  hosts: parseHosts,
  settings: (args) => {
    const { positionals } = splitArguments(args, [], "settings");
    const [word, extra] = positionals;
    if (word === undefined) return { kind: "settings" };
    if (word.toLowerCase() !== "openrouter") refuse(`settings takes no argument but 'openrouter' (to connect your OpenRouter account); remove '${excerpt(word)}'`, usageFor("settings"));
    if (extra !== undefined) extraWord(extra, "settings");
    return { kind: "settings-openrouter" };
  },
  agents: (args) => {
    noArguments(args, "agents");
    return { kind: "agents" };
  },
  clouds: (args) => {
    noArguments(args, "clouds");
    return { kind: "clouds" };
  },
  help: parseHelp,
};

/** Without a verb, a command is a spawn when it starts with a flag, agent/cloud, or a known agent or cloud is second. */
function startsSpawn(tokens: Token[], catalog: GrammarCatalog): boolean {
  const [first, second] = tokens;
  if (!first || first.text.startsWith("/")) return false; // e.g. a second /spawn: reported as an unknown command
  if (isFlagToken(first) || /^[^/]+\//.test(first.text)) return true;
  const known = (t: Token | undefined): boolean => t !== undefined && (lookup(t.text, "agent", catalog) ?? lookup(t.text, "cloud", catalog)) !== undefined;
  if (known(first)) return true;
  // `spwan codex local`: a misspelt verb before an agent is the verb, not an unknown agent.
  return known(second) && !misspeltVerb(first.text, catalog);
}

/** Whether a word that is no command is closest to a command (rather than to an agent or cloud). */
function misspeltVerb(word: string, catalog: GrammarCatalog): boolean {
  const verbs = COMMANDS.flatMap((c) => [c.name, ...c.aliases]);
  const match = nearest(word.toLowerCase(), [...verbs, ...namesOf("agent", catalog), ...namesOf("cloud", catalog)]);
  return match !== undefined && verbs.includes(match);
}

function unknownFirstWord(word: string, catalog: GrammarCatalog): never {
  const nonAscii = findNonAscii(word);
  if (nonAscii) refuse(`'${excerpt(word)}' has a non-ASCII character (${nonAscii.label} at character ${nonAscii.position}); type commands and names in plain ASCII`, GENERAL_USAGE);
  const lower = word.toLowerCase();
  const verbs = COMMANDS.flatMap((c) => [c.name, ...c.aliases]);
  const match = nearest(lower, [...verbs, ...namesOf("agent", catalog), ...namesOf("cloud", catalog)]);
  if (match !== undefined && !verbs.includes(match)) {
    const kind = lookup(match, "agent", catalog) !== undefined ? "agent" : "cloud";
    refuse(`unknown ${kind} '${excerpt(word)}' — did you mean '${lookup(match, kind, catalog) ?? match}'?`, usageFor("spawn"));
  }
  if (match !== undefined) refuse(`unknown command '${excerpt(word)}' — did you mean '${match}'?`, GENERAL_USAGE);
  refuse(`unknown command '${excerpt(word)}'; start with a command (${COMMANDS.map((c) => c.name).join(", ")}) or an agent (${listNames(catalog.agents)})`, GENERAL_USAGE);
}

// --- Flags and positional words ------------------------------------------------------------

interface FlagSpec {
  key: string;
  long: string;
  aliases: readonly string[];
  takesValue: boolean;
  example?: string;
}

interface Arguments {
  flags: Map<string, string | true>;
  positionals: string[];
}

const SPAWN_FLAG_SPECS: FlagSpec[] = SPAWN_FLAGS.map((f) => ({ key: f.key, long: f.long, aliases: f.aliases, takesValue: f.value !== undefined }));
const LIST_FLAG_SPECS: FlagSpec[] = [
  { key: "mine", long: "--mine", aliases: [], takesValue: false },
  { key: "all", long: "--all", aliases: [], takesValue: false },
  { key: "page", long: "--page", aliases: [], takesValue: true, example: "--page 2" },
];
const TOO_LONG = "is longer than a spawn may live: the most allowed is 30 days (30d)"; // MAX_DURATION_MS
const PAGE_RE = /^[0-9]{1,6}$/; // a page number; a list never has a million pages
const COSTS_FLAG_SPECS: FlagSpec[] = [
  { key: "mine", long: "--mine", aliases: [], takesValue: false },
  { key: "channel", long: "--channel", aliases: [], takesValue: false },
  { key: "all", long: "--all", aliases: [], takesValue: false },
  { key: "month", long: "--month", aliases: [], takesValue: true, example: "--month 2026-11" },
];
const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const PREFS_FLAG_SPECS: FlagSpec[] = [{ key: "clear", long: "--clear", aliases: [], takesValue: false }];
const HOSTS_FLAG_SPECS: FlagSpec[] = [{ key: "channel", long: "--channel", aliases: ["--channels"], takesValue: true }];
// A channel as an id, or as Slack (<#C123|name>) and Discord (<#123>) write a channel mention.
const CHANNEL_RE = /^(?:<#([A-Za-z0-9]{1,64})(?:\|[^>]*)?>|([A-Za-z0-9_-]{1,64}))$/;

/** Splits words into flags (`--flag value`, `--flag=value`, short forms) and positional words. */
function splitArguments(tokens: Token[], specs: readonly FlagSpec[], command: CommandName): Arguments {
  const usage = usageFor(command);
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!isFlagToken(token)) {
      positionals.push(token.text);
      continue;
    }
    const eq = token.text.indexOf("=");
    const typed = eq < 0 ? token.text : token.text.slice(0, eq);
    const nonAscii = findNonAscii(typed);
    if (nonAscii) refuse(`flag '${excerpt(typed)}' has a non-ASCII character (${nonAscii.label} at character ${nonAscii.position}); type flags in plain ASCII`, usage);
    const name = typed.toLowerCase();
    const spec = specs.find((s) => s.long === name || s.aliases.includes(name));
    if (!spec) refuse(unknownFlagMessage(typed, specs, command), usage);
    if (flags.has(spec.key)) refuse(`${spec.long} was given twice; give it once`, usage);
    if (!spec.takesValue) {
      if (eq >= 0) refuse(`${spec.long} takes no value; write just ${spec.long}`, usage);
      flags.set(spec.key, true);
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = token.text.slice(eq + 1);
    } else {
      const next = tokens[i + 1];
      if (next === undefined || isFlagToken(next)) refuse(`${spec.long} needs a value after it, e.g. ${exampleOf(spec)}`, usage);
      value = next.text;
      i++;
    }
    flags.set(spec.key, value);
  }
  return { flags, positionals };
}

function unknownFlagMessage(typed: string, specs: readonly FlagSpec[], command: CommandName): string {
  if (specs.length === 0) return `unknown flag ${excerpt(typed)}: ${command} takes no flags`;
  const bare = (flag: string): string => flag.replace(/^-+/, "");
  const longs = specs.map((s) => s.long);
  const match = nearest(bare(typed), longs.map(bare));
  const hint = match !== undefined ? ` — did you mean --${match}?` : `; ${command} takes ${longs.join(", ")}`;
  return `unknown flag ${excerpt(typed)}${hint}`;
}

function exampleOf(spec: FlagSpec): string {
  return spec.example ?? SPAWN_FLAGS.find((f) => f.key === spec.key)?.example ?? `${spec.long} VALUE`;
}

function noArguments(args: Token[], command: CommandName): void {
  const { positionals } = splitArguments(args, [], command);
  if (positionals.length > 0) refuse(`${command} takes no arguments; remove '${excerpt(positionals[0]!)}'`, usageFor(command));
}

function extraWord(word: string, command: CommandName): never {
  refuse(`unexpected extra word '${excerpt(word)}'; put text with spaces in quotes, e.g. --prompt "fix the tests"`, usageFor(command));
}

// --- Agents and clouds ---------------------------------------------------------------------

type NameKind = "agent" | "cloud";

function namesOf(kind: NameKind, catalog: GrammarCatalog): string[] {
  const [names, aliases] = kind === "agent" ? [catalog.agents, catalog.agentAliases] : [catalog.clouds, catalog.cloudAliases];
  return [...names, ...Object.keys(aliases ?? {})];
}

/** The catalog name a word means (aliases resolved, case ignored), or undefined. */
function lookup(word: string, kind: NameKind, catalog: GrammarCatalog): string | undefined {
  const key = word.toLowerCase();
  if (!NAME_KEY_RE.test(key)) return undefined;
  const [names, aliases] = kind === "agent" ? [catalog.agents, catalog.agentAliases] : [catalog.clouds, catalog.cloudAliases];
  const name = aliases !== undefined && Object.hasOwn(aliases, key) ? aliases[key] : key;
  return name !== undefined && names.includes(name) ? name : undefined;
}

function resolveName(word: string, kind: NameKind, catalog: GrammarCatalog, usage: string): string {
  const nonAscii = findNonAscii(word);
  if (nonAscii) refuse(`${kind} '${excerpt(word)}' has a non-ASCII character (${nonAscii.label} at character ${nonAscii.position}); type it in plain ASCII`, usage);
  const found = lookup(word, kind, catalog);
  if (found !== undefined) return found;
  const other: NameKind = kind === "agent" ? "cloud" : "agent";
  if (lookup(word, other, catalog) !== undefined) refuse(`'${excerpt(word)}' is a ${other}, not an ${kind}; e.g. spawn codex gcp`, usage);
  const names = kind === "agent" ? catalog.agents : catalog.clouds;
  const match = nearest(word, namesOf(kind, catalog));
  if (match !== undefined) refuse(`unknown ${kind} '${excerpt(word)}' — did you mean '${lookup(match, kind, catalog) ?? match}'?`, usage);
  refuse(`unknown ${kind} '${excerpt(word)}'; available: ${listNames(names)}`, usage);
}

/** `agent cloud`, `cloud agent` (swapped back) or `agent/cloud`. */
function resolveAgentAndCloud(positionals: string[], catalog: GrammarCatalog): [string, string] {
  const usage = usageFor("spawn");
  let words = positionals;
  if (words[0]?.includes("/")) {
    const parts = words[0].split("/");
    if (parts.length !== 2 || !parts[0] || !parts[1]) refuse(`'${excerpt(words[0])}' is not agent/cloud; write e.g. codex/gcp`, usage);
    if (words.length > 1) extraWord(words[1]!, "spawn");
    words = parts;
  }
  if (words.length > 2) extraWord(words[2]!, "spawn");
  const [a, b] = words;
  if (a === undefined) refuse("spawn needs an agent and a cloud, e.g. spawn codex gcp", usage);
  if (b === undefined) {
    if (lookup(a, "agent", catalog) !== undefined) refuse(`spawn needs a cloud after the agent; available: ${listNames(catalog.clouds)}`, usage);
    if (lookup(a, "cloud", catalog) !== undefined) refuse(`spawn needs an agent before the cloud; available: ${listNames(catalog.agents)}`, usage);
    resolveName(a, "agent", catalog, usage);
    refuse(`spawn needs a cloud after the agent; available: ${listNames(catalog.clouds)}`, usage);
  }
  const cloudFirst = lookup(a, "agent", catalog) === undefined && lookup(a, "cloud", catalog) !== undefined;
  const [agentWord, cloudWord] = cloudFirst ? [b, a] : [a, b];
  return [resolveName(agentWord, "agent", catalog, usage), resolveName(cloudWord, "cloud", catalog, usage)];
}

function listNames(names: readonly string[]): string {
  let text = "";
  for (const name of names) {
    const next = text ? `${text}, ${excerpt(name)}` : excerpt(name);
    if (next.length > MAX_LISTED_NAMES_CHARS) return `${text}, …`;
    text = next;
  }
  return text || "none configured";
}

// --- spawn ---------------------------------------------------------------------------------

function parseSpawn(args: Token[], catalog: GrammarCatalog): SpawnCommand {
  const usage = usageFor("spawn");
  const { flags, positionals } = splitArguments(args, SPAWN_FLAG_SPECS, "spawn");
  const [agent, cloud] = resolveAgentAndCloud(positionals, catalog);
  const command: SpawnCommand = { kind: "spawn", agent, cloud, dryRun: flags.has("dryRun") };
  for (const [key, value] of flags) {
    if (typeof value === "string") applySpawnFlag(command, key as SpawnFlagKey, value, usage);
  }
  if (command.host && cloud !== "ssh") refuse(`--host is only for the ssh cloud; remove it, or use spawn ${agent} ssh --host ...`, usage);
  if (!command.host && cloud === "ssh") refuse("the ssh cloud needs --host user@host[:port], e.g. --host root@203.0.113.10", usage);
  return command;
}

function applySpawnFlag(command: SpawnCommand, key: SpawnFlagKey, value: string, usage: string): void {
  if (key === "prompt") {
    command.prompt = parsePrompt(value, usage);
    return;
  }
  const doc = SPAWN_FLAGS.find((f) => f.key === key)!;
  const flag = doc.long;
  if (value === "" && key !== "steps") refuse(`${flag} needs a value, e.g. ${doc.example}`, usage);
  checkPlainValue(value, flag, usage);
  const bad = (rule: string): never => refuse(`${flag} '${excerpt(value)}' ${rule}`, usage);
  switch (key) {
    case "model":
      if (!isModelId(value)) bad("is not a model id; use provider/model, e.g. openai/gpt-5.3-codex");
      command.model = value;
      return;
    case "name": {
      if (value.length > MAX_RAW_NAME_LENGTH) bad(`is too long; use at most ${SERVER_NAME.max} letters, digits and -`);
      const name = kebabCase(value);
      if (name === "") bad(`has no letters or digits to make a server name from; use ${SERVER_NAME.min}-${SERVER_NAME.max} letters, digits and -`);
      if (name.length < SERVER_NAME.min || name.length > SERVER_NAME.max) bad(`gives the server name '${excerpt(name)}'; use ${SERVER_NAME.min}-${SERVER_NAME.max} letters, digits and -`);
      command.name = name;
      return;
    }
    case "size":
      if (!SIZE_RE.test(value)) bad("is not a machine size; use up to 63 letters, digits, '.', '_' or '-', e.g. e2-standard-4");
      command.size = value;
      return;
    case "zone":
      if (!ZONE_RE.test(value)) bad("is not a zone; use up to 63 letters, digits, '_' or '-', e.g. us-central1-a");
      command.zone = value;
      return;
    case "steps":
      command.steps = parseSteps(value, usage);
      return;
    case "ttl":
      if (isTooLong(value)) bad(TOO_LONG);
      command.ttlMs = parseDuration(value) ?? bad("is not a duration; use e.g. 90m, 2h, 1d or 1h30m (more than 0, at most 30d)");
      return;
    case "host":
      command.host = parseHost(value, usage);
      return;
    case "budget":
      command.budgetUsd = parseBudget(value, usage);
      return;
    case "repo":
      command.repo = parseRepo(value, usage);
      return;
    case "dryRun":
      return;
  }
}

// --- list, status/delete/connect, prefs, keys, help ---------------------------------------

function parseList(args: Token[]): Command {
  const usage = usageFor("list");
  const { flags, positionals } = splitArguments(args, LIST_FLAG_SPECS, "list");
  if (flags.has("mine") && flags.has("all")) refuse("give --mine or --all, not both", usage);
  if (positionals.length > 1) extraWord(positionals[1]!, "list");
  const scope = flags.has("mine") ? "mine" : flags.has("all") ? "all" : "channel";
  const page = parsePage(flags.get("page"), usage);
  const filter = positionals[0];
  if (filter === undefined) return { kind: "list", scope, ...page };
  checkPlainValue(filter, "the list filter", usage);
  if (!LIST_FILTER_RE.test(filter)) refuse(`the list filter '${excerpt(filter)}' may use up to 64 letters, digits and . _ / : -`, usage);
  return { kind: "list", scope, filter, ...page };
}

function parsePage(value: string | true | undefined, usage: string): { page?: number } {
  if (value === undefined || value === true) return {};
  const page = PAGE_RE.test(value) ? Number(value) : 0;
  if (page < 1) refuse(`--page takes a page number from 1 up, e.g. --page 2; '${excerpt(value)}' is not one`, usage);
  return { page };
}

/** `budget <id|name> <USD>`: the new limit of the spawn's own key. */
function parseBudgetCommand(args: Token[]): Command {
  const target = parseTarget(args, "budget", 1);
  const word = args.filter((t) => !isFlagToken(t))[1]?.text;
  if (word === undefined) refuse(`budget needs an amount in US dollars after the spawn, e.g. budget ${target} 25`, usageFor("budget"));
  return { kind: "budget", target, usd: parseBudget(word, usageFor("budget")) };
}

/** `costs [--mine|--channel|--all] [--month YYYY-MM]`. */
function parseCosts(args: Token[]): Command {
  const usage = usageFor("costs");
  const { flags, positionals } = splitArguments(args, COSTS_FLAG_SPECS, "costs");
  if (positionals.length > 0) extraWord(positionals[0]!, "costs");
  const scopes = (["mine", "channel", "all"] as const).filter((k) => flags.has(k));
  if (scopes.length > 1) refuse(`give one of --mine, --channel or --all, not ${scopes.map((k) => `--${k}`).join(" and ")}`, usage);
  const month = flags.get("month");
  if (month === true) refuse("--month needs a month, e.g. --month 2026-11", usage);
  if (month !== undefined && !MONTH_RE.test(month)) refuse(`--month '${excerpt(month)}' is not a month; write it as YYYY-MM, e.g. --month 2026-11`, usage);
  return { kind: "costs", scope: scopes[0] ?? "channel", ...(month !== undefined ? { month } : {}) };
}

function parseTarget(args: Token[], command: "status" | "delete" | "connect" | "restart" | "extend" | "budget", extraAllowed = 0): string {
  const usage = usageFor(command);
  const { positionals } = splitArguments(args, [], command);
  const target = positionals[0];
  if (target === undefined) refuse(`${command} needs the id or name of a spawn (see list), e.g. ${command} fix-login-bug`, usage);
  if (positionals.length > 1 + extraAllowed) extraWord(positionals[1 + extraAllowed]!, command);
  checkPlainValue(target, "the spawn id or name", usage);
  if (!TARGET_RE.test(target)) refuse(`'${excerpt(target)}' is not a spawn id or name; those are up to 63 letters, digits and -`, usage);
  return target;
}

/** `extend <id|name> [DURATION]`: the duration is how much later the spawn expires. */
function parseExtend(args: Token[]): Command {
  const target = parseTarget(args, "extend", 1);
  const word = args.filter((t) => !isFlagToken(t))[1]?.text;
  if (word === undefined) return { kind: "extend", target };
  if (isTooLong(word)) refuse(`'${excerpt(word)}' ${TOO_LONG}`, usageFor("extend"));
  const byMs = parseDuration(word);
  if (byMs === undefined) refuse(`'${excerpt(word)}' is not a duration; use e.g. 90m, 2h, 1d (at most 30d)`, usageFor("extend"));
  return { kind: "extend", target, byMs };
}

/** `share <id|name> @user`: the user as @name, a bare id, or Slack's <@U123> / <@U123|name>. */
function parseShare(args: Token[], command: "share" | "unshare"): { target: string; user: string } {
  const usage = usageFor(command);
  const { positionals } = splitArguments(args, [], command);
  const [target, who] = positionals;
  if (target === undefined || who === undefined) refuse(`${command} needs a spawn and a user, e.g. ${command} fix-login-bug @bob`, usage);
  if (positionals.length > 2) extraWord(positionals[2]!, command);
  checkPlainValue(target, "the spawn id or name", usage);
  if (!TARGET_RE.test(target)) refuse(`'${excerpt(target)}' is not a spawn id or name; those are up to 63 letters, digits and -`, usage);
  const user = who.replace(/^<@([^|>]+)(\|[^>]*)?>$/, "$1").replace(/^@/, "");
  if (!USER_ID_RE.test(user)) refuse(`'${excerpt(who)}' is not a user; mention them as @name`, usage);
  return { target, user };
}

function parsePrefs(args: Token[], catalog: GrammarCatalog): Command {
  const usage = usageFor("prefs");
  const { flags, positionals } = splitArguments(args, PREFS_FLAG_SPECS, "prefs");
  const [setting, agentWord, model, extra] = positionals;
  const clear = flags.has("clear");
  if (setting === undefined) {
    if (clear) refuse("--clear goes with a model preference: prefs model <agent> --clear", usage);
    return { kind: "prefs-show" };
  }
  if (setting.toLowerCase() !== "model") refuse(`unknown preference '${excerpt(setting)}'; the one you can set is model`, usage);
  if (agentWord === undefined) refuse("prefs model needs an agent, e.g. prefs model codex openai/gpt-5.3-codex", usage);
  if (extra !== undefined) extraWord(extra, "prefs");
  const agent = resolveName(agentWord, "agent", catalog, usage);
  if (clear && model !== undefined) refuse("give a model id or --clear, not both", usage);
  if (clear) return { kind: "prefs-model-clear", agent };
  if (model === undefined) refuse(`prefs model ${agent} needs a model id or --clear, e.g. prefs model ${agent} openai/gpt-5.3-codex`, usage);
  checkPlainValue(model, "the model id", usage);
  if (!isModelId(model)) refuse(`'${excerpt(model)}' is not a model id; use provider/model, e.g. openai/gpt-5.3-codex`, usage);
  return { kind: "prefs-model-set", agent, model };
}

function parseKeys(args: Token[]): Command {
  const usage = usageFor("keys");
  const [sub, ...rest] = args;
  if (sub === undefined) return { kind: "keys-list" };
  const action = isFlagToken(sub) ? undefined : sub.text.toLowerCase();
  if (action === "add") return { kind: "keys-add", publicKey: parsePublicKey(rest.map((t) => t.text).join(" ")) };
  if (action === "remove" || action === "rm" || action === "delete") {
    const { positionals } = splitArguments(rest, [], "keys");
    const [fingerprint, extra] = positionals;
    if (fingerprint === undefined) refuse("keys remove needs a key fingerprint (see keys), e.g. keys remove SHA256:...", usage);
    if (extra !== undefined) extraWord(extra, "keys");
    const normalised = fingerprint.replace(/^sha256:/i, "SHA256:");
    if (!FINGERPRINT_RE.test(normalised)) refuse(`'${excerpt(fingerprint)}' is not a key fingerprint; copy the SHA256:... shown by keys`, usage);
    return { kind: "keys-remove", fingerprint: normalised };
  }
  const match = action === undefined ? undefined : nearest(action, ["add", "remove"]);
  refuse(`unknown keys action '${excerpt(sub.text)}'${match ? ` — did you mean '${match}'?` : "; use keys, keys add or keys remove"}`, usage);
}

function parseHosts(args: Token[]): Command {
  const usage = usageFor("hosts");
  const { flags, positionals } = splitArguments(args, HOSTS_FLAG_SPECS, "hosts");
  const [sub, target, extra] = positionals;
  if (sub === undefined) {
    if (flags.size > 0) refuse("--channel goes with hosts add, e.g. hosts add deploy@build-01 --channel C0123", usage);
    return { kind: "hosts-list" };
  }
  const action = sub.toLowerCase();
  const actions = ["add", "remove", "trust"];
  const verb = action === "rm" || action === "delete" ? "remove" : action;
  if (!actions.includes(verb)) {
    const match = nearest(action, actions);
    refuse(`unknown hosts action '${excerpt(sub)}'${match ? ` — did you mean '${match}'?` : "; use hosts, hosts add, hosts remove or hosts trust"}`, usage);
  }
  if (target === undefined) refuse(`hosts ${verb} needs a host, e.g. hosts ${verb} deploy@build-01.example.com`, usage);
  if (extra !== undefined) extraWord(extra, "hosts");
  checkPlainValue(target, "the host", usage);
  const host = parseHost(target, usage);
  const channelFlag = flags.get("channel");
  if (verb !== "add") {
    if (channelFlag !== undefined) refuse(`--channel goes with hosts add, not hosts ${verb}`, usage);
    return verb === "remove" ? { kind: "hosts-remove", host } : { kind: "hosts-trust", host };
  }
  if (typeof channelFlag !== "string") return { kind: "hosts-add", host };
  const channels = channelFlag.split(",").map((c) => c.trim()).filter(Boolean).map((c) => {
    const m = CHANNEL_RE.exec(c);
    if (!m) refuse(`'${excerpt(c)}' is not a channel; give channel ids (or #mentions) separated by commas`, usage);
    return (m[1] ?? m[2])!;
  });
  if (channels.length === 0) refuse("--channel needs at least one channel, e.g. --channel C0123ABCD", usage);
  return { kind: "hosts-add", host, channels };
}

function parseHelp(args: Token[]): Command {
  const usage = usageFor("help");
  const { positionals } = splitArguments(args, [], "help");
  const [topic, extra] = positionals;
  if (topic === undefined) return { kind: "help" };
  if (extra !== undefined) extraWord(extra, "help");
  const name = commandNamed(topic.toLowerCase());
  if (name) return { kind: "help", topic: name };
  const match = nearest(topic, COMMANDS.map((c) => c.name));
  refuse(`no help for '${excerpt(topic)}'${match ? ` — did you mean '${match}'?` : `; topics: ${COMMANDS.map((c) => c.name).join(", ")}`}`, usage);
}

/** Last guard on every error: one line, printable, at most MAX_ERROR_LENGTH characters. */
function oneLine(message: string): string {
  const clean = Array.from(message, (ch) => (/^[\x20-\x7e…—]$/.test(ch) ? ch : "?")).join("");
  return clean.length > MAX_ERROR_LENGTH ? `${clean.slice(0, MAX_ERROR_LENGTH - 1)}…` : clean;
}
