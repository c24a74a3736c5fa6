// Replicas: a run taken from the job queue is also held by a lease in the store. pg-boss fails a
// job whose heartbeat came late and hands it to another replica at once, while the replica that
// had it may be in the middle of a step (a server being created, an install): its claim is only
// found gone at its next heartbeat, and it stops at the next step boundary. The replica taking
// the run waits for this lease, which the one before releases once its run has stopped (or which
// expires when that replica died), so one spawn's steps never run on two replicas at once.
import { heartbeatLease, newHolderId } from "../../lease-heartbeat.js";
import type { CoreContext } from "../context.js";

export interface RunClaim {
  /** Aborted when the lease was found taken over (this replica stalled past its expiry). */
  readonly lost: AbortSignal;
  /** Stop renewing and let the next replica have the run at once; never throws. */
  release(): Promise<void>;
}

const runLease = (spawnId: string) => `run:${spawnId}`;

/**
 * Take a run's lease, waiting while the replica that had the run still holds it (it renews it
 * until its run stops). Resolves undefined when this replica gives up waiting: it is stopping, or
 * its own job claim went away meanwhile.
 */
export async function holdRunClaim(ctx: Pick<CoreContext, "store" | "log">, spawnId: string, opts: { ttlMs: number; signal: AbortSignal; stopping(): boolean }): Promise<RunClaim | undefined> {
  const name = runLease(spawnId);
  const holder = newHolderId(); // this attempt alone: a later attempt on this replica is another holder
  let waitedFor: string | undefined;
  for (;;) { // bounded by the other holder's life: it renews only while its run goes on
    const taken = await ctx.store.leases.acquire(name, holder, opts.ttlMs);
    if (taken.ok) break;
    if (waitedFor !== taken.lease.holder) {
      waitedFor = taken.lease.holder;
      ctx.log.info({ spawnId, holder: waitedFor }, "waiting for the replica that had this run to stop it");
    }
    if (opts.stopping() || opts.signal.aborted) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(1000, opts.ttlMs / 4)));
  }
  const lost = new AbortController();
  const beat = heartbeatLease(ctx.store.leases, {
    name, holder, ttlMs: opts.ttlMs, logger: ctx.log,
    onLost: (now) => {
      ctx.log.warn({ spawnId, holder: now }, "another replica took this run over; stopping it here");
      lost.abort();
    },
  });
  return {
    lost: lost.signal,
    release: async () => {
      beat.stop();
      await ctx.store.leases.release(name, holder).catch((err: unknown) => ctx.log.warn({ err, spawnId }, "could not release a run's lease; it expires by itself"));
    },
  };
}
