// The operations endpoint: /healthz (liveness: the process answers), /readyz (readiness: the
// store is open and the chat platform connected) and /metrics in the Prometheus text format, made
// by prom-client with its default process and Node.js metrics beside spawnbot's own. It listens only when SPAWNBOT_OPS_PORT is set (the Docker image sets it for its HEALTHCHECK).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Registry, Summary, type Metric } from "prom-client";
import type { CostTotal, SpawnCount } from "./bot/index.js";

export interface OpsProbes {
  storeOpen(): Promise<boolean>;
  platformConnected(): boolean;
  /** Replicas: the job queue answers (absent for one bot on SQLite, which has none). */
  queueAnswers?: () => Promise<boolean>;
}

/** The replicas' job queue as /metrics reports it. */
export interface JobsSnapshot {
  counts: { queue: string; queued: number; active: number; failed: number }[];
  /** Runs this replica took over from a replica that stopped. */
  takeovers: number;
}

/** What /metrics reports, read fresh on every scrape. */
export interface MetricsSource {
  spawnCounts(): Promise<SpawnCount[]>;
  runsInFlight(): number;
  /** Milliseconds, newest first. */
  recentTimesToReady(): Promise<number[]>;
  /** inProgress: requests acknowledged whose work is queued or running (a burst shows here first). */
  chat(): { platform: string; calls: number; rateLimited: number; inProgress: number } | undefined;
  /** Spend of every spawn so far by cloud and agent (live ones up to now), from the store. */
  costTotals?(): Promise<CostTotal[]>;
  /** Replicas: jobs by queue and state, and this replica's takeovers. */
  jobs?: () => Promise<JobsSnapshot>;
  /** Replicas on Discord's gateway: how often this replica took the gateway lease over from a leader that stopped. */
  gatewayTakeovers?: () => number | undefined;
  /** Metrics kept where they happen (the orchestrator's step durations and cloud calls), served as they are. */
  own?: readonly Metric[];
}

const TIME_TO_READY_QUANTILES = [0.5, 0.9, 0.99];
/** How often the event-loop delay is sampled for nodejs_eventloop_lag_* (prom-client's default). */
const EVENT_LOOP_RESOLUTION_MS = 10;

let processRegistry: Registry | undefined;
/**
 * prom-client's default metrics (CPU, memory, handles, GC, event-loop lag), once per process:
 * they describe the process, and each collection starts its own event-loop monitor.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  }
  return processRegistry;
}

/** One registry per ops server: today's spawnbot_* metrics, the orchestrator's own, and the process defaults. */
export function metricsRegistry(src: MetricsSource): Registry {
  const own = new Registry();
  new Gauge({
    name: "spawnbot_spawns", help: "Spawns recorded, by status and cloud.", labelNames: ["status", "cloud"] as const, registers: [own],
    async collect() {
      const counts = await src.spawnCounts();
      this.reset();
      for (const c of counts) this.set({ status: c.status, cloud: c.cloud }, c.count);
    },
  });
  new Gauge({
    name: "spawnbot_runs_in_flight", help: "Runs of the pipeline going on now.", registers: [own],
    collect() { this.set(src.runsInFlight()); },
  });
  // From the store's window of recent ready spawns (it survives restarts), re-observed at each
  // scrape; the quantiles are prom-client's estimates over that window (exact for a few values).
  new Summary({
    name: "spawnbot_time_to_ready_seconds", help: "Time from the request to a ready agent, over the most recent ready spawns.",
    percentiles: TIME_TO_READY_QUANTILES, registers: [own],
    async collect() {
      const times = await src.recentTimesToReady();
      this.reset();
      for (const ms of times) this.observe(ms / 1000);
    },
  });
  // Counters kept by the chat adapter: copied at each scrape (reset, then set to the adapter's total).
  const chatCounter = (name: string, help: string, read: (c: NonNullable<ReturnType<MetricsSource["chat"]>>) => number) =>
    new Counter({
      name, help, labelNames: ["platform"] as const, registers: [own],
      collect() {
        this.reset();
        const chat = src.chat();
        if (chat) this.inc({ platform: chat.platform }, read(chat));
      },
    });
  chatCounter("spawnbot_chat_api_calls_total", "Calls made to the chat platform's API.", (c) => c.calls);
  chatCounter("spawnbot_chat_rate_limited_total", "Rate-limit (429) answers from the chat platform.", (c) => c.rateLimited);
  new Gauge({
    name: "spawnbot_chat_requests_in_progress", help: "Chat requests acknowledged whose work is queued or running.", labelNames: ["platform"] as const, registers: [own],
    collect() {
      this.reset();
      const chat = src.chat();
      if (chat) this.set({ platform: chat.platform }, chat.inProgress);
    },
  });
  // Spend since the first spawn, read from the store at each scrape (it survives restarts): cloud
  // cost in the currency each cloud bills, LLM spend through spawns' own keys in US dollars.
  new Counter({
    name: "spawnbot_cloud_cost_total", help: "Cloud cost of spawns so far (hours × price an hour), by cloud, agent and the currency the cloud bills in.",
    labelNames: ["cloud", "agent", "currency"] as const, registers: [own],
    async collect() {
      this.reset();
      for (const t of (await src.costTotals?.()) ?? []) if (t.currency) this.inc({ cloud: t.cloud, agent: t.agent, currency: t.currency }, t.cloudCost);
    },
  });
  new Counter({
    name: "spawnbot_llm_spend_total", help: "LLM spend in US dollars through spawns' own OpenRouter keys, by cloud and agent.",
    labelNames: ["cloud", "agent"] as const, registers: [own],
    async collect() {
      this.reset();
      const byLabels = new Map<string, { cloud: string; agent: string; usd: number }>();
      for (const t of (await src.costTotals?.()) ?? []) {
        const key = `${t.cloud}\u0000${t.agent}`;
        const row = byLabels.get(key) ?? { cloud: t.cloud, agent: t.agent, usd: 0 };
        row.usd += t.llmUsd;
        byLabels.set(key, row);
      }
      for (const r of byLabels.values()) this.inc({ cloud: r.cloud, agent: r.agent }, r.usd);
    },
  });
  // The queue's counts are the whole cluster's (read from its tables); takeovers are this replica's.
  new Gauge({
    name: "spawnbot_jobs", help: "Jobs in the replicas' queue by queue and state (queued, running, failed and kept).",
    labelNames: ["queue", "state"] as const, registers: [own],
    async collect() {
      this.reset();
      for (const c of (await src.jobs?.())?.counts ?? []) {
        this.set({ queue: c.queue, state: "queued" }, c.queued);
        this.set({ queue: c.queue, state: "running" }, c.active);
        this.set({ queue: c.queue, state: "failed" }, c.failed);
      }
    },
  });
  new Counter({
    name: "spawnbot_lease_takeovers_total",
    help: "Leases this replica took over after their holder stopped: runs (from a replica that died or stopped for a restart) and the Discord gateway.",
    labelNames: ["lease"] as const, registers: [own],
    async collect() {
      this.reset();
      const jobs = await src.jobs?.();
      if (jobs) this.inc({ lease: "run" }, jobs.takeovers);
      const gateway = src.gatewayTakeovers?.();
      if (gateway !== undefined) this.inc({ lease: "discord-gateway" }, gateway);
    },
  });
  for (const metric of src.own ?? []) own.registerMetric(metric);
  return Registry.merge([own, processMetrics()]);
}

export async function startOpsServer(port: number, host: string, probes: OpsProbes, metrics: MetricsSource): Promise<{ port: number; close(): Promise<void> }> {
  const registry = metricsRegistry(metrics);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/healthz") return send(200, "application/json", JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      void Promise.all([probes.storeOpen().catch(() => false), probes.queueAnswers?.().catch(() => false)]).then(([store, queue]) => {
        const checks = { store, platform: probes.platformConnected(), ...(queue === undefined ? {} : { queue }) };
        const ok = checks.store && checks.platform && queue !== false;
        send(ok ? 200 : 503, "application/json", JSON.stringify({ status: ok ? "ready" : "not ready", ...checks }));
      }).catch(() => res.destroy()); // the scraper went away mid-answer
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then((body) => send(200, registry.contentType, body), () => send(500, "text/plain", "metrics unavailable\n"));
      return;
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
