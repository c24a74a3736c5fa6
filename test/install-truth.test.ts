// Installs that tell the truth, on the bot's own host with real bash and curl: a vendor installer
// that cannot be downloaded falls back to the agent's install command, a failing installer fails
// the step at once in its own words, a silent install is stopped with one message, and the status
// shows how long the install has been running. Installers are served from 127.0.0.1.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentSpec } from "../src/orchestrator/index.js";
import type { RunDeps } from "../src/orchestrator/index.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";
import { freePort } from "./support/free-port.js";
import { TEST_AGENT } from "./support/test-agent.js";

/** What an installer prints when it gives up, as a vendor's script would. */
const INSTALLER_ERROR = "unsupported distribution: plan9 (see https://example.invalid/install-help)";
const SCRIPTS: Record<string, string> = {
  "/good.sh": `#!/bin/bash\necho "installing testagent"\n${TEST_AGENT.install}\n`,
  "/fail.sh": `#!/bin/bash\necho "checking the system"\necho "${INSTALLER_ERROR}" >&2\nexit 7\n`,
};
/** A hung install's command, recognisable in the process list. */
const HUNG_SLEEP = "117.25";
/** The step's own retry delay is 5 s: three tries of a failing install would take longer than this. */
const AT_ONCE_MS = 4_000;

let server: http.Server;
let base = "";
let refusedPort = 0;
const served: string[] = [];
const tag = Math.random().toString(36).slice(2, 8);
const sessions: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    served.push(req.url ?? "");
    const body = SCRIPTS[req.url ?? ""];
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/x-shellscript" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  refusedPort = await freePort(); // nothing listens there: the connection is refused
});
afterAll(async () => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
  await new Promise((r) => server.close(r));
});

/** One spawn of `agent` on the local cloud in a fresh home; returns what the person saw. */
async function spawnWith(agent: Partial<AgentSpec>, runDeps?: Pick<RunDeps, "installStallMs" | "installProgressEveryMs">) {
  const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-install-home-"));
  const key = `inst${sessions.length}`;
  const spec: AgentSpec = { ...TEST_AGENT, key, name: `Installer test ${sessions.length}`, ...agent };
  const bot = makeBot({ localHome: home, agents: [spec], runDeps });
  const conv = new RecordingConversation();
  const session = `it-${tag}-${sessions.length}`;
  sessions.push(session);
  const started = Date.now();
  await bot.core.handle(request(`spawn ${key} local --name ${session}`), conv);
  await bot.core.idle();
  const final = conv.statuses.at(-1)!;
  const install = final.steps.find((s) => s.name === "install")!;
  return { name: spec.name, home, conv, final, install, ms: Date.now() - started, agentInstalled: existsSync(path.join(home, ".local/bin/testagent")) };
}

describe("an agent's vendor installer", () => {
  it("is downloaded to a file and run, and the agent is ready", async () => {
    const s = await spawnWith({ installer: { url: `${base}/good.sh` }, install: undefined });
    expect(s.final.result, JSON.stringify(s.final.steps)).toMatchObject({ outcome: "ready" });
    expect(s.agentInstalled).toBe(true);
    expect(s.install.detail).toMatch(/^testagent installed in \d+s$/);
  }, 60_000);

  it("falls back to the install command when the installer's host refuses the connection", async () => {
    const s = await spawnWith({ installer: { url: `http://127.0.0.1:${refusedPort}/install.sh` }, install: TEST_AGENT.install });
    expect(s.final.result, JSON.stringify(s.final.steps)).toMatchObject({ outcome: "ready" });
    expect(s.agentInstalled).toBe(true);
  }, 60_000);

  it("falls back to the install command when the installer URL answers 404", async () => {
    const before = served.length;
    const s = await spawnWith({ installer: { url: `${base}/gone.sh` }, install: TEST_AGENT.install });
    expect(s.final.result, JSON.stringify(s.final.steps)).toMatchObject({ outcome: "ready" });
    expect(s.agentInstalled).toBe(true);
    expect(served.slice(before)).toEqual(["/gone.sh"]);
  }, 60_000);

  it("reaches the fallback of a piped `curl | bash || fallback` install too (pipefail)", async () => {
    const piped = `curl -fsSL http://127.0.0.1:${refusedPort}/install.sh | bash || { ${TEST_AGENT.install}; }`;
    const s = await spawnWith({ installer: undefined, install: piped });
    expect(s.final.result, JSON.stringify(s.final.steps)).toMatchObject({ outcome: "ready" });
    expect(s.agentInstalled).toBe(true);
  }, 60_000);

  it("that fails, with no fallback, fails the step at once with the installer's own error", async () => {
    const before = served.length;
    const s = await spawnWith({ installer: { url: `${base}/fail.sh` }, install: undefined });
    expect(s.final.result).toMatchObject({ outcome: "failed" });
    expect(s.install.state).toBe("failed");
    expect(s.install.detail).toContain(INSTALLER_ERROR);
    expect(s.install.detail).not.toContain("not on PATH");
    expect(served.slice(before)).toEqual(["/fail.sh"]); // run once, not retried
    expect(s.ms).toBeLessThan(AT_ONCE_MS);
  }, 60_000);

  it("whose fallback fails too reports the fallback's error, once", async () => {
    const s = await spawnWith({ installer: { url: `http://127.0.0.1:${refusedPort}/install.sh` }, install: "echo 'npm error 404 Not Found - GET https://registry.invalid/nope' >&2; exit 1" });
    expect(s.final.result).toMatchObject({ outcome: "failed" });
    expect(s.install.detail).toMatch(/failed \(exit 1\): .*npm error 404 Not Found/);
    expect(s.ms).toBeLessThan(AT_ONCE_MS);
  }, 60_000);
});

describe("an install in progress", () => {
  it("that prints nothing for the stall time is stopped with one clear message", async () => {
    const s = await spawnWith({ installer: undefined, install: `echo 'resolving packages'; sleep ${HUNG_SLEEP}` }, { installStallMs: 1_500 });
    expect(s.final.result).toMatchObject({ outcome: "failed" });
    expect(s.install.detail).toBe(`the install of ${s.name} printed nothing for 1s and was stopped; check that the host reaches its package registry, then spawn again`);
    expect(s.final.result?.message).toContain("printed nothing for 1s");
    expect(s.ms).toBeLessThan(20_000);
    // The failed run's clean-up stopped the hung install on the host, too.
    expect(spawnSync("pgrep", ["-f", `sleep ${HUNG_SLEEP}`]).status, "the hung install is still running").toBe(1);
  }, 60_000);

  it("keeps going while it prints, however slowly", async () => {
    const slowButAlive = `for i in 1 2 3 4; do echo "npm http fetch GET 200 package-$i"; sleep 0.5; done; ${TEST_AGENT.install}`;
    const s = await spawnWith({ installer: undefined, install: slowButAlive }, { installStallMs: 1_500 });
    expect(s.final.result, JSON.stringify(s.final.steps)).toMatchObject({ outcome: "ready" });
  }, 60_000);

  it("shows its elapsed time in the status view while it runs", async () => {
    const s = await spawnWith({ installer: undefined, install: `sleep 2.5; ${TEST_AGENT.install}` }, { installProgressEveryMs: 400 });
    expect(s.final.result).toMatchObject({ outcome: "ready" });
    const whileRunning = s.conv.statuses.flatMap((v) => v.steps.filter((st) => st.name === "install" && st.state === "running").map((st) => st.detail));
    expect(whileRunning).toContain(`installing ${s.name} (2s)`);
    expect(whileRunning.filter((d) => d?.startsWith(`installing ${s.name} (`)).length).toBeGreaterThanOrEqual(2);
    expect(s.install.detail).toMatch(/^testagent installed in [23]s$/);
  }, 60_000);
});
