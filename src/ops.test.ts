import { afterEach, describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "../test/support/prom-text.js";
import { startOpsServer, type MetricsSource } from "./ops.js";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore } from "./bot/index.js";

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

  it("serves the spend so far from the store: cloud cost by cloud, agent and currency, LLM spend by cloud and agent", async () => {
    const store = openStore(path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-ops-")), "spawnbot.db"));
    const now = Date.now();
    const spawn = async (cloud: string, agent: string, hours: number, price: { perHour: number; currency: string } | undefined, llm: number) => {
      const id = crypto.randomUUID();
      await store.recordIntent({ id, name: id.slice(0, 8), platform: "test", workspace: "W", channel: "C", ownerId: "U", ownerName: "u", agent, cloud, model: null, size: null, zone: null, session: "s", prompt: null, createdAt: now - hours * 3_600_000, expiresAt: null });
      await store.updateSpawn(id, { status: "deleted", deletedAt: now });
      await store.costs.recordPrice(id, price ? { kind: "priced", ...price, source: "test" } : { kind: "free", source: "free" });
      await store.costs.recordSpend(id, { usage: llm, limit: 10, at: now });
    };
    await spawn("hetzner", "codex", 10, { perHour: 0.5, currency: "EUR" }, 1.5);
    await spawn("hetzner", "codex", 2, { perHour: 0.25, currency: "EUR" }, 0.5);
    await spawn("digitalocean", "claude", 4, { perHour: 1, currency: "USD" }, 2);
    await spawn("ssh", "claude", 4, undefined, 3);
    const s = await startOpsServer(0, "127.0.0.1", { storeOpen: async () => true, platformConnected: () => true }, { ...metrics, costTotals: () => store.costs.totals(now) });
    close = async () => { await s.close(); await store.close(); };
    const m = parsePrometheusText(await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text());
    expect(m.get("spawnbot_cloud_cost_total")?.type).toBe("counter");
    expect(sampleValue(m, "spawnbot_cloud_cost_total", { cloud: "hetzner", agent: "codex", currency: "EUR" })).toBeCloseTo(5.5, 6);
    expect(sampleValue(m, "spawnbot_cloud_cost_total", { cloud: "digitalocean", agent: "claude", currency: "USD" })).toBeCloseTo(4, 6);
    expect(sampleValue(m, "spawnbot_cloud_cost_total", { cloud: "ssh", agent: "claude", currency: "USD" })).toBeUndefined(); // free: no cost series
    expect(sampleValue(m, "spawnbot_llm_spend_total", { cloud: "hetzner", agent: "codex" })).toBeCloseTo(2, 6);
    expect(sampleValue(m, "spawnbot_llm_spend_total", { cloud: "ssh", agent: "claude" })).toBeCloseTo(3, 6);
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
