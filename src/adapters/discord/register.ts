// Registers the /spawn application command with Discord (`npm run discord:register`): in one guild
// when DISCORD_GUILD_ID is set (there at once; good for trying the bot), else globally (every
// guild that installs it). Run it once after creating the application, and again when the
// command's definition changes.
import { pathToFileURL } from "node:url";
import { REST, Routes } from "discord.js";
import * as v from "valibot";
import { secrets } from "../../secrets.js";
import { AGENT_CHOICES, type AgentChoice } from "../../bot/index.js";
import { spawnCommand } from "./commands.js";

export interface RegisterOptions {
  token: string;
  appId: string;
  apiUrl?: string;
  /** Register in this guild only; globally when absent. */
  guildId?: string;
  /** The agents offered as choices; this build's catalog unless given. */
  agents?: readonly AgentChoice[];
}

/** Replace the application's commands (in the guild, or global) with /spawn; resolves with the registered names. */
export async function registerCommands(opts: RegisterOptions): Promise<string[]> {
  const rest = new REST(opts.apiUrl ? { api: opts.apiUrl } : {}).setToken(opts.token);
  const route = opts.guildId ? Routes.applicationGuildCommands(opts.appId, opts.guildId) : Routes.applicationCommands(opts.appId);
  // PUT is an overwrite: afterwards exactly these commands exist, and an unchanged one keeps its id.
  const saved = (await rest.put(route, { body: [spawnCommand(opts.agents ?? AGENT_CHOICES)] })) as { name: string }[];
  return saved.map((c) => c.name);
}

const snowflake = (what: string) => v.pipe(v.string(`${what} is required`), v.trim(), v.regex(/^\d{15,22}$/, `${what} must be a snowflake (digits only)`));
const EnvSchema = v.object({
  DISCORD_TOKEN: v.pipe(v.string("is required: Developer Portal → Bot → Reset Token"), v.trim(), v.regex(/^[A-Za-z0-9._-]{20,200}$/, "must be the bot token from the Developer Portal")),
  DISCORD_APP_ID: snowflake("the application id (Developer Portal → General Information)"),
  DISCORD_GUILD_ID: v.optional(snowflake("the guild id (Server Settings → Widget, or Copy Server ID in developer mode)")),
  DISCORD_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL such as https://discord.com/api"))),
});

async function main(): Promise<number> {
  const parsed = v.safeParse(EnvSchema, process.env);
  if (!parsed.success) {
    for (const issue of parsed.issues) process.stderr.write(`${v.getDotPath(issue) ?? "environment"}: ${issue.message}\n`);
    return 2;
  }
  const env = parsed.output;
  secrets.add(env.DISCORD_TOKEN);
  const names = await registerCommands({ token: env.DISCORD_TOKEN, appId: env.DISCORD_APP_ID, apiUrl: env.DISCORD_API_URL, guildId: env.DISCORD_GUILD_ID });
  const where = env.DISCORD_GUILD_ID ? `in guild ${env.DISCORD_GUILD_ID}` : "globally (every guild that installs the app)";
  process.stdout.write(`registered ${names.map((n) => `/${n}`).join(", ")} ${where}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`registering the commands failed: ${secrets.redact(err instanceof Error ? err.message : String(err))}\n`);
      process.exit(1);
    },
  );
}
