// Named leases in PostgreSQL: one holder at a time, another only once it expired. Taking one is a
// transaction that locks the row (inserting it first when missing), so of two replicas asking at
// once exactly one gets it and the other is told who holds it.
import type { Lease, LeaseState } from "../lease-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

interface LeaseRow { name: string; holder: string; acquired_at: number; heartbeat_at: number; expires_at: number }

type Acquired = { ok: true; lease: Lease; tookOver?: Lease } | { ok: false; lease: Lease };

export class PgLeaseTables implements Promised<LeaseState> {
  constructor(private readonly db: Db) {}

  acquire(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<Acquired> {
    return this.db.transaction(async (tx) => {
      // Two rounds at most: a row released between our insert and our lock is inserted next round.
      for (let round = 0; ; round++) {
        const fresh = await tx.query<LeaseRow>(`INSERT INTO leases (name, holder, acquired_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, $3, $4)
          ON CONFLICT (name) DO NOTHING RETURNING *`, [name, holder, now, now + ttlMs]);
        if (fresh.rows[0]) return { ok: true as const, lease: toLease(fresh.rows[0]) };
        // The row exists (or a concurrent insert just committed it): lock it and decide.
        const locked = await tx.query<LeaseRow>("SELECT * FROM leases WHERE name = $1 FOR UPDATE", [name]);
        if (!locked.rows[0]) {
          if (round < 1) continue;
          throw new Error(`lease ${name} keeps changing hands; try again`);
        }
        const current = toLease(locked.rows[0]);
        if (current.holder !== holder && current.expiresAt > now) return { ok: false as const, lease: current };
        const acquiredAt = current.holder === holder ? current.acquiredAt : now;
        const taken = await tx.query<LeaseRow>(`UPDATE leases SET holder = $2, acquired_at = $3, heartbeat_at = $4, expires_at = $5
          WHERE name = $1 RETURNING *`, [name, holder, acquiredAt, now, now + ttlMs]);
        const tookOver = current.holder !== holder ? current : undefined;
        return { ok: true as const, lease: toLease(taken.rows[0]!), ...(tookOver ? { tookOver } : {}) };
      }
    });
  }

  async renew(name: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const r = await this.db.query("UPDATE leases SET heartbeat_at = $1, expires_at = $2 WHERE name = $3 AND holder = $4", [now, now + ttlMs, name, holder]);
    return (r.rowCount ?? 0) > 0;
  }

  async release(name: string, holder: string): Promise<boolean> {
    const r = await this.db.query("DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder]);
    return (r.rowCount ?? 0) > 0;
  }

  async get(name: string): Promise<Lease | undefined> {
    const { rows } = await this.db.query<LeaseRow>("SELECT * FROM leases WHERE name = $1", [name]);
    return rows[0] && toLease(rows[0]);
  }
}

function toLease(r: LeaseRow): Lease {
  return { name: r.name, holder: r.holder, acquiredAt: r.acquired_at, heartbeatAt: r.heartbeat_at, expiresAt: r.expires_at };
}
