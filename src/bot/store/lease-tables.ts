// Leases: a named right that one holder has until it stops renewing it (the data's single owner).
// The SQL for that table; SqliteStore delegates to this. Taking a lease is one immediate
// transaction, so two processes starting at once cannot both get it.
import type Database from "better-sqlite3";

export interface Lease {
  name: string;
  holder: string;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

export interface LeaseState {
  /** Take the lease if it is free, expired or already ours; otherwise the lease in force. */
  acquire(name: string, holder: string, ttlMs: number, now?: number): { ok: true; lease: Lease; tookOver?: Lease } | { ok: false; lease: Lease };
  /** Push our lease's expiry back; false if it is no longer ours (taken over after it expired). */
  renew(name: string, holder: string, ttlMs: number, now?: number): boolean;
  /** Give the lease up at once (an orderly stop), so the next process need not wait. */
  release(name: string, holder: string): boolean;
  get(name: string): Lease | undefined;
}

interface LeaseRow { name: string; holder: string; acquired_at: number; heartbeat_at: number; expires_at: number }

export class LeaseTables implements LeaseState {
  private readonly sql;
  private readonly take;

  constructor(db: Database.Database) {
    const p = <R>(source: string) => db.prepare<unknown[], R>(source);
    this.sql = {
      get: p<LeaseRow>("SELECT * FROM leases WHERE name = ?"),
      put: p<never>(`INSERT INTO leases (name, holder, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
        heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`),
      renew: p<never>("UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND holder = ?"),
      release: p<never>("DELETE FROM leases WHERE name = ? AND holder = ?"),
    };
    this.take = db.transaction((name: string, holder: string, ttlMs: number, now: number) => {
      const current = this.get(name);
      if (current && current.holder !== holder && current.expiresAt > now) return { ok: false as const, lease: current };
      const acquiredAt = current?.holder === holder ? current.acquiredAt : now;
      this.sql.put.run(name, holder, acquiredAt, now, now + ttlMs);
      const tookOver = current && current.holder !== holder ? current : undefined;
      return { ok: true as const, lease: this.get(name)!, ...(tookOver ? { tookOver } : {}) };
    });
  }

  acquire(name: string, holder: string, ttlMs: number, now = Date.now()) {
    return this.take.immediate(name, holder, ttlMs, now);
  }

  renew(name: string, holder: string, ttlMs: number, now = Date.now()): boolean {
    return this.sql.renew.run(now, now + ttlMs, name, holder).changes > 0;
  }

  release(name: string, holder: string): boolean {
    return this.sql.release.run(name, holder).changes > 0;
  }

  get(name: string): Lease | undefined {
    const r = this.sql.get.get(name);
    return r && { name: r.name, holder: r.holder, acquiredAt: r.acquired_at, heartbeatAt: r.heartbeat_at, expiresAt: r.expires_at };
  }
}
