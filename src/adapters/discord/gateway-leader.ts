// One gateway connection across replicas: Discord delivers each interaction to every session the
// bot token holds, so of several replicas only the holder of a lease in the shared store logs in
// to the gateway. A standby asks for the lease every TTL/3 and connects when it gets it (its
// holder stopped, or died and let it expire); a leader that finds its lease taken over disconnects
// at once. REST (posts, edits, DMs) needs no gateway and works on every replica.
import type { Store } from "../../bot/index.js";
import { BEATS_PER_TTL, heartbeatLease, newHolderId, type LeaseHeartbeat } from "../../lease-heartbeat.js";
import type { Logger } from "../../log.js";

export const GATEWAY_LEASE = "discord-gateway";

export interface GatewayLeaderOptions {
  leases: Store["leases"];
  /** The lease's lifetime without renewal (config.leaseTtlMs): a dead leader's successor connects within it. */
  ttlMs: number;
  /** Who this replica is in the lease and the logs; host, pid and a tag by default. */
  holder?: string;
}

export type GatewayRole = "leader" | "standby";

interface Gateway {
  /** Log in; resolves once the session is ready. */
  connect(): Promise<void>;
  /** Close the session at once. */
  disconnect(): Promise<void>;
}

export class GatewayLeadership {
  readonly holder: string;
  /** Terms as leader begun, leases taken over from a replica that stopped renewing, terms ended by a takeover (metrics). */
  readonly counts = { terms: 0, takeovers: 0, lost: 0 };
  private beat?: LeaseHeartbeat;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private standingBy = false;
  private leading = false;
  /** Connects and disconnects happen one after another, never interleaved. */
  private turn: Promise<void> = Promise.resolve();

  constructor(private readonly opts: GatewayLeaderOptions, private readonly gateway: Gateway, private readonly log: Logger) {
    this.holder = opts.holder ?? newHolderId();
  }

  get role(): GatewayRole {
    return this.leading ? "leader" : "standby";
  }

  /** Try for the lease now (connecting if it is ours), then keep trying every TTL/3 while standing by. */
  async start(): Promise<void> {
    await this.attempt();
  }

  /** Stop trying; a leader disconnects and gives the lease up, so a standby need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.beat?.stop();
    await this.serially(async () => {
      if (!this.leading) return;
      this.leading = false;
      await this.gateway.disconnect();
      await this.opts.leases.release(GATEWAY_LEASE, this.holder).catch((err: unknown) => {
        this.log.warn({ err }, "could not release the Discord gateway lease; a standby connects once it expires");
      });
    });
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.leading) return;
    let taken: Awaited<ReturnType<Store["leases"]["acquire"]>>;
    try {
      taken = await this.opts.leases.acquire(GATEWAY_LEASE, this.holder, this.opts.ttlMs);
    } catch (err) {
      this.log.warn({ err }, "could not ask for the Discord gateway lease; trying again");
      return this.retry();
    }
    if (this.stopped) {
      if (taken.ok) await this.opts.leases.release(GATEWAY_LEASE, this.holder).catch(() => undefined);
      return;
    }
    if (!taken.ok) {
      if (!this.standingBy) this.log.info({ leader: taken.lease.holder }, "standing by: another replica holds the Discord gateway; this one serves REST and takes over if it stops");
      this.standingBy = true;
      return this.retry();
    }
    this.standingBy = false;
    this.leading = true;
    this.counts.terms++;
    if (taken.tookOver) this.counts.takeovers++;
    if (taken.tookOver) this.log.warn({ previous: taken.tookOver.holder }, "took over the Discord gateway from a replica that stopped renewing its lease");
    this.log.info({ holder: this.holder }, "holding the Discord gateway lease; logging in to the gateway");
    this.beat = heartbeatLease(this.opts.leases, {
      name: GATEWAY_LEASE, holder: this.holder, ttlMs: this.opts.ttlMs, logger: this.log,
      onLost: (now) => void this.lose(now),
    });
    await this.serially(async () => {
      if (!this.leading) return; // lost (or stopped) before the turn came
      try {
        await this.gateway.connect();
      } catch (err) {
        this.log.error({ err }, "could not log in to the Discord gateway; giving the lease up and trying again");
        this.leading = false;
        this.beat?.stop();
        await this.opts.leases.release(GATEWAY_LEASE, this.holder).catch(() => undefined);
        this.retry();
      }
    });
  }

  /** Another replica holds the lease now: close this one's session at once, then stand by. */
  private async lose(now: string | undefined): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.counts.lost++;
    this.log.warn({ leader: now }, "another replica took over the Discord gateway; disconnecting");
    await this.serially(() => this.gateway.disconnect());
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), Math.max(1, Math.floor(this.opts.ttlMs / BEATS_PER_TTL)));
    this.timer.unref();
  }

  /** Run step after the steps before it; its failure is logged here, never thrown. */
  private serially(step: () => Promise<void>): Promise<void> {
    this.turn = this.turn.then(step).catch((err: unknown) => this.log.error({ err }, "Discord gateway connect or disconnect failed"));
    return this.turn;
  }
}
