// The console on a real terminal: the bot runs in a tmux pane 80 columns wide, a person types
// into it with send-keys while runs report their steps, and the pane (capture-pane) is what they
// see. Long spawn names make the status titles wrap. Spawns go to the local cloud in a home of
// their own; their agent sessions land on this test's own tmux server, removed at the end.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleEntry } from "./support/bundle.js";
import { requireTool } from "./support/sshd.js";
import { until } from "./support/until.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const SOCKET = `spawnbot-console-tty-${process.pid}`; // a tmux server of the test's own
const COLUMNS = 80;
const ROWS = 24;
const SLOW_INSTALL_S = 6; // long enough to type while the runs report their steps, on a busy machine too
const PROMPT = "spawnbot> ";
const RUN_TIMEOUT_MS = 40_000;

let entry: string;
let work: string;

function tmux(...args: string[]): string {
  const r = spawnSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** Where each bot's agents run their tmux sessions: a tmux server per bot, stopped at the end. */
const agentTmuxDirs: string[] = [];

/** The bot's environment: its own data dir, local home and agents' tmux server per pane. */
function botEnv(pane: string): Record<string, string> {
  const dir = path.join(work, pane);
  for (const sub of ["data", "home", "tmux"]) mkdirSync(path.join(dir, sub), { recursive: true });
  agentTmuxDirs.push(path.join(dir, "tmux"));
  return { TTY_DATA_DIR: path.join(dir, "data"), TTY_LOCAL_HOME: path.join(dir, "home"), TMUX_TMPDIR: path.join(dir, "tmux"), TTY_SLOW_S: String(SLOW_INSTALL_S) };
}

/** Start the console bot in a new pane; when it exits the pane says with which code and stays. */
async function openConsole(pane: string, rows = ROWS): Promise<void> {
  const env = Object.entries(botEnv(pane)).map(([k, v]) => `${k}=${v}`).join(" ");
  const log = path.join(work, pane, "stderr.log");
  const command = `cd ${ROOT} && env -u TMUX ${env} ${process.execPath} ${entry} 2>${log}; echo "[console exited with $?]"; sleep 600`;
  tmux("new-session", "-d", "-s", pane, "-x", String(COLUMNS), "-y", String(rows), command);
  await until(`the prompt in ${pane}`, () => screen(pane).includes(PROMPT.trimEnd()), 15_000).catch((err: Error) => {
    throw new Error(`${err.message}; the pane shows:\n${screen(pane)}`);
  });
}

const typeText = (pane: string, text: string) => tmux("send-keys", "-t", pane, "-l", text);
const press = (pane: string, key: string) => tmux("send-keys", "-t", pane, key);
async function command(pane: string, text: string): Promise<void> {
  typeText(pane, text);
  await until(`"${text}" echoed`, () => history(pane).join("\n").includes(text));
  press(pane, "Enter");
}

/** The pane as the person sees it now (visible rows only). */
const screen = (pane: string) => tmux("capture-pane", "-p", "-t", pane);
/** The visible rows with wrapped rows joined back into the lines the bot wrote. */
const visibleLines = (pane: string) => tmux("capture-pane", "-p", "-J", "-t", pane).split("\n").map((l) => l.trimEnd());
/** Everything the pane ever showed, wrapped rows joined back into the lines the bot wrote. */
const history = (pane: string) => tmux("capture-pane", "-p", "-J", "-S", "-", "-t", pane).split("\n").map((l) => l.trimEnd());
const lastLine = (pane: string) => screen(pane).trimEnd().split("\n").at(-1);
const count = (lines: string[], re: RegExp) => lines.filter((l) => re.test(l)).length;

beforeAll(async () => {
  requireTool("/usr/bin/tmux", "tmux");
  entry = await bundleEntry("test/support/console-tty-bot.ts", "console-tty-bot");
  work = mkdtempSync(path.join(os.tmpdir(), "spawnbot-console-tty-"));
}, 60_000);

afterAll(() => {
  spawnSync("tmux", ["-L", SOCKET, "kill-server"]); // the panes
  for (const dir of agentTmuxDirs) spawnSync("tmux", ["kill-server"], { env: { ...process.env, TMUX: "", TMUX_TMPDIR: dir } });
  // tmux leaves its socket file behind when its server is killed.
  rmSync(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the console on an 80-column terminal", () => {
  it("redraws runs in flight in place, with no stale status lines, and keeps the typed text intact", async () => {
    const pane = "calm";
    await openConsole(pane);
    const names = ["a-rather-long-spawn-name-so-the-status-title-wraps-one", "a-rather-long-spawn-name-so-the-status-title-wraps-two"];
    for (const name of names) await command(pane, `spawn slowagent local --name ${name}`);
    // Half a command typed while both runs are still installing: the first in full, the second in
    // one row (two blocks of eleven rows and the prompt do not fit in 24).
    await until("both runs installing", () => {
      const now = visibleLines(pane);
      return count(now, /^ {2}… Install the agent\b/) === 1 && count(now, new RegExp(`^\\[${names[1]} · provisioning\\] … Install the agent`)) === 1;
    });
    typeText(pane, "list --mi");
    await until("the typed text", () => lastLine(pane) === `${PROMPT}list --mi`);

    // The runs end and their connect details arrive while the person is still typing.
    await until("both connect details", () => count(history(pane), /^Connect to /) === 2 && true, RUN_TIMEOUT_MS);
    expect(lastLine(pane)).toBe(`${PROMPT}list --mi`);

    const lines = history(pane);
    for (const name of names) {
      expect(count(lines, new RegExp(`\\[${name} · `)), `${name}'s status title`).toBe(1); // once, in its final state
      expect(count(lines, new RegExp(`\\[${name} · ready\\]`))).toBe(1);
      expect(count(lines, new RegExp(`^Connect to ${name} `))).toBe(1);
      expect(count(lines, new RegExp(`^${PROMPT}spawn slowagent local --name ${name}$`)), "the command as typed").toBe(1);
    }
    expect(count(lines, /✓ Install the agent/)).toBe(2);
    expect(lines.filter((l) => /is spawning|· provisioning\]|^ {2}[…·] /.test(l)), "lines of the runs while in flight").toEqual([]);
    // The typed text is still there and still editable: finishing it runs the command.
    typeText(pane, "ne");
    press(pane, "Enter");
    await until("the list", () => count(history(pane), /^Your spawns/) === 1 && true);
    const list = history(pane);
    expect(list).toContain(`${PROMPT}list --mine`);
  }, 90_000);

  it("folds runs in flight to one line each on a short terminal, and leaves none behind", async () => {
    const pane = "folded";
    await openConsole(pane, 12);
    const names = ["fold-one", "fold-two", "fold-three"].map((n) => `${n}-with-a-long-name-that-wraps-the-title-line`);
    for (const name of names) await command(pane, `spawn slowagent local --name ${name}`);
    // Not one block of eleven rows fits above the prompt in 12: each run is one row while in flight.
    await until("three folded runs", () => count(visibleLines(pane), /^\[fold-.* · provisioning\] … Install the agent\b/) === 3 && true);
    expect(count(visibleLines(pane), /is spawning/)).toBe(0);
    await until("three ready runs", () => count(history(pane), /^Connect to fold-/) === 3 && true, RUN_TIMEOUT_MS);
    const lines = history(pane);
    expect(lines.filter((l) => /is spawning|· provisioning\]/.test(l)), lines.join("\n")).toEqual([]);
    for (const name of names) expect(count(lines, new RegExp(`\\[${name} · ready\\]`))).toBe(1);
    expect(lastLine(pane)).toBe(PROMPT.trimEnd());
  }, 90_000);
});

describe("the console's exit code, interactive and piped alike", () => {
  /** Run these commands in a pane, end the input with Ctrl-D, and read the exit code it printed. */
  async function interactiveExit(pane: string, commands: string[]): Promise<number> {
    await openConsole(pane);
    for (const c of commands) await command(pane, c);
    await until(`${pane}'s run ended`, () => /\b(is ready|failed)\b/.test(history(pane).join("\n")) && true, RUN_TIMEOUT_MS);
    press(pane, "C-d");
    const said = await until(`${pane} exits`, () => /\[console exited with (\d+)\]/.exec(screen(pane)) ?? undefined, RUN_TIMEOUT_MS);
    return Number(said[1]);
  }

  /** The same commands on piped input. */
  function pipedExit(pane: string, commands: string[]): number {
    const r = spawnSync(process.execPath, [entry], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...botEnv(pane) },
      input: commands.map((c) => `${c}\n`).join(""), encoding: "utf8", timeout: RUN_TIMEOUT_MS,
    });
    if (r.status === null) throw new Error(`the piped console did not exit: ${r.stderr.slice(-1000)}`);
    return r.status;
  }

  it("is 1 after a run failed, even when the session went on afterwards", async () => {
    const commands = ["spawn failagent local --name fails", "agents"];
    expect(await interactiveExit("fails-tty", commands)).toBe(1);
    expect(pipedExit("fails-pipe", commands)).toBe(1);
    expect(readFileSync(path.join(work, "fails-tty", "stderr.log"), "utf8")).not.toContain("crashed");
  }, 90_000);

  it("is 0 when every run ended ready", async () => {
    const commands = ["spawn testagent local --name works"];
    expect(await interactiveExit("works-tty", commands)).toBe(0);
    expect(pipedExit("works-pipe", commands)).toBe(0);
  }, 90_000);
});
