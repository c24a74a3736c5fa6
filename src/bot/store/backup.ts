// An online backup of the SQLite store: VACUUM INTO writes a consistent snapshot of the database
// (main file and write-ahead log together) into a new file, from one read transaction, so the
// running bot keeps writing meanwhile and nothing committed before the backup began is missing.
// (sqlite3_backup, the other online API, restarts its copy whenever another process writes, and
// under steady writes may never finish.) A plain `cp spawnbot.db` misses what is still in -wal.
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

const BUSY_TIMEOUT_MS = 5000; // as the store: wait out another process's write lock this long

export interface BackupResult {
  file: string;
  bytes: number;
  spawns: number;
  ms: number;
}

export class BackupError extends Error {}

/** Copy the database at `source` into the new file `target` (refused if it exists), then check the copy. */
export function backupDatabase(source: string, target: string): BackupResult {
  const started = Date.now();
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source}: check SPAWNBOT_DATA_DIR`);
  if (existsSync(target)) throw new BackupError(`${target} already exists: choose a new file name (a backup never overwrites)`);
  if (!existsSync(path.dirname(target))) throw new BackupError(`the directory ${path.dirname(target)} does not exist`);
  // Written beside the target and renamed at the end: a backup cut short never looks complete.
  const partial = `${target}.partial-${process.pid}`;
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.prepare("VACUUM INTO ?").run(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
  let spawns: number;
  try {
    spawns = checkBackup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, target);
  return { file: target, bytes: statSync(target).size, spawns, ms: Date.now() - started };
}

/** The copy passes SQLite's integrity check; returns how many spawns it holds. */
function checkBackup(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = db.pragma("integrity_check", { simple: true });
    if (check !== "ok") throw new BackupError(`the backup failed SQLite's integrity check: ${String(check)}`);
    return (db.prepare("SELECT count(*) AS n FROM spawns").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
