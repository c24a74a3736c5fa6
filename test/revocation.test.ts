// Revocation is complete, on a real OpenSSH server: unshare takes back the other user's dashboard
// links (404, open streams cut) and keys; delete and expiry on an adopted host take back everything
// spawnbot put there (marked authorized_keys lines, ~/.spawnrc and its source line, config files,
// every process the agent started, detached daemons too) and nothing else; a second live spawn on
// the same host user keeps the files it shares.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectView } from "../src/bot/views/views.js";
import { hashTunnelToken, startGatewayServer, TunnelGateway, type AgentSpec } from "../src/orchestrator/index.js";
import { authorizeUsers, makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { TEST_AGENT } from "./support/test-agent.js";
import { until } from "./support/until.js";

const USER = "sbt-revoke";
const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
/** Names the agent's processes carry in their command line, so the test can look for them. */
const DAEMONS = ["sbt-prelaunch", "sbt-prelaunch-child", "sbt-session-child"];
/** A config file the user had before, which the agent's catalog entry overwrites. */
const OWN_CONFIG = ".config/revoke-agent/settings.json";
const OWN_CONFIG_TEXT = '{ "theme": "the user\'s own" }\n';

let sshd: TestSshd;
let bot: TestBot;
let dashboard: http.Server;
let gateway: TunnelGateway;
let gatewayServer: { port: number; close(): Promise<void> };
/** The files as they were before any spawn, byte for byte. */
const before = new Map<string, string>();
let aliceLink: string;

/** An agent whose pre-launch service and session both fork detached (setsid) daemons. */
function daemonAgent(port: number): AgentSpec {
  const detached = (name: string) => `(setsid bash -c "exec -a ${name} sleep 99999" </dev/null >/dev/null 2>&1 &)`;
  return {
    ...TEST_AGENT, key: "daemonagent", name: "Daemon Agent",
    configFiles: [...TEST_AGENT.configFiles, { path: OWN_CONFIG, mode: 0o600, content: '{ "model": "{model}", "token": "{token}" }\n' }],
    preLaunch: `${detached("sbt-prelaunch-child")}; exec -a sbt-prelaunch sleep 99999`,
    launch: `${detached("sbt-session-child")}; testagent --model {model}`,
    dashboard: { port, path: "/" },
  };
}

function home(rel: string): string {
  return path.join(sshd.home, rel);
}

function read(rel: string): string | undefined {
  return existsSync(home(rel)) ? readFileSync(home(rel), "utf8") : undefined;
}

/** Processes of the test user whose command line names one of these. */
function running(names: readonly string[]): string[] {
  const out = spawnSync("ps", ["-u", USER, "-o", "args="]).stdout.toString();
  return out.split("\n").filter((l) => names.some((n) => l.includes(n)));
}

function sessionAlive(name: string): boolean {
  return spawnSync("su", ["-", USER, "-c", `tmux has-session -t '=${name}'`]).status === 0;
}

async function say(text: string, who = alice): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(text, who), conv);
  await bot.core.idle();
  return conv;
}

const linkOf = (c: RecordingConversation) => (c.private.find((v) => v.kind === "connect") as ConnectView).gatewayUrl!;
const get = async (link: string, sub = "") => (await fetch(`${link.replace(/#.*$/, "").replace(/\/$/, "")}/${sub}`)).status;
const spawnOf = async (name: string) => (await bot.store.findSpawn(name, { platform: "test" }))!;

beforeAll(async () => {
  sshd = await startSshd(USER);
  // The dashboard, listening on the host's loopback: a page, and a stream that never ends.
  dashboard = http.createServer((req, res) => {
    if (req.url === "/stream") {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write("data: hello\n\n");
      return;
    }
    res.end(`dashboard at ${req.url}`);
  });
  await new Promise<void>((r) => dashboard.listen(0, "127.0.0.1", () => r()));
  const port = (dashboard.address() as { port: number }).port;
  gateway = new TunnelGateway({ resolve: (hash) => bot.core.resolveTunnel(hash) });
  gatewayServer = await startGatewayServer(gateway, 0);
  bot = makeBot({ agents: [daemonAgent(port)], publicUrl: `http://127.0.0.1:${gatewayServer.port}` });
  bot.core.attachGateway(gateway);
  await authorizeUsers(sshd, bot.core, "test", [alice.id]); // alice adopts her host with her own spawnbot key

  // What the user had: one of alice's keys and someone else's in authorized_keys, and a config
  // file of their own where the agent writes its own.
  const own = sshd.clientKey("alice-own");
  const colleague = sshd.clientKey("colleague");
  mkdirSync(home(".ssh"), { recursive: true, mode: 0o700 });
  writeFileSync(home(".ssh/authorized_keys"), `# keys of ${USER}\n${own.publicKey}\n${colleague.publicKey}\n`, { mode: 0o600 });
  mkdirSync(path.dirname(home(OWN_CONFIG)), { recursive: true });
  writeFileSync(home(OWN_CONFIG), OWN_CONFIG_TEXT);
  execFileSync("chown", ["-R", `${USER}:`, home(".ssh"), home(".config")]);
  chownSync(home(OWN_CONFIG), Number(execFileSync("id", ["-u", USER]).toString()), Number(execFileSync("id", ["-g", USER]).toString()));
  for (const f of [".ssh/authorized_keys", ".bashrc", ".profile", OWN_CONFIG]) before.set(f, read(f)!);

  await say(`keys add ${own.publicKey}`); // a key the host already trusts: not added again
  await say(`keys add ${sshd.clientKey("alice-laptop").publicKey}`);
  await say(`keys add ${sshd.clientKey("bob").publicKey}`, bob);
  const first = await say(`spawn daemonagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name rv1`);
  aliceLink = linkOf(first);
  await say(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name rv2`);
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await gatewayServer?.close();
  dashboard?.closeAllConnections();
  dashboard?.close();
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("the spawns being taken back", () => {
  it("are ready, with the agent's daemons running and only the new key added, marked", async () => {
    expect((await spawnOf("rv1")).status).toBe("ready");
    expect((await spawnOf("rv2")).status).toBe("ready");
    expect(running(DAEMONS)).toHaveLength(DAEMONS.length);
    const keys = read(".ssh/authorized_keys")!;
    expect(keys.startsWith(before.get(".ssh/authorized_keys")!)).toBe(true);
    expect(keys.split("\n").filter((l) => l.includes("alice-laptop"))).toEqual([
      expect.stringMatching(new RegExp(`alice-laptop spawnbot-spawn=${(await spawnOf("rv1")).id}$`)),
      expect.stringMatching(new RegExp(`alice-laptop spawnbot-spawn=${(await spawnOf("rv2")).id}$`)),
    ]);
    expect(keys.split("\n").filter((l) => l.includes("alice-own"))).toHaveLength(1);
  });
});

describe("unshare", () => {
  let bobLink: string;

  it("gives a shared user their own dashboard link with connect", async () => {
    await say("share rv1 @U2");
    bobLink = linkOf(await say("connect rv1", bob));
    expect(bobLink).not.toBe(aliceLink);
    expect(await get(bobLink)).toBe(200);
    expect((await bot.store.findTunnelToken(hashOf(bobLink)))?.user).toEqual({ platform: "test", userId: "U2" });
    expect(read(".ssh/authorized_keys")).toContain(" bob spawnbot-spawn=");
  });

  it("revokes that user's links (404, and what is open through them is cut) and keys; the owner's link still works", async () => {
    const stream = await fetch(`${bobLink.replace(/\/$/, "")}/stream`);
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("hello");
    const c = await say("unshare rv1 @U2");
    expect(JSON.stringify(c.private.at(-1))).toContain("1 key removed from it; 1 dashboard link revoked");
    await expect(readToEnd(reader)).resolves.toBe("cut"); // the open stream did not outlive the link
    expect(await get(bobLink)).toBe(404);
    const res = await fetch(bobLink);
    expect(await res.text()).toContain("unknown or has expired");
    expect(await get(aliceLink)).toBe(200);
    expect(read(".ssh/authorized_keys")).not.toContain(" bob");
    expect(read(".ssh/authorized_keys")).toContain("alice-laptop");
  });
});

describe("a link given to a shared user", () => {
  it("stops working once they no longer have the spawn, even if unshare was cut short before revoking it", async () => {
    await say("share rv1 @U2");
    const link = linkOf(await say("connect rv1", bob));
    expect(await get(link)).toBe(200);
    await bot.store.removeShare((await spawnOf("rv1")).id, { platform: "test", userId: "U2" }); // the share gone, the link not revoked
    expect((await bot.store.findTunnelToken(hashOf(link)))?.revokedAt).toBeNull();
    expect(await get(link)).toBe(404);
    expect(await get(aliceLink)).toBe(200);
    await say("share rv1 @U2");
    await say("unshare rv1 @U2"); // and take bob's key back off the host again
    expect(read(".ssh/authorized_keys")).not.toContain(" bob");
  });
});

describe("delete on an existing host, while another spawn lives on the same host user", () => {
  it("stops every process the agent started, detached daemons too, and keeps the other spawn's session", async () => {
    const c = await say("delete rv1");
    expect(JSON.stringify(c.statuses)).toContain("rv1 was deleted by");
    expect((await spawnOf("rv1")).status).toBe("deleted");
    expect(running(DAEMONS)).toEqual([]);
    expect(sessionAlive("rv1")).toBe(false);
    expect(sessionAlive("rv2")).toBe(true);
  });

  it("removes its own key lines and puts back the user's config file, but keeps what rv2 shares", async () => {
    const keys = read(".ssh/authorized_keys")!;
    expect(keys.split("\n").filter((l) => l.includes("spawnbot-spawn="))).toEqual([expect.stringContaining((await spawnOf("rv2")).id)]);
    expect(read(OWN_CONFIG)).toBe(before.get(OWN_CONFIG));
    expect(read(".spawnrc")).toContain("written by spawnbot");
    expect(read(".bashrc")).toContain("# added by spawnbot");
    expect(read(".testagent/config.json")).toBeDefined(); // rv2's agent uses it too
    expect(existsSync(home(".spawnbot/rv1"))).toBe(false);
    expect(existsSync(home(".spawnbot/rv2"))).toBe(true);
  });
});

describe("expiry of the last spawn on the host user", () => {
  it("leaves the host as it was: authorized_keys and rc files byte for byte, no ~/.spawnrc, no config, no process", async () => {
    const rv2 = await spawnOf("rv2");
    const report = await bot.core.sweepExpiry({ reminderMs: 0 }, rv2.expiresAt! + 1);
    expect(report).toMatchObject({ deleted: 1, failed: 0 });
    for (const [file, text] of before) expect(read(file), file).toBe(text);
    expect(read(".spawnrc")).toBeUndefined();
    expect(read(".testagent/config.json")).toBeUndefined();
    expect(existsSync(home(".spawnbot"))).toBe(false);
    await until("the agent's processes to be gone", () => running(["testagent", "sleep", ...DAEMONS]).length === 0, 5_000);
    expect(sessionAlive("rv2")).toBe(false);
  });
});

describe("a run that fails on an existing host", () => {
  it("takes back what it put there before failing, and leaves the session it collided with alone", async () => {
    spawnSync("su", ["-", USER, "-c", "tmux new-session -d -s rv3 'sleep 600'"]);
    const c = await say(`spawn daemonagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name rv3`);
    expect(c.statuses.at(-1)!.result).toMatchObject({ outcome: "failed", message: expect.stringContaining("already runs on that host") });
    expect(sessionAlive("rv3")).toBe(true);
    for (const [file, text] of before) expect(read(file), file).toBe(text);
    expect(read(".spawnrc")).toBeUndefined();
    await until("the pre-launch daemons to be gone", () => running(DAEMONS).length === 0, 5_000);
  });
});

describe("delete on the local cloud (the bot's own host)", () => {
  it("stops the agent's detached daemons and removes ~/.spawnrc and the config it wrote", async () => {
    const localHome = mkdtempSync(path.join(os.tmpdir(), "spawnbot-localhome-"));
    const name = `rvl-${Math.random().toString(36).slice(2, 8)}`;
    const agent = {
      ...daemonAgent(1), key: "localdaemon", dashboard: undefined, preLaunch: `exec -a sbt-local-${name} sleep 99999`,
      launch: `(setsid bash -c "exec -a sbt-local-${name}-child sleep 99999" </dev/null >/dev/null 2>&1 &); testagent --model {model}`,
    };
    const local = makeBot({ localHome, agents: [agent] });
    const conv = new RecordingConversation();
    await local.core.handle(request(`spawn localdaemon local --name ${name}`), conv);
    await local.core.idle();
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
    // Their command lines, one per line ("pid args"), for a readable failure.
    const mine = () => spawnSync("pgrep", ["-a", "-f", `^sbt-local-${name}`]).stdout.toString().trim();
    // The launch script forks the child once its session is up, which may be just after "ready".
    await until("the pre-launch daemon and the launch's child", () => mine().split("\n").length === 2, 5_000);
    expect(existsSync(path.join(localHome, ".spawnrc"))).toBe(true);
    await local.core.handle(request(`delete ${name}`), conv);
    expect(JSON.stringify(conv.statuses)).toContain(`${name} was deleted by`);
    expect(mine()).toBe("");
    expect(existsSync(path.join(localHome, ".spawnrc"))).toBe(false);
    expect(existsSync(path.join(localHome, ".testagent/config.json"))).toBe(false);
    await local.store.close();
  });
});

function hashOf(link: string): string {
  return hashTunnelToken(link.split("/t/")[1]!.split("/")[0]!);
}

/** Read until the stream ends: "cut" when the gateway cut it (the dashboard never ends it), "still open" after 5 s. */
async function readToEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let waited = false;
  const deadline = setTimeout(() => {
    waited = true;
    void reader.cancel();
  }, 5_000);
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) return waited ? "still open" : "cut";
    }
  } catch {
    return waited ? "still open" : "cut";
  } finally {
    clearTimeout(deadline);
  }
}
