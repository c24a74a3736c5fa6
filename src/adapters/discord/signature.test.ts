// Discord's Ed25519 request signature: what holds and what is refused.
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSignature, discordPublicKey } from "./signature.js";

const app = generateKeyPairSync("ed25519");
const publicHex = Buffer.from(app.publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex");
const key = discordPublicKey(publicHex)!;
const body = Buffer.from(JSON.stringify({ type: 1, id: "900000000000000001" }));
const NOW = 1_800_000_000_000;
const stamp = (ms: number) => String(Math.floor(ms / 1000));
const signed = (timestamp: string, payload = body, by = app.privateKey) =>
  sign(null, Buffer.concat([Buffer.from(timestamp), payload]), by).toString("hex");

describe("Discord request signatures", () => {
  it("accept the app's signature over the timestamp and the raw body", () => {
    expect(checkSignature(key, { signature: signed(stamp(NOW)), timestamp: stamp(NOW) }, body, NOW)).toEqual({ ok: true });
  });

  it("refuse another key's signature, a changed body, and a missing or malformed header", () => {
    const other = generateKeyPairSync("ed25519").privateKey;
    expect(checkSignature(key, { signature: signed(stamp(NOW), body, other), timestamp: stamp(NOW) }, body, NOW)).toEqual({ ok: false, reason: "bad signature" });
    expect(checkSignature(key, { signature: signed(stamp(NOW)), timestamp: stamp(NOW) }, Buffer.from(`${body.toString()} `), NOW)).toEqual({ ok: false, reason: "bad signature" });
    expect(checkSignature(key, { signature: undefined, timestamp: stamp(NOW) }, body, NOW)).toEqual({ ok: false, reason: "missing signature headers" });
    expect(checkSignature(key, { signature: "zz", timestamp: stamp(NOW) }, body, NOW)).toEqual({ ok: false, reason: "malformed signature headers" });
  });

  it("refuse a request signed more than 5 minutes before or after now", () => {
    const old = stamp(NOW - 301_000);
    const early = stamp(NOW + 301_000);
    expect(checkSignature(key, { signature: signed(old), timestamp: old }, body, NOW)).toEqual({ ok: false, reason: "stale timestamp" });
    expect(checkSignature(key, { signature: signed(early), timestamp: early }, body, NOW)).toEqual({ ok: false, reason: "stale timestamp" });
    const recent = stamp(NOW - 299_000);
    expect(checkSignature(key, { signature: signed(recent), timestamp: recent }, body, NOW)).toEqual({ ok: true });
  });

  it("read the public key only as 64 hex digits", () => {
    expect(discordPublicKey(publicHex.toUpperCase())).toBeDefined();
    expect(discordPublicKey(publicHex.slice(2))).toBeUndefined();
    expect(discordPublicKey(`${publicHex.slice(1)}g`)).toBeUndefined();
  });
});
