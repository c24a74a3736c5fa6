// Start-up recovery and graceful shutdown around the adapter: recovery continues what a killed bot left
// before commands are taken; on SIGTERM/SIGINT commands stop first, then runs get until the end of
// their current step (within a grace period), and what is left is continued by the next start-up.
import type { ChatAdapter } from "./bot/index.js";
import type { BotCore } from "./bot/index.js";
import type { Logger } from "./log.js";
import type { Orchestrator, SuspendReport } from "./orchestrator/index.js";

/** Resolves with the signal's name on the first SIGINT or SIGTERM. */
export function nextStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

/** Run recovery once, before any adapter takes commands; the upkeep schedule retries what it left pending. */
export async function recoverAtStartUp(core: BotCore, logger: Logger): Promise<void> {
  const report = await core.recover({ startUp: true });
  logger.info({ ...report }, "start-up recovery done");
}

/** Stop taking commands, then let runs reach a step boundary within graceMs; logs what was left. */
export async function shutDown(opts: {
  signal: string;
  stopIntake: () => Promise<void>;
  orchestrator: Orchestrator;
  graceMs: number;
  logger: Logger;
}): Promise<SuspendReport> {
  const { logger } = opts;
  logger.info({ signal: opts.signal, graceMs: opts.graceMs, runs: opts.orchestrator.inFlight().length }, "stopping: no new commands");
  await opts.stopIntake();
  const report = await opts.orchestrator.suspendAll(opts.graceMs);
  if (report.stopped.length) logger.info({ spawnIds: report.stopped }, "runs stopped at a step boundary; the next start-up continues them");
  if (report.left.length) logger.warn({ runs: report.left }, "runs still inside a step at the shutdown deadline; the next start-up runs that step again");
  return report;
}

/**
 * Start the adapter and its upkeep, and run until the adapter ends on its own (the console's input
 * ended) or SIGINT/SIGTERM: then stop taking requests and let runs reach a step boundary. Resolves
 * with the process exit code.
 */
export async function runUntilStopped(
  adapter: ChatAdapter,
  stopping: { orchestrator: Orchestrator; graceMs: number; logger: Logger },
  startUpkeep: () => { stop(): Promise<void> } = () => ({ stop: async () => undefined }),
): Promise<number> {
  await adapter.start();
  const upkeep = startUpkeep(); // after the adapter is up: reminders and reports need its outlet
  let signalled = false;
  const stopped = nextStopSignal().then((signal) => {
    signalled = true;
    return shutDown({ signal, stopIntake: async () => { await upkeep.stop(); await adapter.stop(); }, ...stopping });
  }).then(() => 0);
  try {
    // Input that ends because of the signal is an orderly stop: the shutdown's result is the exit code.
    return await Promise.race([adapter.ended.then((code) => (signalled ? stopped : code)), stopped]);
  } finally {
    await upkeep.stop();
  }
}
