// What the orchestrator counts for /metrics: how long each step took (a histogram per step)
// and the calls it made to each cloud's provider, with their errors by CloudError code. Kept in
// memory since the process started, as Prometheus counters are.
import { CloudError, type Cloud } from "./clouds/types.js";

/** Upper bounds (seconds) of the step-duration buckets: from a local check to a long install. */
export const STEP_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900] as const;

export interface StepHistogram {
  step: string;
  /** Cumulative counts per bound in STEP_BUCKETS_S; count is the +Inf bucket. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

export interface CloudCallCount {
  cloud: string;
  operation: string;
  calls: number;
  /** Errors by code (CloudError's, else "ERROR"). */
  errors: Record<string, number>;
}

/** The provider calls a Cloud makes; openHost and the rest are local. */
const COUNTED = new Set(["checkCredentials", "checkPlacement", "createServer", "getServer", "deleteServer", "listServers"]);

export class RunMetrics {
  private readonly steps = new Map<string, StepHistogram>();
  private readonly cloudCalls = new Map<string, CloudCallCount>();

  observeStep(step: string, ms: number): void {
    let h = this.steps.get(step);
    if (!h) this.steps.set(step, (h = { step, buckets: STEP_BUCKETS_S.map(() => 0), sumSeconds: 0, count: 0 }));
    const s = ms / 1000;
    STEP_BUCKETS_S.forEach((bound, i) => { if (s <= bound) h.buckets[i]!++; });
    h.sumSeconds += s;
    h.count++;
  }

  stepHistograms(): StepHistogram[] {
    return [...this.steps.values()].map((h) => ({ ...h, buckets: [...h.buckets] }));
  }

  cloudCallCounts(): CloudCallCount[] {
    return [...this.cloudCalls.values()].map((c) => ({ ...c, errors: { ...c.errors } }));
  }

  /** The same cloud, with every provider call counted (and its failure, by code). */
  instrument(cloud: Cloud): Cloud {
    const count = (operation: string, err?: unknown) => {
      const key = `${cloud.key}/${operation}`;
      let c = this.cloudCalls.get(key);
      if (!c) this.cloudCalls.set(key, (c = { cloud: cloud.key, operation, calls: 0, errors: {} }));
      c.calls++;
      if (err !== undefined) {
        const code = err instanceof CloudError ? err.code : "ERROR";
        c.errors[code] = (c.errors[code] ?? 0) + 1;
      }
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
          if (result instanceof Promise) return result.then((v) => (count(key), v), (err: unknown) => { count(key, err); throw err; });
          count(key);
          return result;
        };
      },
    });
  }
}
