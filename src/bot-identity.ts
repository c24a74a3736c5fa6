// One bot, whatever process runs it: every process on the same data (the replicas on one
// PostgreSQL database) must use the SSH key the bot's servers trust and the secret key users'
// secrets are sealed with. The first process stores both in the store (the key sealed, the secret
// key as a sealed check value); a later one uses the stored key and refuses to start, with one
// line, when its own key or secret key is not the bot's.
import { existsSync } from "node:fs";
import path from "node:path";
import type { SecretBox, Store } from "./bot/index.js";
import { BOT_KEY_FILE, fingerprintOf, identityOf, loadOrCreateBotKey, type BotKey } from "./orchestrator/index.js";

const SECRET_CHECK = "secret-key-check";
const SSH_KEY = "ssh-key";
const CHECK_TEXT = "spawnbot secret key check"; // sealed once; opening it proves the same secret key
const sealContext = (name: string) => `bot-identity:${name}`;

/** The bot's SSH key for this process, or the one line to print instead of starting. */
export async function settleBotIdentity(store: Store, secretBox: SecretBox, dataDir: string): Promise<BotKey | string> {
  const check = await store.identity.claim(SECRET_CHECK, secretBox.seal(CHECK_TEXT, sealContext(SECRET_CHECK)));
  if (!opens(secretBox, check, SECRET_CHECK, CHECK_TEXT)) {
    return "spawnbot cannot start: this database's secrets are sealed with another secret key than this process's (SPAWNBOT_SECRET_KEY, or secret.key in the data dir); start every process on this database with the bot's secret key";
  }
  // A data dir without a key file of its own takes the bot's from the store (a new replica);
  // only a first process makes one.
  const keyFile = path.join(dataDir, BOT_KEY_FILE);
  const own = existsSync(keyFile) ? loadOrCreateBotKey(dataDir) : undefined;
  const stored = await store.identity.get(SSH_KEY);
  const offered = own ?? (stored ? openKey(secretBox, stored) : loadOrCreateBotKey(dataDir));
  const bots = openKey(secretBox, await store.identity.claim(SSH_KEY, secretBox.seal(offered.privateKey, sealContext(SSH_KEY))));
  if (bots.publicKey !== offered.publicKey) {
    return `spawnbot cannot start: this process's SSH key (${keyFile}, ${fingerprintOf(offered.publicKey)}) is not the bot's (${fingerprintOf(bots.publicKey)}), which its servers trust; remove ${keyFile} to use the bot's, or give this process a database of its own`;
  }
  return bots;
}

function openKey(secretBox: SecretBox, sealed: string): BotKey {
  return identityOf(secretBox.open(sealed, sealContext(SSH_KEY)), "spawnbot", "the bot's SSH key in the store");
}

function opens(secretBox: SecretBox, sealed: string, name: string, expected: string): boolean {
  try {
    return secretBox.open(sealed, sealContext(name)) === expected;
  } catch {
    return false;
  }
}
