// The load generator of the ack benchmark, run as its own Node process so its event loop is not
// the one being measured. Reads prepared requests (url, headers, body) as JSON on stdin, sends
// them at the given concurrency, and writes { label: [latency ms, …] } as JSON on stdout.
// Plain JavaScript so `node` runs it with no build step.
const concurrency = Number(process.argv[2] ?? 50);
let input = "";
for await (const chunk of process.stdin) input += chunk;
/** @type {{ label: string, url: string, headers: Record<string, string>, body: string }[]} */
const jobs = JSON.parse(input);
/** @type {Record<string, number[]>} */
const samples = {};
let failed = 0;
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < jobs.length) {
    const job = jobs[next++];
    const started = performance.now();
    let ok = false;
    try {
      // Bounded: a request that never answers counts as failed instead of hanging the run.
      const res = await fetch(job.url, { method: "POST", headers: job.headers, body: job.body, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      ok = res.status === 200;
    } catch {
      ok = false;
    }
    const ms = performance.now() - started;
    if (!ok) failed++;
    (samples[job.label] ??= []).push(ms);
  }
}));
process.stdout.write(JSON.stringify({ samples, failed }));
