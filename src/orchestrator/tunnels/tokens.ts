// Tunnel tokens: the secret in a `/t/<token>/` link. Only the hash is ever stored or looked up.
import { createHash, randomBytes } from "node:crypto";

/** 16 random bytes = 128 bits: unguessable, and 22 characters of base64url in a link. */
const TOKEN_BYTES = 16;

/** What a well-formed token looks like; anything else is refused before any lookup. */
export const TUNNEL_TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;

export function newTunnelToken(): { token: string; hash: string } {
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  return { token, hash: hashTunnelToken(token) };
}

/** SHA-256 hex of the token: what the store keeps, so a leaked database opens no tunnel. */
export function hashTunnelToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
