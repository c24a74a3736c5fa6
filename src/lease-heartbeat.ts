// Keeping a lease once taken: renew it BEATS_PER_TTL times per lease period, so two missed beats
// still leave it ours. A renewal the store refuses means another holder took the lease over (this
// process stalled past its expiry): the holder is told once and must stop acting as the holder.
// Used by the data's single owner (data-lease.ts) and the Discord gateway's leader.
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Store } from "./bot/index.js";
import type { Logger } from "./log.js";

/** Renew this many times per lease period: two missed beats still leave the lease ours. */
export const BEATS_PER_TTL = 3;

/** Who holds a lease, as a person at another terminal can find it: host, pid and a tag. */
export function newHolderId(): string {
  return `${os.hostname()} pid ${process.pid} (${randomBytes(3).toString("hex")})`;
}

export interface LeaseHeartbeat {
  /** Stop renewing (the lease is then released, or left to expire). */
  stop(): void;
}

export interface HeartbeatOptions {
  name: string;
  holder: string;
  ttlMs: number;
  logger: Logger;
  /** The lease is no longer ours: newHolder holds it now (when the store could say). Called once. */
  onLost(newHolder: string | undefined): void;
}

/** Renew a lease we hold every ttlMs / BEATS_PER_TTL until stopped or found taken over. */
export function heartbeatLease(leases: Store["leases"], opts: HeartbeatOptions): LeaseHeartbeat {
  let stopped = false;
  const renew = async () => {
    let ours: boolean;
    try {
      ours = await leases.renew(opts.name, opts.holder, opts.ttlMs);
    } catch (err) {
      opts.logger.warn({ err, lease: opts.name }, "could not renew a lease; trying again at the next heartbeat");
      return;
    }
    if (ours || stopped) return;
    stopped = true;
    clearInterval(beat);
    const now = await leases.get(opts.name).catch(() => undefined);
    opts.onLost(now?.holder);
  };
  const beat = setInterval(() => void renew(), Math.max(1, Math.floor(opts.ttlMs / BEATS_PER_TTL)));
  beat.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(beat);
    },
  };
}
