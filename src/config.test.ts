// Start-up configuration: defaults, a config file under the environment, every problem at once.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-config-"));

/** The problems loadConfig reports for env, or none. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, dir);
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
}

describe("configuration", () => {
  it("starts on the embedded default with no variables at all", () => {
    const c = loadConfig({}, dir);
    expect(c).toMatchObject({ dataDir: path.join(dir, "data"), adapter: "console", logFormat: "pretty", logLevel: "warn", enableLocal: true, defaultTtlMs: 86_400_000, admins: [] });
    expect(c.openrouterApiKey).toBeUndefined();
  });

  it("reads a JSON config file and lets the environment override it", () => {
    const file = path.join(dir, "spawnbot.json");
    writeFileSync(file, JSON.stringify({ SPAWNBOT_DATA_DIR: "/srv/spawnbot", SPAWNBOT_DEFAULT_TTL: "2h", SPAWNBOT_ADMINS: "U1,U2" }));
    const c = loadConfig({ SPAWNBOT_CONFIG: file, SPAWNBOT_DEFAULT_TTL: "30m" }, dir);
    expect(c).toMatchObject({ dataDir: "/srv/spawnbot", defaultTtlMs: 30 * 60_000, admins: ["U1", "U2"] });
  });

  it("lists every problem in one error and never echoes a secret", () => {
    const err = (() => {
      try {
        loadConfig({ SPAWNBOT_ADAPTER: "irc", SPAWNBOT_ENABLE_LOCAL: "maybe", OPENROUTER_API_KEY: "sk or v1 with spaces in it", SPAWNBOT_CONFIG: path.join(dir, "missing.json") }, dir);
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toHaveLength(4);
    expect(err.message).toMatch(/SPAWNBOT_CONFIG: file .* does not exist/);
    expect(err.message).toMatch(/SPAWNBOT_ADAPTER: must be console/);
    expect(err.message).toMatch(/SPAWNBOT_ENABLE_LOCAL: must be true or false/);
    expect(err.message).not.toContain("with spaces");
  });

  it("needs the Slack bot token and one of the app token or signing secret for the slack adapter", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ SPAWNBOT_ADAPTER: "slack", ...env }, dir);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(problems({})).toEqual([expect.stringMatching(/^SLACK_BOT_TOKEN: is required/), expect.stringMatching(/^SLACK_APP_TOKEN or SLACK_SIGNING_SECRET/)]);
    expect(problems({ SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_SIGNING_SECRET: "not hex at all" })).toEqual([expect.stringMatching(/^SLACK_SIGNING_SECRET: must be the app's signing secret/)]);
    const socket = loadConfig({ SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_APP_TOKEN: "xapp-1-A0-123456789-abc" }, dir);
    expect(socket).toMatchObject({ adapter: "slack", logFormat: "json", enableLocal: false, slack: { appToken: "xapp-1-A0-123456789-abc", port: 3000 } });
    expect(JSON.stringify(problems({ SLACK_BOT_TOKEN: "xoxp-user-token-secret" }))).not.toContain("user-token-secret");
  });

  it("takes Discord interactions over the gateway unless the http transport is chosen with the public key and a public URL", () => {
    const discord = { SPAWNBOT_ADAPTER: "discord", DISCORD_TOKEN: "MTAwMDAwMDAwMDAwMDAwMDAx.fake.token-value", DISCORD_APP_ID: "100000000000000001" };
    expect(loadConfig(discord, dir).discord).toMatchObject({ transport: "gateway", publicKey: undefined });
    expect(problems({ ...discord, SPAWNBOT_DISCORD_TRANSPORT: "http" })).toEqual([
      expect.stringMatching(/^SPAWNBOT_DISCORD_PUBLIC_KEY: is required for the http transport/),
      expect.stringMatching(/^SPAWNBOT_PUBLIC_URL: is required for the http transport: Discord posts interactions to <SPAWNBOT_PUBLIC_URL>\/discord\/interactions/),
    ]);
    expect(problems({ ...discord, SPAWNBOT_DISCORD_TRANSPORT: "webhook" })).toEqual(["SPAWNBOT_DISCORD_TRANSPORT: must be gateway or http"]);
    expect(problems({ ...discord, SPAWNBOT_DISCORD_PUBLIC_KEY: "abc123" })).toEqual([expect.stringMatching(/^SPAWNBOT_DISCORD_PUBLIC_KEY: must be the application's public key, 64 hex digits/)]);
    const key = "A".repeat(64);
    const http = loadConfig({ ...discord, SPAWNBOT_DISCORD_TRANSPORT: "http", SPAWNBOT_DISCORD_PUBLIC_KEY: key, SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com" }, dir);
    expect(http.discord).toMatchObject({ transport: "http", publicKey: "a".repeat(64) });
  });

  it("reads SPAWNBOT_SECRET_KEY as 32 bytes and refuses anything else", () => {
    expect(loadConfig({ SPAWNBOT_SECRET_KEY: "ab".repeat(32) }, dir).secretKey?.length).toBe(32);
    expect(() => loadConfig({ SPAWNBOT_SECRET_KEY: "hunter2" }, dir)).toThrow(/SPAWNBOT_SECRET_KEY: must be 32 bytes/);
  });
});

describe("configuration: expiry and reconciler", () => {
  it("defaults to deleting orphans after an hour, reconciling every 15 minutes, reminding an hour ahead", () => {
    expect(loadConfig({}, dir).upkeep).toEqual({ reminderMs: 3_600_000, sweepIntervalMs: 60_000, mode: "delete", reconcileIntervalMs: 900_000, graceMs: 3_600_000 });
    const c = loadConfig({ SPAWNBOT_RECONCILE_MODE: "report", SPAWNBOT_ORPHAN_GRACE: "2h", SPAWNBOT_EXPIRY_REMINDER: "30m" }, dir);
    expect(c.upkeep).toMatchObject({ mode: "report", graceMs: 7_200_000, reminderMs: 1_800_000 });
  });

  it("refuses an unknown mode or a bad interval with one line each", () => {
    expect(() => loadConfig({ SPAWNBOT_RECONCILE_MODE: "purge", SPAWNBOT_RECONCILE_INTERVAL: "soon" }, dir)).toThrow(
      /SPAWNBOT_RECONCILE_MODE: must be delete or report\n\s+- SPAWNBOT_RECONCILE_INTERVAL: must be a duration/,
    );
  });
});

describe("configuration: names and URLs an admin types", () => {

  it("gives one accurate reason for each kind of bad public URL, and takes good ones", () => {
    expect(problems({ SPAWNBOT_PUBLIC_URL: "spawnbot.example.com:8443/x" })).toEqual(["SPAWNBOT_PUBLIC_URL: must start with https:// (or http://), e.g. https://spawnbot.example.com:8443/x"]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "ftp://spawnbot.example.com" })).toEqual(["SPAWNBOT_PUBLIC_URL: must be an https:// (or http://) URL, not ftp://"]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com/?a=1" })).toEqual([expect.stringMatching(/^SPAWNBOT_PUBLIC_URL: must not have a query/)]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "https://bot:pw@spawnbot.example.com" })).toEqual(["SPAWNBOT_PUBLIC_URL: must not carry a user name or password"]);
    expect(problems({ SPAWNBOT_GIT_BASE_URL: "http://git.example.com" })).toEqual(["SPAWNBOT_GIT_BASE_URL: must be an https URL (http only on 127.0.0.1), e.g. https://github.example.com"]);
    expect(problems({ SPAWNBOT_GIT_BASE_URL: "https://me:ghp_x@github.example.com" })).toEqual(["SPAWNBOT_GIT_BASE_URL: must not hold a user name or token: members save their git token in `settings`"]);
    expect(problems({ SPAWNBOT_GIT_BASE_URL: "https://github.example.com/" })).toEqual([]);
    expect(loadConfig({ SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com/bot/" }, dir).gateway?.publicUrl).toBe("https://spawnbot.example.com/bot");
  });

  it("refuses allowlists naming clouds or agents that do not exist, and names the ones that do", () => {
    expect(problems({ SPAWNBOT_ALLOW_CLOUDS: "*:ssh;T1:aws,azure,hetznr" })).toEqual([
      'SPAWNBOT_ALLOW_CLOUDS: unknown cloud "azure", "hetznr" (did you mean hetzner?); known clouds: local, ssh, aws, gcp, hetzner, digitalocean',
    ]);
    expect(loadConfig({ SPAWNBOT_ALLOW_AGENTS: "*:none;T1:codex,claude;T1/C2:*" }, dir).policy.allowAgents).toEqual({ "*": [], T1: ["codex", "claude"], "T1/C2": "*" });
  });

  it("knows every cloud the bot can configure by the name its class answers to", async () => {
    const { configuredClouds } = await import("./clouds.js");
    const { CLOUD_NAMES } = await import("./cloud-names.js");
    const config = loadConfig({
      AWS_REGION: "us-east-1", SPAWNBOT_GCP_PROJECT: "my-project-1", HCLOUD_TOKEN: "h".repeat(64), DIGITALOCEAN_ACCESS_TOKEN: "d".repeat(64),
    }, dir);
    const keys = configuredClouds(config, { publicKey: "ssh-ed25519 AAAA test", privateKey: "" }).map((c) => c.key);
    expect([...keys].sort()).toEqual([...CLOUD_NAMES].sort());
  });
});

describe("configuration: the tunnel domain", () => {
  const PUBLIC = { SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com" };

  it("has no tunnel domain by default: dashboards fall back to the /t/<token>/ path form", () => {
    expect(loadConfig(PUBLIC, dir).gateway).toEqual({ publicUrl: "https://spawnbot.example.com", port: 8080, host: "127.0.0.1", tunnelDomain: undefined });
  });

  it("reads a wildcard name or its bare suffix as the suffix in lower case", () => {
    expect(loadConfig({ ...PUBLIC, SPAWNBOT_TUNNEL_DOMAIN: "*.Tunnels.Example.com" }, dir).gateway?.tunnelDomain).toBe("tunnels.example.com");
    expect(loadConfig({ ...PUBLIC, SPAWNBOT_TUNNEL_DOMAIN: "tunnels.example.com" }, dir).gateway?.tunnelDomain).toBe("tunnels.example.com");
  });

  it("refuses a malformed domain at start-up, saying what to give", () => {
    expect(() => loadConfig({ ...PUBLIC, SPAWNBOT_TUNNEL_DOMAIN: "https://*.tunnels.example.com/" }, dir)).toThrow(
      /SPAWNBOT_TUNNEL_DOMAIN: .*give a wildcard name such as \*\.tunnels\.example\.com/,
    );
  });

  it("needs the public URL, which gives the links their scheme and port", () => {
    expect(() => loadConfig({ SPAWNBOT_TUNNEL_DOMAIN: "*.tunnels.example.com" }, dir)).toThrow(/SPAWNBOT_TUNNEL_DOMAIN: needs SPAWNBOT_PUBLIC_URL/);
  });

  it("refuses a bot host inside the tunnel domain, where its pages would share a site with the dashboards", () => {
    expect(() => loadConfig({ SPAWNBOT_PUBLIC_URL: "https://bot.tunnels.example.com", SPAWNBOT_TUNNEL_DOMAIN: "*.tunnels.example.com" }, dir)).toThrow(
      /SPAWNBOT_PUBLIC_URL: its host bot\.tunnels\.example\.com is under SPAWNBOT_TUNNEL_DOMAIN/,
    );
  });
});

describe("configuration: the network policy of --host", () => {
  it("reads comma-separated CIDR lists of both families, a bare address as one host", () => {
    const c = loadConfig({ SPAWNBOT_SSH_ALLOW_NETWORKS: "127.0.0.0/8, ::1", SPAWNBOT_SSH_DENY_NETWORKS: "10.0.0.0/8,2001:db8::/32," }, dir);
    expect(c.sshNetworks.allow).toEqual([
      { family: "ipv4", address: "127.0.0.0", prefix: 8, text: "127.0.0.0/8" },
      { family: "ipv6", address: "::1", prefix: 128, text: "::1" },
    ]);
    expect(c.sshNetworks.deny.map((n) => n.text)).toEqual(["10.0.0.0/8", "2001:db8::/32"]);
    expect(loadConfig({}, dir).sshNetworks).toEqual({ allow: [], deny: [] });
  });

  it("refuses to start with one clear line per bad entry", () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({ SPAWNBOT_SSH_ALLOW_NETWORKS: "127.0.0.0/8, 10.0.0.1/8,intranet,::1/129", SPAWNBOT_SSH_DENY_NETWORKS: "::ffff:127.0.0.1,300.1.1.1/8" }, dir);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems).toEqual([
      "SPAWNBOT_SSH_ALLOW_NETWORKS: '10.0.0.1/8' has bits set after the first 8; write the network address of the range",
      "SPAWNBOT_SSH_ALLOW_NETWORKS: 'intranet' is not an IP address or CIDR range (write it like 10.0.0.0/8 or 2001:db8::/32)",
      "SPAWNBOT_SSH_ALLOW_NETWORKS: '::1/129' has a bad prefix length; use /0 to /128 for IPv6",
      "SPAWNBOT_SSH_DENY_NETWORKS: '::ffff:127.0.0.1' is an IPv4-mapped IPv6 address; write the IPv4 range itself (e.g. 127.0.0.0/8)",
      "SPAWNBOT_SSH_DENY_NETWORKS: '300.1.1.1/8' is not an IP address or CIDR range (write it like 10.0.0.0/8 or 2001:db8::/32)",
    ]);
  });
});

describe("configuration: OpenRouter keys for spawns", () => {
  const slack = { SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_APP_TOKEN: "xapp-1-A0-123456789-abc" };

  it("makes no per-spawn keys without a management key, and shares the workspace key only at the console unless told", () => {
    expect(loadConfig({}, dir)).toMatchObject({ openrouterManagementKey: undefined, shareWorkspaceKey: true, spawnBudget: { defaultUsd: 10, maxUsd: 100 } });
    expect(loadConfig(slack, dir).shareWorkspaceKey).toBe(false);
    expect(loadConfig({ ...slack, SPAWNBOT_SHARE_WORKSPACE_KEY: "true" }, dir).shareWorkspaceKey).toBe(true);
    expect(loadConfig({ SPAWNBOT_SHARE_WORKSPACE_KEY: "no" }, dir).shareWorkspaceKey).toBe(false);
  });

  it("reads the management key and the budgets in US dollars", () => {
    const key = `sk-or-v1-${"ab".repeat(32)}`;
    const c = loadConfig({ OPENROUTER_MANAGEMENT_KEY: key, SPAWNBOT_SPAWN_BUDGET: "2.50", SPAWNBOT_MAX_SPAWN_BUDGET: "20" }, dir);
    expect(c).toMatchObject({ openrouterManagementKey: key, spawnBudget: { defaultUsd: 2.5, maxUsd: 20 } });
  });

  it("refuses a bad amount, a default above the maximum, and a malformed management key without echoing it", () => {
    expect(problems({ SPAWNBOT_SPAWN_BUDGET: "ten" })).toEqual(["SPAWNBOT_SPAWN_BUDGET: must be an amount in US dollars such as 10 or 2.50"]);
    expect(problems({ SPAWNBOT_MAX_SPAWN_BUDGET: "0" })).toEqual(["SPAWNBOT_MAX_SPAWN_BUDGET: must be more than 0"]);
    expect(problems({ SPAWNBOT_SPAWN_BUDGET: "50", SPAWNBOT_MAX_SPAWN_BUDGET: "20" })).toEqual([expect.stringMatching(/^SPAWNBOT_SPAWN_BUDGET: 50 is above SPAWNBOT_MAX_SPAWN_BUDGET \(20\)/)]);
    const leaked = problems({ OPENROUTER_MANAGEMENT_KEY: "sk or v1 management secret" });
    expect(leaked).toEqual([expect.stringMatching(/^OPENROUTER_MANAGEMENT_KEY: must be 20-256 printable/)]);
    expect(JSON.stringify(leaked)).not.toContain("management secret");
  });

  it("reads the monthly budgets per person and per channel (none by default) and the euro rate", () => {
    expect(loadConfig({}, dir)).toMatchObject({ policy: { limits: { monthlyBudgetPerUserUsd: 0, monthlyBudgetPerChannelUsd: 0 } }, usdPerEur: 1.1 });
    expect(loadConfig({}, dir).upkeep.idleAfterMs).toBeUndefined(); // idle spawns: off unless set
    expect(loadConfig({ SPAWNBOT_IDLE_AFTER: "6h" }, dir).upkeep.idleAfterMs).toBe(6 * 3_600_000);
    const c = loadConfig({ SPAWNBOT_BUDGET_PER_USER: "200", SPAWNBOT_BUDGET_PER_CHANNEL: "1500.50", SPAWNBOT_USD_PER_EUR: "1.08" }, dir);
    expect(c).toMatchObject({ policy: { limits: { monthlyBudgetPerUserUsd: 200, monthlyBudgetPerChannelUsd: 1500.5 } }, usdPerEur: 1.08 });
  });

  it("refuses a budget that is not dollars and a rate that is not a positive number", () => {
    expect(problems({ SPAWNBOT_BUDGET_PER_USER: "$200", SPAWNBOT_USD_PER_EUR: "0" })).toEqual([
      "SPAWNBOT_BUDGET_PER_USER: must be an amount in US dollars such as 500 or 99.50 (0 means no budget)",
      "SPAWNBOT_USD_PER_EUR: must be more than 0",
    ]);
  });
});

describe("configuration: the database", () => {
  it("uses the embedded SQLite store unless a PostgreSQL URL is given, with a 10 s statement timeout by default", () => {
    expect(loadConfig({}, dir).database).toBeUndefined();
    const url = "postgres://spawnbot:s3cret-pass@db.internal:5432/spawnbot";
    expect(loadConfig({ SPAWNBOT_DATABASE_URL: url }, dir).database).toEqual({ url, statementTimeoutMs: 10_000, runsPerReplica: 100 });
    expect(loadConfig({ SPAWNBOT_DATABASE_URL: "postgresql://db.internal/spawnbot", SPAWNBOT_DATABASE_STATEMENT_TIMEOUT: "30s", SPAWNBOT_RUNS_PER_REPLICA: "12" }, dir).database)
      .toEqual({ url: "postgresql://db.internal/spawnbot", statementTimeoutMs: 30_000, runsPerReplica: 12 });
  });

  it("refuses a runs-per-replica cap that is not a whole number from 1 to 1000", () => {
    for (const bad of ["0", "1001", "ten", "2.5", "-3"]) {
      expect(problems({ SPAWNBOT_DATABASE_URL: "postgres://db.internal/spawnbot", SPAWNBOT_RUNS_PER_REPLICA: bad }), bad)
        .toEqual(["SPAWNBOT_RUNS_PER_REPLICA: must be a whole number from 1 to 1000"]);
    }
  });

  it("refuses a URL that is not PostgreSQL's, or a bad timeout, without repeating the URL's password", () => {
    const found = problems({ SPAWNBOT_DATABASE_URL: "mysql://root:hunter2-secret@db/spawnbot", SPAWNBOT_DATABASE_STATEMENT_TIMEOUT: "soon" });
    expect(found).toEqual([
      expect.stringMatching(/^SPAWNBOT_DATABASE_URL: must be a postgres:\/\/ \(or postgresql:\/\/\) URL/),
      expect.stringMatching(/^SPAWNBOT_DATABASE_STATEMENT_TIMEOUT: must be a duration/),
    ]);
    expect(problems({ SPAWNBOT_DATABASE_URL: "postgres//user:hunter2-secret@db" })).toEqual([expect.stringMatching(/^SPAWNBOT_DATABASE_URL: is not a valid URL/)]);
    expect(problems({ SPAWNBOT_DATABASE_URL: "postgres:///spawnbot" })).toEqual([expect.stringMatching(/^SPAWNBOT_DATABASE_URL: must name the database host/)]);
    for (const env of [{ SPAWNBOT_DATABASE_URL: "mysql://root:hunter2-secret@db/spawnbot" }, { SPAWNBOT_DATABASE_URL: "postgres//user:hunter2-secret@db" }]) {
      expect(problems(env).join("\n")).not.toContain("hunter2");
    }
  });
});
