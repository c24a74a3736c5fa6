// What the orchestrator counts for /metrics: how long each step took (a histogram per step)
// and the calls it made to each cloud's provider, with their errors by CloudError code (else
// "ERROR"). prom-client metrics, kept in memory since the process started.
import { Counter, Histogram, type Metric } from "prom-client";
import { CloudError, type Cloud } from "./clouds/types.js";

/** Upper bounds (seconds) of the step-duration buckets: from a local check to a long install. */
export const STEP_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900] as const;

/** The provider calls a Cloud makes; openHost and the rest are local. */
const COUNTED = new Set(["checkCredentials", "checkPlacement", "priceOf", "createServer", "getServer", "deleteServer", "listServers"]);

/**
 * prom-client metrics owned by one Orchestrator. They join no registry by themselves (tests make many
 * orchestrators in one process; a global registry would refuse the second): the ops server
 * registers `all` in its own.
 */
export class RunMetrics {
  readonly stepDuration = new Histogram({
    name: "spawnbot_step_duration_seconds", help: "How long each run step took (retries included).",
    labelNames: ["step"] as const, buckets: [...STEP_BUCKETS_S], registers: [],
  });
  readonly cloudCalls = new Counter({
    name: "spawnbot_cloud_api_calls_total", help: "Calls to a cloud provider, by cloud and operation.",
    labelNames: ["cloud", "operation"] as const, registers: [],
  });
  readonly cloudErrors = new Counter({
    name: "spawnbot_cloud_api_errors_total", help: "Failed calls to a cloud provider, by cloud, operation and error code.",
    labelNames: ["cloud", "operation", "code"] as const, registers: [],
  });
  readonly all: readonly Metric[] = [this.stepDuration, this.cloudCalls, this.cloudErrors];

  observeStep(step: string, ms: number): void {
    this.stepDuration.observe({ step }, ms / 1000);
  }

  /** The same cloud, with every provider call counted (and its failure, by code). */
  instrument(cloud: Cloud): Cloud {
    const count = (operation: string, err?: unknown) => {
      this.cloudCalls.inc({ cloud: cloud.key, operation });
      if (err !== undefined) this.cloudErrors.inc({ cloud: cloud.key, operation, code: err instanceof CloudError ? err.code : "ERROR" });
    };
    return new Proxy(cloud, {
      get(target, key) {
        // Read from the cloud itself (not the proxy), so getters and private fields work as before.
        const value: unknown = Reflect.get(target, key);
        if (typeof key !== "string" || !COUNTED.has(key) || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (err) {
            count(key, err);
            throw err;
          }
          if (result instanceof Promise) return (result as Promise<unknown>).then((v) => (count(key), v), (err: unknown) => { count(key, err); throw err; });
          count(key);
          return result;
        };
      },
    });
  }
}
