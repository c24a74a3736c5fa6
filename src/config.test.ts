// Start-up configuration: defaults, a config file under the environment, every problem at once.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-config-"));

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
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env, dir);
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  it("gives one accurate reason for each kind of bad public URL, and takes good ones", () => {
    expect(problems({ SPAWNBOT_PUBLIC_URL: "spawnbot.example.com:8443/x" })).toEqual(["SPAWNBOT_PUBLIC_URL: must start with https:// (or http://), e.g. https://spawnbot.example.com:8443/x"]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "ftp://spawnbot.example.com" })).toEqual(["SPAWNBOT_PUBLIC_URL: must be an https:// (or http://) URL, not ftp://"]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com/?a=1" })).toEqual([expect.stringMatching(/^SPAWNBOT_PUBLIC_URL: must not have a query/)]);
    expect(problems({ SPAWNBOT_PUBLIC_URL: "https://bot:pw@spawnbot.example.com" })).toEqual(["SPAWNBOT_PUBLIC_URL: must not carry a user name or password"]);
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
    const keys = configuredClouds(config, { publicKey: "ssh-ed25519 AAAA test", privateKey: "" } as never).map((c) => c.key);
    expect([...keys].sort()).toEqual([...CLOUD_NAMES].sort());
  });
});
