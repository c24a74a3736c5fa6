// Discord's request signature on the HTTP interactions endpoint: an Ed25519 signature
// (X-Signature-Ed25519, hex) over X-Signature-Timestamp followed by the raw body, made with the
// application's key pair; the app's Public Key (Developer Portal → General Information) checks it.
// Discord probes the endpoint with bad signatures and expects a 401 for each.
import { createPublicKey, verify, type KeyObject } from "node:crypto";

export const SIGNATURE_HEADER = "x-signature-ed25519";
export const TIMESTAMP_HEADER = "x-signature-timestamp";
/** A signed request older or newer than this is refused, so a captured request cannot be replayed later. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const PUBLIC_KEY_RE = /^[0-9a-f]{64}$/i; // 32 bytes, as the Developer Portal shows it
const SIGNATURE_RE = /^[0-9a-f]{128}$/i; // 64 bytes
const TIMESTAMP_RE = /^\d{1,12}$/; // Unix seconds

/** The app's public key from its 64 hex digits, or undefined when it is not one. */
export function discordPublicKey(hex: string): KeyObject | undefined {
  if (!PUBLIC_KEY_RE.test(hex)) return undefined;
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
  } catch {
    return undefined;
  }
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Whether a request carries Discord's valid, fresh signature. The reason is for the log only. */
export function checkSignature(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: Buffer,
  now = Date.now(),
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, reason: "missing signature headers" };
  if (!SIGNATURE_RE.test(signature) || !TIMESTAMP_RE.test(timestamp)) return { ok: false, reason: "malformed signature headers" };
  const signed = verify(null, Buffer.concat([Buffer.from(timestamp, "utf8"), rawBody]), key, Buffer.from(signature, "hex"));
  if (!signed) return { ok: false, reason: "bad signature" };
  // Checked after the signature, so the reason logged for a forged request never depends on its clock.
  if (Math.abs(now - Number(timestamp) * 1000) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: "stale timestamp" };
  return { ok: true };
}
