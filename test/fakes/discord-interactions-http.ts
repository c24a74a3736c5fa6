// Discord's side of the HTTP interactions transport, for the Discord fake: the application's
// Ed25519 key pair (its public half is the "Public Key" the Developer Portal shows), signed POSTs
// to the app's Interactions Endpoint URL, and the checks the portal makes before it saves a URL:
// a signed PING must get a PONG, and a request with a bad signature must get a 401.
// Signature as documented: X-Signature-Ed25519 = hex(Ed25519(timestamp + raw body)),
// X-Signature-Timestamp = Unix seconds.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = { [key: string]: any };

export interface SignedPostOptions {
  /** Sign with this private key instead of the application's (a forger's key). */
  key?: KeyObject;
  /** The X-Signature-Timestamp to sign and send, in Unix seconds (default: now). */
  timestamp?: number;
  /** Flip a bit of the signature after signing: what Discord's own probes send. */
  corrupt?: boolean;
  /** Send this instead of the body that was signed (a request changed on the way). */
  tamper?: (body: string) => string;
  /** Send no signature headers at all. */
  unsigned?: boolean;
  /** Give up waiting for the response after this long (Discord: 3 s). */
  timeoutMs?: number;
}

export interface PostResult {
  status: number;
  /** The parsed JSON response, or the text when it is not JSON. */
  body: unknown;
}

export function newAppKeyPair(): { privateKey: KeyObject; publicKeyHex: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  return { privateKey, publicKeyHex: Buffer.from(x, "base64url").toString("hex") };
}

/** POST a payload to an interactions endpoint the way Discord does. */
export async function signedPost(url: string, payload: Json, appKey: KeyObject, opts: SignedPostOptions = {}): Promise<PostResult> {
  const body = JSON.stringify(payload);
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.from(timestamp + body, "utf8"), opts.key ?? appKey);
  if (opts.corrupt) signature[0]! ^= 0x01;
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Discord-Interactions/1.0 (+https://discord.com)" };
  if (!opts.unsigned) Object.assign(headers, { "x-signature-ed25519": signature.toString("hex"), "x-signature-timestamp": timestamp });
  const res = await fetch(url, { method: "POST", headers, body: opts.tamper ? opts.tamper(body) : body, signal: AbortSignal.timeout(opts.timeoutMs ?? 3_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed };
}

/**
 * What the Developer Portal checks when an Interactions Endpoint URL is saved; throws the portal's
 * refusal when a check fails, as the portal refuses to save the URL.
 */
export async function verifyEndpoint(url: string, appKey: KeyObject, ping: () => Json): Promise<void> {
  const pong = await signedPost(url, ping(), appKey);
  if (pong.status !== 200 || (pong.body as Json | undefined)?.type !== 1) {
    throw new Error(`discord-fake: interactions endpoint url could not be verified: a signed PING got ${pong.status} ${JSON.stringify(pong.body)}, not a PONG`);
  }
  const probe = await signedPost(url, ping(), appKey, { corrupt: true });
  if (probe.status !== 401) {
    throw new Error(`discord-fake: interactions endpoint url could not be verified: a request with a bad signature got ${probe.status}, not 401`);
  }
}
