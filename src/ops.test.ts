import { afterEach, describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "../test/support/prom-text.js";
import { startOpsServer, type MetricsSource } from "./ops.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const metrics: MetricsSource = {
  spawnCounts: async () => [{ status: "ready", cloud: "hetzner", count: 3 }, { status: "failed", cloud: "aws", count: 1 }],
  runsInFlight: () => 2,
  recentTimesToReady: async () => [3000, 1000, 2000],
  chat: () => ({ platform: "slack", calls: 42, rateLimited: 1, inProgress: 3 }),
};

async function serve(platformConnected: boolean) {
  const s = await startOpsServer(0, "127.0.0.1", { storeOpen: async () => true, platformConnected: () => platformConnected }, metrics);
  close = s.close;
  return (path: string) => fetch(`http://127.0.0.1:${s.port}${path}`);
}

describe("the ops endpoint", () => {
  it("is alive while the process is, and ready only when the store and the platform are", async () => {
    const get = await serve(false);
    expect((await get("/healthz")).status).toBe(200);
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "not ready", store: true, platform: false });
    await close!();
    const get2 = await serve(true);
    expect((await get2("/readyz")).status).toBe(200);
    expect((await get2("/nope")).status).toBe(404);
  });

  it("serves Prometheus text: spawns by status and cloud, runs in flight, time to ready, chat calls and 429s", async () => {
    const get = await serve(true);
    const res = await get("/metrics");
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const metrics = parsePrometheusText(await res.text()); // throws on anything Prometheus would reject
    expect(metrics.get("spawnbot_spawns")?.type).toBe("gauge");
    expect(sampleValue(metrics, "spawnbot_spawns", { status: "ready", cloud: "hetzner" })).toBe(3);
    expect(sampleValue(metrics, "spawnbot_spawns", { status: "failed", cloud: "aws" })).toBe(1);
    expect(sampleValue(metrics, "spawnbot_runs_in_flight")).toBe(2);
    expect(metrics.get("spawnbot_time_to_ready_seconds")?.type).toBe("summary");
    expect(sampleValue(metrics, "spawnbot_time_to_ready_seconds", { quantile: "0.5" })).toBe(2);
    expect(sampleValue(metrics, "spawnbot_time_to_ready_seconds_count")).toBe(3);
    expect(sampleValue(metrics, "spawnbot_time_to_ready_seconds_sum")).toBe(6);
    expect(metrics.get("spawnbot_chat_api_calls_total")?.type).toBe("counter");
    expect(sampleValue(metrics, "spawnbot_chat_api_calls_total", { platform: "slack" })).toBe(42);
    expect(sampleValue(metrics, "spawnbot_chat_rate_limited_total", { platform: "slack" })).toBe(1);
    expect(sampleValue(metrics, "spawnbot_chat_requests_in_progress", { platform: "slack" })).toBe(3);
  });

  it("adds prom-client's default process and event-loop metrics", async () => {
    const get = await serve(true);
    const metrics = parsePrometheusText(await (await get("/metrics")).text());
    expect(metrics.get("process_cpu_seconds_total")?.type).toBe("counter");
    expect(sampleValue(metrics, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sampleValue(metrics, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(sampleValue(metrics, "process_start_time_seconds")).toBeGreaterThan(Date.now() / 1000 - 24 * 3600);
    expect(metrics.get("nodejs_eventloop_lag_p99_seconds")?.type).toBe("gauge");
    expect(sampleValue(metrics, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    expect(metrics.get("nodejs_heap_size_used_bytes")?.type).toBe("gauge");
    expect(metrics.get("nodejs_gc_duration_seconds")?.type).toBe("histogram");
    expect(sampleValue(metrics, "nodejs_version_info", { version: process.version, major: process.versions.node.split(".")[0]!, minor: process.versions.node.split(".")[1]!, patch: process.versions.node.split(".")[2]! })).toBe(1);
  });

  it("serves a second ops server in the same process (the defaults are collected once)", async () => {
    const get = await serve(true);
    const other = await startOpsServer(0, "127.0.0.1", { storeOpen: async () => true, platformConnected: () => true }, { ...metrics, runsInFlight: () => 7 });
    try {
      const a = parsePrometheusText(await (await get("/metrics")).text());
      const b = parsePrometheusText(await (await fetch(`http://127.0.0.1:${other.port}/metrics`)).text());
      expect(sampleValue(a, "spawnbot_runs_in_flight")).toBe(2);
      expect(sampleValue(b, "spawnbot_runs_in_flight")).toBe(7);
      expect(b.has("process_cpu_seconds_total")).toBe(true);
    } finally {
      await other.close();
    }
  });
});
