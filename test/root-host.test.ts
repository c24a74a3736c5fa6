// The same spawn as root: root's home, root's npm prefix rules. Root's rc files are put back
// afterwards, and what the spawn added to /root is removed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request, type TestBot, authorizeUsers } from "./support/bot.js";
import { startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";

const SESSION = `root-${Math.random().toString(36).slice(2, 8)}`;
const RC_FILES = ["/root/.bashrc", "/root/.profile", "/root/.bash_profile", "/root/.zshrc"];
const ADDED = ["/root/.spawnrc", "/root/.local/bin/testagent", "/root/.testagent", "/root/testagent.log", "/root/.spawnbot"];
const saved = new Map<string, string | undefined>();
const preexisting = new Set(ADDED.filter((p) => existsSync(p)));
let sshd: TestSshd;
let bot: TestBot;
const conv = new RecordingConversation();

beforeAll(async () => {
  for (const f of [...RC_FILES, "/root/.spawnrc"]) saved.set(f, existsSync(f) ? readFileSync(f, "utf8") : undefined);
  sshd = await startSshd("sbt-rootcheck");
  bot = makeBot();
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  await bot.core.handle(request(`spawn testagent ssh --host root@127.0.0.1:${sshd.port} --name ${SESSION}`), conv);
  await bot.core.idle();
}, 120_000);

afterAll(async () => {
  spawnSync("tmux", ["kill-session", "-t", `=${SESSION}`]);
  rmSync(`/root/.spawnbot/${SESSION}`, { recursive: true, force: true });
  for (const [f, text] of saved) {
    if (text === undefined) rmSync(f, { force: true });
    else writeFileSync(f, text);
  }
  for (const p of ADDED) if (!preexisting.has(p) && p !== "/root/.spawnrc") rmSync(p, { recursive: true, force: true });
  await sshd?.stop();
});

describe("a spawn as root", () => {
  it("ends ready with the agent in its tmux session", () => {
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
    expect(spawnSync("tmux", ["has-session", "-t", `=${SESSION}`]).status).toBe(0);
  });

  it("writes root's ~/.spawnrc with mode 600", () => {
    expect(statSync("/root/.spawnrc").mode & 0o777).toBe(0o600);
    expect(readFileSync("/root/.spawnrc", "utf8")).toContain(FAKE_KEY);
  });
});
