// Copy a SQLite store into an empty PostgreSQL database, so a team moves without losing history,
// keys or live spawns. One PostgreSQL transaction: the copy lands whole or not at all. The SQLite
// side is read in one read transaction (a consistent snapshot) after the usual start-up migration.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../migrations.js";
import { migratePg } from "./migrations.js";
import { createPool, poolDb, type Db } from "./pool.js";

const DATABASE_FILE = "spawnbot.db"; // the file in a data dir, as src/main.ts names it
/**
 * Not copied: a lease is one running process's hold on the data, the new bot takes its own; send
 * slots only pace the next second's messages.
 */
const NOT_COPIED: ReadonlySet<string> = new Set(["leases", "send_slots"]);
/** Tables whose rows others reference: copied first so foreign keys hold at every insert. */
const REFERENCED_FIRST = ["spawns"];
/** SQLite's rowid, kept where PostgreSQL has a row_order standing in for it (the tie-break of lists). */
const ROWID_COLUMN = "row_order";
const MAX_PARAMS = 30_000; // below PostgreSQL's 65,535 bind parameters per statement
const MAX_ROWS_PER_INSERT = 500; // keeps each statement's text and memory small
const SEQUENCED = [["audit", "id"], ["spawns", ROWID_COLUMN], ["spawn_shares", ROWID_COLUMN]] as const;

/** A refusal worth one line to the user (no SQLite store there, the database is not empty, …). */
export class StoreCopyError extends Error {
  override name = "StoreCopyError";
}

export interface CopyResult {
  /** The SQLite file read. */
  file: string;
  /** Rows copied per table, in copy order. */
  tables: { table: string; rows: number }[];
  ms: number;
}

/** The SQLite file of a data dir, or the file itself. */
export function sqliteFileOf(dirOrFile: string): string {
  const file = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, DATABASE_FILE) : dirOrFile;
  if (!existsSync(file)) throw new StoreCopyError(`no SQLite store at ${file}: give the bot's data dir (holding ${DATABASE_FILE}) or the file itself`);
  return path.resolve(file);
}

export async function copySqliteToPostgres(dirOrFile: string, url: string, opts: { statementTimeoutMs?: number } = {}): Promise<CopyResult> {
  const started = Date.now();
  const file = sqliteFileOf(dirOrFile);
  const sqlite = new Database(file, { fileMustExist: true });
  // A big table takes a while to insert; the copy is a one-off run by hand, not the bot's traffic.
  const pool = createPool(url, { statementTimeoutMs: opts.statementTimeoutMs ?? 10 * 60_000 });
  try {
    sqlite.pragma("busy_timeout = 5000");
    migrate(sqlite); // what the bot does at start: an older file is brought up to this build's schema
    const db = poolDb(pool);
    await migratePg(db);
    const tables = sqliteTables(sqlite);
    sqlite.exec("BEGIN"); // one snapshot of every table, even if a bot still writes the file
    try {
      const copied = await db.transaction(async (tx) => {
        await refuseUnlessEmpty(tx, tables);
        const counts: { table: string; rows: number }[] = [];
        for (const table of tables) counts.push({ table, rows: await copyTable(sqlite, tx, table) });
        for (const [table, column] of SEQUENCED) {
          // Identity columns continue after the copied maximum, so new rows never collide.
          await tx.query(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${column}) FROM ${table}), 0) + 1, false)`, [table, column]);
        }
        return counts;
      });
      return { file, tables: copied, ms: Date.now() - started };
    } finally {
      sqlite.exec("COMMIT");
    }
  } finally {
    sqlite.close();
    await pool.end();
  }
}

/** Every table of the SQLite store that is copied, referenced ones first. */
function sqliteTables(sqlite: Database.Database): string[] {
  const names = sqlite.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all().map((r) => r.name).filter((n) => !NOT_COPIED.has(n));
  return [...REFERENCED_FIRST.filter((n) => names.includes(n)), ...names.filter((n) => !REFERENCED_FIRST.includes(n))];
}

async function refuseUnlessEmpty(tx: Db, tables: string[]): Promise<void> {
  // EXCLUSIVE: readers go on, but no bot writes while we check and copy.
  await tx.query(`LOCK TABLE ${tables.join(", ")} IN EXCLUSIVE MODE`);
  const { rows } = await tx.query<Record<string, number>>(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ")}`);
  const held = Object.entries(rows[0]!).filter(([, n]) => n > 0).map(([t, n]) => `${n} ${t}`);
  if (held.length > 0) {
    throw new StoreCopyError(`the PostgreSQL database already holds spawnbot data (${held.join(", ")}); copy into an empty database`);
  }
}

async function copyTable(sqlite: Database.Database, tx: Db, table: string): Promise<number> {
  const columns = sqlite.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name);
  const { rows: pgColumns } = await tx.query<{ column_name: string }>(
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", [table]);
  const known = new Set(pgColumns.map((c) => c.column_name));
  if (known.size === 0) throw new StoreCopyError(`table ${table} has no PostgreSQL twin: this spawnbot's migrations differ between the two stores`);
  const missing = columns.filter((c) => !known.has(c));
  if (missing.length > 0) throw new StoreCopyError(`table ${table} lacks column(s) ${missing.join(", ")} in PostgreSQL: this spawnbot's migrations differ between the two stores`);
  const withRowid = known.has(ROWID_COLUMN) && !columns.includes(ROWID_COLUMN);
  const selected = withRowid ? ["rowid", ...columns] : columns;
  const target = withRowid ? [ROWID_COLUMN, ...columns] : columns;
  const perInsert = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMS / target.length)));
  const insertInto = `INSERT INTO ${table} (${target.join(", ")}) VALUES `;
  let batch: unknown[][] = [];
  let copied = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const params = batch.flat();
    const values = batch.map((_, r) => `(${target.map((__, c) => `$${r * target.length + c + 1}`).join(", ")})`).join(", ");
    await tx.query(insertInto + values, params);
    copied += batch.length;
    batch = [];
  };
  // rowid order: later rows of the same millisecond stay later, and audit ids keep their order.
  for (const row of sqlite.prepare<[], unknown[]>(`SELECT ${selected.join(", ")} FROM ${table} ORDER BY rowid`).raw().iterate()) {
    batch.push(row);
    if (batch.length >= perInsert) await flush();
  }
  await flush();
  return copied;
}
