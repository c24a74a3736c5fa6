// Agents on the `local` cloud start with a clean environment: the bot's chat tokens, cloud
// credentials, workspace OpenRouter key and secret-box key must not reach the agent's processes.
// The spawn runs under its own tmux server (TMUX_TMPDIR), so the server, its session and the
// agent all start from the environment the bot gave them, and the test reads what they really
// have from /proc.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentEnvironment } from "../src/orchestrator/remote/clean-env.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";
import { FAKE_KEY } from "./support/test-agent.js";

const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-cleanenv-home-"));
const tmuxDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-cleanenv-tmux-"));
const name = `ce-${Math.random().toString(36).slice(2, 8)}`;

/** What a real bot's environment holds (values shaped like the real ones, none of them valid). */
const BOT_ENV: Record<string, string> = {
  SLACK_BOT_TOKEN: "xoxb-1111111111-2222222222-cleanenvsentinel00001",
  SLACK_APP_TOKEN: "xapp-1-A111-2222-cleanenvsentinel00002",
  SLACK_SIGNING_SECRET: "cleanenvsentinel0000000000000003",
  DISCORD_TOKEN: "MTAxMDEw.cleanenv.sentinel0000000000000000004",
  AWS_ACCESS_KEY_ID: "AKIACLEANENVSENTINEL5",
  AWS_SECRET_ACCESS_KEY: "cleanenvsentinel/000000000000000000000006",
  HCLOUD_TOKEN: "cleanenvsentinel00000000000000000000000000000000000000000000007",
  DIGITALOCEAN_ACCESS_TOKEN: "dop_v1_cleanenvsentinel0000000000000000000000000000000000000008",
  OPENROUTER_API_KEY: `sk-or-v1-${"9".repeat(64)}`, // the workspace key, unlike the spawn's own FAKE_KEY
  SPAWNBOT_SECRET_KEY: "ab".repeat(32),
  GOOGLE_APPLICATION_CREDENTIALS: "/etc/spawnbot/cleanenv-sentinel-gcp.json",
};

const tmuxIn = (dir: string, env: NodeJS.ProcessEnv = process.env) => (...args: string[]) =>
  spawnSync("tmux", args, { env: { ...env, TMUX_TMPDIR: dir }, encoding: "utf8" });
const tmux = tmuxIn(tmuxDir);
/** A tmux server that was already running with the bot's environment (an older version, or a shell that exported the tokens). */
const dirtyTmuxDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-cleanenv-tmux-dirty-"));
const dirtyTmux = tmuxIn(dirtyTmuxDir, { ...process.env, ...BOT_ENV });

/** NAME=value pairs of a live process. */
function environOf(pid: string): Map<string, string> {
  const pairs = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").filter(Boolean);
  return new Map(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
}

/** The pane's process and all its descendants. */
function processTree(root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    const kids = spawnSync("ps", ["-o", "pid=", "--ppid", out[i]!], { encoding: "utf8" }).stdout.split("\n").map((s) => s.trim()).filter(Boolean);
    out.push(...kids);
  }
  return out;
}

afterAll(() => {
  tmux("kill-server");
  dirtyTmux("kill-server");
});

/** Spawn on the local cloud with the bot's environment in process.env and tmux under `dir`; every check on the agent's environment. */
async function spawnAndCheck(dir: string, session: string, run: (...args: string[]) => ReturnType<typeof spawnSync>): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, BOT_ENV, { TMUX_TMPDIR: dir });
  try {
    const bot = makeBot({ localHome: home });
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${session}`), conv);
    await bot.core.idle();
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const panePid = String(run("list-panes", "-t", `=${session}`, "-F", "#{pane_pid}").stdout).trim();
  expect(panePid).toMatch(/^\d+$/);
  // The agent itself runs: wait for it under the pane's shell.
  let pids: string[] = [];
  for (let i = 0; i < 50 && !pids.some((p) => readFileSync(`/proc/${p}/cmdline`, "latin1").includes("testagent")); i++) {
    await new Promise((r) => setTimeout(r, 100));
    pids = processTree(panePid).filter((p) => { try { readFileSync(`/proc/${p}/cmdline`); return true; } catch { return false; } });
  }
  expect(pids.length).toBeGreaterThan(1);
  const envs = pids.map(environOf);
  const sessionEnv = String(run("show-environment", "-t", `=${session}`).stdout);
  for (const [varName, value] of Object.entries(BOT_ENV)) {
    expect(sessionEnv, varName).not.toContain(value);
    for (const env of envs) {
      expect([...env.values()].join("\n"), varName).not.toContain(value);
      if (varName !== "OPENROUTER_API_KEY") expect(env.has(varName), varName).toBe(false);
    }
  }
  // What the agent does get: its home, a PATH, and the spawn's own key from ~/.spawnrc.
  const agentEnv = envs.at(-1)!;
  expect(agentEnv.get("HOME")).toBe(home);
  expect(agentEnv.get("PATH")).toBeTruthy();
  expect(agentEnv.get("OPENROUTER_API_KEY")).toBe(FAKE_KEY);
}

describe("agents on the local cloud", () => {
  it("start with none of the bot's tokens and keys in their environment", async () => {
    await spawnAndCheck(tmuxDir, name, tmux);
    // The tmux server this spawn started has a clean global environment too.
    const global = String(tmux("show-environment", "-g").stdout);
    for (const value of Object.values(BOT_ENV)) expect(global).not.toContain(value);
  }, 60_000);

  it("start clean even under a tmux server that already holds the bot's environment", async () => {
    expect(dirtyTmux("new-session", "-d", "-s", "older", "sleep 600").status).toBe(0);
    expect(String(dirtyTmux("show-environment", "-g").stdout)).toContain(BOT_ENV.SLACK_BOT_TOKEN);
    await spawnAndCheck(dirtyTmuxDir, `${name}-d`, dirtyTmux);
  }, 60_000);

  it("keeps only where things are and how to reach the network, with HOME set to the agent's", () => {
    const env = agentEnvironment({ ...BOT_ENV, PATH: "/usr/bin", HOME: "/root", LANG: "C.UTF-8", LC_ALL: "C", TERM: "xterm", HTTPS_PROXY: "http://proxy:3128", NODE_EXTRA_CA_CERTS: "/ca.pem", NODE_OPTIONS: "--require /x.js" }, "/home/agent");
    expect(env).toEqual({ PATH: "/usr/bin", HOME: "/home/agent", LANG: "C.UTF-8", LC_ALL: "C", TERM: "xterm", HTTPS_PROXY: "http://proxy:3128", NODE_EXTRA_CA_CERTS: "/ca.pem" });
  });
});
