import { afterEach, describe, expect, it } from "vitest";
import { startOpsServer, type MetricsSource } from "./ops.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const metrics: MetricsSource = {
  spawnCounts: () => [{ status: "ready", cloud: "hetzner", count: 3 }, { status: "failed", cloud: "aws", count: 1 }],
  runsInFlight: () => 2,
  recentTimesToReady: () => [3000, 1000, 2000],
  chat: () => ({ platform: "slack", calls: 42, rateLimited: 1, inProgress: 3 }),
};

async function serve(platformConnected: boolean) {
  const s = await startOpsServer(0, "127.0.0.1", { storeOpen: () => true, platformConnected: () => platformConnected }, metrics);
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
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('spawnbot_spawns{status="ready",cloud="hetzner"} 3');
    expect(text).toContain("spawnbot_runs_in_flight 2");
    expect(text).toContain('spawnbot_time_to_ready_seconds{quantile="0.5"} 2');
    expect(text).toContain("spawnbot_time_to_ready_seconds_count 3");
    expect(text).toContain('spawnbot_chat_rate_limited_total{platform="slack"} 1');
    expect(text).toContain('spawnbot_chat_requests_in_progress{platform="slack"} 3');
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.eNa+-]+)$/);
  });
});
