// Small helpers the benchmarks share: percentiles and a line for RESULTS.md.
import { spawn } from "node:child_process";
import os from "node:os";
import { slackSignature, slashCommandBody, type SlackFake } from "../test/fakes/slack-fake.js";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarize(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`;
}

/** Run fn over items with at most `concurrency` in flight. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** What bench/load-generator.mjs prints: ack latencies by label, when each request went, failures, the burst's length. */
export interface LoadResult { samples: Record<string, number[]>; sentAt: number[]; failed: number; elapsedMs: number }

/** Send the prepared requests from a child process (so its CPU is not the bot's measurer's), `concurrency` at a time. */
export async function runLoadGenerator(jobs: object[], concurrency: number): Promise<LoadResult> {
  const child = spawn(process.execPath, [new URL("./load-generator.mjs", import.meta.url).pathname, String(concurrency)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  child.stdin.end(JSON.stringify(jobs));
  const code = await exited;
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(out) as LoadResult;
}

/** Waits (bounded) until every job's answer reached the fake's response URLs; returns answer latencies in ms. */
export async function answerTimes(jobs: { responseId: string }[], sentAt: number[], responses: () => { id: string; time: number }[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = new Map(responses().map((r) => [r.id, r.time]));
    if (jobs.every((j) => at.has(j.responseId)) || Date.now() > deadline) return jobs.flatMap((j, i) => (at.has(j.responseId) ? [at.get(j.responseId)! - sentAt[i]!] : []));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A signed /spawn request prepared here, sent by the load generator (the signature holds 5 minutes); its answer arrives at the fake's response URL. */
export function preparedSlash(fake: SlackFake, signingSecret: string, text: string, label: string, url: string) {
  const responseUrl = fake.responseUrl();
  const body = slashCommandBody({ text, response_url: responseUrl });
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/x-www-form-urlencoded", "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    "x-slack-request-timestamp": String(timestamp), "x-slack-signature": slackSignature(signingSecret, timestamp, body),
  };
  return { label, url, headers, body, responseId: responseUrl.slice(responseUrl.lastIndexOf("/") + 1) };
}
