// The load generator of the ack benchmarks, run as its own Node process so its event loop is not
// the one being measured. Reads prepared requests (url, headers, body) as JSON on stdin, sends them
// over `concurrency` keep-alive HTTP/1.1 connections, one request in flight on each (a closed loop),
// and writes { samples: { label: [latency ms, …] }, sentAt: [epoch ms per job], failed, elapsedMs }
// on stdout (elapsedMs: from the first connection opened to the last answer). When the jobs name
// several origins (replicas behind a load balancer), the connections are dealt over the origins in
// turn and each connection sends only its origin's jobs, in order.
//
// Why raw sockets and not fetch or node:http: measured on this machine against an empty Node
// server at concurrency 50, fetch tops out near 600 requests/s (p99 ≈ 175 ms) and node:http near
// 2,500/s (p99 ≈ 45–75 ms): the client, not the server, set the latency. Requests here are
// serialized before the clock starts and responses are framed by Content-Length or chunked
// encoding, which is all an HTTP/1.1 server (Node's, Bolt's) sends back.
// Plain JavaScript so `node` runs it with no build step.
import net from "node:net";

const concurrency = Number(process.argv[2] ?? 50);
const REQUEST_TIMEOUT_MS = 30_000;
let input = "";
for await (const chunk of process.stdin) input += chunk;
/** @type {{ label: string, url: string, headers: Record<string, string>, body: string }[]} */
const jobs = JSON.parse(input);
/** Job indexes per origin, in the order given. */
const byOrigin = new Map();
jobs.forEach((j, i) => {
  const origin = new URL(j.url).origin;
  if (!byOrigin.has(origin)) byOrigin.set(origin, []);
  byOrigin.get(origin).push(i);
});
const origins = [...byOrigin.keys()];
if (origins.length > concurrency) {
  process.stderr.write(`load generator: ${origins.length} origins need at least as many connections (concurrency ${concurrency})\n`);
  process.exit(2);
}

/** The whole request as bytes: request line, headers, body. */
function serialize(job) {
  const url = new URL(job.url);
  const body = Buffer.from(job.body);
  const headers = { ...job.headers, host: url.host, "content-length": String(body.length), connection: "keep-alive" };
  const head = [`POST ${url.pathname}${url.search} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/**
 * Where the first complete response in buf ends, and its status; undefined while incomplete.
 * Handles Content-Length and chunked bodies (chunk extensions and trailers included).
 */
function parseResponse(buf) {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const head = buf.subarray(0, headEnd).toString("latin1");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  let at = headEnd + 4;
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString("latin1").split(";")[0], 16);
      at = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = buf.indexOf("\r\n\r\n", at - 2);
        return trailerEnd < 0 ? undefined : { status, end: trailerEnd + 4 };
      }
      if (buf.length < at + size + 2) return undefined;
      at += size + 2;
    }
  }
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  return buf.length < at + length ? undefined : { status, end: at + length };
}

const requests = jobs.map(serialize);
/** @type {Record<string, number[]>} */
const samples = {};
const sentAt = new Array(jobs.length);
let failed = 0;
/** The next job to send, per origin. */
const next = new Map(origins.map((o) => [o, 0]));

/** One connection to an origin: sends its next job when the previous answer is complete, until none are left. */
function connection(originText) {
  const origin = new URL(originText);
  const queue = byOrigin.get(originText);
  return new Promise((resolve) => {
    const socket = net.connect(Number(origin.port || 80), origin.hostname);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let current = -1;
    let inFlight = false;
    let started = 0;
    const finish = () => { socket.destroy(); resolve(); };
    const sendNext = () => {
      const at = next.get(originText);
      if (at >= queue.length) return finish();
      next.set(originText, at + 1);
      current = queue[at];
      inFlight = true;
      sentAt[current] = Date.now();
      started = performance.now();
      socket.write(requests[current]);
    };
    const record = (ok) => {
      inFlight = false;
      (samples[jobs[current].label] ??= []).push(performance.now() - started);
      if (!ok) failed++;
    };
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => { if (inFlight) record(false); finish(); });
    socket.on("connect", sendNext);
    socket.on("data", (data) => {
      buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
      for (let response = parseResponse(buffer); response; response = parseResponse(buffer)) {
        buffer = buffer.subarray(response.end);
        record(response.status === 200);
        sendNext();
      }
    });
    socket.on("error", () => { if (inFlight) record(false); finish(); });
    socket.on("close", () => { if (inFlight) record(false); resolve(); }); // the server hung up
  });
}

const started = performance.now();
// No jobs, no origins: nothing to connect to.
if (origins.length > 0) await Promise.all(Array.from({ length: concurrency }, (_, i) => connection(origins[i % origins.length])));
const elapsedMs = performance.now() - started;
process.stdout.write(JSON.stringify({ samples, sentAt, failed, elapsedMs }));
