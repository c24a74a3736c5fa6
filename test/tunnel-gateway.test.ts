// The tunnel gateway against a real OpenSSH server, in the path form (no tunnel domain):
// `/t/<token>/…` reaches a dashboard on the "VM" (a node:http + ws server on this machine's
// loopback) through one SSH connection per spawn. The subdomain form: test/tunnel-browser.test.ts.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { loadOrCreateBotKey, type BotKey } from "../src/orchestrator/remote/bot-key.js";
import { hashTunnelToken, newTunnelToken, startGatewayServer, TunnelGateway, TUNNEL_TOKEN_RE, type TunnelGatewayOptions, type TunnelTarget } from "../src/orchestrator/tunnels/index.js";
import { killUserProcesses, requireTool, startSshd, type TestSshd } from "./support/sshd.js";

const TEST_USER = "sbt-tunnel";
const STREAM_CHUNKS = 5;
const STREAM_GAP_MS = 100;
const CONCURRENT_REQUESTS = 100;
const SEQUENTIAL_REQUESTS = 200;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

let sshd: TestSshd;
let botKey: BotKey;
let keyDir: string;
let dashboard: http.Server;
let dashboardPort: number;
const seen: Seen[] = [];
let streamChunksWritten = 0;
let streamLeftEarly = false;

/** The store's side of tokens, as the bot would keep it: hash → spawn, with expiry and revocation. */
const tokens = new Map<string, { target: TunnelTarget; expiresAt: number; revoked: boolean }>();
async function resolve(hash: string): Promise<TunnelTarget | undefined> {
  const row = tokens.get(hash);
  if (!row || row.revoked || row.expiresAt <= Date.now()) return undefined;
  return row.target;
}

function issue(target: TunnelTarget, ttlMs = 3_600_000): string {
  const { token, hash } = newTunnelToken();
  tokens.set(hash, { target, expiresAt: Date.now() + ttlMs, revoked: false });
  return token;
}

function targetFor(overrides: Partial<TunnelTarget["ssh"]> & { remotePort?: number; spawnId?: string } = {}): TunnelTarget {
  const { remotePort, spawnId, ...ssh } = overrides;
  return {
    spawnId: spawnId ?? "spawn-1",
    ssh: { host: "127.0.0.1", port: sshd.port, user: sshd.user, privateKey: botKey.privateKey, publicKey: botKey.publicKey, pinnedHostKey: sshd.hostKey, ...ssh },
    remotePort: remotePort ?? dashboardPort,
  };
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The gateway's SSH connections as the kernel sees them: established TCP to the sshd port. */
function sshdConnections(): number {
  const out = execFileSync("ss", ["-Htn", "state", "established", `( dport = :${sshd.port} )`]).toString();
  return out.split("\n").filter((l) => l.trim()).length;
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const opened: Array<{ gateway: TunnelGateway; close(): Promise<void> }> = [];
async function openGateway(opts: Partial<TunnelGatewayOptions> = {}): Promise<{ gateway: TunnelGateway; origin: string }> {
  const gateway = new TunnelGateway({ resolve, ...opts });
  const server = await startGatewayServer(gateway, 0, "127.0.0.1");
  opened.push({ gateway, close: server.close });
  return { gateway, origin: `http://127.0.0.1:${server.port}` };
}

function startDashboard(): Promise<void> {
  dashboard = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (req.method === "GET" && req.url === "/hello") return void res.end("hello");
    if (req.method === "POST" && req.url === "/echo") return void req.pipe(res);
    if (req.url === "/sw.js") {
      res.writeHead(200, { "Content-Type": "text/javascript", "Service-Worker-Allowed": "/" });
      return void res.end("self.addEventListener('fetch', () => {});");
    }
    if (req.url === "/cookies") {
      res.writeHead(200, { "Set-Cookie": ["escape=1; Path=/x; Path=/", "wide=1; Domain=127.0.0.1; Path=/", "bare=1"] });
      return void res.end("cookies");
    }
    if (req.url === "/redirect") {
      res.writeHead(302, { Location: "/login", "Set-Cookie": "sid=abc; Path=/; HttpOnly" });
      return void res.end();
    }
    if (req.url === "/stream") {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      let n = 0;
      res.once("close", () => (streamLeftEarly = !res.writableFinished));
      const tick = () => {
        if (res.destroyed) return;
        res.write(`data: ${n}\n\n`);
        streamChunksWritten = ++n;
        if (n < STREAM_CHUNKS) setTimeout(tick, STREAM_GAP_MS);
        else res.end();
      };
      streamChunksWritten = 0;
      streamLeftEarly = false;
      return tick();
    }
    res.writeHead(404).end("no such page");
  });
  const wss = new WebSocketServer({ noServer: true });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  dashboard.on("upgrade", (req, socket, head) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (req.url !== "/ws") return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  return new Promise((r) =>
    dashboard.listen(0, "127.0.0.1", () => {
      dashboardPort = (dashboard.address() as net.AddressInfo).port;
      r();
    }),
  );
}

beforeAll(async () => {
  requireTool("/usr/bin/ss", "iproute2");
  sshd = await startSshd(TEST_USER);
  keyDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-tunnel-key-"));
  botKey = loadOrCreateBotKey(keyDir);
  sshd.authorize(botKey.publicKey);
  await startDashboard();
});

afterEach(async () => {
  for (const g of opened.splice(0)) {
    await g.close();
    await g.gateway.close();
  }
});

afterAll(async () => {
  dashboard?.closeAllConnections();
  await new Promise<void>((r) => (dashboard ? dashboard.close(() => r()) : r()));
  await sshd?.stop();
  killUserProcesses(TEST_USER);
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe("tunnel tokens", () => {
  it("are 130 random bits in 26 lower-case base32 characters, looked up by their SHA-256", () => {
    const { token, hash } = newTunnelToken();
    expect(token).toMatch(TUNNEL_TOKEN_RE);
    expect(token).toMatch(/^[a-z2-7]{26}$/);
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashTunnelToken(token)).toBe(hash);
    expect(newTunnelToken().token).not.toBe(token);
  });
});

describe("tunnel gateway", () => {
  it("proxies a GET to the dashboard on the spawn's loopback, with the token stripped", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/hello`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
    const last = seen.at(-1)!;
    expect(last.url).toBe("/hello");
    expect(last.headers.host).toBe(`127.0.0.1:${dashboardPort}`);
  });

  it("streams a POST body up and the answer back", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const body = randomBytes(1024 * 1024);
    const res = await fetch(`${origin}/t/${token}/echo`, { method: "POST", body });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it("passes a streamed response through without buffering it", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/stream`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    const writtenAtFirstChunk = streamChunksWritten;
    let text = Buffer.from(first.value!).toString();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString();
    expect(writtenAtFirstChunk).toBeLessThan(STREAM_CHUNKS);
    expect(text).toBe(Array.from({ length: STREAM_CHUNKS }, (_, i) => `data: ${i}\n\n`).join(""));
  });

  it("stops the dashboard's stream when the browser leaves", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const abort = new AbortController();
    const res = await fetch(`${origin}/t/${token}/stream`, { signal: abort.signal });
    await res.body!.getReader().read();
    abort.abort();
    await until(() => streamLeftEarly);
    expect(streamChunksWritten).toBeLessThan(STREAM_CHUNKS);
  });

  it("carries a WebSocket both ways", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/t/${token}/ws`, { origin });
    await new Promise<void>((r, j) => ws.once("open", () => r()).once("error", j));
    const echoes = ["ping", "pong", "x".repeat(100_000)];
    for (const msg of echoes) {
      const answer = new Promise<string>((r) => ws.once("message", (d) => r((d as Buffer).toString())));
      ws.send(msg);
      expect(await answer).toBe(msg);
    }
    ws.close();
    const upgrade = seen.filter((s) => s.headers.upgrade).at(-1)!;
    expect(upgrade.url).toBe("/ws");
    expect(upgrade.headers.origin).toBe(`http://127.0.0.1:${dashboardPort}`);
  });

  it("never lets the dashboard see the token, in the path or any header", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const before = seen.length;
    await fetch(`${origin}/t/${token}/hello?tab=1`, { headers: { Referer: `${origin}/t/${token}/index.html?x=1`, "X-Debug": `token=${token}`, Origin: origin } });
    const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/t/${token}/ws`, { headers: { Referer: `${origin}/t/${token}/` } });
    await new Promise<void>((r, j) => ws.once("open", () => r()).once("error", j));
    ws.close();
    const requests = seen.slice(before);
    expect(requests.map((s) => s.url)).toEqual(["/hello?tab=1", "/ws"]);
    for (const s of requests) expect(JSON.stringify(s)).not.toContain(token);
    expect(requests[0]!.headers.referer).toBe(`http://127.0.0.1:${dashboardPort}/index.html?x=1`);
    expect(requests[0]!.headers["x-debug"]).toBeUndefined();
  });

  it("answers 404 to wrong, malformed, revoked and expired tokens without contacting the VM", async () => {
    const revokedToken = issue(targetFor());
    const expiredToken = issue(targetFor(), -1);
    tokens.get(hashTunnelToken(revokedToken))!.revoked = true;
    const { gateway, origin } = await openGateway();
    const before = seen.length;
    const sshBefore = sshdConnections();
    const bad = [newTunnelToken().token, "short", `${newTunnelToken().token}x`, "../../etc", revokedToken, expiredToken];
    for (const token of bad) {
      for (const p of [`/t/${token}/hello`, `/t/${token}`]) {
        const res = await fetch(`${origin}${p}`, { redirect: "manual" });
        expect(res.status, p).toBe(404);
        expect((await res.text()).length).toBeLessThan(200);
      }
      const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/t/${token}/ws`);
      const status = await new Promise<number>((r) => ws.once("unexpected-response", (_req, res) => r(res.statusCode ?? 0)).once("error", () => r(-1)));
      expect(status).toBe(404);
    }
    expect(seen.length).toBe(before);
    expect(gateway.openConnections()).toBe(0);
    expect(sshdConnections()).toBe(sshBefore);
  });

  it("redirects /t/<token> to /t/<token>/ and keeps the dashboard's redirects inside the tunnel", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const bare = await fetch(`${origin}/t/${token}?tab=2`, { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe(`/t/${token}/?tab=2`);
    const moved = await fetch(`${origin}/t/${token}/redirect`, { redirect: "manual" });
    expect(moved.status).toBe(302);
    expect(moved.headers.get("location")).toBe(`/t/${token}/login`);
    expect(moved.headers.get("set-cookie")).toBe(`sid=abc; Path=/t/${token}/; HttpOnly`);
  });

  it("drops Service-Worker-Allowed, so a dashboard's worker cannot claim every tunnel on the shared origin", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/sw.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript");
    expect(res.headers.get("service-worker-allowed")).toBeNull();
  });

  it("forces every cookie under the tunnel's prefix, even one with a second Path=/, and drops Domain", async () => {
    const token = issue(targetFor());
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/cookies`);
    expect(res.headers.getSetCookie()).toEqual([`escape=1; Path=/t/${token}/`, `wide=1; Path=/t/${token}/`, `bare=1; Path=/t/${token}/`]);
  });

  it("still opens a link minted before tokens became DNS labels (22 base64url characters)", async () => {
    const legacy = "Ab_-0123456789abcdefXY";
    tokens.set(hashTunnelToken(legacy), { target: targetFor(), expiresAt: Date.now() + 60_000, revoked: false });
    const { origin } = await openGateway();
    expect(await (await fetch(`${origin}/t/${legacy}/hello`)).text()).toBe("hello");
  });

  it("serves 100 concurrent requests over one SSH connection", async () => {
    const token = issue(targetFor());
    const { gateway, origin } = await openGateway();
    const sshBefore = sshdConnections();
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, () => fetch(`${origin}/t/${token}/hello`).then(async (r) => `${r.status} ${await r.text()}`)));
    const elapsedMs = performance.now() - started;
    expect(answers).toEqual(Array(CONCURRENT_REQUESTS).fill("200 hello"));
    expect(gateway.openConnections()).toBe(1);
    expect(sshdConnections()).toBe(sshBefore + 1);
    if (process.env.TUNNEL_BENCH) console.info(`tunnel: ${CONCURRENT_REQUESTS} concurrent GETs (cold connection) in ${elapsedMs.toFixed(0)} ms`);
  });

  it("reuses the warm connection for sequential requests", async () => {
    const token = issue(targetFor());
    const { gateway, origin } = await openGateway();
    await fetch(`${origin}/t/${token}/hello`).then((r) => r.text()); // warm up
    const times: number[] = [];
    for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${origin}/t/${token}/hello`);
      expect(await res.text()).toBe("hello");
      times.push(performance.now() - t0);
    }
    expect(gateway.openConnections()).toBe(1);
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(2);
    if (process.env.TUNNEL_BENCH) console.info(`tunnel: warm GET p50 ${pct(50)} ms, p99 ${pct(99)} ms over ${SEQUENTIAL_REQUESTS}`);
  });

  it("answers 429 with Retry-After over the per-token rate limit, without contacting the VM", async () => {
    const limit = 5;
    const token = issue(targetFor());
    const other = issue(targetFor());
    const { origin } = await openGateway({ rateLimitPerMinute: limit });
    for (let i = 0; i < limit; i++) expect((await fetch(`${origin}/t/${token}/hello`)).status).toBe(200);
    const before = seen.length;
    const limited = await fetch(`${origin}/t/${token}/hello`);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(seen.length).toBe(before);
    expect((await fetch(`${origin}/t/${other}/hello`)).status).toBe(200); // per token, not global
  });

  it("drops a spawn's connection on closeSpawn and reopens it on the next request", async () => {
    const token = issue(targetFor({ spawnId: "spawn-close" }));
    const { gateway, origin } = await openGateway();
    const sshBefore = sshdConnections();
    expect((await fetch(`${origin}/t/${token}/hello`)).status).toBe(200);
    expect(gateway.openConnections()).toBe(1);
    await gateway.closeSpawn("spawn-close");
    expect(gateway.openConnections()).toBe(0);
    await until(() => sshdConnections() === sshBefore);
    expect(await (await fetch(`${origin}/t/${token}/hello`)).text()).toBe("hello");
    expect(gateway.openConnections()).toBe(1);
  });

  it("refuses a changed host key with 502 and sends the dashboard nothing", async () => {
    const otherKey = botKey.publicKey.split(" ").slice(0, 2).join(" "); // a valid ed25519 key, not the host's
    const token = issue(targetFor({ pinnedHostKey: otherKey }));
    const { gateway, origin } = await openGateway();
    const before = seen.length;
    const res = await fetch(`${origin}/t/${token}/hello`);
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(body).toContain("different SSH host key");
    expect(body).not.toContain("hello");
    expect(body).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    expect(seen.length).toBe(before);
    expect(gateway.openConnections()).toBe(0);
  });

  it("answers 502 when the spawn's host refuses SSH", async () => {
    const token = issue(targetFor({ port: await closedPort() }));
    const { gateway, origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/hello`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("the spawn's host is not reachable");
    expect(gateway.openConnections()).toBe(0);
  });

  it("cuts a handshake in progress when the spawn is closed, answering 502 at once", async () => {
    // A host that accepts TCP and never speaks SSH: without the cut, the request would wait out the handshake timeout.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    try {
      const token = issue(targetFor({ spawnId: "spawn-silent", port: (silent.address() as net.AddressInfo).port }));
      const { gateway, origin } = await openGateway();
      const answer = fetch(`${origin}/t/${token}/hello`).then(async (r) => [r.status, await r.text()] as const);
      await new Promise((r) => setTimeout(r, 200));
      const started = performance.now();
      await gateway.closeSpawn("spawn-silent");
      const [status, body] = await answer;
      expect(status).toBe(502);
      expect(body).toContain("the spawn's host is not reachable");
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });

  it("answers 502 when nothing listens on the dashboard port", async () => {
    const token = issue(targetFor({ remotePort: await closedPort() }));
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/t/${token}/hello`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("dashboard");
  });

  it("logs the spawn id, never the token or its hash", async () => {
    const token = issue(targetFor({ spawnId: "spawn-logged" }));
    const wrongKey = issue(targetFor({ spawnId: "spawn-logged-2", pinnedHostKey: botKey.publicKey.split(" ").slice(0, 2).join(" ") }));
    const lines: string[] = [];
    const logger = { info: (o: object, m?: string) => lines.push(JSON.stringify([o, m])), warn: (o: object, m?: string) => lines.push(JSON.stringify([o, m])) };
    const { gateway, origin } = await openGateway({ logger });
    expect((await fetch(`${origin}/t/${token}/hello`)).status).toBe(200);
    expect((await fetch(`${origin}/t/${wrongKey}/hello`)).status).toBe(502);
    await gateway.closeSpawn("spawn-logged");
    const log = lines.join("\n");
    expect(log).toContain("spawn-logged");
    expect(log).toContain("spawn-logged-2");
    for (const secret of [token, hashTunnelToken(token), wrongKey, hashTunnelToken(wrongKey)]) expect(log).not.toContain(secret);
  });

  it("answers 500 with an error id when the token lookup fails", async () => {
    const { origin } = await openGateway({
      resolve: async () => {
        throw new Error("database is locked");
      },
    });
    const res = await fetch(`${origin}/t/${newTunnelToken().token}/hello`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).toMatch(/^internal error \(id [0-9a-f]{8}\)/);
    expect(body).not.toContain("database");
  });

  it("leaves other paths to the caller", async () => {
    const { origin } = await openGateway();
    const res = await fetch(`${origin}/healthz`);
    expect(res.status).toBe(404);
  });
});
