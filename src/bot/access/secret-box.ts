// Encryption at rest for users' secrets (their OpenRouter keys): AES-256-GCM with a key from
// SPAWNBOT_SECRET_KEY or, when that is unset, a key file in the data dir created 0600 on first
// start. Each sealed value is bound to its owner and purpose (the GCM additional data), so a
// ciphertext copied onto another user's row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const KEY_FILE = "secret.key";
const FORMAT = "v1"; // sealed values start with this, so the format can change later
const IV_BYTES = 12; // GCM's standard nonce size
const KEY_BYTES = 32;

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`the secret key must be ${KEY_BYTES} bytes`);
  }

  /** "v1:<iv>:<tag>:<ciphertext>", base64 parts; `context` names whose secret this is. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }

  /** Throws when the value was sealed with another key or context, or was tampered with. */
  open(sealed: string, context: string): string {
    const [format, iv, tag, body] = sealed.split(":");
    if (format !== FORMAT || !iv || !tag || body === undefined) throw new Error("not a sealed secret");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  }
}

/** Parse SPAWNBOT_SECRET_KEY: 64 hex digits or the base64 of 32 bytes; undefined if neither. */
export function parseSecretKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) return Buffer.from(t, "base64");
  return undefined;
}

/** The configured key, or the data dir's key file (made with mode 0600 the first time). */
export function loadSecretBox(dataDir: string, configuredKey?: Buffer): SecretBox {
  if (configuredKey) return new SecretBox(configuredKey);
  const file = path.join(dataDir, KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(KEY_BYTES).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600); // someone loosened it: tighten, the key is still ours
  const key = parseSecretKey(readFileSync(file, "utf8"));
  if (!key) throw new Error(`${file} does not hold a 32-byte key (64 hex digits); restore it from a backup or remove it, which makes stored user secrets unreadable`);
  return new SecretBox(key);
}
