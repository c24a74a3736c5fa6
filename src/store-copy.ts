// `npm run store:copy -- <sqlite data dir or file> <postgres url>`: move a team's SQLite store into
// an empty PostgreSQL database (spawns live and ended, steps, audit, keys, sealed secrets, …) in one
// transaction, and print how many rows each table brought. Stop the bot first.
import { copySqliteToPostgres, StoreCopyError } from "./bot/index.js";
import { databaseUrlProblem } from "./config.js";

const USAGE = "usage: npm run store:copy -- <sqlite data dir or file> <postgres url>   (e.g. npm run store:copy -- ./data postgres://spawnbot:PASSWORD@db:5432/spawnbot)";

/** The URL's password, so no message repeats it (a driver error could quote the connection string). */
function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

function scrub(text: string, secret: string): string {
  return secret ? text.split(secret).join("***") : text;
}

async function run(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== "--");
  if (args.length !== 2 || args.some((a) => a.startsWith("-"))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const [source, url] = args as [string, string];
  const problem = databaseUrlProblem(url);
  if (problem) {
    process.stderr.write(`spawnbot store:copy: the PostgreSQL URL ${problem}\n`);
    return 2;
  }
  const password = passwordOf(url);
  try {
    const r = await copySqliteToPostgres(source, url);
    const width = Math.max(...r.tables.map((t) => t.table.length));
    const total = r.tables.reduce((n, t) => n + t.rows, 0);
    process.stdout.write(
      `copied ${total} row(s) from ${r.file} into PostgreSQL in ${r.ms} ms:\n` +
      r.tables.map((t) => `  ${t.table.padEnd(width)}  ${t.rows}\n`).join("") +
      "Start the bot with SPAWNBOT_DATABASE_URL set to that database, and keep the data dir's secret.key (unless SPAWNBOT_SECRET_KEY is set) and bot_ed25519: sealed secrets and the bot's servers need them.\n",
    );
    return 0;
  } catch (err) {
    const message = scrub((err as Error).message, password);
    if (err instanceof StoreCopyError) {
      process.stderr.write(`spawnbot store:copy: ${message}\n`);
      return 2;
    }
    process.stderr.write(`spawnbot store:copy failed, nothing was copied: ${message}\n`);
    return 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
