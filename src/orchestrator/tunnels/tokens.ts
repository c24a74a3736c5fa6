// Tunnel tokens: the secret in a dashboard link, either the first DNS label of
// `<token>.<tunnel domain>` or the `/t/<token>/` path prefix. Only the hash is ever stored or looked up.
import { createHash, randomBytes } from "node:crypto";

/** RFC 4648 base32 in lower case: letters and 2-7, so a token is a DNS label that survives lowercasing. */
const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
/** 26 characters × 5 bits = 130 random bits: unguessable, and well under DNS's 63-character label limit. */
const TOKEN_CHARS = 26;

/** What a token minted now looks like; it fits both link forms. */
export const TUNNEL_TOKEN_RE = /^[a-z2-7]{26}$/;
/** Tokens minted before links could be subdomains: 128 bits as 22 base64url characters, path form only. */
const LEGACY_PATH_TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;

export function newTunnelToken(): { token: string; hash: string } {
  // 256 is a multiple of 32, so the low 5 bits of each random byte are uniform.
  const token = Array.from(randomBytes(TOKEN_CHARS), (b) => BASE32_ALPHABET[b & 31]).join("");
  return { token, hash: hashTunnelToken(token) };
}

/** Whether a `/t/<token>/` path segment is shaped like a token at all (checked before any lookup). */
export function isPathToken(token: string): boolean {
  return TUNNEL_TOKEN_RE.test(token) || LEGACY_PATH_TOKEN_RE.test(token);
}

/** SHA-256 hex of the token: what the store keeps, so a leaked database opens no tunnel. */
export function hashTunnelToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
