// The load generator of the ack benchmark, run as its own Node process so its event loop is not
// the one being measured. Reads prepared requests (url, headers, body) as JSON on stdin, sends
// them at the given concurrency over node:http with keep-alive (one agent per origin, at most
// `concurrency` sockets), and writes { samples: { label: [latency ms, …] }, sentAt: [epoch ms per job], failed } on stdout.
// node:http, not fetch: measured on this machine, fetch alone tops out near 600 requests/s at
// concurrency 50 (p99 ≈ 175 ms against an empty Node server), which would hide the server.
// Plain JavaScript so `node` runs it with no build step.
import http from "node:http";

const concurrency = Number(process.argv[2] ?? 50);
let input = "";
for await (const chunk of process.stdin) input += chunk;
/** @type {{ label: string, url: string, headers: Record<string, string>, body: string }[]} */
const jobs = JSON.parse(input);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

/** One POST; resolves with the status once the whole response is read. Bounded by a 30 s timeout. */
function post(job) {
  return new Promise((resolve, reject) => {
    const url = new URL(job.url);
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, timeout: 30_000,
      headers: { ...job.headers, "content-length": Buffer.byteLength(job.body) },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(job.body);
  });
}

/** @type {Record<string, number[]>} */
const samples = {};
/** When each job was sent (epoch ms, in job order): the benchmark matches it to its answer. */
const sentAt = new Array(jobs.length);
let failed = 0;
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < jobs.length) {
    const index = next++;
    const job = jobs[index];
    sentAt[index] = Date.now();
    const started = performance.now();
    const ok = await post(job).then((status) => status === 200, () => false);
    const ms = performance.now() - started;
    if (!ok) failed++;
    (samples[job.label] ??= []).push(ms);
  }
}));
agent.destroy();
process.stdout.write(JSON.stringify({ samples, sentAt, failed }));
