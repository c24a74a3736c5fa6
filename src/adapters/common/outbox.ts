// One outbound queue per workspace for a chat platform's API: calls wait in lanes (a lane per
// rate limit, e.g. "posts to channel C1" or "chat.update"), each lane a token bucket; a call
// with a coalescing key replaces a queued call with the same key, so only the newest state of a
// message is ever sent; a rate-limit answer pauses its lane for Retry-After and the call is sent
// again. Platform details (which lane, what a 429 looks like) come from the adapter.
// Replicas that post into one workspace share its limits: with `slots`, each send first books its
// lane's next free time in the shared store (one booking per send, spaced 1/perSecond apart over
// every replica) and waits for it; without, or while the store does not answer, the lane's local
// token bucket paces it.

export interface LaneLimit {
  /** Calls per second the lane may make on average. */
  perSecond: number;
  /** Calls that may go at once after a quiet spell. */
  burst: number;
}

export interface OutboxCall<T> {
  lane: string;
  /** Calls with the same key still waiting in the lane are replaced by the newest. */
  coalesceKey?: string;
  /** Asked when the lane picks its next call: urgent calls (a run's final state) go before the
   * others, so a backlog of progress never delays what a user must see. */
  urgent?: () => boolean;
  send: () => Promise<T>;
}

/** The shared booking of send times (the store's sendSlots on PostgreSQL). */
export interface SendSlotBooking {
  /** Book the lane's next slot (spacingMs apart once `burst` calls went at once); its time in ms since epoch. */
  reserve(lane: string, spacingMs: number, burst: number): Promise<number>;
}

/** A booking slower than this is not waited for (the database is unreachable or stalled): local pacing sends the call. */
export const SLOT_TIMEOUT_MS = 2_000;
/** After a failed booking, lanes pace locally this long before asking the store again, so an outage costs one wait, not one per call. */
export const SLOTS_RETRY_MS = 5_000;

export interface OutboxOptions {
  /** The limit of a lane by its name. */
  limitFor(lane: string): LaneLimit;
  /** Seconds to wait when err is the platform's rate-limit answer; undefined for other errors. */
  retryAfter(err: unknown): number | undefined;
  /** A rate-limited call is sent again at most this many times before its error is returned. */
  maxRateLimitRetries?: number;
  onRateLimited?(lane: string, seconds: number): void;
  /** Pace every lane by slots booked in a store shared with other replicas. */
  slots?: SendSlotBooking;
  /** Prefixes lane names in the shared booking, so two workspaces never share a lane (e.g. "slack:T024BE7LD"). */
  slotScope?: string;
  /** A booking failed or timed out: told once, until a booking succeeds again (then slotsBack). */
  onSlotsUnavailable?(err: unknown): void;
  onSlotsBack?(): void;
  /** Timers, replaceable in tests. */
  now?: () => number;
}

interface Waiting {
  call: OutboxCall<unknown>;
  settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[];
  rateLimited: number;
}

interface Lane {
  name: string;
  limit: LaneLimit;
  tokens: number;
  refilledAt: number;
  pausedUntil: number;
  queue: Waiting[];
  /** A call of the lane is being sent, or its slot is being booked or waited for: one at a time keeps order. */
  busy: boolean;
  /** A call of the lane is being sent. */
  sending: boolean;
  timer?: NodeJS.Timeout;
}

export class Outbox {
  private readonly lanes = new Map<string, Lane>();
  private readonly now: () => number;
  private closed = false;
  /** Until then lanes pace locally: the shared booking failed (SLOTS_RETRY_MS). */
  private slotsDownUntil = 0;
  private slotsFailing = false;
  /** Calls sent, rate-limit answers received, sends paced by a shared slot: for tests, benchmarks and metrics. */
  readonly counts = { sent: 0, rateLimited: 0, coalesced: 0, slotted: 0 };

  constructor(private readonly opts: OutboxOptions) {
    this.now = opts.now ?? Date.now;
  }

  call<T>(call: OutboxCall<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the outbox is closed"));
    const lane = this.lane(call.lane);
    return new Promise<T>((resolve, reject) => {
      const settle = { resolve: resolve as (v: unknown) => void, reject };
      const same = call.coalesceKey === undefined ? undefined : lane.queue.find((w) => w.call.coalesceKey === call.coalesceKey);
      if (same) {
        // Still waiting: send the newest state in its place; both callers learn the outcome.
        same.call = call;
        same.settle.push(settle);
        this.counts.coalesced++;
        return;
      }
      lane.queue.push({ call: call, settle: [settle], rateLimited: 0 });
      this.pump(lane);
    });
  }

  /** Calls still waiting, over all lanes. */
  get waiting(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queue.length + (lane.sending ? 1 : 0);
    return n;
  }

  /** Refuse new calls and drop the waiting ones (at shutdown). */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      for (const w of lane.queue.splice(0)) for (const s of w.settle) s.reject(new Error("the outbox is closed"));
    }
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      const limit = this.opts.limitFor(name);
      lane = { name, limit, tokens: limit.burst, refilledAt: this.now(), pausedUntil: 0, queue: [], busy: false, sending: false };
      this.lanes.set(name, lane);
    }
    return lane;
  }

  /** Send the lane's next call when it has a slot (or a token) and is not paused; one call at a time per lane keeps order. */
  private pump(lane: Lane): void {
    if (lane.busy || lane.queue.length === 0 || lane.timer || this.closed) return;
    const now = this.now();
    if (this.opts.slots && now >= this.slotsDownUntil) {
      if (lane.pausedUntil > now) return this.wake(lane, lane.pausedUntil - now);
      lane.busy = true;
      void this.book(lane, this.opts.slots);
      return;
    }
    lane.tokens = Math.min(lane.limit.burst, lane.tokens + ((now - lane.refilledAt) / 1000) * lane.limit.perSecond);
    lane.refilledAt = now;
    const wait = Math.max(lane.pausedUntil - now, lane.tokens >= 1 ? 0 : ((1 - lane.tokens) / lane.limit.perSecond) * 1000);
    if (wait > 0) return this.wake(lane, wait);
    lane.tokens -= 1;
    lane.busy = true;
    this.sendNext(lane);
  }

  private wake(lane: Lane, afterMs: number): void {
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      this.pump(lane);
    }, Math.ceil(afterMs));
  }

  /**
   * Book the lane's next shared slot, wait for it, then send the call first in line at that moment:
   * calls replaced or made urgent during the wait are taken as they are then. Slots are times on
   * each replica's own clock: replicas kept in step by NTP (milliseconds apart) keep the spacing.
   */
  private async book(lane: Lane, slots: SendSlotBooking): Promise<void> {
    let slot: number;
    try {
      const spacingMs = 1000 / lane.limit.perSecond;
      slot = await withTimeout(slots.reserve(this.opts.slotScope ? `${this.opts.slotScope}:${lane.name}` : lane.name, spacingMs, lane.limit.burst), SLOT_TIMEOUT_MS);
    } catch (err) {
      // No lost message and no crash: pace locally for a while, then ask the store again.
      this.slotsDownUntil = this.now() + SLOTS_RETRY_MS;
      if (!this.slotsFailing) {
        this.slotsFailing = true;
        this.opts.onSlotsUnavailable?.(err);
      }
      lane.busy = false;
      this.pump(lane);
      return;
    }
    if (this.slotsFailing) {
      this.slotsFailing = false;
      this.opts.onSlotsBack?.();
    }
    if (this.closed) return;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      if (this.closed) return;
      if (lane.queue.length === 0) {
        lane.busy = false; // nothing left to send (the slot goes unused)
        return;
      }
      this.counts.slotted++;
      this.sendNext(lane);
    }, Math.max(0, slot - this.now()));
  }

  /** Send the lane's first urgent call, or its oldest; the lane is busy until it is answered. */
  private sendNext(lane: Lane): void {
    const first = lane.queue.findIndex((w) => w.call.urgent?.() === true);
    const item = lane.queue.splice(Math.max(first, 0), 1)[0]!;
    lane.sending = true;
    this.counts.sent++;
    item.call.send().then(
      (value) => {
        for (const s of item.settle) s.resolve(value);
        this.release(lane);
      },
      (err: unknown) => {
        const seconds = this.opts.retryAfter(err);
        if (seconds !== undefined && item.rateLimited < (this.opts.maxRateLimitRetries ?? 10)) {
          this.counts.rateLimited++;
          this.opts.onRateLimited?.(lane.name, seconds);
          item.rateLimited++;
          lane.pausedUntil = this.now() + seconds * 1000;
          lane.queue.unshift(item); // first in line once the pause is over
        } else {
          for (const s of item.settle) s.reject(err);
        }
        this.release(lane);
      },
    );
  }

  private release(lane: Lane): void {
    lane.busy = false;
    lane.sending = false;
    this.pump(lane);
  }
}

/** The promise's value, or a rejection once ms have passed without one. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
