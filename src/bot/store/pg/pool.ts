// The connection pool every PostgreSQL table group shares: statement_timeout on each connection,
// int8 read back as a JS number (our millisecond times and counts fit in 2^53), and one helper to
// run statements in a transaction on one connection.
import pg from "pg";

export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000; // a stuck statement fails the step, not the bot
const POOL_SIZE = 10; // a bot's writes are short; 10 connections serve hundreds of spawns at once
const CONNECT_TIMEOUT_MS = 10_000; // an unreachable server is reported instead of waiting forever
const INT8_OID = 20; // bigint: times in ms and count(*)

/** What the table groups need of the database: one statement, or a transaction on one connection. */
export interface Db {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Run fn inside BEGIN … COMMIT on one connection; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
}

export interface PoolOptions {
  statementTimeoutMs?: number;
  /** Told when an idle connection fails (server restart, network drop); the pool replaces it. */
  onIdleError?: (err: Error) => void;
}

// Per pool, not pg.types.setTypeParser: that would change every pg client in the process.
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number) => (oid === INT8_OID ? (text: string) => Number(text) : (pg.types.getTypeParser(oid, "text") as (text: string) => unknown))) as pg.CustomTypesConfig["getTypeParser"],
};

export function createPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    application_name: "spawnbot",
    types: TYPES,
  });
  // Without a listener an idle client's error would be an uncaught exception that ends the process.
  pool.on("error", (err) => (opts.onIdleError ?? defaultIdleError)(err));
  return pool;
}

function defaultIdleError(err: Error): void {
  process.stderr.write(`spawnbot store: an idle PostgreSQL connection failed and will be replaced: ${err.message}\n`);
}

export function poolDb(pool: pg.Pool): Db {
  return {
    query: (sql, params) => pool.query(sql, params),
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await fn(clientDb(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        // The connection may be the thing that failed: then it is closed instead of reused.
        await client.query("ROLLBACK").catch(() => { broken = true; });
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}

function clientDb(client: pg.PoolClient): Db {
  const db: Db = {
    query: (sql, params) => client.query(sql, params),
    transaction: (fn) => fn(db), // already inside one: nest by joining it
  };
  return db;
}

/** PostgreSQL's unique_violation, with the constraint (index) it hit. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === "23505" ? (typeof e.constraint === "string" ? e.constraint : "") : undefined;
}
