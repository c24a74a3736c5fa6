// The replicas' shared work on PostgreSQL, through pg-boss: a spawn's run is a job that one replica
// holds at a time (its heartbeat is the run's lease: a replica that dies stops beating and another
// takes the job and continues the run from its journal), and each upkeep pass is a job sent at most
// once per period across all replicas (pg-boss's singleton slots), so an expiry sweep or a reconcile
// runs once per period however many replicas there are.
import { PgBoss, type Job } from "pg-boss";
import { BEATS_PER_TTL } from "../lease-heartbeat.js";
import type { Logger } from "../log.js";
import { secrets } from "../secrets.js";

export const RUN_QUEUE = "spawn-run";
export const UPKEEP_QUEUE = "upkeep";
/** pg-boss keeps its tables in their own schema, beside the store's. */
export const JOBS_SCHEMA = "spawnbot_jobs";
/**
 * A run interrupted this many times (its replica died or stopped each time) is ended cleanly
 * instead of being tried again: something about it keeps killing replicas.
 */
export const RUN_ATTEMPTS = 20;
/** pg-boss's floor for a job heartbeat. */
const MIN_HEARTBEAT_S = 10;
/** How often a replica looks for runs whose holder stopped beating: a third of the shortest heartbeat keeps takeover within the lease. */
const SUPERVISE_INTERVAL_S = 5;
/**
 * pg-boss fails jobs by stale heartbeat only in its monitor pass, which runs at most once per
 * monitorIntervalSeconds (60 s by default) across all instances, whatever the supervise interval:
 * at the default a dead replica's runs moved 39–63 s after its SIGKILL (bench:replicas), past the
 * lease. Monitoring as often as supervising keeps takeover within the lease; the monitor's queue
 * stats aggregate then runs every 5 s too (cheap at a bot's job counts: pg-boss measured 0.19 s at 1M rows).
 */
const MONITOR_INTERVAL_S = SUPERVISE_INTERVAL_S;
/** How often an idle worker asks for the next job when no notification came (LISTEN/NOTIFY wakes it sooner). */
const POLL_INTERVAL_S = 1;
/** A run job is failed (and retried elsewhere) if one attempt takes longer than this: longer than any run. */
const RUN_EXPIRE_S = 4 * 3600;
/** Upkeep passes are retried a few times (a replica died mid-pass); the next period's pass comes anyway. */
const UPKEEP_RETRIES = 2;
const UPKEEP_EXPIRE_S = 15 * 60;
/** Completed and failed jobs are kept this long for `/metrics` and for people looking into a run. */
const KEEP_FINISHED_S = 7 * 24 * 3600;

/** What the job queue asks of the bot core. */
export interface QueueWork {
  /**
   * Start or continue a spawn's run here; resolves with how the run ended ("interrupted" when this
   * replica stopped it for shutdown or lost its claim). The signal aborts when the claim is gone.
   */
  takeRun(spawnId: string, opts: { lastAttempt: boolean; claimTtlMs: number; signal: AbortSignal; stopping: () => boolean }): Promise<string>;
}

export interface JobCounts {
  queue: string;
  queued: number;
  active: number;
  failed: number;
}

export interface JobQueue {
  /** Hand a recorded spawn's run to the next free replica; nothing happens if it is queued or running already. */
  enqueueRun(spawnId: string): Promise<void>;
  /** Take a running run's claim away (its replica reads the cancel mark and cancels it); says where the run was: "running", "queued" or "none". */
  cancelRun(spawnId: string): Promise<"running" | "queued" | "none">;
  /** Start taking runs (after the chat adapter is up: a run's status message needs it). */
  workRuns(work: QueueWork): Promise<void>;
  /** Run pass every intervalMs, once per period across all replicas. */
  every(name: string, intervalMs: number, pass: () => Promise<unknown>): { stop(): Promise<void> };
  /** Take no more jobs (the first step of a shutdown); runs in flight go on until suspended. */
  stopTaking(): Promise<void>;
  /** Wait (bounded) for the handlers in flight, then close the queue's connections. */
  close(timeoutMs: number): Promise<void>;
  /** Readiness: the queue's database answers. */
  answers(): Promise<boolean>;
  counts(): Promise<JobCounts[]>;
  /** Runs this replica took over from a replica that stopped beating or stopped for shutdown. */
  readonly takeovers: number;
}

export async function openJobQueue(url: string, opts: {
  leaseTtlMs: number; logger: Logger; instance: string;
  /** Runs this replica works on at once (SPAWNBOT_RUNS_PER_REPLICA): a lower cap spreads a burst over the replicas. */
  runsPerReplica: number;
}): Promise<JobQueue> {
  const log = opts.logger.child({ part: "jobs" });
  const boss = new PgBoss({
    connectionString: url, schema: JOBS_SCHEMA, application_name: `spawnbot ${opts.instance}`,
    superviseIntervalSeconds: SUPERVISE_INTERVAL_S, monitorIntervalSeconds: MONITOR_INTERVAL_S, instanceName: opts.instance,
    max: 4, // the store has its own pool; the queue needs a few connections for fetches, heartbeats and upkeep sends
  });
  boss.on("error", (err: Error) => log.warn({ err: secrets.redact(err.message) }, "job queue error"));
  await boss.start();
  const heartbeatSeconds = Math.max(MIN_HEARTBEAT_S, Math.round(opts.leaseTtlMs / 2000));
  // One job per spawn while it is queued or running ("exclusive" with the spawn id as key): sending
  // again for a spawn whose run is on its way is a no-op, so a sweep may send for every live run.
  await boss.createQueue(RUN_QUEUE, {
    policy: "exclusive", heartbeatSeconds, retryLimit: RUN_ATTEMPTS, retryDelay: 0, expireInSeconds: RUN_EXPIRE_S, deleteAfterSeconds: KEEP_FINISHED_S,
  });
  await boss.createQueue(UPKEEP_QUEUE, { retryLimit: UPKEEP_RETRIES, retryDelay: 1, expireInSeconds: UPKEEP_EXPIRE_S, deleteAfterSeconds: KEEP_FINISHED_S });
  const passes = new Map<string, () => Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  let takeovers = 0;
  let taking = true;

  const runJobOf = async (spawnId: string) =>
    (await boss.findJobs<{ spawnId: string }>(RUN_QUEUE, { key: spawnId, queued: false }))
      .filter((j) => j.state === "created" || j.state === "retry" || j.state === "active");

  let work: QueueWork | undefined;
  let upkeepWorking: Promise<string> | undefined;
  // Upkeep jobs are taken only once this replica has its passes (after its chat adapter is up).
  const workUpkeep = () => boss.work<{ name: string }>(UPKEEP_QUEUE, { pollingIntervalSeconds: POLL_INTERVAL_S, localConcurrency: 4 }, async ([job]) => {
    if (!job) return;
    const pass = passes.get(job.data.name);
    if (!pass) throw new Error(`no upkeep pass named ${job.data.name} on this replica`);
    const started = Date.now();
    const result = await pass();
    log.debug({ job: job.data.name, ms: Date.now() - started, result }, "upkeep pass done");
  });

  return {
    get takeovers() { return takeovers; },
    async enqueueRun(spawnId) {
      await boss.send(RUN_QUEUE, { spawnId }, { singletonKey: spawnId });
    },
    async cancelRun(spawnId) {
      const jobs = await runJobOf(spawnId);
      const active = jobs.filter((j) => j.state === "active");
      // Only a running job is cancelled (its holder's claim goes away); a queued one stays, and
      // the replica that takes it reads the cancel mark and ends the spawn.
      if (active.length > 0) await boss.cancel(RUN_QUEUE, active.map((j) => j.id));
      return active.length > 0 ? "running" : jobs.length > 0 ? "queued" : "none";
    },
    async workRuns(w) {
      work = w;
      // pg-boss beats every half heartbeat by default, so one late beat (a loaded host, a busy pool)
      // fails the job of a live run and another replica starts it alongside; like the bot's other
      // leases, beat often enough that two missed beats still leave the claim ours.
      const heartbeatRefreshSeconds = heartbeatSeconds / BEATS_PER_TTL;
      await boss.work<{ spawnId: string }>(RUN_QUEUE, { pollingIntervalSeconds: POLL_INTERVAL_S, localConcurrency: opts.runsPerReplica, heartbeatRefreshSeconds }, async ([job]) => {
        if (!job) return;
        await takeRunJob(job);
      });
      log.info({ heartbeatSeconds, runsPerReplica: opts.runsPerReplica }, "taking spawn runs from the job queue");
    },
    every(name, intervalMs, pass) {
      passes.set(name, pass);
      upkeepWorking ??= workUpkeep();
      upkeepWorking.catch((err: Error) => log.error({ err: secrets.redact(err.message) }, "could not take upkeep jobs"));
      const seconds = Math.max(1, Math.round(intervalMs / 1000));
      // Every replica offers the pass each period; the singleton slot lets one job per period through.
      const offer = () => {
        if (!taking) return;
        boss.send(UPKEEP_QUEUE, { name }, { singletonKey: name, singletonSeconds: seconds })
          .catch((err: Error) => log.warn({ err: secrets.redact(err.message), job: name }, "could not offer an upkeep pass"));
      };
      offer();
      const timer = setInterval(offer, Math.min(intervalMs, seconds * 1000));
      timers.add(timer);
      return { stop: async () => { clearInterval(timer); timers.delete(timer); } };
    },
    async stopTaking() {
      taking = false;
      for (const t of timers) clearInterval(t);
      timers.clear();
      await Promise.all([boss.offWork(RUN_QUEUE, { wait: false }), boss.offWork(UPKEEP_QUEUE, { wait: false })]).catch(() => undefined);
    },
    async close(timeoutMs) {
      await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
    },
    async answers() {
      try {
        await boss.getQueue(RUN_QUEUE);
        return true;
      } catch {
        return false;
      }
    },
    async counts() {
      const queues = await boss.getQueues([RUN_QUEUE, UPKEEP_QUEUE]);
      return queues.map((q) => ({ queue: q.name, queued: q.queuedCount, active: q.activeCount, failed: q.failedCount ?? 0 }));
    },
  };

  async function takeRunJob(job: Job<{ spawnId: string }>): Promise<void> {
    const { spawnId } = job.data;
    if (job.retryCount > 0) {
      takeovers++;
      log.info({ spawnId, attempt: job.retryCount + 1 }, "took over a run another replica left");
    }
    if (!work) throw new Error("this replica takes no runs yet");
    const outcome = await work.takeRun(spawnId, {
      lastAttempt: job.retryCount >= RUN_ATTEMPTS,
      claimTtlMs: heartbeatSeconds * 1000, // the run's store lease lapses with its job's heartbeat
      signal: job.signal,
      stopping: () => !taking,
    });
    // Interrupted here (shutdown, or the claim was lost): failing the job hands it to another replica.
    // (takeRun throws, with the same effect, when a stopping replica could not show a run's final state.)
    if (outcome === "interrupted") throw new Error("the run was interrupted on this replica; another replica continues it");
  }
}
