// Reading users' SSH public keys: what a refused key's message may echo back to the chat.
import { describe, expect, it } from "vitest";
import { inspectPublicKey } from "./ssh-keys.js";

/** Base64 key data in SSH wire format whose fields are the given strings. */
function blob(...fields: string[]): string {
  return Buffer.concat(fields.flatMap((f) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(Buffer.byteLength(f, "latin1"));
    return [len, Buffer.from(f, "latin1")];
  })).toString("base64");
}

const errorOf = (line: string) => {
  const r = inspectPublicKey(line);
  if (!("error" in r)) throw new Error(`expected ${line} to be refused`);
  return r.error;
};

describe("a refused SSH public key", () => {
  it("shows a key type hidden in the key data only as a short printable excerpt, never a new line", () => {
    const message = errorOf(`ssh-rsa ${blob("ssh-ed25519\n\r@channel injected \u001b[31m", "x")}`);
    expect(message).toBe("the key says it is ssh-rsa but its data is ssh-ed25519??@channel injected ?[31m; copy the whole line again");
  });

  it("cuts a long unknown key type to 40 characters", () => {
    const type = `ssh-${"x".repeat(100)}`;
    expect(errorOf(`${type} ${blob(type, "x")}`)).toBe(`ssh-${"x".repeat(36)}… keys are not accepted; use ed25519 (ssh-keygen -t ed25519), ECDSA or RSA of at least 3072 bits`);
  });
});
