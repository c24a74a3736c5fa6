// A whole run of the pipeline against a real OpenSSH server and real tmux: env file, model
// wiring, the session and its restart loop, the connect command with the real ssh client.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Orchestrator, SshCloud, loadOrCreateBotKey, type RunJournal, type RunResult } from "../src/orchestrator/index.js";
import { loadSecretBox } from "../src/bot/access/secret-box.js";
import { LOOPBACK_ALLOWED } from "./support/bot.js";
import { captureLogger } from "./support/capture.js";
import { FAKE_KEY, TEST_AGENT } from "./support/test-agent.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-pipeline";
let sshd: TestSshd;
const journal = { steps: [] as { name: string; state: string; detail?: string | null }[], spawn: {} as Record<string, unknown> };
const memoryJournal: RunJournal = {
  markStep: async (_id, _seq, name, state, detail) => journal.steps.push({ name, state, detail }),
  updateSpawn: async (_id, patch) => Object.assign(journal.spawn, patch),
};
const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-data-"));
const botKey = loadOrCreateBotKey(dataDir);
const orchestrator = new Orchestrator({
  journal: memoryJournal, botKey, logger: captureLogger(), sealer: loadSecretBox(dataDir),
  clouds: [new SshCloud(LOOPBACK_ALLOWED())], agents: [TEST_AGENT], // the test sshd is on loopback
});

function plan(over: Partial<Parameters<Orchestrator["start"]>[0]> = {}) {
  return {
    spawnId: crypto.randomUUID(), name: "t1", session: "t1", agent: TEST_AGENT, cloud: orchestrator.cloud("ssh")!,
    model: "openai/gpt-5.3-codex", steps: [], apiKey: FAKE_KEY, ownerKeys: [] as string[], tags: {},
    host: { user: USER, host: "127.0.0.1", port: sshd.port }, ...over,
  };
}

function asUser(cmd: string): string {
  return execFileSync("su", ["-", USER, "-c", cmd]).toString();
}

let result: RunResult;
let person: { privateKeyPath: string; publicKey: string };

beforeAll(async () => {
  sshd = await startSshd(USER);
  sshd.authorize(botKey.publicKey);
  person = sshd.clientKey("alice");
  result = await orchestrator.start(plan({ ownerKeys: [person.publicKey] })).done;
});
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("a spawn on a real SSH host", () => {
  it("ends ready with every fatal step succeeded", () => {
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe("ready");
    expect(journal.spawn.status).toBe("ready");
    expect(journal.steps.filter((s) => s.state === "failed")).toEqual([]);
  });

  it("writes ~/.spawnrc with mode 600 holding the key and the model", () => {
    const file = path.join(sshd.home, ".spawnrc");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).toContain(`export OPENROUTER_API_KEY='${FAKE_KEY}'`);
    expect(text).toContain("export TEST_AGENT_MODEL='openai/gpt-5.3-codex'");
    expect(readFileSync(path.join(sshd.home, ".bashrc"), "utf8")).toContain(". \"$HOME/.spawnrc\"");
  });

  it("wires the model into the agent's config file and its command line", async () => {
    const log = path.join(sshd.home, "testagent.log");
    for (let i = 0; i < 20 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(path.join(sshd.home, ".testagent/config.json"), "utf8")).toContain('"model": "openai/gpt-5.3-codex"');
    expect(readFileSync(path.join(sshd.home, "testagent.log"), "utf8")).toMatch(/model=openai\/gpt-5\.3-codex args=--model openai\/gpt-5\.3-codex/);
  });

  it("leaves the agent running in a detached tmux session named after the spawn", () => {
    expect(spawnSync("su", ["-", USER, "-c", "tmux has-session -t =t1"]).status).toBe(0);
  });

  it("restarts the agent when it is killed", async () => {
    const agentPids = () => spawnSync("pgrep", ["-u", USER, "-f", "[.]local/bin/testagent --model"]).stdout.toString().trim().split("\n").filter(Boolean);
    const before = agentPids();
    expect(before).toHaveLength(1);
    execFileSync("kill", [before[0]!]);
    let after: string[] = [];
    const started = Date.now();
    for (let i = 0; i < 40 && after.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = agentPids();
    }
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    // spawn's restart policy waits 5 s before the next try.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    expect(asUser("tmux capture-pane -p -t t1")).toContain("Restarting in 5s (1/10)");
  });

  it("gives a connect command that works with the real ssh client and the pinned host key", () => {
    const info = result.connect!;
    expect(info.attachCommand).toBe(`ssh -t ${USER}@127.0.0.1 -p ${sshd.port} tmux attach -t 't1'`);
    const knownHosts = path.join(sshd.dir, "known_hosts_alice");
    writeFileSync(knownHosts, `${info.knownHostsLine}\n`);
    // Run the command as given, with the person's key and only the known_hosts line we handed out.
    // A person runs it in a terminal; here stdin is not one, so -t becomes -tt (force a tty).
    const args = info.attachCommand.replace(/^ssh -t /, "").split(" ").map((a) => a.replace(/^'|'$/g, ""));
    const r = spawnSync("timeout", ["5", "ssh", "-tt", "-i", person.privateKeyPath, "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", ...args], { env: { ...process.env, TERM: "xterm-256color" }, stdio: ["ignore", "pipe", "pipe"] });
    // timeout's 124 means the attach held the terminal: the session is there and we are in it.
    expect(r.status, r.stderr.toString()).toBe(124);
    expect(spawnSync("su", ["-", USER, "-c", "tmux has-session -t =t1"]).status).toBe(0);
  });

  it("runs a --prompt once and reports the tail of its output", async () => {
    const r = await orchestrator.start(plan({ name: "p1", session: "p1", prompt: "fix the tests; $(rm -rf ~)" })).done;
    expect(r.outcome).toBe("ready");
    expect(r.prompt?.exitCode).toBe(0);
    expect(r.prompt?.tail).toContain("prompt was: fix the tests; $(rm -rf ~)");
    expect(r.prompt?.tail).toContain("model is openai/gpt-5.3-codex");
  });

  it("keeps a --prompt's output 0600 in a 0700 folder, also where ~/.spawnbot was left open", async () => {
    asUser("mkdir -p ~/.spawnbot && chmod 755 ~/.spawnbot");
    const r = await orchestrator.start(plan({ name: "p2", session: "p2", prompt: "print the secrets" })).done;
    expect(r.outcome).toBe("ready");
    expect(r.prompt?.exitCode).toBe(0);
    const mode = (rel: string) => (statSync(path.join(sshd.home, rel)).mode & 0o777).toString(8);
    expect({ spawnbot: mode(".spawnbot"), session: mode(".spawnbot/p2") }).toEqual({ spawnbot: "700", session: "700" });
    for (const file of ["output.log", "exit-code", "prompt.txt"]) expect([file, mode(`.spawnbot/p2/${file}`)]).toEqual([file, "600"]);
    expect(readFileSync(path.join(sshd.home, ".spawnbot/p2/output.log"), "utf8")).toContain("prompt was: print the secrets");
  });

  it("refuses a second spawn whose session name is taken on the host", async () => {
    const r = await orchestrator.start(plan()).done;
    expect(r.outcome).toBe("failed");
    expect(r.error).toMatch(/tmux session named t1 already runs/);
    // The failed run cleans up only what it made: the first spawn's session lives on.
    expect(spawnSync("su", ["-", USER, "-c", "tmux has-session -t =t1"]).status).toBe(0);
  });
});

describe("a step that fails on the way", () => {
  it("retries an install whose command timed out, and the spawn becomes ready", async () => {
    // The first try hangs past the install's command timeout; the second goes through.
    const flaky = {
      ...TEST_AGENT, key: "flakyagent", binary: "flakyagent", installTimeoutMs: 1500,
      install: `if [ -f "$HOME/.flaky-tried" ]; then ${TEST_AGENT.install.replaceAll("testagent", "flakyagent")}; else touch "$HOME/.flaky-tried"; sleep 30; fi`,
      launch: "flakyagent --model {model}",
    };
    journal.steps.length = 0;
    const r = await orchestrator.start(plan({ name: "flaky", session: "flaky", agent: flaky })).done;
    expect(r.error).toBeUndefined();
    expect(r.outcome).toBe("ready");
    expect(asUser("test -f ~/.flaky-tried && echo tried").trim()).toBe("tried");
  }, 60_000);
});

describe("a run resumed after a restart", () => {
  it("keeps the dashboard token it had made: the config file on the host and the connect URL agree", async () => {
    const token = "feedc0de".repeat(4);
    const dashed = {
      ...TEST_AGENT, key: "dashtoken", dashboard: { port: 18789, path: "/?token={token}" },
      configFiles: [{ path: ".testagent/dash.json", mode: 0o600, content: '{ "token": "{token}" }\n' }],
    };
    const r = await orchestrator.start(plan({
      name: "resumed-dash", session: "resumed-dash", agent: dashed,
      resume: { ended: [], interrupted: [], sessionMayExist: false, dashboardToken: token },
    })).done;
    expect(r.outcome, r.error).toBe("ready");
    expect(r.connect?.dashboard?.localUrl).toBe(`http://localhost:18789/?token=${token}`);
    expect(asUser("cat ~/.testagent/dash.json")).toContain(token);
  }, 60_000);
});
