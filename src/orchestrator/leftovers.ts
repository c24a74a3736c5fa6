// Leftovers of runs for a restarted or stopping bot: remove what a run that cannot go on made
// (found by its recorded id or by its spawn-id tag), and let runs reach a step boundary at shutdown.
import type { Cloud } from "./clouds/types.js";
import { tmuxKillCommand } from "./launch.js";
import type { RemoteHost } from "./remote/types.js";
import type { Run } from "./run.js";

/** How a spawn whose leftovers could not be removed yet reads to users; what is owed is recorded in cleanups_owed. */
export const CLEANUP_PENDING = "cleanup pending";
/** Spawn meta keys for a pending clean-up: the failure it ends with, and whether its session may exist ("1"/"0"). */
export const RECOVERY_META = { reason: "recoveryReason", session: "recoverySession" } as const;

/** The journal patch of a failed run whose leftovers could not be removed: live, visibly pending. */
export function cleanupPending(reason: string, problem: string, sessionMayExist: boolean) {
  return {
    status: "deleting" as const,
    error: `${CLEANUP_PENDING}: ${reason}; removing what it made failed (${problem}); the bot keeps retrying`,
    meta: { [RECOVERY_META.reason]: reason, [RECOVERY_META.session]: sessionMayExist ? "1" : "0" },
  };
}

/** A VM whose server goes anyway must not hold up start-up: a gone address fails the handshake only after 20 s. */
const BEST_EFFORT_STOP_MS = 8_000;

/** What recovery knows of an interrupted spawn (from the stored record and its steps). */
export interface LeftoverRecord {
  spawnId: string;
  cloud: string;
  serverId: string | null;
  address: string | null;
  session: string;
  /**
   * Whether this spawn may have started its tmux session (its launch step began). On an adopted
   * host a session of the same name that this spawn never started belongs to someone else.
   */
  sessionMayExist: boolean;
}

/**
 * VM clouds: delete the recorded server and every server tagged with the spawn id (a create whose
 * answer was lost before the id was recorded). Adopted hosts: take back what this spawn put there
 * (cleanUpAdopted), or without it kill only this spawn's session.
 * Throws when the cloud or host cannot be reached: the caller must not call it clean.
 */
export async function removeLeftovers(
  cloud: Cloud,
  rec: LeftoverRecord,
  openHost: () => Promise<RemoteHost>,
  cleanUpAdopted?: (host: RemoteHost) => Promise<void>,
): Promise<{ removed: string[] }> {
  if (!cloud.adopted) {
    // Like a failed run's clean-up: stop the session first (best effort: deleting the server stops it too).
    const stopped = rec.sessionMayExist && rec.address ? await withinMs(killSession(rec, openHost), BEST_EFFORT_STOP_MS) : false;
    const ids = new Set<string>(rec.serverId ? [rec.serverId] : []);
    for (const s of await cloud.listServers()) if (s.spawnId === rec.spawnId) ids.add(s.serverId);
    for (const id of ids) await cloud.deleteServer(id);
    return { removed: [...(stopped ? [`tmux session ${rec.session}`] : []), ...[...ids].map((id) => `server ${id}`)] };
  }
  if (cleanUpAdopted && rec.address) {
    // Everything the run put there (keys, files, daemons started before the launch), not only the session.
    const host = await openHost();
    try {
      await cleanUpAdopted(host);
    } finally {
      await host.close();
    }
    return { removed: [`what spawnbot put on the host${rec.sessionMayExist ? `, tmux session ${rec.session}` : ""}`] };
  }
  if (!rec.sessionMayExist || !rec.address) return { removed: [] };
  await killSession(rec, openHost);
  return { removed: [`tmux session ${rec.session}`] };
}

/** True when work succeeded within ms; false when it failed or took longer (it is left to finish). */
function withinMs(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work.then(() => true, () => false), late]).finally(() => clearTimeout(timer));
}

/** Kill exactly this spawn's tmux session (tmuxKillCommand matches the whole name). */
async function killSession(rec: LeftoverRecord, openHost: () => Promise<RemoteHost>): Promise<void> {
  const host = await openHost();
  try {
    await host.run(tmuxKillCommand(rec.session));
  } finally {
    await host.close();
  }
}

export interface SuspendReport {
  /** Runs that reached a step boundary (or ended) within the grace period. */
  stopped: string[];
  /** Runs still inside a step at the deadline, with that step: recovery ends them at next start. */
  left: { spawnId: string; step: string }[];
}

/** Ask every run to stop at its next step boundary; wait at most graceMs for them. */
export async function suspendRuns(runs: Run[], graceMs: number, stepOf: (spawnId: string) => string | undefined): Promise<SuspendReport> {
  const ended = new Set<string>();
  for (const run of runs) run.suspend();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  const all = Promise.all(runs.map((r) => r.done.then(() => ended.add(r.spawnId), () => ended.add(r.spawnId))));
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  return {
    stopped: runs.filter((r) => ended.has(r.spawnId)).map((r) => r.spawnId),
    left: runs.filter((r) => !ended.has(r.spawnId)).map((r) => ({ spawnId: r.spawnId, step: stepOf(r.spawnId) ?? "unknown" })),
  };
}
