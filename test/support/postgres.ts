// A private PostgreSQL server for one test file: initdb into a fresh temp dir, pg_ctl on a free
// port on 127.0.0.1 with its socket inside that dir, stopped and removed afterwards. Never the
// cluster Debian's package starts on 5432. Runs the server as the `postgres` system user, because
// the tests run as root and PostgreSQL refuses to.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

const PG_ROOT = "/usr/lib/postgresql";
const SERVER_USER = "postgres"; // the system user Debian's postgresql package creates
const SUPERUSER = "spawnbot"; // the database role initdb makes, trusted on 127.0.0.1 only
const START_TIMEOUT_S = 30; // pg_ctl -w waits this long for the server to accept connections

export interface TestPostgres {
  port: number;
  /** postgres://spawnbot@127.0.0.1:PORT/postgres: the maintenance database. */
  url: string;
  /** A new empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stop the server (fast shutdown) and remove its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The bin dir of the highest PostgreSQL version installed, or a clear error naming the package. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((v) => /^\d+$/.test(v) && existsSync(path.join(PG_ROOT, v, "bin", "initdb"))).map(Number).sort((a, b) => b - a)
    : [];
  if (versions.length === 0) {
    throw new Error(`no ${PG_ROOT}/*/bin/initdb: install PostgreSQL with 'apt-get install -y postgresql' (scripts/install-system-deps.sh does)`);
  }
  return path.join(PG_ROOT, String(versions[0]), "bin");
}

/** Run a PostgreSQL tool as the server user (root is refused by initdb and postgres). */
async function asServerUser(bin: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ["runuser", ["-u", SERVER_USER, "--", bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(file, argv, { cwd: "/", timeout: (START_TIMEOUT_S + 10) * 1000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${path.basename(bin)} failed: ${(e.stderr || e.message).trim()}`);
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-pg-"));
  const dataDir = path.join(dir, "db");
  if (process.getuid?.() === 0) {
    const id = async (flag: string) => Number((await run("id", [flag, SERVER_USER])).stdout);
    const [uid, gid] = await Promise.all([id("-u"), id("-g")]).catch(() => {
      throw new Error(`no '${SERVER_USER}' system user: install PostgreSQL with 'apt-get install -y postgresql'`);
    });
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  let started = false;
  const pgCtlStop = (mode: string) => ["-D", dataDir, "-m", mode, "-w", "stop"];
  // A worker that exits without afterAll (killed on a timeout) must not leave a server behind.
  const stopOnExit = () => {
    if (!started) return;
    const argv = pgCtlStop("immediate");
    try {
      if (process.getuid?.() === 0) execFileSync("runuser", ["-u", SERVER_USER, "--", path.join(bin, "pg_ctl"), ...argv], { stdio: "ignore" });
      else execFileSync(path.join(bin, "pg_ctl"), argv, { stdio: "ignore" });
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopOnExit);
  const stop = async () => {
    process.off("exit", stopOnExit);
    if (started) {
      started = false;
      await asServerUser(path.join(bin, "pg_ctl"), pgCtlStop("fast")).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Trust only on 127.0.0.1 (and the private socket dir); no other host may connect.
    await asServerUser(path.join(bin, "initdb"), ["-D", dataDir, "-U", SUPERUSER, "--auth=reject", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
    writeFileSync(path.join(dataDir, "pg_hba.conf"), [
      "# written by test/support/postgres.ts",
      "local all all trust",
      "host all all 127.0.0.1/32 trust",
    ].join("\n") + "\n");
    // fsync and synchronous_commit off: a test server never needs to survive a power cut.
    const options = [
      `-p ${port}`, `-k ${dir}`, "-c listen_addresses=127.0.0.1", "-c fsync=off", "-c synchronous_commit=off",
      "-c full_page_writes=off", "-c max_connections=100",
    ].join(" ");
    await asServerUser(path.join(bin, "pg_ctl"), ["-D", dataDir, "-o", options, "-l", path.join(dir, "server.log"), "-t", String(START_TIMEOUT_S), "-w", "start"]);
    started = true;
  } catch (err) {
    const log = path.join(dir, "server.log");
    const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n") : "";
    await stop();
    throw tail ? new Error(`${(err as Error).message}\nserver log:\n${tail}`) : err;
  }
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  let databases = 0;
  return {
    port,
    url,
    async createDatabase(name = `test_${++databases}_${process.pid}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}
