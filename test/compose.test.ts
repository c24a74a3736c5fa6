// compose.yaml and .env.example as an admin uses them (no Docker engine runs here, so they are
// read as files): every variable reaches the bot through env_file, and the ports compose publishes
// are the ones the bot listens on, for the defaults and for values changed in .env.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_VARIABLES, loadConfig } from "../src/config.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const compose = parse(read("compose.yaml")) as { services: Record<string, { env_file: unknown; environment?: Record<string, string>; ports: string[] }> };
const service = compose.services.spawnbot!;
const envExample = read(".env.example");

/** Compose's interpolation of ${VAR:-default} (empty counts as unset) against a .env's values. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback = "") => env[name] || fallback);
}

/** container port -> "host_ip:host_port", as `docker compose config` would publish them. */
function published(env: Record<string, string>): Map<number, string> {
  return new Map(service.ports.map((p) => {
    const parts = interpolate(p, env).split(":");
    return [Number(parts.at(-1)), parts.slice(0, -1).join(":")];
  }));
}

/** What the bot sees in the container: the image's ENV, then .env, then compose's environment. */
function containerEnv(dotEnv: Record<string, string>): Record<string, string> {
  const imageEnv = Object.fromEntries([...read("Dockerfile").matchAll(/\b(SPAWNBOT_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  return { ...imageEnv, ...dotEnv, ...service.environment };
}

describe("compose.yaml", () => {
  it("passes the whole .env to the bot instead of a hand-picked few", () => {
    expect(service.env_file).toEqual([{ path: ".env", required: true }]);
    // Only what the container fixes is set in compose itself, and no secret is interpolated there.
    expect(Object.keys(service.environment ?? {}).sort()).toEqual(["SPAWNBOT_DATA_DIR", "SPAWNBOT_GATEWAY_HOST", "SPAWNBOT_OPS_HOST"]);
    expect(read("compose.yaml")).not.toMatch(/TOKEN|SECRET|API_KEY/);
  });

  it(".env.example lists every variable the bot reads, each with a comment above its group", () => {
    const listed = new Set([...envExample.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    const missing = [...CONFIG_VARIABLES, "SPAWNBOT_CONFIG"].filter((name) => !listed.has(name));
    expect(missing).toEqual([]);
    // And the README's configuration table documents each of them.
    const readme = read("README.md");
    expect(CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it("publishes the public port, Slack's HTTP port and the ops port where the bot listens, by default", () => {
    const env = containerEnv({});
    const config = loadConfig({ ...env, SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com" });
    const ports = published({});
    expect(ports.get(config.gateway!.port)).toBe(`127.0.0.1:${config.gateway!.port}`);
    expect(config.gateway!.host).toBe("0.0.0.0"); // reachable through the published port
    expect(ports.get(config.ops!.port)).toBe(`127.0.0.1:${config.ops!.port}`);
    expect(config.ops!.host).toBe("0.0.0.0");
    expect(ports.get(loadConfig({ ...env, SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_SIGNING_SECRET: "0".repeat(32) }).slack!.port)).toBeDefined();
    expect(config.dataDir).toBe("/data");
  });

  it("follows ports changed in .env, and .env cannot move the data out of the volume", () => {
    const dotEnv = { SPAWNBOT_GATEWAY_PORT: "8443", SPAWNBOT_OPS_PORT: "9100", SLACK_PORT: "3300", SPAWNBOT_DATA_DIR: "./data", SPAWNBOT_GATEWAY_HOST: "127.0.0.1" };
    const env = containerEnv(dotEnv);
    const config = loadConfig({ ...env, SPAWNBOT_PUBLIC_URL: "https://spawnbot.example.com", SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_SIGNING_SECRET: "0".repeat(32) });
    const ports = published(dotEnv);
    expect([config.gateway!.port, config.ops!.port, config.slack!.port]).toEqual([8443, 9100, 3300]);
    for (const port of [8443, 9100, 3300]) expect(ports.get(port)).toBe(`127.0.0.1:${port}`);
    expect(config.gateway!.host).toBe("0.0.0.0");
    expect(config.dataDir).toBe("/data");
  });

  it("the README's Docker section starts from .env.example", () => {
    const docker = read("README.md").split("## Docker")[1]!.split("\n## ")[0]!;
    expect(docker).toContain("cp .env.example .env");
    expect(docker).toContain("docker compose up -d");
    expect(docker).toMatch(/SPAWNBOT_PUBLIC_URL/);
  });
});

describe("compose.replicas.yaml", () => {
  const replicasFile = read("compose.replicas.yaml");
  type Service = { env_file?: unknown; environment?: Record<string, string>; ports?: string[]; volumes?: string[]; depends_on?: unknown; image?: string };
  const services = (parse(replicasFile, { merge: true }) as { services: Record<string, Service> }).services;
  const bots = Object.entries(services).filter(([name]) => name.startsWith("spawnbot"));
  const dotEnv = { POSTGRES_PASSWORD: "pw-example-1234", SPAWNBOT_SECRET_KEY: "ab".repeat(32), SPAWNBOT_ADAPTER: "slack", SLACK_BOT_TOKEN: "xoxb-1234567890-abcdef", SLACK_SIGNING_SECRET: "0".repeat(32) };

  it("runs two replicas on one PostgreSQL service, each with the whole .env and its own data volume", () => {
    expect(bots.map(([name]) => name)).toEqual(["spawnbot-1", "spawnbot-2"]);
    expect(services.postgres?.image).toMatch(/^postgres:15/);
    for (const [, bot] of bots) {
      expect(bot.env_file).toEqual([{ path: ".env", required: true }]);
      expect(bot.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    }
    expect(new Set(bots.map(([, bot]) => bot.volumes?.[0])).size).toBe(2);
    expect(replicasFile).not.toMatch(/TOKEN|API_KEY/);
  });

  it("gives every replica the same database URL and a configuration the bot accepts, on ports that do not collide on the host", () => {
    const urls = new Set<string>();
    const hostPorts: string[] = [];
    for (const [, bot] of bots) {
      const env = Object.fromEntries(Object.entries(bot.environment ?? {}).map(([k, v]) => [k, interpolate(v.replace(/\$\{(\w+):\?[^}]*\}/g, "${$1}"), dotEnv)]));
      const config = loadConfig({ ...dotEnv, ...env });
      expect(config.database?.url).toBe("postgres://spawnbot:pw-example-1234@postgres:5432/spawnbot");
      urls.add(config.database!.url);
      expect(config.dataDir).toBe("/data");
      hostPorts.push(...(bot.ports ?? []).map((p) => interpolate(p, {}).split(":").slice(0, -1).join(":")));
    }
    expect(urls.size).toBe(1);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("is what the README's replicas section tells to run", () => {
    const section = read("README.md").split("### Several replicas")[1]!.split("\n## ")[0]!;
    expect(section).toContain("docker compose -f compose.replicas.yaml up -d");
    expect(section).toContain("SPAWNBOT_SECRET_KEY");
    expect(section).toContain("POSTGRES_PASSWORD");
  });
});
