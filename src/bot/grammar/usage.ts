// What each command and spawn flag is called and what it does: the data behind usage lines,
// `help`, verb aliases and flag names, so the parser and the help text cannot drift apart.

export type CommandName = "spawn" | "list" | "status" | "delete" | "connect" | "restart" | "extend" | "budget" | "costs" | "share" | "unshare" | "prefs" | "keys" | "hosts" | "settings" | "agents" | "clouds" | "help";

export interface CommandDoc {
  name: CommandName;
  /** Other words that mean the same command (spawn's CLI accepts them too). */
  aliases: readonly string[];
  usage: string;
  about: string;
  examples: readonly string[];
}

export type SpawnFlagKey = "model" | "name" | "size" | "zone" | "steps" | "prompt" | "ttl" | "budget" | "dryRun" | "host" | "repo";

export interface FlagDoc {
  key: SpawnFlagKey;
  long: string;
  /** Other spellings: the short form, and spawn CLI synonyms such as --region. */
  aliases: readonly string[];
  /** Placeholder for the value in usage lines; absent for on/off flags. */
  value?: string;
  about: string;
  example: string;
}

export const SPAWN_FLAGS: readonly FlagDoc[] = [
  { key: "model", long: "--model", aliases: ["-m"], value: "ID", about: "model the agent uses, as provider/model", example: "--model openai/gpt-5.3-codex" },
  { key: "name", long: "--name", aliases: [], value: "NAME", about: "name for the server (3-63 letters, digits and -)", example: "--name fix-login-bug" },
  { key: "size", long: "--size", aliases: ["--machine-type"], value: "S", about: "machine size or type of the cloud", example: "--size e2-standard-4" },
  { key: "zone", long: "--zone", aliases: ["--region"], value: "Z", about: "zone, region or location of the cloud", example: "--zone us-central1-a" },
  { key: "steps", long: "--steps", aliases: [], value: "a,b", about: 'optional setup steps to run; "" runs none', example: "--steps github,auto-update" },
  { key: "prompt", long: "--prompt", aliases: ["-p"], value: "TEXT", about: "task to start the agent on, in quotes", example: '--prompt "fix the failing tests"' },
  { key: "ttl", long: "--ttl", aliases: [], value: "DURATION", about: "how long the spawn should live, at most 30d (shown by status; extend pushes it back)", example: "--ttl 2h" },
  { key: "budget", long: "--budget", aliases: [], value: "USD", about: "spend limit in US dollars of the OpenRouter key the bot makes for this spawn", example: "--budget 5" },
  { key: "dryRun", long: "--dry-run", aliases: ["-n"], about: "show what would happen; create nothing", example: "--dry-run" },
  { key: "host", long: "--host", aliases: [], value: "user@host[:port]", about: "your own machine, for the ssh cloud only", example: "--host root@203.0.113.10:2222" },
  { key: "repo", long: "--repo", aliases: [], value: "owner/name[@ref]", about: "git repository cloned for the agent to work in: owner/name on GitHub (or the bot's git host), or an https URL", example: "--repo acme/webapp@main" },
];

const SPAWN_USAGE = `spawn <agent> <cloud> ${SPAWN_FLAGS.map((f) => `[${[f.long, ...f.aliases.filter((a) => !a.startsWith("--"))].join("|")}${f.value ? ` ${f.value}` : ""}]`).join(" ")}`;

export const COMMANDS: readonly CommandDoc[] = [
  {
    name: "spawn",
    aliases: ["run", "launch", "start", "deploy"],
    usage: SPAWN_USAGE,
    about: "start an AI coding agent on a new server",
    examples: ["spawn codex gcp --model openai/gpt-5.3-codex", 'spawn claude ssh --host root@203.0.113.10 --prompt "fix the failing tests"', "codex/hetzner --ttl 2h"],
  },
  { name: "list", aliases: ["ls", "history"], usage: "list [--mine|--all] [--page N] [FILTER]", about: "list spawns in this channel, yours (--mine) or everyone's (--all), 25 to a page", examples: ["list --mine codex", "list --page 2"] },
  { name: "status", aliases: ["ps"], usage: "status <id|name>", about: "show how a spawn is doing", examples: ["status fix-login-bug"] },
  { name: "delete", aliases: ["rm", "destroy", "kill"], usage: "delete <id|name>", about: "delete a spawn's server, cancel one still being made, or clear a failed one out of list", examples: ["delete fix-login-bug"] },
  { name: "connect", aliases: [], usage: "connect <id|name>", about: "show how to reach a spawn's server and agent", examples: ["connect fix-login-bug"] },
  {
    name: "restart", aliases: ["fix", "repair"], usage: "restart <id|name>",
    about: "bring back a spawn's agent session and dashboard when they are gone (after a reboot, say)", examples: ["restart fix-login-bug"],
  },
  { name: "extend", aliases: ["renew"], usage: "extend <id|name> [DURATION]", about: "push a spawn's expiry back (by the default time to live unless a duration is given)", examples: ["extend fix-login-bug 4h"] },
  { name: "budget", aliases: [], usage: "budget <id|name> <USD>", about: "set the LLM spend limit of a spawn's own OpenRouter key (its owner or an admin)", examples: ["budget fix-login-bug 25"] },
  {
    name: "costs",
    aliases: ["spend"],
    usage: "costs [--mine|--channel|--all] [--month YYYY-MM]",
    about: "cloud and LLM spend of a month by person, channel, cloud and agent, beside the budgets",
    examples: ["costs --mine", "costs --channel --month 2026-11"],
  },
  { name: "share", aliases: [], usage: "share <id|name> @user", about: "let another user log in to a spawn and see its connect details", examples: ["share fix-login-bug @bob"] },
  { name: "unshare", aliases: [], usage: "unshare <id|name> @user", about: "take a shared spawn back from a user", examples: ["unshare fix-login-bug @bob"] },
  {
    name: "prefs",
    aliases: [],
    usage: "prefs | prefs model <agent> <model-id> | prefs model <agent> --clear",
    about: "show or set your default model for each agent",
    examples: ["prefs model codex openai/gpt-5.3-codex", "prefs model codex --clear"],
  },
  {
    name: "keys",
    aliases: [],
    usage: "keys | keys add <ssh-public-key> | keys remove <SHA256:fingerprint>",
    about: "list, add or remove the SSH public keys put on your servers",
    examples: ["keys add ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... you@laptop", "keys remove SHA256:..."],
  },
  {
    name: "hosts",
    aliases: [],
    usage: "hosts | hosts add <user@host[:port]> [--channel C1,C2] | hosts remove <user@host[:port]> | hosts trust <user@host[:port]>",
    about: "hosts admins share with channels; `hosts trust` accepts a host's new SSH key (its owner or an admin)",
    examples: ["hosts add deploy@build-01.example.com --channel C0123ABCD", "hosts trust me@203.0.113.10"],
  },
  {
    name: "settings",
    aliases: [],
    usage: "settings | settings openrouter",
    // Discord shows `about` as the subcommand's description: at most 100 characters.
    about: "your private settings: OpenRouter key, SSH keys, models; `settings openrouter` gets a key by sign-in",
    examples: ["settings", "settings openrouter"],
  },
  { name: "agents", aliases: [], usage: "agents", about: "list the agents you can spawn", examples: ["agents"] },
  { name: "clouds", aliases: [], usage: "clouds", about: "list the clouds you can spawn on", examples: ["clouds"] },
  { name: "help", aliases: [], usage: "help [command]", about: "show this help, or the details of one command", examples: ["help spawn"] },
];

/** One usage line per top-level command. */
export const USAGE: Readonly<Record<string, string>> = Object.fromEntries(COMMANDS.map((c) => [c.name, c.usage]));

/** The usage line shown when no single command is concerned. */
export const GENERAL_USAGE = "spawn <agent> <cloud> [flags] | list | status | delete | connect | restart | extend | budget | costs | share | unshare | prefs | keys | hosts | settings | agents | clouds | help";

/** The command a word names, aliases included (lowercase input), or undefined. */
export function commandNamed(word: string): CommandName | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases.includes(word))?.name;
}

export function usageFor(name: CommandName): string {
  return USAGE[name] ?? GENERAL_USAGE;
}

/** General help, or the details of one command when `topic` names one (aliases work). */
export function helpText(topic?: string): string {
  const name = topic === undefined ? undefined : commandNamed(topic.trim().toLowerCase());
  const doc = COMMANDS.find((c) => c.name === name);
  if (!doc) return generalHelp();
  const lines = [doc.usage, "", capitalise(doc.about) + "."];
  if (doc.aliases.length > 0) lines.push(`Also written: ${doc.aliases.join(", ")}.`);
  if (doc.name === "spawn") {
    lines.push("You can also write agent/cloud (codex/gcp), put the cloud first, or leave out the word spawn (codex gcp).");
    lines.push("", "Flags (--flag value or --flag=value):");
    const width = Math.max(...SPAWN_FLAGS.map((f) => flagLabel(f).length));
    for (const flag of SPAWN_FLAGS) lines.push(`  ${flagLabel(flag).padEnd(width)}  ${flag.about}, e.g. ${flag.example}`);
  }
  lines.push("", doc.examples.length > 1 ? "Examples:" : "Example:", ...doc.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => shortUsage(c).length));
  return [
    "spawnbot starts AI coding agents on cloud servers.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${shortUsage(c).padEnd(width)}  ${c.about}`),
    "",
    "The first word may also be an agent: `codex gcp` means `spawn codex gcp`.",
    "Run `help <command>` for details, e.g. `help spawn` for spawn's flags.",
  ].join("\n");
}

function shortUsage(doc: CommandDoc): string {
  return doc.name === "spawn" ? "spawn <agent> <cloud> [flags]" : (doc.usage.split(" | ")[0] ?? doc.name);
}

function flagLabel(flag: FlagDoc): string {
  return `${[flag.long, ...flag.aliases].join(", ")}${flag.value ? ` ${flag.value}` : ""}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
