// `--host` is not a port scanner: a closed port, a silent listener, an HTTP server and a real sshd
// on 127.0.0.1 all read the same in the channel while the network policy forbids loopback (the
// default), closed/silent/HTTP still read the same once an admin allows it, the cause goes to the
// log only, and no public message shows the host's address. A name is resolved once.
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type Logger } from "../src/log.js";
import type { LookupAll } from "../src/orchestrator/index.js";
import type { StatusView } from "../src/bot/views/views.js";
import { authorizeUsers, LOOPBACK_ALLOWED, makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { freePort } from "./support/free-port.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-hostpol";
const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
/** One quick try per spawn: a silent listener then costs 1.5 s instead of three 20 s handshakes. */
const QUICK_SSH_WAIT = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, handshakeTimeoutMs: 1500 };
const ONE_MESSAGE = "no SSH server answered at that address; check the host and port, and that sshd is running there";

let sshd: TestSshd;
let closedPort: number;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
let httpServer: http.Server;
const ports: Record<string, number> = {};

/** A logger whose JSON lines the test reads: the causes must be there and only there. */
function readableLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (chunk: string) => (lines.push(chunk), true) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ level: "info", format: "json", destination }), lines };
}

async function spawnOn(bot: TestBot, host: string, name = "probe", who = alice): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(`spawn testagent ssh --host ${host} --name ${name}`, who), conv);
  await bot.core.idle();
  return conv;
}

/** What the channel saw: every public message and every status view, as one string. */
const channelText = (conv: RecordingConversation) => JSON.stringify([conv.public, conv.statuses]);

/** The final status view without what differs run to run by nature (its id, step durations). */
function comparable(conv: RecordingConversation): unknown {
  const view = conv.statuses.at(-1) as StatusView;
  return { ...view, spawnId: "", steps: view.steps.map((s) => ({ ...s, durationMs: undefined })) };
}

beforeAll(async () => {
  sshd = await startSshd(USER);
  closedPort = await freePort(); // free a moment ago, and nothing listens on it
  silent = net.createServer((socket) => {
    silentSockets.add(socket); // accepts and never says a word
    socket.on("close", () => silentSockets.delete(socket));
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
  httpServer = http.createServer((_req, res) => res.end("hello from a web server\n"));
  await new Promise<void>((r) => httpServer.listen(0, "127.0.0.1", () => r()));
  Object.assign(ports, {
    closed: closedPort,
    silent: (silent.address() as net.AddressInfo).port,
    http: (httpServer.address() as net.AddressInfo).port,
    ssh: sshd.port,
  });
});
afterAll(async () => {
  for (const s of silentSockets) s.destroy();
  await new Promise((r) => silent?.close(r));
  await new Promise((r) => httpServer?.close(r));
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("with the default policy (loopback refused)", () => {
  let bot: TestBot;
  let lines: string[];
  const convs: Record<string, RecordingConversation> = {};

  beforeAll(async () => {
    const log = readableLogger();
    lines = log.lines;
    bot = makeBot({ logger: log.logger, sshCloud: { sshWait: QUICK_SSH_WAIT } }); // no allowance: production's default
    await authorizeUsers(sshd, bot.core, "test", [alice.id]); // the real sshd would let alice in: only the policy stops it
    for (const [kind, port] of Object.entries(ports)) convs[kind] = await spawnOn(bot, `${USER}@127.0.0.1:${port}`);
  });

  it("answers a closed port, a silent listener, an HTTP server and a real sshd with one identical status", () => {
    const [first, ...rest] = Object.values(convs).map(comparable);
    expect(first).toMatchObject({ status: "failed", result: { outcome: "failed", message: `probe failed: ${ONE_MESSAGE}` } });
    expect((first as StatusView).steps.find((s) => s.name === "wait-ssh")).toMatchObject({ state: "failed", detail: ONE_MESSAGE });
    for (const other of rest) expect(other).toEqual(first);
  });

  it("shows no address and no port in the channel", () => {
    for (const [kind, conv] of Object.entries(convs)) {
      expect(channelText(conv), kind).not.toContain("127.0.0.1");
      expect(channelText(conv), kind).not.toContain(String(ports[kind]));
    }
  });

  it("logs where and why for the admin: refused by the network policy", () => {
    for (const port of Object.values(ports)) {
      const line = lines.find((l) => l.includes(`"target":"${USER}@127.0.0.1:${port}"`));
      expect(line).toMatch(/refused by the network policy: 127\.0\.0\.1 is loopback/);
    }
  });

  it("refuses the IPv4-mapped and 0.0.0.0 spellings of the bot's own host the same way", async () => {
    for (const host of [`${USER}@[::ffff:127.0.0.1]:${sshd.port}`, `${USER}@0.0.0.0:${sshd.port}`, `${USER}@localhost:${sshd.port}`]) {
      const conv = await spawnOn(bot, host);
      expect(comparable(conv), host).toEqual(comparable(convs.ssh!));
    }
    expect((await bot.store.listForChannel("test", "W1", "C1")).every((r) => r.status === "failed")).toBe(true);
  });
});

describe("with loopback allowed by the admin", () => {
  let bot: TestBot;
  let lines: string[];
  const convs: Record<string, RecordingConversation> = {};
  const resolved: string[] = [];
  /** A resolver that answers 127.0.0.1 once and a dead address after: a second lookup would fail the spawn. */
  const rebinding: LookupAll = async (name) => {
    if (net.isIP(name)) return [{ address: name, family: net.isIP(name) }];
    resolved.push(name);
    if (name !== "build-box.test") throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return [{ address: resolved.length === 1 ? "127.0.0.1" : "192.0.2.1", family: 4 }];
  };

  beforeAll(async () => {
    const log = readableLogger();
    lines = log.lines;
    bot = makeBot({ logger: log.logger, sshCloud: { ...LOOPBACK_ALLOWED(), sshWait: QUICK_SSH_WAIT, lookup: rebinding } });
    await authorizeUsers(sshd, bot.core, "test", [alice.id]);
    for (const kind of ["closed", "silent", "http"]) convs[kind] = await spawnOn(bot, `${USER}@127.0.0.1:${ports[kind]}`);
    convs.dns = await spawnOn(bot, `${USER}@no-such-box.test:22`);
  }, 60_000);

  it("still answers a closed port, a silent listener, an HTTP server and an unknown name with one identical status", () => {
    const [first, ...rest] = Object.values(convs).map(comparable);
    expect(first).toMatchObject({ status: "failed", result: { message: `probe failed: ${ONE_MESSAGE}` } });
    for (const other of rest) expect(other).toEqual(first);
    for (const conv of Object.values(convs)) expect(channelText(conv)).not.toContain("127.0.0.1");
  });

  it("logs which failure each one was", () => {
    const reasonFor = (target: string) => JSON.parse(lines.find((l) => l.includes(`"target":"${target}"`)) ?? "{}").reason as string;
    expect(reasonFor(`${USER}@127.0.0.1:${ports.closed}`)).toMatch(/ECONNREFUSED/);
    expect(reasonFor(`${USER}@127.0.0.1:${ports.silent}`)).toMatch(/[Tt]imed out/);
    expect(reasonFor(`${USER}@127.0.0.1:${ports.http}`)).toMatch(/protocol/); // something answered, but not SSH
    expect(reasonFor(`${USER}@no-such-box.test:22`)).toBe("name lookup failed: ENOTFOUND");
  });

  it("spawns on the real sshd through a name resolved once, the channel seeing only 'existing host'", async () => {
    resolved.length = 0;
    const conv = await spawnOn(bot, `${USER}@build-box.test:${sshd.port}`, "named");
    const final = conv.statuses.at(-1)!;
    expect(final.result).toMatchObject({ outcome: "ready" });
    expect(final.steps.find((s) => s.name === "provision")!.detail).toBe("existing host");
    expect(final.steps.find((s) => s.name === "wait-ssh")!.detail).toBe("existing host answered; its host key is pinned");
    expect(resolved).toEqual(["build-box.test"]);
    const rec = (await bot.store.findSpawn("named", { platform: "test" }))!;
    expect(rec.address).toBe("127.0.0.1"); // what later connections (status, keys, delete) use: no second lookup
    for (const hidden of ["127.0.0.1", "build-box.test", String(sshd.port), sshd.hostKey.split(" ")[1]!]) {
      expect(channelText(conv)).not.toContain(hidden);
    }
    // The owner gets the address privately, with the connect command.
    expect(JSON.stringify(conv.private)).toContain(`${USER}@127.0.0.1 -p ${sshd.port}`);
  });

  it("keeps the address out of what any channel member can ask for, and later connections use the recorded address", async () => {
    const conv = new RecordingConversation();
    await bot.core.handle(request("status named", bob), conv);
    await bot.core.handle(request("list", bob), conv);
    const seen = JSON.stringify([conv.public, conv.private, conv.statuses]);
    expect(seen).toContain("agent session named is running");
    expect(seen).not.toContain("127.0.0.1");
    expect(seen).not.toContain(String(sshd.port));
    expect(resolved).toEqual(["build-box.test"]);
    // Its owner asks privately and sees where it runs.
    const own = new RecordingConversation();
    await bot.core.handle(request("status named"), own);
    expect(JSON.stringify(own.private)).toContain(`host: ${USER}@127.0.0.1:${sshd.port} (only you see this)`);
    expect(own.public).toEqual([]);
    await bot.core.handle(request("delete named"), new RecordingConversation());
    expect((await bot.store.findSpawn("named", { platform: "test" }))?.status).toBe("deleted");
  });
});
