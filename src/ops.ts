// The operations endpoint: /healthz (liveness: the process answers), /readyz (readiness: the
// store is open and the chat platform connected) and /metrics in the Prometheus text format.
// It listens only when SPAWNBOT_OPS_PORT is set (the Docker image sets it for its HEALTHCHECK).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SpawnCount } from "./bot/store/index.js";
import { STEP_BUCKETS_S, type CloudCallCount, type StepHistogram } from "./orchestrator/index.js";

export interface OpsProbes {
  storeOpen(): boolean;
  platformConnected(): boolean;
}

/** What /metrics reports, read fresh on every scrape. */
export interface MetricsSource {
  spawnCounts(): SpawnCount[];
  runsInFlight(): number;
  /** Milliseconds, newest first. */
  recentTimesToReady(): number[];
  /** inProgress: requests acknowledged whose work is queued or running (a burst shows here first). */
  chat(): { platform: string; calls: number; rateLimited: number; inProgress: number } | undefined;
  /** Duration histograms of the run steps that ended since the start. */
  steps?(): StepHistogram[];
  /** Calls to each cloud's provider and their errors since the start. */
  cloudCalls?(): CloudCallCount[];
}

export function renderMetrics(src: MetricsSource): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
  };
  metric("spawnbot_spawns", "gauge", "Spawns recorded, by status and cloud.",
    src.spawnCounts().map((c) => [`{status="${c.status}",cloud="${label(c.cloud)}"}`, c.count]));
  metric("spawnbot_runs_in_flight", "gauge", "Runs of the pipeline going on now.", [["", src.runsInFlight()]]);
  const ready = [...src.recentTimesToReady()].sort((a, b) => a - b).map((ms) => ms / 1000);
  const q = (p: number) => (ready.length ? ready[Math.min(ready.length - 1, Math.ceil(p * ready.length) - 1)]! : NaN);
  metric("spawnbot_time_to_ready_seconds", "summary", "Time from the request to a ready agent, over the most recent ready spawns.", [
    ['{quantile="0.5"}', q(0.5)], ['{quantile="0.9"}', q(0.9)], ['{quantile="0.99"}', q(0.99)],
  ]);
  out.push(`spawnbot_time_to_ready_seconds_sum ${ready.reduce((a, b) => a + b, 0)}`, `spawnbot_time_to_ready_seconds_count ${ready.length}`);
  const chat = src.chat();
  if (chat) {
    metric("spawnbot_chat_api_calls_total", "counter", "Calls made to the chat platform's API.", [[`{platform="${chat.platform}"}`, chat.calls]]);
    metric("spawnbot_chat_rate_limited_total", "counter", "Rate-limit (429) answers from the chat platform.", [[`{platform="${chat.platform}"}`, chat.rateLimited]]);
    metric("spawnbot_chat_requests_in_progress", "gauge", "Chat requests acknowledged whose work is queued or running.", [[`{platform="${chat.platform}"}`, chat.inProgress]]);
  }
  const steps = src.steps?.() ?? [];
  out.push("# HELP spawnbot_step_duration_seconds How long each run step took (retries included).", "# TYPE spawnbot_step_duration_seconds histogram");
  for (const h of steps) {
    const step = label(h.step);
    STEP_BUCKETS_S.forEach((bound, i) => out.push(`spawnbot_step_duration_seconds_bucket{step="${step}",le="${bound}"} ${h.buckets[i]}`));
    out.push(`spawnbot_step_duration_seconds_bucket{step="${step}",le="+Inf"} ${h.count}`,
      `spawnbot_step_duration_seconds_sum{step="${step}"} ${h.sumSeconds}`, `spawnbot_step_duration_seconds_count{step="${step}"} ${h.count}`);
  }
  const cloud = src.cloudCalls?.() ?? [];
  metric("spawnbot_cloud_api_calls_total", "counter", "Calls to a cloud provider, by cloud and operation.",
    cloud.map((c) => [`{cloud="${label(c.cloud)}",operation="${label(c.operation)}"}`, c.calls]));
  metric("spawnbot_cloud_api_errors_total", "counter", "Failed calls to a cloud provider, by cloud, operation and error code.",
    cloud.flatMap((c) => Object.entries(c.errors).map(([code, n]): [string, number] => [`{cloud="${label(c.cloud)}",operation="${label(c.operation)}",code="${label(code)}"}`, n])));
  return `${out.join("\n")}\n`;
}

/** Label values come from our own data, but a quote or backslash would still break the format. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, "_");
}

export async function startOpsServer(port: number, host: string, probes: OpsProbes, metrics: MetricsSource): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/healthz") return send(200, "application/json", JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      const checks = { store: probes.storeOpen(), platform: probes.platformConnected() };
      const ok = checks.store && checks.platform;
      return send(ok ? 200 : 503, "application/json", JSON.stringify({ status: ok ? "ready" : "not ready", ...checks }));
    }
    if (path === "/metrics") {
      try {
        return send(200, "text/plain; version=0.0.4", renderMetrics(metrics));
      } catch {
        return send(500, "text/plain", "metrics unavailable\n");
      }
    }
    send(404, "text/plain", "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
