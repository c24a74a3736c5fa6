// The five agents the npm registry here serves (codex, pi, claude, opencode, kilocode), each
// installed once for real over SSH as a non-root user and started in its tmux session, then read
// off the screen: each shows its own prompt, never a trust or onboarding dialog. The host's only
// npm configuration is its global npmrc (the one naming the machine's CA file), which a non-root
// install under ~/.npm-global must keep. Claude's and OpenCode's vendor installers point at
// 127.0.0.1 (a refused port, a 404), so their npm fallback is what installs them.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENTS, type AgentSpec } from "../src/orchestrator/index.js";
import type { StatusView } from "../src/bot/views/views.js";
import { authorizeUsers, makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { freePort } from "./support/free-port.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-agents";
const MODEL = "anthropic/claude-sonnet-4.6";
/**
 * An agent's first screen, from launch. OpenCode and Kilo Code took 35-55 s here on a busy machine
 * (this sandbox reaches only the npm registry; their start-up look-ups elsewhere wait to time out).
 */
const READY_TIMEOUT_MS = 150_000;
/** The measure: what the pane shows this long after launch must not be a dialog. */
const LOOK_AFTER_MS = 10_000;
const POLL_MS = 500;

/** What each agent's own prompt looks like on screen (the pinned versions; pi is unpinned, so its banner). */
const PROMPT: Record<string, RegExp> = {
  codex: /Ask Codex to do anything/,
  pi: /\bpi v\d+\.\d+/,
  claude: /bypass permissions on/,
  opencode: /Ask anything/,
  kilocode: /Ask anything/,
};
/** First-run dialogs that wait for a key press: trust, sign-in, onboarding, theme pickers. */
const DIALOG = /trust (this|the files in this) folder|Yes, I trust|Trust and continue|Enter to confirm|Sign in with|Log ?in to|Select a theme|Choose the text style|Press Enter to continue|Do you want to use this API key/i;

let sshd: TestSshd;
let bot: TestBot;
let installers: http.Server;
const served: string[] = [];
const results: Record<string, { conv: RecordingConversation; final: StatusView; installMs: number; readyMs?: number; launchToPromptMs?: number; at10s?: string; screen?: string }> = {};

const asUser = (cmd: string) => spawnSync("su", ["-", USER, "-c", cmd], { encoding: "utf8" });
const pane = (session: string) => asUser(`tmux capture-pane -p -t ${session}`).stdout;
const catalog = (key: string) => AGENTS.find((a) => a.key === key)!;

/** Spawn one agent, then watch its pane until its prompt shows (or the time is up), looking for dialogs. */
async function spawnAndWatch(key: string): Promise<void> {
  const conv = new RecordingConversation();
  const session = `ra-${key}`;
  const started = Date.now();
  await bot.core.handle(request(`spawn ${key} ssh --host ${USER}@127.0.0.1:${sshd.port} --name ${session} -m ${MODEL}`), conv);
  await bot.core.idle();
  const final = conv.statuses.at(-1)!;
  const installMs = final.steps.find((s) => s.name === "install")?.durationMs ?? -1;
  const r: (typeof results)[string] = { conv, final, installMs };
  results[key] = r;
  if (final.result?.outcome !== "ready") return;
  const launched = Date.now();
  while (Date.now() - launched < READY_TIMEOUT_MS) {
    const screen = pane(session);
    if (DIALOG.test(screen)) { r.screen = screen; return; }
    if (r.readyMs === undefined && PROMPT[key]!.test(screen)) {
      r.readyMs = Date.now() - started;
      r.launchToPromptMs = Date.now() - launched;
    }
    if (Date.now() - launched >= LOOK_AFTER_MS && r.at10s === undefined) r.at10s = screen;
    r.screen = screen;
    if (r.readyMs !== undefined && r.at10s !== undefined) return;
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

beforeAll(async () => {
  sshd = await startSshd(USER);
  installers = http.createServer((req, res) => {
    served.push(req.url ?? "");
    res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
  });
  await new Promise<void>((r) => installers.listen(0, "127.0.0.1", () => r()));
  const notFound = `http://127.0.0.1:${(installers.address() as AddressInfo).port}/install`;
  const refused = `http://127.0.0.1:${await freePort()}/install.sh`;
  const agents: AgentSpec[] = [
    { ...catalog("claude"), installer: { url: refused } },
    { ...catalog("opencode"), installer: { url: notFound } },
  ];
  bot = makeBot({ agents });
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  // One at a time: five npm installs at once would fight over two cores and one network.
  for (const key of Object.keys(PROMPT)) await spawnAndWatch(key);
  // Numbers for the closing note: install time, launch to prompt, and spawn command to prompt.
  const s = (ms?: number) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
  console.log(Object.entries(results).map(([k, r]) => `${k}: install ${s(r.installMs)}, launch to prompt ${s(r.launchToPromptMs)}, spawn to prompt ${s(r.readyMs)}`).join("\n"));
}, 15 * 60_000);
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
  await new Promise((r) => installers?.close(r));
});

describe("the host's npm configuration", () => {
  it("is only the global npmrc, which names the CA file the registry needs here", () => {
    expect(existsSync(path.join(sshd.home, ".npmrc"))).toBe(false);
    const globalconfig = asUser("npm config get globalconfig").stdout.trim();
    expect(readFileSync(globalconfig, "utf8"), `${globalconfig} must name the machine's CA file or registry`).toMatch(/^(cafile|registry)=/m);
    // What a --prefix install would have read instead: nothing, so it could not reach the registry.
    expect(asUser("npm --prefix ~/.npm-global config get cafile").stdout.trim()).toBe("null");
  });

  it("is kept by the non-root installs: they succeed under ~/.npm-global and leave no npmrc of their own", () => {
    for (const key of ["codex", "pi", "kilocode"]) expect(results[key]!.final.steps.find((s) => s.name === "install")?.detail).toMatch(new RegExp(`^${catalog(key).binary} installed in `));
    expect(existsSync(path.join(sshd.home, ".npm-global/etc/npmrc"))).toBe(false);
    expect(existsSync(path.join(sshd.home, ".npmrc"))).toBe(false);
  });
});

describe("Claude Code and OpenCode with their vendor installers unreachable", () => {
  it("are installed by the npm fallback", () => {
    for (const key of ["claude", "opencode"]) {
      const r = results[key]!;
      expect(r.final.result, JSON.stringify(r.final.steps)).toMatchObject({ outcome: "ready" });
      const v = asUser(`source ~/.spawnrc; command -v ${catalog(key).binary}`);
      expect(v.stdout).toContain(path.join(sshd.home, ".npm-global/bin"));
    }
    expect(served).toEqual(["/install"]); // OpenCode's installer was asked for once, and answered 404
  });
});

describe.each(Object.keys(PROMPT))("%s in tmux", (key) => {
  it("is ready, and its pane shows its own prompt, not a dialog", () => {
    const r = results[key]!;
    expect(r.final.result, JSON.stringify(r.final.steps)).toMatchObject({ outcome: "ready" });
    expect(r.screen ?? "", `the pane showed a dialog:\n${r.screen}`).not.toMatch(DIALOG);
    expect(r.at10s ?? "", `10 s after launch:\n${r.at10s}`).not.toMatch(DIALOG);
    expect(r.readyMs, `no prompt within ${READY_TIMEOUT_MS / 1000} s:\n${r.screen}`).toBeDefined();
  });
});

describe("Codex CLI", () => {
  it("is installed under the user's home and runs", () => {
    const v = asUser("source ~/.spawnrc; command -v codex && codex --version");
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(path.join(sshd.home, ".npm-global/bin/codex"));
    expect(v.stdout).toMatch(/codex-cli \d+\.\d+/);
  });

  it("has the model wired into its config.toml with OpenRouter as the provider, and its folder trusted", () => {
    const toml = readFileSync(path.join(sshd.home, ".codex/config.toml"), "utf8");
    expect(toml).toContain(`model = "${MODEL}"`);
    expect(toml).toContain('env_key = "OPENROUTER_API_KEY"');
    expect(toml).toContain(`[projects."${sshd.home}"]\ntrust_level = "trusted"`);
  });
});

describe("Claude Code", () => {
  it("has its working folder trusted in ~/.claude.json", () => {
    const state = JSON.parse(readFileSync(path.join(sshd.home, ".claude.json"), "utf8"));
    expect(state.projects[sshd.home]).toMatchObject({ hasTrustDialogAccepted: true });
    expect(execFileSync("stat", ["-c", "%a", path.join(sshd.home, ".claude.json")]).toString().trim()).toBe("600");
  });
});
