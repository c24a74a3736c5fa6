// The console's terminal screen: text printed for good at the top, the status blocks of the runs
// still in flight below it (redrawn in place), and the prompt with what the person is typing at
// the bottom. Everything is measured in terminal rows, so wrapped lines at 80 columns, colour
// codes and wide characters never leave stale lines behind.
import { stripVTControlCharacters } from "node:util";
import stringWidth from "string-width";

/** What a terminal does with text wider than it when nobody says (a pipe or a test stream). */
export const DEFAULT_COLUMNS = 80;
const TAB_STOP = 8; // terminals put tab stops every 8 columns
/**
 * Rows kept free under the live blocks for the prompt and a command being typed (three rows hold
 * 240 characters at 80 columns), and for the row Enter adds: if the screen scrolled the top of
 * the live blocks away, the cursor could not go back up to redraw them and stale rows would stay.
 */
const PROMPT_RESERVE_ROWS = 4;
const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * How many terminal rows these lines take when each is written followed by a newline at this
 * width: a line exactly as wide as the terminal takes one row, a wide character that does not fit
 * in the last column wraps whole (as xterm and tmux do), and colour codes take no room.
 */
export function terminalRows(lines: readonly string[], columns: number): number {
  const width = Math.max(1, Math.floor(columns));
  let rows = 0;
  for (const line of lines) rows += rowsOf(stripVTControlCharacters(line), width);
  return rows;
}

function rowsOf(text: string, columns: number): number {
  let rows = 1;
  let col = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (segment === "\t") {
      col = Math.max(col, Math.min((Math.floor(col / TAB_STOP) + 1) * TAB_STOP, columns - 1)); // a tab never wraps
      continue;
    }
    const w = stringWidth(segment);
    if (w === 0) continue;
    if (col + w > columns) {
      rows++;
      col = 0;
    }
    col += w;
  }
  return rows;
}

/** The part of readline the screen uses: where the cursor is within the prompt, and readline's own redraw. */
export interface PromptLine {
  /** The text typed so far, and the prompt before it. */
  readonly line: string;
  getPrompt(): string;
  getCursorPos(): { rows: number; cols: number };
  /**
   * readline's own note of the cursor's row within the prompt, where its redraw starts by moving
   * up from. Undocumented but long-standing in Node's readline; it lags behind after a paste
   * (readline writes pasted text without redrawing), so the screen reads it rather than assume.
   */
  readonly prevRows?: number;
  /** readline's prompt(true): draws the prompt and the typed text again, keeping the cursor where it was. */
  prompt(preserveCursor?: boolean): void;
}

export interface TerminalOutput {
  write(s: string): unknown;
  /** A TTY's size; absent on other streams. */
  columns?: number;
  rows?: number;
}

export class LiveScreen {
  /** The status blocks of runs in flight (and each one's one-line form), in the order they first showed. */
  private readonly live = new Map<string, { lines: string[]; folded: string }>();
  /** Rows the live blocks take on screen right now, just above the prompt. */
  private liveRows = 0;
  private prompt: PromptLine | undefined;

  constructor(private readonly out: TerminalOutput) {}

  /** The prompt under the live blocks; undefined once input has ended (no prompt is drawn again). */
  attachPrompt(prompt: PromptLine | undefined): void {
    this.prompt = prompt;
  }

  /** Text for good: above the live blocks, which stay at the bottom with the prompt. */
  print(lines: readonly string[]): void {
    this.repaint(lines);
  }

  /**
   * A run's status block: redrawn in place while it runs (as its one `folded` line when the
   * screen is too small for all blocks); once ended, printed for good where it stood.
   */
  status(spawnId: string, lines: readonly string[], ended: boolean, folded = lines[0] ?? ""): void {
    if (!ended) {
      this.live.set(spawnId, { lines: [...lines], folded });
      return this.repaint([]);
    }
    this.live.delete(spawnId);
    this.repaint(lines);
  }

  /**
   * Enter was pressed: readline has already written the typed line and a newline below the live
   * blocks. Move that line above them, where the commands and their answers read in order.
   */
  entered(echo: string): void {
    if (this.live.size === 0) return; // the line already sits where it belongs
    // readline's own rule: the echoed line takes floor(width / columns) + 1 rows (it allocates a
    // fresh row when the text ends exactly at the edge).
    const rows = Math.floor(this.width(echo) / this.columns()) + 1;
    this.repaint([echo], rows);
  }

  /** Input ended: the prompt goes and is not drawn again (the runs in flight still redraw above). */
  inputEnded(): void {
    const rows = this.prompt?.getCursorPos().rows ?? 0;
    this.prompt = undefined;
    this.out.write(`${rows > 0 ? `\x1b[${rows}A` : ""}\r\x1b[0J`);
  }

  private columns(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : DEFAULT_COLUMNS;
  }

  private width(text: string): number {
    return stringWidth(stripVTControlCharacters(text));
  }

  /**
   * Erase the live blocks and the prompt, write `lines` for good, draw the live blocks again and
   * then the prompt with its typed text. `extraRows` are rows written under the live blocks since
   * the last repaint (an echoed command line), erased too.
   */
  private repaint(lines: readonly string[], extraRows = 0): void {
    const cursorRow = this.prompt ? this.prompt.getCursorPos().rows : 0; // the cursor's row within a wrapped prompt, as the terminal wrapped it
    const up = this.liveRows + extraRows + cursorRow;
    let text = `${up > 0 ? `\x1b[${up}A` : ""}\r\x1b[0J`;
    if (lines.length) text += `${lines.join("\n")}\n`;
    const block = this.liveBlock();
    if (block.length) text += `${block.join("\n")}\n`;
    this.liveRows = terminalRows(block, this.columns());
    // readline's redraw first moves up by the row it believes the cursor is on within the prompt;
    // newlines put the cursor that far below, so the prompt lands right under the live blocks.
    if (this.prompt) text += "\n".repeat(this.prompt.prevRows ?? cursorRow);
    this.out.write(text);
    this.prompt?.prompt(true);
  }

  /**
   * The live blocks as drawn: in full while they fit on the screen above the prompt; when they do
   * not, the first ones in full and the rest in their one-line form (name, status, step), and when
   * not even those fit, as many one-line forms as do and how many more runs there are.
   */
  private liveBlock(): string[] {
    const blocks = [...this.live.values()];
    const cols = this.columns();
    const promptRows = this.prompt ? Math.floor(this.width(this.prompt.getPrompt() + this.prompt.line) / cols) + 1 : 1;
    const room = (this.out.rows ?? Number.POSITIVE_INFINITY) - Math.max(PROMPT_RESERVE_ROWS, promptRows + 1);
    const foldedRows = blocks.map((b) => terminalRows([b.folded], cols));
    if (foldedRows.reduce((a, n) => a + n, 0) > room) {
      const out: string[] = [];
      let used = 0;
      for (const b of blocks) {
        const line = clipToWidth(b.folded, cols - 1);
        if (used + 2 > room) break; // keep a row for the count of the others
        out.push(line);
        used += 1;
      }
      const more = blocks.length - out.length;
      if (more > 0) out.push(clipToWidth(`… and ${more} more ${more === 1 ? "run" : "runs"} in flight`, cols - 1));
      return out;
    }
    const out: string[] = [];
    let used = 0;
    blocks.forEach((b, i) => {
      const full = terminalRows(b.lines, cols);
      const rest = foldedRows.slice(i + 1).reduce((a, n) => a + n, 0); // what the later runs need at least
      if (used + full + rest <= room) {
        out.push(...b.lines);
        used += full;
      } else {
        out.push(b.folded);
        used += foldedRows[i]!;
      }
    });
    return out;
  }
}

/** The longest start of `text` (colour codes removed) that fits in `columns`. */
function clipToWidth(text: string, columns: number): string {
  let out = "";
  let used = 0;
  for (const { segment } of graphemes.segment(stripVTControlCharacters(text))) {
    const w = stringWidth(segment);
    if (used + w > columns) break;
    out += segment;
    used += w;
  }
  return out;
}
