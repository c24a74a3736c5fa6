// Cursor never receives the OpenRouter key (Cursor's CLI sends CURSOR_API_KEY to Cursor's own
// servers): a Cursor spawn's ~/.spawnrc, config files and process environment hold no OpenRouter
// key, whether the workspace's or the user's own; it gets the user's own Cursor key from
// `settings` when they saved one, and runs without a key otherwise.
// The spawn runs the catalog's real Cursor entry (its env, own-key rule and config files) with
// the test agent's install and launch, since Cursor's installer downloads from outside npm.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CURSOR_KEY } from "../src/bot/commands/user-settings.js";
import { AGENTS, type AgentSpec } from "../src/orchestrator/index.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";
import { FAKE_KEY, TEST_AGENT } from "./support/test-agent.js";
import { until } from "./support/until.js";

const CURSOR = AGENTS.find((a) => a.key === "cursor")!;
const CURSOR_LIKE: AgentSpec = {
  ...CURSOR, key: "cursorlike", name: "Cursor (test install)", tier: "minimal",
  binary: TEST_AGENT.binary, install: TEST_AGENT.install, launch: "testagent --model {model}", promptCommand: TEST_AGENT.promptCommand,
};
const USERS_OWN_OPENROUTER_KEY = `sk-or-v1-${"0badc0de".repeat(8)}`;
const CURSOR_USER_KEY = `key_${"c0ffee42".repeat(8)}`;
const tag = Math.random().toString(36).slice(2, 8);
const sessions: string[] = [];

afterAll(() => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
});

/** Every file under a home (what an agent can read), as one string. */
function allFiles(dir: string): string {
  let out = "";
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out += allFiles(full);
    else if (entry.isFile() && statSync(full).size < 1_000_000) out += `\n${full}\n${readFileSync(full, "latin1")}`;
  }
  return out;
}

/** The environment of every process in the spawn's tmux pane. */
function paneEnvironments(session: string): string {
  const pane = spawnSync("tmux", ["list-panes", "-t", `=${session}`, "-F", "#{pane_pid}"], { encoding: "utf8" }).stdout.trim();
  const pids = [pane];
  for (let i = 0; i < pids.length; i++) {
    pids.push(...spawnSync("ps", ["-o", "pid=", "--ppid", pids[i]!], { encoding: "utf8" }).stdout.split("\n").map((s) => s.trim()).filter(Boolean));
  }
  return pids.map((p) => { try { return readFileSync(`/proc/${p}/environ`, "latin1"); } catch { return ""; } }).join("\n");
}

async function cursorSpawn(opts: { cursorKey?: string; home?: string }) {
  const home = opts.home ?? mkdtempSync(path.join(os.tmpdir(), "spawnbot-cursor-home-"));
  const bot = makeBot({ localHome: home, agents: [CURSOR_LIKE] }); // the workspace key is FAKE_KEY
  const conv = new RecordingConversation();
  // The user has their own OpenRouter key too: Cursor must get neither.
  expect(await bot.core.saveSettings(request(""), conv, { apiKey: USERS_OWN_OPENROUTER_KEY, ...(opts.cursorKey ? { cursorKey: opts.cursorKey } : {}) })).toEqual({});
  const session = `cur-${tag}-${sessions.length}`;
  sessions.push(session);
  await bot.core.handle(request(`spawn cursorlike local --name ${session}`), conv);
  await bot.core.idle();
  expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
  await new Promise((r) => setTimeout(r, 300)); // the agent under the pane's shell
  return { home, conv, session, files: allFiles(home), env: paneEnvironments(session) };
}

describe("Cursor and the OpenRouter key", () => {
  it("gives a Cursor spawn no OpenRouter key at all, and says it runs without a Cursor key when none is saved", async () => {
    const s = await cursorSpawn({});
    for (const key of [FAKE_KEY, USERS_OWN_OPENROUTER_KEY]) {
      expect(s.files).not.toContain(key);
      expect(s.env).not.toContain(key);
    }
    expect(s.files).not.toMatch(/OPENROUTER_API_KEY=/); // its session script only unsets it
    expect(s.files).not.toContain("CURSOR_API_KEY");
    expect(readFileSync(path.join(s.home, ".spawnrc"), "utf8")).toContain("export SPAWN_MODEL=");
    expect(readFileSync(path.join(s.home, ".cursor/cli-config.json"), "utf8")).toContain('"permissions"');
    expect(JSON.stringify(s.conv.private)).toContain("never gets the OpenRouter key and you have no Cursor API key saved");
  }, 60_000);

  it("gives a Cursor spawn the user's own Cursor key from settings, and still no OpenRouter key", async () => {
    const s = await cursorSpawn({ cursorKey: CURSOR_USER_KEY });
    expect(readFileSync(path.join(s.home, ".spawnrc"), "utf8")).toContain(`export CURSOR_API_KEY='${CURSOR_USER_KEY}'`);
    expect(s.env).toContain(`CURSOR_API_KEY=${CURSOR_USER_KEY}`);
    for (const key of [FAKE_KEY, USERS_OWN_OPENROUTER_KEY]) {
      expect(s.files).not.toContain(key);
      expect(s.env).not.toContain(key);
    }
    expect(JSON.stringify(s.conv.private)).not.toContain("no Cursor API key saved");
    expect(JSON.stringify(s.conv.private)).not.toContain(CURSOR_USER_KEY); // only its last four are ever shown
  }, 60_000);

  it("keeps the key out of a Cursor session started again after another spawn on the same login wrote it to ~/.spawnrc", async () => {
    const s = await cursorSpawn({});
    // Another agent on the same login: its spawn rewrites the login's one ~/.spawnrc, key included.
    const bot = makeBot({ localHome: s.home });
    const conv = new RecordingConversation();
    const other = `cur-${tag}-${sessions.length}`;
    sessions.push(other);
    await bot.core.handle(request(`spawn testagent local --name ${other}`), conv);
    await bot.core.idle();
    expect(readFileSync(path.join(s.home, ".spawnrc"), "utf8")).toContain(FAKE_KEY);
    // Cursor's session started again from its own script, as a restart or the host's boot would.
    const again = `cur-${tag}-${sessions.length}`;
    sessions.push(again);
    const script = path.join(s.home, ".spawnbot", s.session, "launch.sh");
    expect(spawnSync("tmux", ["new-session", "-d", "-s", again, "-e", `HOME=${s.home}`, `bash ${script}`]).status).toBe(0);
    // The agent did start under the pane's shell, with what the rewritten ~/.spawnrc exports.
    const env = await until("the agent under the restarted session", () => { const e = paneEnvironments(again); return e.includes("TEST_AGENT_MODEL=") && e; }, 10_000);
    for (const name of ["OPENROUTER_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY"]) expect(env).not.toContain(`${name}=`);
    expect(env).not.toContain(FAKE_KEY);
  }, 60_000);

  it("refuses an OpenRouter key pasted as the Cursor key, and saves nothing", async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const errors = await bot.core.saveSettings(request(""), conv, { cursorKey: USERS_OWN_OPENROUTER_KEY });
    expect(errors.cursorKey).toContain("that is an OpenRouter key, which Cursor must never get");
    expect(await bot.store.chat.getUserSecret({ platform: "test", userId: "U1" }, CURSOR_KEY)).toBeUndefined();
    expect((await bot.core.saveSettings(request(""), conv, { cursorKey: "short" })).cursorKey).toContain("does not look like a Cursor API key");
  });

  it("keeps the key out of the catalog: Cursor names no OpenRouter key, and `agents` says it needs the user's own Cursor key", async () => {
    expect(CURSOR.ownKey).toEqual({ env: "CURSOR_API_KEY", secret: CURSOR_KEY, label: "Cursor API key" });
    expect(JSON.stringify([CURSOR.env, CURSOR.configFiles, CURSOR.launch, CURSOR.promptCommand])).not.toMatch(/apiKey|OPENROUTER_API_KEY/);
    const bot = makeBot();
    const conv = new RecordingConversation();
    await bot.core.handle(request("agents"), conv);
    const shown = JSON.stringify([conv.public, conv.private]);
    expect(shown).toMatch(/cursor .*needs your own Cursor API key \(saved in `settings`\), never gets the OpenRouter key/);
  });
});
