// SSH identities: the bot's own ed25519 key pair in the data dir (made on first start, for the
// servers the bot creates), and fresh pairs for the bot core to keep per user (hosts people adopt).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import ssh2 from "ssh2";

export interface BotKey {
  privateKey: string;
  /** "ssh-ed25519 AAAA… spawnbot" */
  publicKey: string;
}

export const BOT_KEY_FILE = "bot_ed25519";
const KEY_FILE = BOT_KEY_FILE;
/** ssh2 1.17 writes an ed25519 key it cannot read back about once in 200 (measured: 30 of 6,000). */
const KEYGEN_ATTEMPTS = 10;

/** A fresh ed25519 pair that ssh2 can parse again, so the bot never saves a key it cannot use. */
function generateReadableKeyPair(comment = "spawnbot"): { private: string; public: string } {
  for (let i = 0; i < KEYGEN_ATTEMPTS; i++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
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
  return identityOf(readFileSync(file, "utf8"), "spawnbot", `the bot key ${file}`);
}

/** A new ed25519 identity; comment ends its public key line (what a person sees in authorized_keys). */
export function generateSshIdentity(comment: string): BotKey {
  return identityOf(generateReadableKeyPair(comment).private, comment, "a new key");
}

/** The identity of an OpenSSH private key (its public line rebuilt with the given comment). */
export function identityOf(privateKey: string, comment: string, what = "a stored key"): BotKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`${what} cannot be read: ${parsed.message}`);
  const key = (Array.isArray(parsed) ? (parsed as unknown[])[0] : parsed) as ssh2.ParsedKey | undefined;
  if (!key) throw new Error(`${what} is empty`);
  return { privateKey, publicKey: `${key.type} ${key.getPublicSSH().toString("base64")} ${comment}` };
}
