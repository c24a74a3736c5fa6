// Splits command text into words the way a shell would (quotes group, backslashes escape) and
// holds the text-safety checks every part of the grammar shares. Chat clients send “smart”
// quotes and turn a typed `--` into a dash, so those count as what the user meant.

export interface Token {
  /** The word with its quotes and escapes removed (may be "" for `""`). */
  text: string;
  /** True when the word's first character was typed plainly, not quoted or escaped: only such words can be flags. */
  bare: boolean;
}

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; error: string };

const DOUBLE_QUOTES = new Set(['"', "\u201C", "\u201D"]); // " “ ”
const SINGLE_QUOTES = new Set(["'", "\u2018", "\u2019"]); // ' ‘ ’
// Phones and Slack write don't as don’t: between two letters these are apostrophes, not quotes.
const APOSTROPHES = new Set(["'", "\u2019"]);
// macOS, iOS and Slack replace a typed "--" with an en or em dash.
const AUTOCORRECTED_DASHES = new Set(["\u2013", "\u2014"]);

/**
 * Words of `text`, split on whitespace (tab and newline included). Inside double quotes a
 * backslash escapes only a quote or a backslash (so `"\d+"` stays as typed); outside quotes it
 * escapes any character, and backslash-newline joins lines. Tabs inside quotes become spaces.
 * Unlike a shell, `'` or `’` between two letters is an apostrophe, inside or outside single
 * quotes, so `'don't stop'` is one word.
 */
export function tokenize(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let word: Token | undefined;
  let i = 0;
  const startWord = (bare: boolean): Token => (word ??= { text: "", bare });
  const endWord = (): void => {
    if (word) tokens.push(word);
    word = undefined;
  };
  const isApostrophe = (at: number): boolean =>
    APOSTROPHES.has(text[at]!) && isLetterOrDigit(text[at - 1]) && isLetterOrDigit(text[at + 1]);

  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      endWord();
      i++;
    } else if (ch === "\\") {
      const next = text[i + 1];
      if (next === undefined) return { ok: false, error: "the command ends with a backslash; remove it or put the text in quotes" };
      i += 2;
      if (next !== "\n") startWord(false).text += next;
    } else if (DOUBLE_QUOTES.has(ch) || (SINGLE_QUOTES.has(ch) && !isApostrophe(i))) {
      const double = DOUBLE_QUOTES.has(ch);
      const closers = double ? DOUBLE_QUOTES : SINGLE_QUOTES;
      const target = startWord(false);
      let j = i + 1;
      for (; j < text.length && !(closers.has(text[j]!) && (double || !isApostrophe(j))); j++) {
        const c = text[j]!;
        const escaped = text[j + 1];
        if (double && c === "\\" && escaped !== undefined && (escaped === "\\" || DOUBLE_QUOTES.has(escaped))) {
          target.text += escaped;
          j++;
        } else {
          target.text += c === "\t" ? " " : c;
        }
      }
      if (j >= text.length) {
        return { ok: false, error: `unbalanced quote: the ${ch} is never closed; close it, or escape it with a backslash` };
      }
      i = j + 1;
    } else if (word === undefined && AUTOCORRECTED_DASHES.has(ch)) {
      startWord(true).text += "--";
      i++;
    } else {
      startWord(true).text += ch;
      i++;
    }
  }
  endWord();
  return { ok: true, tokens };
}

function isLetterOrDigit(ch: string | undefined): boolean {
  return ch !== undefined && /^[\p{L}\p{N}]$/u.test(ch);
}

/** A bare word starting with `-` is a flag (or a misplaced one); quoted words never are. */
export function isFlagToken(token: Token): boolean {
  return token.bare && token.text.startsWith("-");
}

// --- Text safety shared by the grammar ----------------------------------------------------

/** Longest piece of user input an error message may quote back. */
export const MAX_ECHO_CHARS = 40;

export interface ForbiddenCharacter {
  /** `U+0000` style name of the character. */
  label: string;
  /** 1-based position in characters (code points). */
  position: number;
}

/**
 * The first character no command may contain, other than those in `allowed`: C0/C1 control
 * characters and DEL, bidirectional overrides and isolates (they make text read differently than
 * it runs, "Trojan Source"), line/paragraph separators, and lone UTF-16 surrogates.
 */
export function findForbiddenCharacter(text: string, allowed: string): ForbiddenCharacter | undefined {
  let position = 0;
  for (const ch of text) {
    position++;
    if (allowed.includes(ch)) continue;
    const code = ch.codePointAt(0)!;
    const forbidden =
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0x2028 ||
      code === 0x2029 ||
      // for..of yields a valid pair as one code point above 0xFFFF, so these are unpaired halves.
      (code >= 0xd800 && code <= 0xdfff);
    if (forbidden) return { label: codePointLabel(code), position };
  }
  return undefined;
}

/** The first character outside printable ASCII, for "names are plain ASCII" errors. */
export function findNonAscii(text: string): ForbiddenCharacter | undefined {
  let position = 0;
  for (const ch of text) {
    position++;
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code > 0x7e) return { label: codePointLabel(code), position };
  }
  return undefined;
}

export function codePointLabel(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * User input as it may appear inside an error: at most MAX_ECHO_CHARS characters, anything
 * outside printable ASCII shown as `?` (so look-alike letters are visible as such and no
 * control character reaches the chat), `…` when cut.
 */
export function excerpt(value: string): string {
  const chars = Array.from(value);
  const shown = chars
    .slice(0, MAX_ECHO_CHARS)
    .map((ch) => (/^[\x20-\x7e]$/.test(ch) ? ch : "?"))
    .join("");
  return chars.length > MAX_ECHO_CHARS ? `${shown}…` : shown;
}
