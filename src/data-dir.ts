// Start-up checks of the data dir: a directory the bot can write, and a database in it that it can
// open. Each failure is one line naming the path and the user the bot runs as — the usual cause is a
// Docker bind mount owned by another uid — instead of a stack trace from deep inside SQLite.
import { accessSync, constants, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore, type Store } from "./bot/index.js";

/** Files the bot writes besides the database's own: SQLite's WAL and shared-memory files. */
const DATABASE_COMPANIONS = ["-wal", "-shm"];

/** "user node (uid 1000, gid 1000)": what to chown a bind mount to. */
export function runningAs(): string {
  const { username, uid, gid } = os.userInfo();
  return uid < 0 ? `user ${username}` : `user ${username} (uid ${uid}, gid ${gid})`;
}

function cannot(what: string, reason: string, uidHint = true): string {
  const { uid, gid } = os.userInfo();
  const fix = uidHint && uid >= 0
    ? `make it writable by that user (for a Docker bind mount: chown -R ${uid}:${gid} on the host directory) or point SPAWNBOT_DATA_DIR elsewhere`
    : "point SPAWNBOT_DATA_DIR at a directory";
  return `spawnbot cannot start: ${what} as ${runningAs()}: ${reason}; ${fix}`;
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EROFS") return "the file system is read-only";
  if (code === "ENOSPC") return "the disk is full";
  return (err as Error).message;
}

/** Why the bot cannot keep its data in `dir`, in one line, or undefined when it can. */
export function dataDirProblem(dir: string, databaseFile: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "EEXIST") return cannot(`cannot create the data dir ${dir}`, `${fileOnTheWay(dir)} is a file, not a directory`, false);
    return cannot(`cannot create the data dir ${dir}`, reasonOf(err));
  }
  if (!statSync(dir).isDirectory()) return cannot(`cannot use the data dir ${dir}`, "it is a file, not a directory", false);
  // Root passes access() checks that the file system still refuses (read-only mounts): write for real.
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  try {
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
  } catch (err) {
    return cannot(`cannot write in the data dir ${dir}`, reasonOf(err));
  }
  for (const file of [databaseFile, ...DATABASE_COMPANIONS.map((suffix) => databaseFile + suffix)]) {
    const full = path.join(dir, file);
    if (!existsSync(full)) continue;
    try {
      accessSync(full, constants.R_OK | constants.W_OK);
    } catch (err) {
      return cannot(`cannot write the database file ${full}`, reasonOf(err));
    }
  }
  return undefined;
}

/** The first existing ancestor of `target` that is not a directory. */
function fileOnTheWay(target: string): string {
  for (let p = target; p !== path.dirname(p); p = path.dirname(p)) {
    if (existsSync(p) && !statSync(p).isDirectory()) return p;
  }
  return target;
}

/** Open the store after checking the data dir; a string is the one line to print instead. */
export function openDataStore(dir: string, databaseFile: string): Store | string {
  const problem = dataDirProblem(dir, databaseFile);
  if (problem) return problem;
  const file = path.join(dir, databaseFile);
  try {
    return openStore(file);
  } catch (err) {
    const raw = (err as { code?: unknown }).code;
    const code = typeof raw === "string" ? raw : "";
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
      return `spawnbot cannot start: ${file} is not a usable SQLite database (${code}); restore it from a backup (see the README's "Backup and restore") or move it away to start empty`;
    }
    if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN") || code === "SQLITE_PERM") {
      return cannot(`cannot open the database ${file}`, code);
    }
    throw err;
  }
}
