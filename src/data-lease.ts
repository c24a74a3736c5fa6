// The data's single owner: a running bot holds a lease in its store and renews it on a heartbeat.
// A second process on the same data refuses to start, naming the holder; a holder that stopped
// heartbeating (killed, frozen) is taken over once its lease has expired. Only the holder runs
// recovery and upkeep, so two bots never end or delete each other's runs.
import type { Store } from "./bot/index.js";
import { heartbeatLease, newHolderId } from "./lease-heartbeat.js";
import type { Logger } from "./log.js";

export { newHolderId } from "./lease-heartbeat.js";

export const DATA_LEASE = "data-owner";

export class DataLeaseHeldError extends Error {}

export interface DataLease {
  holder: string;
  /** Stop heartbeating and give the lease up, so the next start need not wait for it to expire. */
  release(): Promise<void>;
}

/**
 * Take the data's lease or throw DataLeaseHeldError with one line for the person starting the bot.
 * onLost runs if the lease is found taken over later (this process stalled past its expiry): the
 * caller must stop, because another process now owns the data.
 */
export async function holdDataLease(store: Store, opts: { dataDir: string; ttlMs: number; logger: Logger; onLost: () => void; holder?: string }): Promise<DataLease> {
  const holder = opts.holder ?? newHolderId();
  const taken = await store.leases.acquire(DATA_LEASE, holder, opts.ttlMs);
  if (!taken.ok) {
    const { lease } = taken;
    const now = Date.now();
    throw new DataLeaseHeldError(
      `another spawnbot holds the data in ${opts.dataDir}: ${lease.holder}, last heartbeat ${Math.round((now - lease.heartbeatAt) / 1000)} s ago. ` +
        `Stop it first; if it was killed, start again after its lease expires in ${Math.max(1, Math.ceil((lease.expiresAt - now) / 1000))} s`,
    );
  }
  if (taken.tookOver) opts.logger.warn({ previous: taken.tookOver.holder, lastHeartbeat: new Date(taken.tookOver.heartbeatAt).toISOString() }, "took over the data from a bot that stopped heartbeating");
  const beat = heartbeatLease(store.leases, {
    name: DATA_LEASE, holder, ttlMs: opts.ttlMs, logger: opts.logger,
    onLost: (now) => {
      opts.logger.fatal({ holder: now }, "another process took over the data after this one stalled; stopping");
      opts.onLost();
    },
  });
  return {
    holder,
    async release() {
      beat.stop();
      try {
        await store.leases.release(DATA_LEASE, holder);
      } catch (err) {
        opts.logger.warn({ err }, "could not release the data lease; the next start waits for it to expire");
      }
    },
  };
}
