// The /spawn application command as data (what `npm run discord:register` uploads), and the way
// back: an interaction's options turned into the text of the core's grammar. Every value goes in
// double quotes with its quotes and backslashes escaped, so no option value can become a flag.
import {
  ApplicationCommandOptionType as OptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType,
  type APIApplicationCommandBasicOption, type APIApplicationCommandSubcommandOption, type APIApplicationCommandSubcommandGroupOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { AGENT_CHOICES, type AgentChoice } from "../../bot/index.js";
import { CLOUD_SETUP } from "../../bot/index.js";
import { COMMANDS, SPAWN_FLAGS, type CommandName, type SpawnFlagKey } from "../../bot/index.js";

export const COMMAND_NAME = "spawn";

/** Where the CLI's wording of a flag does not fit a Discord option (no quotes to type, no `""`). */
const OPTION_ABOUT: Partial<Record<SpawnFlagKey, string>> = {
  steps: "optional setup steps to run, comma-separated, e.g. github,auto-update",
  prompt: "task to start the agent on, e.g. fix the failing tests",
  repo: "git repository to work in, as owner/name[@ref] or an https URL",
};

const LIST_SCOPES = new Map([["channel", ""], ["mine", "--mine"], ["all", "--all"]]);
const COST_SCOPES = new Map([["channel", "--channel"], ["mine", "--mine"], ["all", "--all"]]);

/** `dryRun` → `dry_run`: Discord option names are lowercase. */
export function optionName(key: SpawnFlagKey): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type Choices = readonly (string | { name: string; value: string })[];

function text(name: string, description: string, opts: { required?: boolean; autocomplete?: boolean; choices?: Choices } = {}): APIApplicationCommandBasicOption {
  const base = { type: OptionType.String as const, name, description, required: opts.required ?? false };
  if (opts.autocomplete) return { ...base, autocomplete: true };
  return opts.choices ? { ...base, choices: opts.choices.map((c) => (typeof c === "string" ? { name: c, value: c } : c)) } : base;
}

function sub(name: string, description: string, options: APIApplicationCommandBasicOption[] = []): APIApplicationCommandSubcommandOption {
  return { type: OptionType.Subcommand, name, description, options };
}

function group(name: string, description: string, options: APIApplicationCommandSubcommandOption[]): APIApplicationCommandSubcommandGroupOption {
  return { type: OptionType.SubcommandGroup, name, description, options };
}

/** A grammar command as a subcommand, described by the core's own help text. */
function command(name: CommandName, options: APIApplicationCommandBasicOption[] = []): APIApplicationCommandSubcommandOption {
  return sub(name, COMMANDS.find((c) => c.name === name)!.about, options);
}

const target = text("target", "the spawn's name or id (see list)", { required: true, autocomplete: true });
const user = (description: string): APIApplicationCommandBasicOption => ({ type: OptionType.User, name: "user", description, required: true });
const listPage: APIApplicationCommandBasicOption = { type: OptionType.Integer, name: "page", description: "which page of the list (25 spawns a page)", min_value: 1, max_value: 999_999 };

const spawnFlags: APIApplicationCommandBasicOption[] = SPAWN_FLAGS.map((f) => {
  const description = OPTION_ABOUT[f.key] ?? f.about;
  if (f.value === undefined) return { type: OptionType.Boolean, name: optionName(f.key), description };
  return text(optionName(f.key), description, { autocomplete: f.key === "model" });
});

/**
 * The /spawn command offering these agents as a fixed choice list (Discord allows 25; the catalog
 * has 10), so a user picks one instead of typing it. Register again when the catalog changes.
 */
export function spawnCommand(agents: readonly AgentChoice[]): RESTPostAPIChatInputApplicationCommandsJSONBody {
  const agent = text("agent", "the agent to run (see agents)", { required: true, choices: agents.map((a) => ({ name: `${a.key} — ${a.name}`, value: a.key })) });
  return {
    name: COMMAND_NAME,
    type: ApplicationCommandType.ChatInput,
    description: "Start AI coding agents on cloud servers and manage them",
    contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      command("spawn", [agent, text("cloud", "where to run it (see clouds)", { required: true, choices: Object.keys(CLOUD_SETUP) }), ...spawnFlags]),
      command("list", [text("scope", "this channel (default), yours, or everyone's (admins)", { choices: [...LIST_SCOPES.keys()] }), text("filter", "only spawns whose name, agent, cloud or model matches"), listPage]),
      command("status", [target]),
      command("delete", [target]),
      command("connect", [target]),
      command("restart", [target]),
      command("extend", [target, text("duration", "how much later it expires, e.g. 4h (default: the bot's time to live)")]),
      command("budget", [target, text("usd", "the new LLM spend limit in US dollars, e.g. 25", { required: true })]),
      command("costs", [text("scope", "this channel (default), yours, or the workspace's (admins)", { choices: [...COST_SCOPES.keys()] }), text("month", "which month, as YYYY-MM (default: this one)")]),
      command("share", [target, user("who may log in to it and see its connect details")]),
      command("unshare", [target, user("who loses access to it")]),
      group("prefs", "show or set your default model for each agent", [
        sub("show", "show your default model for each agent"),
        sub("set", "set your default model for an agent", [agent, text("model", "model id as provider/model", { required: true, autocomplete: true })]),
        sub("clear", "go back to an agent's own default model", [agent]),
      ]),
      group("keys", "list, add or remove the SSH public keys put on your servers", [
        sub("list", "list your SSH public keys, and the bot's own"),
        sub("add", "add an SSH public key (the one line of your .pub file)", [text("key", "e.g. ssh-ed25519 AAAAC3... you@laptop", { required: true })]),
        sub("remove", "remove one of your SSH public keys", [text("fingerprint", "the key's SHA256:... fingerprint", { required: true, autocomplete: true })]),
      ]),
      group("hosts", "hosts shared with channels; accept a host's new SSH key", [
        sub("list", "list the hosts shared with this channel (admins: the workspace's)"),
        sub("add", "share an existing host with channels (admins)", [text("host", "user@host[:port]", { required: true }), text("channels", "channel ids, comma-separated (default: this channel)")]),
        sub("remove", "stop sharing a host (admins)", [text("host", "user@host[:port]", { required: true })]),
        sub("trust", "accept the new SSH host key of a host you first used (or as an admin)", [text("host", "user@host[:port]", { required: true })]),
      ]),
      command("settings", [{ type: OptionType.Boolean, name: "openrouter", description: "instead of the form: a one-time link that signs you in to OpenRouter and saves your key" }]),
      command("agents"),
      command("clouds"),
      command("help", [text("topic", "a command to explain", { choices: COMMANDS.map((c) => c.name) })]),
    ],
  };
}

export const SPAWN_COMMAND = spawnCommand(AGENT_CHOICES);

export type OptionValue = string | number | boolean;

/** What was invoked: the subcommand path (["prefs", "set"]) and the values of its options. */
export interface Invoked {
  path: string[];
  values: Record<string, OptionValue>;
}

/** The shape of discord.js's `interaction.options.data` (a user option's value is the user id). */
export interface RawOption {
  name: string;
  type: number;
  value?: OptionValue;
  options?: readonly RawOption[];
}

export function readOptions(data: readonly RawOption[]): Invoked {
  const path: string[] = [];
  let level = data;
  for (;;) {
    const nested = level.find((o) => o.type === (OptionType.Subcommand as number) || o.type === (OptionType.SubcommandGroup as number));
    if (!nested) break;
    path.push(nested.name);
    level = nested.options ?? [];
  }
  const values: Record<string, OptionValue> = {};
  for (const o of level) if (o.value !== undefined) values[o.name] = o.value;
  return { path, values };
}

/** One word for the tokenizer: inside double quotes only a backslash or a double quote (" “ ”) needs escaping. */
export function quote(value: string): string {
  return `"${value.replace(/[\\"\u201C\u201D]/g, (c) => `\\${c}`)}"`;
}

/** The command text for the core, or undefined for a subcommand this bot does not know. */
export function commandText({ path, values }: Invoked): string | undefined {
  const q = (name: string) => quote(String(values[name] ?? ""));
  const optional = (name: string) => (values[name] === undefined ? [] : [q(name)]);
  const words = (...parts: string[]) => parts.filter(Boolean).join(" ");
  switch (path.join(" ")) {
    case "spawn": return spawnText(values);
    case "list": return words("list", LIST_SCOPES.get(String(values.scope)) ?? "", ...(values.page === undefined ? [] : ["--page", q("page")]), ...optional("filter"));
    case "status": case "delete": case "connect": case "restart": return words(path[0]!, q("target"));
    case "extend": return words("extend", q("target"), ...optional("duration"));
    case "budget": return words("budget", q("target"), q("usd"));
    case "costs": return words("costs", COST_SCOPES.get(String(values.scope)) ?? "", ...(values.month === undefined ? [] : ["--month", q("month")]));
    case "share": case "unshare": return words(path[0]!, q("target"), q("user"));
    case "prefs show": return "prefs";
    case "prefs set": return words("prefs model", q("agent"), q("model"));
    case "prefs clear": return words("prefs model", q("agent"), "--clear");
    case "keys list": return "keys";
    // `keys add` takes the rest of the line as typed (a key comment may hold quotes); it has no flags.
    case "keys add": return words("keys add", String(values.key ?? ""));
    case "keys remove": return words("keys remove", q("fingerprint"));
    case "hosts list": return "hosts";
    case "hosts add": return words("hosts add", q("host"), ...(values.channels !== undefined ? ["--channel", q("channels")] : []));
    case "hosts remove": case "hosts trust": return words(path.join(" "), q("host"));
    case "settings": return values.openrouter === true ? "settings openrouter" : "settings";
    case "agents": case "clouds": return path[0];
    case "help": return words("help", ...optional("topic"));
    default: return undefined;
  }
}

function spawnText(values: Record<string, OptionValue>): string {
  const words = ["spawn", quote(String(values.agent ?? "")), quote(String(values.cloud ?? ""))];
  for (const flag of SPAWN_FLAGS) {
    const value = values[optionName(flag.key)];
    if (flag.value === undefined) {
      if (value === true) words.push(flag.long);
    } else if (value !== undefined) {
      words.push(flag.long, quote(String(value)));
    }
  }
  return words.join(" ");
}
