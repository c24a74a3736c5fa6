import { describe, expect, it } from "vitest";
import { editDistance, nearest } from "./suggest.js";

const AGENTS = ["claude", "codex", "openclaw", "opencode", "kilocode", "hermes", "junie", "pi", "cursor", "t3code"];

describe("nearest", () => {
  it("suggests codex for codx", () => {
    expect(nearest("codx", AGENTS)).toBe("codex");
  });

  it("counts swapped neighbours as one edit (cluade → claude)", () => {
    expect(editDistance("cluade", "claude")).toBe(1);
    expect(nearest("cluade", AGENTS)).toBe("claude");
  });

  it("ignores case", () => {
    expect(nearest("CODX", AGENTS)).toBe("codex");
  });

  it("allows one edit for short words and len/3 edits for longer ones", () => {
    expect(nearest("gcq", ["gcp"])).toBe("gcp");
    expect(nearest("gxq", ["gcp"])).toBeUndefined();
    expect(nearest("digtalocen", ["digitalocean"])).toBe("digitalocean"); // 2 edits, length 10 allows 3
    expect(nearest("hetz", ["hetzner"])).toBeUndefined(); // 3 edits, length 4 allows 1
  });

  it("suggests nothing when no candidate is close", () => {
    expect(nearest("foo", AGENTS)).toBeUndefined();
    expect(nearest("", AGENTS)).toBeUndefined();
  });

  it("prefers the closest candidate, then the earlier one", () => {
    expect(nearest("opencod", AGENTS)).toBe("opencode");
    expect(nearest("ab", ["ax", "ay"])).toBe("ax");
  });

  it("stays fast on a 10 kB input", () => {
    const started = performance.now();
    expect(nearest("x".repeat(10_000), AGENTS)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
  });
});
