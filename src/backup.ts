// `npm run backup -- <file>`: an online backup of the bot's SQLite store into a new file, safe while
// the bot runs. Reads the same configuration as the bot (SPAWNBOT_DATA_DIR, SPAWNBOT_CONFIG).
import path from "node:path";
import { BackupError, backupDatabase } from "./bot/index.js";
import { ConfigError, loadConfig } from "./config.js";

const DATABASE_FILE = "spawnbot.db"; // as src/main.ts
const USAGE = "usage: npm run backup -- <new file>   (e.g. npm run backup -- backups/spawnbot-$(date +%F).db)";

function run(argv: string[]): number {
  const args = argv.filter((a) => a !== "--");
  if (args.length !== 1 || args[0]!.startsWith("-")) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let dataDir: string;
  try {
    dataDir = loadConfig().dataDir;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const target = path.resolve(args[0]!);
  try {
    const r = backupDatabase(path.join(dataDir, DATABASE_FILE), target);
    process.stdout.write(
      `backed up ${r.spawns} spawn(s) to ${r.file} (${(r.bytes / 1024).toFixed(0)} KB, ${r.ms} ms).\n` +
      `Keep ${path.join(dataDir, "secret.key")} (unless SPAWNBOT_SECRET_KEY is set) and ${path.join(dataDir, "bot_ed25519")} with it: they do not change, and without them stored keys and the bot's servers are out of reach.\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof BackupError) {
      process.stderr.write(`spawnbot backup: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`spawnbot backup failed: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = run(process.argv.slice(2));
