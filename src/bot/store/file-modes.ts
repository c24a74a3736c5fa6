// Who may read the store's files: only the bot's own user. The data dir is 0700 and the database
// files 0600, made so or tightened when an older version left them looser.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

/** The store holds sealed secrets, hashes and who did what: only the bot's own user may read it. */
const DATA_DIR_MODE = 0o700;
const DB_FILE_MODE = 0o600;
const DB_SIDE_FILES = ["-wal", "-shm", "-journal"];

/**
 * Make (or tighten) the data dir to 0700 and the database files to 0600, also when they exist
 * with looser modes from an older version. SQLite creates -wal and -shm with the database file's
 * own mode, so a 0600 main file keeps the side files it makes later 0600 too.
 */
export function protectDatabaseFiles(path: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  chmodSync(dir, DATA_DIR_MODE);
  if (!existsSync(path)) closeSync(openSync(path, "a", DB_FILE_MODE));
  for (const file of [path, ...DB_SIDE_FILES.map((s) => `${path}${s}`)]) {
    if (existsSync(file)) chmodSync(file, DB_FILE_MODE);
  }
}
