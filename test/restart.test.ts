// `restart` and the boot hook on a real sshd with real tmux: an agent whose session and dashboard
// were killed comes back with `restart`; after a simulated reboot (every process of the test user
// killed, then the crontab @reboot line the bot installed run as cron runs it) the agent and its
// dashboard come back by themselves; `status` shows both; delete takes the boot hook away.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request, authorizeUsers, type TestBot } from "./support/bot.js";
import { freePort } from "./support/free-port.js";
import { killUserProcesses, requireTool, startSshd, type TestSshd } from "./support/sshd.js";
import { TEST_AGENT } from "./support/test-agent.js";

const USER = "sbt-restart";
const ALICE = { id: "U1", name: "alice" };
const BOB = { id: "U2", name: "bob" };
const CAROL = { id: "U3", name: "carol" };
let sshd: TestSshd;
let bot: TestBot;
let home: string;
let port: number;

const asUser = (script: string) => execFileSync("runuser", ["-u", USER, "--", "bash", "-c", script], { encoding: "utf8" });
const sessionAlive = (name: string) => {
  try {
    asUser(`tmux has-session -t =${name} 2>/dev/null`);
    return true;
  } catch {
    return false;
  }
};
const dashboardAnswers = async () => {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/`)).text()) === "dashboard";
  } catch {
    return false;
  }
};
/** Poll a check (sync or async) until it holds, bounded in time. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const agentStarts = () => readFileSync(path.join(home, "testagent.log"), "utf8").split("\n").filter((l) => l.startsWith("testagent started")).length;

async function say(text: string, user = ALICE): Promise<string> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(text, user), conv);
  const v = conv.lastPrivate();
  if (v?.kind === "status") return (v.facts ?? []).join("\n");
  return v?.kind === "text" ? v.lines.join("\n") : JSON.stringify(v);
}

beforeAll(async () => {
  requireTool("/usr/bin/crontab", "cron");
  sshd = await startSshd(USER);
  home = sshd.home;
  port = await freePort();
  // A dashboard the agent's pre-launch starts: a small web server on the host's loopback.
  const dashAgent = {
    ...TEST_AGENT, key: "dashagent", name: "Dashboard Agent", dashboard: { port, path: "/" },
    preLaunch: `exec node -e "require('http').createServer((q, s) => s.end('dashboard')).listen(${port}, '127.0.0.1')"`,
  };
  bot = makeBot({ agents: [dashAgent] });
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  const conv = new RecordingConversation();
  await bot.core.handle(request(`spawn dashagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name revive`, ALICE), conv);
  await bot.core.idle();
  const rec = await bot.store.findSpawn("revive", { owner: { platform: "test", userId: "U1" }, platform: "test", workspace: "W1" });
  expect(rec?.status, rec?.error ?? "").toBe("ready");
}, 120_000);
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("restart", () => {
  it("shows the agent session and the dashboard as healthy in status", async () => {
    const facts = await say("status revive");
    expect(facts).toContain("agent session revive is running");
    expect(facts).toContain(`dashboard on port ${port} is answering`);
  });

  it("leaves a healthy spawn as it is and says so", async () => {
    const starts = agentStarts();
    const answer = await say("restart revive");
    expect(answer).toContain("the dashboard was answering; left as it was");
    expect(answer).toContain("the agent session revive was running; left as it was");
    expect(agentStarts()).toBe(starts);
  });

  it("brings back a killed session and dashboard, and status shows them gone, then back", async () => {
    const starts = agentStarts();
    asUser(`tmux kill-session -t =revive; kill -- -"$(cat ~/.spawnbot/revive/pre-launch.pid)"`);
    await until("the dashboard is down", async () => !(await dashboardAnswers()));
    expect(sessionAlive("revive")).toBe(false);
    const facts = await say("status revive");
    expect(facts).toContain("agent session revive is not running; `restart revive` brings it back");
    expect(facts).toContain(`dashboard on port ${port} is not answering`);

    const answer = await say("restart revive");
    expect(answer).toContain("the dashboard was not answering; started it again, and it answers now");
    expect(answer).toContain("the agent session revive was not running; started it again");
    expect(sessionAlive("revive")).toBe(true);
    expect(await dashboardAnswers()).toBe(true);
    await until("the agent runs again", () => agentStarts() === starts + 1);
    expect(await say("status revive")).toContain(`dashboard on port ${port} is answering`);
  }, 90_000);

  it("is for the owner, admins and those it is shared with, not the rest of the channel", async () => {
    expect(await say("restart revive", BOB)).toContain("only alice, an admin or someone it is shared with can restart revive");
    await say("share revive @U3");
    expect(await say("restart revive", CAROL)).toContain("the agent session revive was running; left as it was");
  });
});

describe("after the host reboots", () => {
  it("installed a crontab @reboot line that brings the agent and its dashboard back", async () => {
    const crontab = asUser("crontab -l");
    const line = crontab.split("\n").find((l) => l.startsWith("@reboot ") && l.includes("# spawnbot:"));
    expect(line).toBeDefined();
    const starts = agentStarts();

    killUserProcesses(USER); // the reboot: nothing of the user survives
    await until("everything is down", async () => !sessionAlive("revive") && !(await dashboardAnswers()));

    // As cron runs an @reboot entry: /bin/sh -c with the user's HOME, LOGNAME and SHELL and a bare PATH.
    const command = line!.slice("@reboot ".length);
    execFileSync("runuser", ["-u", USER, "--", "env", "-i", `HOME=${home}`, `LOGNAME=${USER}`, "SHELL=/bin/sh", "PATH=/usr/bin:/bin", "/bin/sh", "-c", command], { stdio: "ignore" });
    await until("the session is back", () => sessionAlive("revive"), 30_000);
    await until("the dashboard answers", dashboardAnswers, 30_000);
    await until("the agent runs again", () => agentStarts() === starts + 1);
    const facts = await say("status revive");
    expect(facts).toContain("agent session revive is running");
    expect(facts).toContain(`dashboard on port ${port} is answering`);
  }, 90_000);

  it("removes only the spawn's own crontab line when the spawn is deleted", async () => {
    asUser(`(crontab -l; echo '0 3 * * * echo the-users-own-job') | crontab -`);
    const conv = new RecordingConversation();
    await bot.core.handle(request("delete revive"), conv);
    await bot.core.idle();
    const crontab = asUser("crontab -l 2>/dev/null || true");
    expect(crontab).not.toContain("spawnbot");
    expect(crontab).toContain("0 3 * * * echo the-users-own-job");
    expect(sessionAlive("revive")).toBe(false);
    expect(await dashboardAnswers()).toBe(false);
  }, 60_000);
});
