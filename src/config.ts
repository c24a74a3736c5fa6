// Start-up configuration: environment variables (and an optional JSON config file named by
// SPAWNBOT_CONFIG) validated with valibot into one typed object. Every problem is reported at once.
import { readFileSync } from "node:fs";
import path from "node:path";
import * as v from "valibot";
import { parseAllowRules, unknownNames, type AllowRules } from "./bot/index.js";
import { parseDuration } from "./bot/index.js";
import { parseSecretKey } from "./bot/index.js";
import { nearest } from "./bot/index.js";
import { CLOUD_NAMES } from "./cloud-names.js";
import { AGENTS } from "./orchestrator/agents/index.js";
import { parseTunnelDomain } from "./orchestrator/index.js";
import { parseNetworks, type Network } from "./orchestrator/remote/host-policy.js";

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

const sizeText = v.pipe(v.string(), v.trim(), v.regex(/^[a-zA-Z0-9._-]{1,63}$/, "must be a size name such as t3.small"));
const zoneText = v.pipe(v.string(), v.trim(), v.regex(/^[a-zA-Z0-9_-]{1,63}$/, "must be a zone or region name such as nyc3"));

/** An allowlist naming only `known` things: a typo ("hetzner2") would otherwise refuse everything it meant to allow. */
const allowText = (kind: "cloud" | "agent", known: readonly string[]) => v.pipe(
  v.string(),
  v.check((s) => parseAllowRules(s).ok, (issue) => {
    const r = parseAllowRules(String(issue.input));
    return r.ok ? "invalid rules" : `${r.error} (syntax: SCOPE:LIST;… e.g. *:ssh;T123:aws,ssh;T123/C456:*)`;
  }),
  v.transform((s) => (parseAllowRules(s) as { rules: AllowRules }).rules),
  v.check((rules) => unknownNames(rules, known).length === 0, (issue) => {
    const unknown = unknownNames(issue.input, known).map((name) => {
      const close = nearest(name, known);
      return `"${name}"${close ? ` (did you mean ${close}?)` : ""}`;
    });
    return `unknown ${kind} ${unknown.join(", ")}; known ${kind}s: ${known.join(", ")}`;
  }),
);

/** One accurate reason a public URL is unusable, or undefined when it is fine. */
export function publicUrlProblem(text: string): string | undefined {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text)) return `must start with https:// (or http://), e.g. https://${text.replace(/^\/+/, "") || "spawnbot.example.com"}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid URL; write it as https://spawnbot.example.com";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `must be an https:// (or http://) URL, not ${url.protocol}//`;
  if (url.search || url.hash || /[?#]/.test(text)) return "must not have a query (?…) or fragment (#…): the gateway adds its own paths under it";
  if (url.username || url.password) return "must not carry a user name or password";
  return undefined;
}

/**
 * One reason a database URL is unusable, or undefined when it is fine. Never repeats the URL: it
 * may carry the database password.
 */
export function databaseUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid URL; write it as postgres://USER:PASSWORD@HOST:5432/DATABASE";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    return "must be a postgres:// (or postgresql://) URL; leave it unset for the embedded SQLite store in SPAWNBOT_DATA_DIR";
  }
  if (!url.hostname) return "must name the database host, as in postgres://USER:PASSWORD@HOST:5432/DATABASE";
  return undefined;
}

// A comma-separated list of CIDR ranges, one problem reported per bad entry.
const networksText = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const problem of parseNetworks(dataset.value).problems) addIssue({ message: problem });
  }),
  v.transform((s) => parseNetworks(s).networks),
);

// An amount in US dollars, cents at most: what OpenRouter's key limits take.
const usdText = v.pipe(
  v.string(), v.trim(), v.regex(/^\d{1,6}(\.\d{1,2})?$/, "must be an amount in US dollars such as 10 or 2.50"),
  v.transform(Number), v.number(), v.minValue(0.01, "must be more than 0"),
);

// A monthly budget in US dollars: 0 (the default) means none.
const budgetText = v.pipe(
  v.string(), v.trim(), v.regex(/^\d{1,7}(\.\d{1,2})?$/, "must be an amount in US dollars such as 500 or 99.50 (0 means no budget)"), v.transform(Number),
);

// A positive exchange rate such as 1.10.
const rateText = v.pipe(
  v.string(), v.trim(), v.regex(/^\d{1,3}(\.\d{1,6})?$/, "must be a number such as 1.10 (US dollars for one euro)"),
  v.transform(Number), v.number(), v.minValue(0.000001, "must be more than 0"),
);

// A limit: a whole number, 0 meaning no limit.
const limitText = v.pipe(v.string(), v.trim(), v.regex(/^\d{1,6}$/, "must be a whole number (0 means no limit)"), v.transform(Number));

// How many runs one replica works on at once.
const runsText = v.pipe(
  v.string(), v.trim(), v.regex(/^\d{1,4}$/, "must be a whole number from 1 to 1000"),
  v.transform(Number), v.number(), v.minValue(1, "must be a whole number from 1 to 1000"), v.maxValue(1000, "must be a whole number from 1 to 1000"),
);

/** The variables spawnbot reads; the README's configuration reference mirrors this table. */
const ConfigSchema = v.object({
  SPAWNBOT_DATA_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty")), "./data"),
  SPAWNBOT_DATABASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.check((s) => databaseUrlProblem(s) === undefined, (issue) => databaseUrlProblem(String(issue.input)) ?? "invalid URL"))),
  SPAWNBOT_DATABASE_STATEMENT_TIMEOUT: v.optional(durationText, "10s"),
  SPAWNBOT_RUNS_PER_REPLICA: v.optional(runsText, "100"),
  SPAWNBOT_ADAPTER: v.optional(v.picklist(["console", "slack", "discord"], "must be console, slack or discord"), "console"),
  SPAWNBOT_LOG_LEVEL: v.optional(
    v.picklist(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "must be one of fatal, error, warn, info, debug, trace, silent"),
  ),
  SPAWNBOT_LOG_FORMAT: v.optional(v.picklist(["pretty", "json"], "must be pretty or json")),
  SPAWNBOT_ADMINS: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.@,-]*$/, "must be a comma-separated list of user ids")), ""),
  SPAWNBOT_ENABLE_LOCAL: v.optional(boolText),
  SPAWNBOT_DEFAULT_TTL: v.optional(durationText, "24h"),
  // Policy: where each cloud and agent may be used, and how many spawns a user or workspace may have.
  SPAWNBOT_ALLOW_CLOUDS: v.optional(allowText("cloud", CLOUD_NAMES), "*"),
  SPAWNBOT_ALLOW_AGENTS: v.optional(allowText("agent", AGENTS.map((a) => a.key)), "*"),
  SPAWNBOT_MAX_LIVE_PER_USER: v.optional(limitText, "5"),
  SPAWNBOT_MAX_LIVE_PER_WORKSPACE: v.optional(limitText, "50"),
  SPAWNBOT_MAX_HOURLY_PER_USER: v.optional(limitText, "10"),
  SPAWNBOT_MAX_HOURLY_PER_WORKSPACE: v.optional(limitText, "100"),
  // Monthly budgets (calendar month, UTC), cloud + LLM, in US dollars; 0 = none.
  SPAWNBOT_BUDGET_PER_USER: v.optional(budgetText, "0"),
  SPAWNBOT_BUDGET_PER_CHANNEL: v.optional(budgetText, "0"),
  // How budgets count a bill in euros (Hetzner's).
  SPAWNBOT_USD_PER_EUR: v.optional(rateText, "1.10"),
  // Where `--host` may point: loopback, link-local, multicast and the bot's own addresses are refused unless allowed; deny wins.
  SPAWNBOT_SSH_ALLOW_NETWORKS: v.optional(networksText, ""),
  SPAWNBOT_SSH_DENY_NETWORKS: v.optional(networksText, ""),
  OPENROUTER_API_KEY: v.optional(secretText),
  // Per-spawn keys: made with OpenRouter's management key, capped and expiring with their spawn.
  OPENROUTER_MANAGEMENT_KEY: v.optional(secretText),
  SPAWNBOT_SPAWN_BUDGET: v.optional(usdText, "10"),
  SPAWNBOT_MAX_SPAWN_BUDGET: v.optional(usdText, "100"),
  // Without a management key: hand the workspace key itself to members' spawns (console: on).
  SPAWNBOT_SHARE_WORKSPACE_KEY: v.optional(boolText),
  // Connect OpenRouter (OAuth PKCE): where users sign in and where the bot trades the code for a key.
  OPENROUTER_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL such as https://openrouter.ai/api/v1")), "https://openrouter.ai/api/v1"),
  // --repo owner/name is cloned from here (GitHub Enterprise: https://github.example.com); http only for a test server on loopback.
  SPAWNBOT_GIT_BASE_URL: v.optional(v.pipe(v.string(), v.trim(), v.check((s) => gitBaseUrlProblem(s) === undefined, (issue) => gitBaseUrlProblem(String(issue.input)) ?? "invalid URL")), "https://github.com"),
  OPENROUTER_AUTH_URL: v.optional(v.pipe(v.string(), v.url("must be a URL such as https://openrouter.ai/auth")), "https://openrouter.ai/auth"),
  // Seals users' stored secrets; without it a key file in the data dir is made on first start.
  SPAWNBOT_SECRET_KEY: v.optional(v.pipe(v.string(), v.check((s) => parseSecretKey(s) !== undefined, "must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)"))),
  // Slack: the bot token always; the app token turns on Socket Mode, else HTTP mode with the signing secret.
  SLACK_BOT_TOKEN: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^xoxb-[A-Za-z0-9-]{10,250}$/, "must be a bot token (xoxb-…)"))),
  SLACK_APP_TOKEN: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^xapp-[A-Za-z0-9-]{10,250}$/, "must be an app-level token (xapp-…)"))),
  SLACK_SIGNING_SECRET: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[0-9a-f]{32}$/, "must be the app's signing secret (32 hex digits)"))),
  SLACK_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL such as https://slack.com/api/"))),
  SLACK_PORT: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a port number"), v.transform(Number), v.number(), v.minValue(0, "must be a port number"), v.maxValue(65535, "must be a port number")), "3000"),
  // Discord
  DISCORD_TOKEN: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9._-]{20,200}$/, "must be the bot token from the Developer Portal"))),
  DISCORD_APP_ID: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^\d{15,22}$/, "must be the application id (a snowflake)"))),
  DISCORD_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL such as https://discord.com/api"))),
  // How interactions arrive: over the gateway (one connection), or as signed POSTs to the Interactions Endpoint URL (any replica).
  SPAWNBOT_DISCORD_TRANSPORT: v.optional(v.picklist(["gateway", "http"], "must be gateway or http"), "gateway"),
  SPAWNBOT_DISCORD_PUBLIC_KEY: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[0-9a-fA-F]{64}$/, "must be the application's public key, 64 hex digits (Developer Portal → General Information → Public Key)"))),
  SPAWNBOT_CLOUD_INIT_TIMEOUT: v.optional(durationText, "10m"),
  SPAWNBOT_INSTALL_STALL: v.optional(durationText, "5m"),
  // Upkeep: the expiry sweep (reminders, deletes at expiry, retries of failed deletes) and the reconciler.
  SPAWNBOT_EXPIRY_REMINDER: v.optional(durationText, "1h"),
  // Idle spawns (no LLM spend on their own key, no SSH session) are treated as expiring; off unless set.
  SPAWNBOT_IDLE_AFTER: v.optional(durationText),
  SPAWNBOT_EXPIRY_INTERVAL: v.optional(durationText, "1m"),
  SPAWNBOT_RECONCILE_MODE: v.optional(v.picklist(["delete", "report"], "must be delete or report"), "delete"),
  SPAWNBOT_RECONCILE_INTERVAL: v.optional(durationText, "15m"),
  SPAWNBOT_ORPHAN_GRACE: v.optional(durationText, "1h"),
  // Shutdown: how long runs in flight get to reach the end of their current step before the bot exits.
  SPAWNBOT_SHUTDOWN_GRACE: v.optional(durationText, "20s"),
  SPAWNBOT_LEASE_TTL: v.optional(durationText, "30s"),
  // How often leftovers that recovery could not remove (cloud unreachable) are retried.
  SPAWNBOT_CLEANUP_RETRY: v.optional(durationText, "1m"),
  // The tunnel gateway: on when the bot has a public URL (put TLS in front of it).
  SPAWNBOT_PUBLIC_URL: v.optional(v.pipe(v.string(), v.trim(), v.check((s) => publicUrlProblem(s) === undefined, (issue) => publicUrlProblem(String(issue.input)) ?? "invalid URL"))),
  // Each dashboard on its own origin: `*.tunnels.example.com` pointing at the gateway, TLS in front.
  SPAWNBOT_TUNNEL_DOMAIN: v.optional(v.pipe(
    v.string(),
    v.check((s) => parseTunnelDomain(s).ok, (issue) => {
      const r = parseTunnelDomain(String(issue.input));
      return r.ok ? "invalid domain" : r.error;
    }),
    v.transform((s) => (parseTunnelDomain(s) as { domain: string }).domain),
  )),
  SPAWNBOT_GATEWAY_PORT: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a port number"), v.transform(Number), v.number(), v.minValue(1, "must be a port number"), v.maxValue(65535, "must be a port number")), "8080"),
  // Health and metrics: /healthz, /readyz, /metrics; off unless a port is given.
  SPAWNBOT_OPS_PORT: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a port number"), v.transform(Number), v.number(), v.minValue(1, "must be a port number"), v.maxValue(65535, "must be a port number"))),
  SPAWNBOT_OPS_HOST: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-fA-F.:]+$/, "must be an IP address to listen on")), "127.0.0.1"),
  SPAWNBOT_GATEWAY_HOST: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-fA-F.:]+$/, "must be an IP address to listen on")), "127.0.0.1"),
  // AWS EC2: credentials come from the SDK's standard chain; AWS_REGION turns the cloud on.
  // The endpoint override is the SDK's own AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL.
  AWS_REGION: v.optional(v.pipe(v.string(), v.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be a region such as us-east-1"))),
  SPAWNBOT_AWS_SIZE: v.optional(sizeText, "t3.small"),
  SPAWNBOT_AWS_SSH_CIDR: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 203.0.113.0/24")), "0.0.0.0/0"),
  // GCP Compute Engine: service-account JSON in GOOGLE_APPLICATION_CREDENTIALS or application default credentials.
  SPAWNBOT_GCP_PROJECT: v.optional(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a GCP project id"))),
  SPAWNBOT_GCP_ZONE: v.optional(zoneText, "us-central1-a"),
  SPAWNBOT_GCP_SIZE: v.optional(sizeText, "e2-medium"),
  SPAWNBOT_GCP_API_ENDPOINT: v.optional(v.pipe(v.string(), v.url("must be a URL such as http://127.0.0.1:8080"))),
  // Hetzner Cloud
  HCLOUD_TOKEN: v.optional(secretText),
  HETZNER_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL")), "https://api.hetzner.cloud/v1"),
  SPAWNBOT_HETZNER_LOCATION: v.optional(zoneText, "nbg1"),
  SPAWNBOT_HETZNER_SIZE: v.optional(sizeText, "cx23"),
  // DigitalOcean
  DIGITALOCEAN_ACCESS_TOKEN: v.optional(secretText),
  DIGITALOCEAN_API_URL: v.optional(v.pipe(v.string(), v.url("must be a URL")), "https://api.digitalocean.com/v2"),
  SPAWNBOT_DO_REGION: v.optional(zoneText, "nyc3"),
  SPAWNBOT_DO_SIZE: v.optional(sizeText, "s-2vcpu-2gb"),
});

/** Every variable the schema reads (SPAWNBOT_CONFIG, read before it, is not among them). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(ConfigSchema.entries);

export interface Config {
  dataDir: string;
  /**
   * SPAWNBOT_DATABASE_URL: a PostgreSQL database instead of the SQLite file in dataDir (the URL
   * may hold a password: never log it), and SPAWNBOT_DATABASE_STATEMENT_TIMEOUT for each statement.
   */
  database?: { url: string; statementTimeoutMs: number; runsPerReplica: number };
  adapter: "console" | "slack" | "discord";
  /** SPAWNBOT_SECRET_KEY, when set; otherwise the data dir's key file is used. */
  secretKey?: Buffer;
  slack?: { botToken: string; appToken?: string; signingSecret?: string; apiUrl?: string; port: number };
  discord?: { token: string; appId: string; apiUrl?: string; transport: "gateway" | "http"; publicKey?: string };
  logLevel: string;
  logFormat: "pretty" | "json";
  admins: string[];
  /** Whether the `local` cloud (the bot's own host) may be used. */
  enableLocal: boolean;
  defaultTtlMs: number;
  /** Where clouds and agents may be used, and the spawn limits (0 = none). */
  policy: {
    allowClouds: AllowRules;
    allowAgents: AllowRules;
    limits: {
      livePerUser: number; livePerWorkspace: number; hourlyPerUser: number; hourlyPerWorkspace: number;
      /** SPAWNBOT_BUDGET_PER_USER / _PER_CHANNEL: USD a calendar month, cloud + LLM (0 = none). */
      monthlyBudgetPerUserUsd: number; monthlyBudgetPerChannelUsd: number;
    };
  };
  /** SPAWNBOT_USD_PER_EUR: how budgets count euros. */
  usdPerEur: number;
  /** SPAWNBOT_SSH_ALLOW_NETWORKS / SPAWNBOT_SSH_DENY_NETWORKS: the network policy of `--host`. */
  sshNetworks: { allow: Network[]; deny: Network[] };
  /** The workspace's OpenRouter key (console mode). */
  openrouterApiKey: string | undefined;
  /** OPENROUTER_MANAGEMENT_KEY: per-spawn keys instead of the workspace key. */
  openrouterManagementKey: string | undefined;
  /** SPAWNBOT_SHARE_WORKSPACE_KEY (default: on for the console, off for chat platforms). */
  shareWorkspaceKey: boolean;
  /** SPAWNBOT_SPAWN_BUDGET and SPAWNBOT_MAX_SPAWN_BUDGET, in USD. */
  spawnBudget: { defaultUsd: number; maxUsd: number };
  /** OpenRouter's sign-in page and API, for Connect OpenRouter. */
  openrouter: { api: string; auth: string };
  /** SPAWNBOT_GIT_BASE_URL: where `--repo owner/name` is cloned from (no trailing slash). */
  gitBaseUrl: string;
  cloudInitTimeoutMs: number;
  /** SPAWNBOT_INSTALL_STALL: an agent install that prints nothing this long is stopped. */
  installStallMs: number;
  /** The expiry sweep and the reconciler (see src/bot/upkeep/upkeep.ts). */
  upkeep: { reminderMs: number; sweepIntervalMs: number; mode: "delete" | "report"; reconcileIntervalMs: number; graceMs: number; idleAfterMs?: number };
  /** SPAWNBOT_SHUTDOWN_GRACE: runs get this long to reach a step boundary on SIGTERM/SIGINT. */
  shutdownGraceMs: number;
  /** SPAWNBOT_LEASE_TTL: a killed bot's hold on the data expires this long after its last heartbeat. */
  leaseTtlMs: number;
  /** SPAWNBOT_CLEANUP_RETRY: interval between retries of "cleanup pending" spawns. */
  cleanupRetryMs: number;
  /** The health and metrics endpoint, when SPAWNBOT_OPS_PORT is set. */
  ops?: { port: number; host: string };
  /** The tunnel gateway, when SPAWNBOT_PUBLIC_URL is set; with a tunnel domain each dashboard link is `<token>.<domain>`. */
  gateway?: { publicUrl: string; port: number; host: string; tunnelDomain?: string };
  /** VM clouds; each is present only when its credentials or project are configured. */
  clouds: {
    aws?: { region: string; defaultSize: string; sshCidr: string };
    gcp?: { project: string; zone: string; defaultSize: string; apiEndpoint?: string };
    hetzner?: { token: string; apiUrl: string; location: string; defaultSize: string };
    digitalocean?: { token: string; apiUrl: string; region: string; defaultSize: string };
  };
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
  if (result.success) problems.push(...adapterProblems(result.output), ...tunnelProblems(result.output), ...budgetProblems(result.output));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const c = result.output;
  const adapter = c.SPAWNBOT_ADAPTER;
  return {
    dataDir: path.resolve(cwd, c.SPAWNBOT_DATA_DIR),
    database: c.SPAWNBOT_DATABASE_URL
      ? { url: c.SPAWNBOT_DATABASE_URL, statementTimeoutMs: c.SPAWNBOT_DATABASE_STATEMENT_TIMEOUT, runsPerReplica: c.SPAWNBOT_RUNS_PER_REPLICA }
      : undefined,
    adapter,
    // The console shows each step on stdout already; its log keeps to warnings unless asked.
    logLevel: c.SPAWNBOT_LOG_LEVEL ?? (adapter === "console" ? "warn" : "info"),
    logFormat: c.SPAWNBOT_LOG_FORMAT ?? (adapter === "console" ? "pretty" : "json"),
    secretKey: c.SPAWNBOT_SECRET_KEY ? parseSecretKey(c.SPAWNBOT_SECRET_KEY) : undefined,
    slack: adapter === "slack" ? {
      botToken: c.SLACK_BOT_TOKEN!, appToken: c.SLACK_APP_TOKEN, signingSecret: c.SLACK_SIGNING_SECRET, apiUrl: c.SLACK_API_URL, port: c.SLACK_PORT,
    } : undefined,
    discord: adapter === "discord" ? {
      token: c.DISCORD_TOKEN!, appId: c.DISCORD_APP_ID!, apiUrl: c.DISCORD_API_URL,
      transport: c.SPAWNBOT_DISCORD_TRANSPORT, publicKey: c.SPAWNBOT_DISCORD_PUBLIC_KEY?.toLowerCase(),
    } : undefined,
    admins: c.SPAWNBOT_ADMINS.split(",").map((s) => s.trim()).filter(Boolean),
    enableLocal: c.SPAWNBOT_ENABLE_LOCAL ?? adapter === "console",
    defaultTtlMs: c.SPAWNBOT_DEFAULT_TTL,
    policy: {
      allowClouds: c.SPAWNBOT_ALLOW_CLOUDS,
      allowAgents: c.SPAWNBOT_ALLOW_AGENTS,
      limits: {
        livePerUser: c.SPAWNBOT_MAX_LIVE_PER_USER, livePerWorkspace: c.SPAWNBOT_MAX_LIVE_PER_WORKSPACE,
        hourlyPerUser: c.SPAWNBOT_MAX_HOURLY_PER_USER, hourlyPerWorkspace: c.SPAWNBOT_MAX_HOURLY_PER_WORKSPACE,
        monthlyBudgetPerUserUsd: c.SPAWNBOT_BUDGET_PER_USER, monthlyBudgetPerChannelUsd: c.SPAWNBOT_BUDGET_PER_CHANNEL,
      },
    },
    usdPerEur: c.SPAWNBOT_USD_PER_EUR,
    sshNetworks: { allow: c.SPAWNBOT_SSH_ALLOW_NETWORKS, deny: c.SPAWNBOT_SSH_DENY_NETWORKS },
    openrouterApiKey: c.OPENROUTER_API_KEY,
    openrouterManagementKey: c.OPENROUTER_MANAGEMENT_KEY,
    // At the console the person at the keyboard set the key up: sharing it with them hides nothing.
    shareWorkspaceKey: c.SPAWNBOT_SHARE_WORKSPACE_KEY ?? adapter === "console",
    spawnBudget: { defaultUsd: c.SPAWNBOT_SPAWN_BUDGET, maxUsd: c.SPAWNBOT_MAX_SPAWN_BUDGET },
    openrouter: { api: c.OPENROUTER_API_URL.replace(/\/$/, ""), auth: c.OPENROUTER_AUTH_URL },
    gitBaseUrl: c.SPAWNBOT_GIT_BASE_URL.replace(/\/+$/, ""),
    cloudInitTimeoutMs: c.SPAWNBOT_CLOUD_INIT_TIMEOUT,
    installStallMs: c.SPAWNBOT_INSTALL_STALL,
    upkeep: {
      reminderMs: c.SPAWNBOT_EXPIRY_REMINDER, sweepIntervalMs: c.SPAWNBOT_EXPIRY_INTERVAL, mode: c.SPAWNBOT_RECONCILE_MODE, idleAfterMs: c.SPAWNBOT_IDLE_AFTER,
      reconcileIntervalMs: c.SPAWNBOT_RECONCILE_INTERVAL, graceMs: c.SPAWNBOT_ORPHAN_GRACE,
    },
    shutdownGraceMs: c.SPAWNBOT_SHUTDOWN_GRACE,
    leaseTtlMs: c.SPAWNBOT_LEASE_TTL,
    cleanupRetryMs: c.SPAWNBOT_CLEANUP_RETRY,
    ops: c.SPAWNBOT_OPS_PORT ? { port: c.SPAWNBOT_OPS_PORT, host: c.SPAWNBOT_OPS_HOST } : undefined,
    gateway: c.SPAWNBOT_PUBLIC_URL
      ? { publicUrl: c.SPAWNBOT_PUBLIC_URL.replace(/\/$/, ""), port: c.SPAWNBOT_GATEWAY_PORT, host: c.SPAWNBOT_GATEWAY_HOST, tunnelDomain: c.SPAWNBOT_TUNNEL_DOMAIN }
      : undefined,
    clouds: {
      aws: c.AWS_REGION ? { region: c.AWS_REGION, defaultSize: c.SPAWNBOT_AWS_SIZE, sshCidr: c.SPAWNBOT_AWS_SSH_CIDR } : undefined,
      gcp: c.SPAWNBOT_GCP_PROJECT
        ? { project: c.SPAWNBOT_GCP_PROJECT, zone: c.SPAWNBOT_GCP_ZONE, defaultSize: c.SPAWNBOT_GCP_SIZE, apiEndpoint: c.SPAWNBOT_GCP_API_ENDPOINT }
        : undefined,
      hetzner: c.HCLOUD_TOKEN ? { token: c.HCLOUD_TOKEN, apiUrl: c.HETZNER_API_URL, location: c.SPAWNBOT_HETZNER_LOCATION, defaultSize: c.SPAWNBOT_HETZNER_SIZE } : undefined,
      digitalocean: c.DIGITALOCEAN_ACCESS_TOKEN
        ? { token: c.DIGITALOCEAN_ACCESS_TOKEN, apiUrl: c.DIGITALOCEAN_API_URL, region: c.SPAWNBOT_DO_REGION, defaultSize: c.SPAWNBOT_DO_SIZE }
        : undefined,
    },
  };
}

/** What the chosen adapter needs that the schema alone cannot say. */
function adapterProblems(c: v.InferOutput<typeof ConfigSchema>): string[] {
  const problems: string[] = [];
  if (c.SPAWNBOT_ADAPTER === "slack") {
    if (!c.SLACK_BOT_TOKEN) problems.push("SLACK_BOT_TOKEN: is required for the slack adapter (OAuth & Permissions → Bot User OAuth Token)");
    if (!c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET) {
      problems.push("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET: set the app token for Socket Mode, or the signing secret for HTTP mode");
    }
  }
  if (c.SPAWNBOT_ADAPTER === "discord") {
    if (!c.DISCORD_TOKEN) problems.push("DISCORD_TOKEN: is required for the discord adapter (Developer Portal → Bot → Token)");
    if (!c.DISCORD_APP_ID) problems.push("DISCORD_APP_ID: is required for the discord adapter (Developer Portal → General Information → Application ID)");
    if (c.SPAWNBOT_DISCORD_TRANSPORT === "http") {
      if (!c.SPAWNBOT_DISCORD_PUBLIC_KEY) problems.push("SPAWNBOT_DISCORD_PUBLIC_KEY: is required for the http transport (Developer Portal → General Information → Public Key)");
      if (!c.SPAWNBOT_PUBLIC_URL) problems.push("SPAWNBOT_PUBLIC_URL: is required for the http transport: Discord posts interactions to <SPAWNBOT_PUBLIC_URL>/discord/interactions");
    }
  }
  return problems;
}

/** The tunnel domain needs the public URL (its scheme and port), and the bot's own host must stay outside it. */
function tunnelProblems(c: v.InferOutput<typeof ConfigSchema>): string[] {
  const domain = c.SPAWNBOT_TUNNEL_DOMAIN;
  if (domain === undefined) return [];
  if (!c.SPAWNBOT_PUBLIC_URL) {
    return ["SPAWNBOT_TUNNEL_DOMAIN: needs SPAWNBOT_PUBLIC_URL too (the bot's own address; tunnel links take its scheme and port)"];
  }
  const botHost = new URL(c.SPAWNBOT_PUBLIC_URL).hostname.toLowerCase();
  if (botHost.endsWith(`.${domain}`)) {
    return [`SPAWNBOT_PUBLIC_URL: its host ${botHost} is under SPAWNBOT_TUNNEL_DOMAIN, where it would share a site with the dashboards: use a host outside *.${domain}`];
  }
  return [];
}

function budgetProblems(c: v.InferOutput<typeof ConfigSchema>): string[] {
  const [budget, max] = [c.SPAWNBOT_SPAWN_BUDGET, c.SPAWNBOT_MAX_SPAWN_BUDGET];
  return budget > max ? [`SPAWNBOT_SPAWN_BUDGET: ${budget} is above SPAWNBOT_MAX_SPAWN_BUDGET (${max}); lower it or raise the maximum`] : [];
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

/** Why SPAWNBOT_GIT_BASE_URL is unusable, or undefined: https (http only on loopback), no credentials, query or fragment. */
function gitBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://github.com or https://github.example.com";
  }
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) return "must be an https URL (http only on 127.0.0.1), e.g. https://github.example.com";
  if (url.username || url.password) return "must not hold a user name or token: members save their git token in `settings`";
  if (url.search || url.hash) return "must not have a query or fragment";
  return undefined;
}
