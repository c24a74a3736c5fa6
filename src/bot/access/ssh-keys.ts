// Reads a user's SSH public key line: its type, strength and SHA256 fingerprint, refusing
// key types and sizes we will not install on a server (DSA, RSA under 3072 bits).
import { createHash } from "node:crypto";
import { excerpt } from "../grammar/tokenize.js";

export interface PublicKeyInfo {
  keyType: string;
  /** "ssh-ed25519 AAAA… comment" normalised to one line with single spaces. */
  publicKey: string;
  fingerprint: string;
  comment: string;
}

const MIN_RSA_BITS = 3072;
const ECDSA_TYPES = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

/** Reads the SSH wire format's length-prefixed fields from a key blob. */
function fields(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 4 <= blob.length) {
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) throw new Error("truncated");
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== blob.length) throw new Error("trailing bytes");
  return out;
}

export function inspectPublicKey(line: string): PublicKeyInfo | { error: string } {
  const [type, data, ...rest] = line.trim().split(/\s+/);
  if (!type || !data) return { error: "that is not an SSH public key; paste the one line of your ~/.ssh/id_ed25519.pub" };
  let parts: Buffer[];
  try {
    parts = fields(Buffer.from(data, "base64"));
  } catch {
    return { error: "that SSH public key is damaged (its base64 data does not decode); copy the whole line again" };
  }
  const inner = parts[0]?.toString("ascii");
  // Both come from the user (the type word, and bytes decoded from the key data): echo excerpts only.
  if (inner !== type) return { error: `the key says it is ${excerpt(type)} but its data is ${inner === undefined ? "unreadable" : excerpt(inner)}; copy the whole line again` };
  if (type === "ssh-ed25519") {
    if (parts[1]?.length !== 32) return { error: "that ed25519 key is damaged; copy the whole line again" };
  } else if (ECDSA_TYPES.includes(type)) {
    if (parts.length !== 3) return { error: "that ECDSA key is damaged; copy the whole line again" };
  } else if (type === "ssh-rsa") {
    const n = parts[2];
    if (!n) return { error: "that RSA key is damaged; copy the whole line again" };
    const bits = (n[0] === 0 ? n.length - 1 : n.length) * 8;
    if (bits < MIN_RSA_BITS) return { error: `that RSA key has ${bits} bits; use ed25519 (ssh-keygen -t ed25519) or RSA of at least ${MIN_RSA_BITS} bits` };
  } else {
    return { error: `${excerpt(type)} keys are not accepted; use ed25519 (ssh-keygen -t ed25519), ECDSA or RSA of at least ${MIN_RSA_BITS} bits` };
  }
  const comment = rest.join(" ");
  const fingerprint = `SHA256:${createHash("sha256").update(Buffer.from(data, "base64")).digest("base64").replace(/=+$/, "")}`;
  return { keyType: type, publicKey: [type, data, comment].filter(Boolean).join(" "), fingerprint, comment };
}
