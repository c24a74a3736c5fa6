// The console adapter driven through its input stream, end to end on a real sshd and tmux:
// what the person sees, what the store keeps, and what never shows (the API key).
import { spawnSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleAdapter } from "../src/adapters/console/index.js";
import { makeBot, type TestBot, authorizeUsers } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";

const USER = "sbt-console";
const alice = { id: "U1", name: "alice" };
let sshd: TestSshd;
let bot: TestBot;

/** Type lines at the console (not a TTY), end the input, and collect what it printed. */
async function type(lines: string[], user = alice, opts: { core?: TestBot["core"]; interactive?: boolean } = {}): Promise<{ code: number; out: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = "";
  output.on("data", (d: Buffer) => (out += d.toString()));
  const adapter = new ConsoleAdapter({ core: opts.core ?? bot.core, input, output, interactive: opts.interactive ?? false, user });
  const done = adapter.run();
  input.end(lines.map((l) => `${l}\n`).join(""));
  const code = await done;
  return { code, out };
}

const sessionAlive = (name: string) => spawnSync("su", ["-", USER, "-c", `tmux has-session -t =${name}`]).status === 0;

let first: { code: number; out: string };
let host: string;

beforeAll(async () => {
  sshd = await startSshd(USER);
  bot = makeBot();
  await authorizeUsers(sshd, bot.core, "console", [alice.id]);
  host = `${USER}@127.0.0.1:${sshd.port}`;
  first = await type([
    `keys add ${sshd.clientKey("alice").publicKey}`,
    `/spawn testagent ssh --host ${host} --name demo -m openai/gpt-5.3-codex`,
    `spawn testagent ssh --host ${host} --name asks --prompt "say the key"`,
  ]);
});
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("the console adapter at the end of piped input", () => {
  it("waits for the runs in flight, prints each step and exits 0 when all are ready", () => {
    expect(first.code).toBe(0);
    expect(first.out).toContain("[demo] ✓ Launch in tmux");
    expect(first.out).toMatch(/\[demo\] ready: demo is ready/);
    expect(first.out).toMatch(/\[asks\] ready: asks is ready/);
  });

  it("prints the connect command and the known_hosts line", () => {
    expect(first.out).toContain(`ssh -t ${USER}@127.0.0.1 -p ${sshd.port} tmux attach -t 'demo'`);
    expect(first.out).toContain(`[127.0.0.1]:${sshd.port} ${sshd.hostKey}`);
  });

  it("reports a prompt run's output with the API key redacted", () => {
    expect(first.out).toContain("prompt was: say the key");
    expect(first.out).toContain("key tail [redacted]");
    expect(first.out).not.toContain(FAKE_KEY);
  });

  it("records the spawn in SQLite with its pinned host key and every step", async () => {
    const rec = (await bot.store.findSpawn("demo", { platform: "console", owner: { platform: "console", userId: "U1" } }))!;
    expect(rec).toMatchObject({ status: "ready", agent: "testagent", cloud: "ssh", model: "openai/gpt-5.3-codex", hostKey: sshd.hostKey, sshPort: sshd.port });
    const steps = await bot.store.listSteps(rec.id);
    expect(steps.find((s) => s.name === "launch")).toMatchObject({ state: "succeeded" });
    expect(steps.find((s) => s.name === "keys")).toMatchObject({ state: "succeeded", detail: "1 key added" });
    expect((await bot.store.listAudit()).map((a) => a.action)).toEqual(expect.arrayContaining(["spawn", "keys-add"]));
  });

  it("shows the team's spawns newest first and the model in effect with the session's state", async () => {
    const { out } = await type(["list", "status demo"]);
    expect(out.indexOf("asks")).toBeLessThan(out.indexOf("demo"));
    expect(out).toContain("model in effect: openai/gpt-5.3-codex (TEST_AGENT_MODEL in ~/.spawnrc");
    expect(out).toContain("agent session demo is running");
  });

  it("keeps connect details from anyone but the owner", async () => {
    const { out } = await type(["connect demo"], { id: "U2", name: "bob" });
    expect(out).toContain("only alice, an admin or someone it is shared with can see the connect details of demo");
    expect(out).not.toContain("tmux attach");
  });

  it("deletes a spawn: its tmux session stops and it is marked deleted", async () => {
    expect(sessionAlive("asks")).toBe(true);
    const { out } = await type(["delete asks"]);
    expect(out).toContain("asks was deleted by alice");
    expect(sessionAlive("asks")).toBe(false);
    expect((await bot.store.findSpawn("asks", { platform: "console" }))?.status).toBe("deleted");
  });

  it("refuses a host whose key changed, and keeps the spawn rather than pretending it was deleted", async () => {
    await sshd.rotateHostKey();
    const { out } = await type(["status demo", "delete demo"]);
    expect(out).toMatch(/cannot check the host: the host's key changed/);
    expect(out).toMatch(/could not delete demo: the host's key changed.*it is kept, try again/);
    expect((await bot.store.findSpawn("demo", { platform: "console" }))?.status).toBe("ready");
  });

  it("tells the user their own spawnbot key and the line to authorize it when the host refuses it", async () => {
    const stranger = makeBot();
    const { code, out } = await type([`spawn testagent ssh --host ${host} --name refused`], alice, { core: stranger.core });
    expect(code).toBe(1);
    const line = await stranger.core.userHostKeyLine({ platform: "console", userId: alice.id });
    expect(out).toContain(`does not accept your spawnbot key. Authorize it on that host with: echo '${line}' >> ~/.ssh/authorized_keys`);
  });

  it("redraws a run's status in place on a terminal", async () => {
    const { out } = await type([`spawn testagent ssh --host ${USER}@127.0.0.1:1 --name tty-run`], alice, { interactive: true });
    // Cursor-up + clear-to-end: the block is rewritten, not appended.
    expect(out).toMatch(/\x1b\[\d+A\r\x1b\[0J/);
    expect(out.split("tty-run · failed").length).toBeGreaterThan(1);
  });

  it("exits non-zero when a run fails, after printing why", async () => {
    const { code, out } = await type([`spawn testagent ssh --host ${USER}@127.0.0.1:1 --name nohost`]);
    expect(code).toBe(1);
    expect(out).toMatch(/\[nohost\] failed: nohost failed: no SSH server answered at that address; check the host and port/);
  });
});
