import { describe, expect, it } from "vitest";
import { excerpt, findForbiddenCharacter, findNonAscii, isFlagToken, tokenize, type Token } from "./tokenize.js";

function words(text: string): string[] {
  const result = tokenize(text);
  if (!result.ok) throw new Error(`expected words, got: ${result.error}`);
  return result.tokens.map((t) => t.text);
}

function tokens(text: string): Token[] {
  const result = tokenize(text);
  if (!result.ok) throw new Error(result.error);
  return result.tokens;
}

describe("tokenize", () => {
  it("splits on spaces, tabs and newlines", () => {
    expect(words("codex  gcp\t--dry-run\n-n")).toEqual(["codex", "gcp", "--dry-run", "-n"]);
    expect(words("   ")).toEqual([]);
  });

  it("groups words in double and single quotes", () => {
    expect(words('--prompt "fix the tests"')).toEqual(["--prompt", "fix the tests"]);
    expect(words("--prompt 'fix the tests'")).toEqual(["--prompt", "fix the tests"]);
    expect(words('--prompt="a b"')).toEqual(["--prompt=a b"]);
  });

  it("keeps empty quoted words, so --steps \"\" means no steps", () => {
    expect(words('--steps ""')).toEqual(["--steps", ""]);
    expect(words("--steps ''")).toEqual(["--steps", ""]);
  });

  it("treats Slack's smart quotes as ASCII quotes", () => {
    expect(words("--prompt \u201Cfix the tests\u201D")).toEqual(["--prompt", "fix the tests"]);
    expect(words("--prompt \u2018fix it\u2019")).toEqual(["--prompt", "fix it"]);
  });

  it("keeps the other kind of quote inside quotes as typed", () => {
    expect(words(`"don't stop"`)).toEqual(["don't stop"]);
    expect(words(`'say "hi"'`)).toEqual(['say "hi"']);
    expect(words("\u201Cdon\u2019t stop\u201D")).toEqual(["don\u2019t stop"]);
  });

  it("escapes any character with a backslash outside quotes", () => {
    expect(words("fix\\ tests a\\\"b")).toEqual(["fix tests", 'a"b']);
  });

  it("escapes only quotes and backslashes inside double quotes, so regexes survive", () => {
    expect(words('"say \\"hi\\" \\\\ \\d+"')).toEqual(['say "hi" \\ \\d+']);
  });

  it("reads ' and ’ between two letters as apostrophes, as phones type them", () => {
    expect(words("'don't stop'")).toEqual(["don't stop"]);
    expect(words("\u2018don\u2019t stop\u2019")).toEqual(["don\u2019t stop"]);
    expect(words("bob's-box it\u2019s")).toEqual(["bob's-box", "it\u2019s"]);
    expect(words("--prompt='fix it'")).toEqual(["--prompt=fix it"]);
  });

  it("takes single-quoted text literally", () => {
    expect(words("'a\\b'")).toEqual(["a\\b"]);
  });

  it("joins lines at a backslash-newline", () => {
    expect(words("codex \\\ngcp")).toEqual(["codex", "gcp"]);
  });

  it("turns tabs inside quotes into spaces and keeps newlines", () => {
    expect(words('"a\tb\nc"')).toEqual(["a b\nc"]);
  });

  it("refuses an unbalanced quote", () => {
    const result = tokenize('--prompt "fix the tests');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^unbalanced quote/);
    expect(tokenize("'it").ok).toBe(false);
    expect(tokenize("\u201Cunclosed").ok).toBe(false);
  });

  it("refuses a trailing backslash", () => {
    expect(tokenize("codex gcp \\").ok).toBe(false);
  });

  it("reads an auto-corrected dash at the start of a word as --", () => {
    expect(words("\u2014model a/b \u2013dry-run")).toEqual(["--model", "a/b", "--dry-run"]);
    expect(words('"\u2014model"')).toEqual(["\u2014model"]);
  });

  it("marks only plainly typed words starting with - as flags", () => {
    const [plain, quoted, escaped, word] = tokens('--model "--model" \\--model model');
    expect([plain, quoted, escaped, word].map((t) => isFlagToken(t!))).toEqual([true, false, false, false]);
  });
});

describe("text safety", () => {
  it("finds NUL, other control characters, bidi overrides and lone surrogates", () => {
    expect(findForbiddenCharacter("ab\0c", "")).toEqual({ label: "U+0000", position: 3 });
    expect(findForbiddenCharacter("a\x1bb", "")?.label).toBe("U+001B");
    expect(findForbiddenCharacter("a\x7f", "")?.label).toBe("U+007F");
    expect(findForbiddenCharacter("a\u0085", "")?.label).toBe("U+0085");
    expect(findForbiddenCharacter("a\u202Eb", "")?.label).toBe("U+202E");
    expect(findForbiddenCharacter("a\u2028b", "")?.label).toBe("U+2028");
    expect(findForbiddenCharacter("a\uD800b", "")?.label).toBe("U+D800");
  });

  it("allows the characters it is told to, and ordinary unicode", () => {
    expect(findForbiddenCharacter("a\tb\nc", "\t\n")).toBeUndefined();
    expect(findForbiddenCharacter("héllo wörld 🚀 👨‍💻 日本", "")).toBeUndefined();
  });

  it("counts positions in characters, not UTF-16 units", () => {
    expect(findNonAscii("🚀x")).toEqual({ label: "U+1F680", position: 1 });
    expect(findForbiddenCharacter("🚀\0", "")?.position).toBe(2);
  });

  it("finds look-alike letters that are not ASCII", () => {
    expect(findNonAscii("\u0441odex")).toEqual({ label: "U+0441", position: 1 });
    expect(findNonAscii("codex")).toBeUndefined();
  });

  it("echoes at most 40 characters, with look-alikes and controls shown as ?", () => {
    expect(excerpt("a".repeat(100))).toBe(`${"a".repeat(40)}…`);
    expect(excerpt("a".repeat(40))).toBe("a".repeat(40));
    expect(excerpt("\u0441od\0ex")).toBe("?od?ex");
  });
});
