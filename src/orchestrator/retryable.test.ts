import { describe, expect, it } from "vitest";
import { CloudError } from "./clouds/types.js";
import { CommandTimeoutError, HostAuthError, HostKeyChangedError, HostUnreachableError } from "./remote/errors.js";
import { isRetryable } from "./retryable.js";

const nodeError = (code: string) => Object.assign(new Error(`socket: ${code}`), { code });

describe("which failures a step tries again", () => {
  it("retries network resets, unreachable hosts, timed-out commands and a cloud's 'later'", () => {
    for (const err of [nodeError("ECONNRESET"), nodeError("ETIMEDOUT"), nodeError("ECONNREFUSED"), new HostUnreachableError("a@b:22", "reset"),
      new CommandTimeoutError("a remote command", 1000), new CloudError("TIMEOUT", "slow"), new CloudError("CAPACITY", "full")]) {
      expect(isRetryable(err), String(err)).toBe(true);
    }
  });

  it("does not retry refusals: a changed host key, a refused key, a cloud's no, bad input", () => {
    for (const err of [new HostKeyChangedError("h", "SHA256:a", "SHA256:b"), new HostAuthError("h", "ssh-ed25519 AAAA"),
      new CloudError("AUTH", "bad token"), new CloudError("QUOTA", "no"), new CloudError("BAD_PLACEMENT", "no such zone"), nodeError("SESSION_EXISTS")]) {
      expect(isRetryable(err), String(err)).toBe(false);
    }
  });

  it("leaves a plain failure (a command's non-zero exit) to the step's attempts", () => {
    expect(isRetryable(new Error("installing failed (exit 1)"))).toBe(true);
  });
});
