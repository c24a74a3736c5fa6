// Start-up configuration: environment variables (and an optional JSON config file named by
// SPAWNBOT_CONFIG) validated with valibot into one typed object. Every problem is reported at once.
import { readFileSync } from "node:fs";
import path from "node:path";
import * as v from "valibot";
import { parseDuration } from "./bot/duration.js";

const boolText = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(["1", "0", "true", "false", "yes", "no"], "must be true or false"),
  v.transform((s) => s === "1" || s === "true" || s === "yes"),
);

const durationText = v.pipe(
  v.string(),
  v.trim(),
  v.check((s) => parseDuration(s) !== undefined, "must be a duration such as 30m, 12h or 7d"),
  v.transform((s) => parseDuration(s) as number),
);

const secretText = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[\x21-\x7e]{20,256}$/, "must be 20-256 printable characters without spaces"),
);

/** The variables spawnbot reads; the README's configuration reference mirrors this table. */
const ConfigSchema = v.object({
  SPAWNBOT_DATA_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty")), "./data"),
  SPAWNBOT_ADAPTER: v.optional(
    v.picklist(["console"], "must be console (slack and discord adapters are not built yet)"),
    "console",
  ),
  SPAWNBOT_LOG_LEVEL: v.optional(
    v.picklist(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "must be one of fatal, error, warn, info, debug, trace, silent"),
  ),
  SPAWNBOT_LOG_FORMAT: v.optional(v.picklist(["pretty", "json"], "must be pretty or json")),
  SPAWNBOT_ADMINS: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.@,-]*$/, "must be a comma-separated list of user ids")), ""),
  SPAWNBOT_ENABLE_LOCAL: v.optional(boolText),
  SPAWNBOT_DEFAULT_TTL: v.optional(durationText, "24h"),
  OPENROUTER_API_KEY: v.optional(secretText),
});

export interface Config {
  dataDir: string;
  adapter: "console";
  logLevel: string;
  logFormat: "pretty" | "json";
  admins: string[];
  /** Whether the `local` cloud (the bot's own host) may be used. */
  enableLocal: boolean;
  defaultTtlMs: number;
  /** The workspace's OpenRouter key (console mode). */
  openrouterApiKey: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`spawnbot cannot start: ${problems.length} configuration problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Read SPAWNBOT_CONFIG (if set) under the environment; the environment wins. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  let fileValues: Record<string, string> = {};
  if (env.SPAWNBOT_CONFIG) {
    try {
      fileValues = readConfigFile(path.resolve(cwd, env.SPAWNBOT_CONFIG));
    } catch (err) {
      problems.push(`SPAWNBOT_CONFIG: ${(err as Error).message}`);
    }
  }
  const input: Record<string, string> = { ...fileValues };
  for (const key of Object.keys(ConfigSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const result = v.safeParse(ConfigSchema, input);
  if (!result.success) {
    for (const issue of result.issues) {
      const key = v.getDotPath(issue) ?? "config";
      problems.push(`${key}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const c = result.output;
  const adapter = c.SPAWNBOT_ADAPTER;
  return {
    dataDir: path.resolve(cwd, c.SPAWNBOT_DATA_DIR),
    adapter,
    // The console shows each step on stdout already; its log keeps to warnings unless asked.
    logLevel: c.SPAWNBOT_LOG_LEVEL ?? (adapter === "console" ? "warn" : "info"),
    logFormat: c.SPAWNBOT_LOG_FORMAT ?? (adapter === "console" ? "pretty" : "json"),
    admins: c.SPAWNBOT_ADMINS.split(",").map((s) => s.trim()).filter(Boolean),
    enableLocal: c.SPAWNBOT_ENABLE_LOCAL ?? adapter === "console",
    defaultTtlMs: c.SPAWNBOT_DEFAULT_TTL,
    openrouterApiKey: c.OPENROUTER_API_KEY,
  };
}

/** The config file is a flat JSON object of the same names as the environment variables. */
function readConfigFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === "ENOENT" ? `file ${file} does not exist` : `file ${file} is not valid JSON`);
  }
  const shape = v.safeParse(v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])), parsed);
  if (!shape.success) throw new Error(`file ${file} must be a JSON object of names to strings`);
  return Object.fromEntries(Object.entries(shape.output).map(([k, val]) => [k, String(val)]));
}
