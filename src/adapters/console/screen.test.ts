// Terminal rows as xterm and tmux count them, and what the live screen writes to redraw in place.
import { describe, expect, it } from "vitest";
import { LiveScreen, terminalRows } from "./screen.js";

describe("terminalRows", () => {
  it("counts a line as wide as the terminal as one row and one character more as two", () => {
    expect(terminalRows(["x".repeat(80)], 80)).toBe(1);
    expect(terminalRows(["x".repeat(81)], 80)).toBe(2);
    expect(terminalRows(["x".repeat(240)], 80)).toBe(3);
  });

  it("counts an empty line as a row", () => {
    expect(terminalRows(["", "a", ""], 80)).toBe(3);
  });

  it("gives colour codes no width", () => {
    const painted = `\x1b[1m${"x".repeat(78)}\x1b[0m`;
    expect(painted.length).toBeGreaterThan(80);
    expect(terminalRows([painted], 80)).toBe(1);
  });

  it("counts East Asian wide characters and emoji as two columns", () => {
    expect(terminalRows(["漢".repeat(40)], 80)).toBe(1);
    expect(terminalRows(["漢".repeat(41)], 80)).toBe(2);
    expect(terminalRows(["✅".repeat(40)], 80)).toBe(1);
    expect(terminalRows(["✅".repeat(41)], 80)).toBe(2);
  });

  it("wraps a wide character that does not fit in the last column whole", () => {
    // 79 narrow columns, then a wide character: it cannot take column 80 alone, so it starts row 2.
    expect(terminalRows([`${"x".repeat(79)}漢`], 80)).toBe(2);
    expect(terminalRows([`${"x".repeat(78)}漢`], 80)).toBe(1);
  });

  it("counts combining marks and the status marks as the one column they show in", () => {
    expect(terminalRows([`${"e\u0301".repeat(80)}`], 80)).toBe(1);
    expect(terminalRows([`  ✓ ${"x".repeat(76)}`, `  … ${"x".repeat(76)}`, `  · ${"x".repeat(77)}`], 80)).toBe(4);
  });

  it("moves a tab to the next stop of eight without wrapping", () => {
    expect(terminalRows([`\t${"x".repeat(72)}`], 80)).toBe(1);
    expect(terminalRows([`\t${"x".repeat(73)}`], 80)).toBe(2);
  });
});

/** A stand-in for readline: a prompt with nothing typed, and a count of its redraws. */
function prompt() {
  return { line: "", prevRows: 0, redraws: 0, getPrompt: () => "spawnbot> ", getCursorPos: () => ({ rows: 0, cols: 10 }), prompt() { this.redraws++; } };
}

describe("LiveScreen", () => {
  it("moves up over every row of a wrapped status block before drawing it again", () => {
    let out = "";
    const screen = new LiveScreen({ write: (s: string) => (out += s), columns: 80, rows: 24 });
    const p = prompt();
    screen.attachPrompt(p);
    const block = [`title ${"x".repeat(150)}`, "  … step"]; // 3 rows at 80 columns
    screen.status("s1", block, false);
    out = "";
    screen.status("s1", block, false);
    expect(out.startsWith("\x1b[3A\r\x1b[0J")).toBe(true);
    expect(p.redraws).toBe(2); // the prompt comes back under the block each time
  });

  it("prints a message above the runs in flight, which stay at the bottom", () => {
    let out = "";
    const screen = new LiveScreen({ write: (s: string) => (out += s), columns: 80, rows: 24 });
    screen.attachPrompt(prompt());
    screen.status("s1", ["run one", "  … step"], false);
    out = "";
    screen.print(["Connect to one:"]);
    expect(out).toBe("\x1b[2A\r\x1b[0JConnect to one:\nrun one\n  … step\n");
  });

  it("prints an ended run for good, so nothing redraws over it later", () => {
    let out = "";
    const screen = new LiveScreen({ write: (s: string) => (out += s), columns: 80, rows: 24 });
    screen.attachPrompt(prompt());
    screen.status("s1", ["run one", "  … step"], false);
    screen.status("s1", ["run one", "  ✓ step", "  one is ready"], true);
    out = "";
    screen.print(["next"]);
    expect(out).toBe("\r\x1b[0Jnext\n");
  });

  it("shows the first runs in full and folds the rest to one line each when all do not fit", () => {
    let out = "";
    const screen = new LiveScreen({ write: (s: string) => (out += s), columns: 80, rows: 12 });
    screen.attachPrompt(prompt());
    const block = (n: string, steps: number) => [n, ...Array.from({ length: steps }, (_, i) => `  · step ${i}`)];
    screen.status("a", block("run a", 6), false, "[a · provisioning] … step 0");
    screen.status("b", block("run b", 6), false, "[b · provisioning] … step 0");
    out = "";
    screen.print(["x"]);
    // 12 rows less 4 kept for the prompt leave 8: run a in full (7 rows) and run b's one line.
    expect(out).toBe(`\x1b[8A\r\x1b[0Jx\n${block("run a", 6).join("\n")}\n[b · provisioning] … step 0\n`);
    screen.status("a", block("run a", 7), false, "[a · provisioning] … step 1");
    // Run a grew to 8 rows: with run b's line that is 9, so run a folds and run b has the room.
    expect(out.endsWith(`\x1b[8A\r\x1b[0J[a · provisioning] … step 1\n${block("run b", 6).join("\n")}\n`)).toBe(true);
  });
});
