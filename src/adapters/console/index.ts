// The console adapter, spawnbot's embedded default: a REPL over stdin/stdout with the same
// grammar as chat. On a TTY the status of a run is redrawn in place; in a pipe each step
// change is one plain line, and at the end of input it waits for the runs in flight.
import os from "node:os";
import readline from "node:readline";
import type { ChatAdapter } from "../../bot/index.js";
import type { BotCore } from "../../bot/index.js";
import type { ChatRequest, Conversation } from "../../bot/index.js";
import type { StatusView, View } from "../../bot/index.js";
import { renderStatus, renderStepLine, renderView, type Style } from "./render.js";

export interface ConsoleOptions {
  core: BotCore;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Redraw in place and colour; defaults to whether output is a TTY. */
  interactive: boolean;
  user?: { id: string; name: string };
}

export class ConsoleAdapter implements ChatAdapter {
  readonly platform = "console";
  readonly connected = true;
  private running: Promise<number> | undefined;
  private readonly style: Style;
  private readonly seen = new Map<string, string>(); // "spawnId/step" → last state printed (pipe mode)
  private lastBlock: { spawnId: string; lines: number } | undefined; // what a TTY redraw may overwrite
  private failures = 0;
  private rl: readline.Interface | undefined;

  constructor(private readonly opts: ConsoleOptions) {
    this.style = { color: opts.interactive };
  }

  /** Start reading commands (the outlet is attached before this returns); `ended` gives the exit code. */
  async start(): Promise<void> {
    this.running ??= this.run();
  }

  get ended(): Promise<number> {
    if (!this.running) throw new Error("the console adapter was not started");
    return this.running;
  }

  /** Read commands until the input ends; resolves with the process exit code. */
  async run(): Promise<number> {
    const { input, output, interactive, core } = this.opts;
    const rl = readline.createInterface({ input, output: interactive ? output : undefined, terminal: interactive, prompt: "spawnbot> " });
    this.rl = rl;
    const user = this.opts.user ?? { id: os.userInfo().username, name: os.userInfo().username };
    // Reminders, reports and redraws outside a command land on the same screen as everything else.
    const conv = this.conversation();
    core.attachOutlet({ platform: "console", notify: (_user, v) => conv.whisper(v), status: (_place, v) => conv.status(v) });
    if (interactive) {
      this.print(["spawnbot console — type `help` for commands, Ctrl-D to quit"]);
      rl.prompt();
    }
    for await (const line of rl) {
      if (line.trim() !== "") {
        const req: ChatRequest = { platform: "console", workspace: "local", channel: "console", user, text: line };
        await core.handle(req, this.conversation());
      }
      if (interactive) rl.prompt();
    }
    const results = (await core.idle()) as { outcome?: string }[];
    this.failures += results.filter((r) => r && r.outcome !== "ready").length;
    return this.failures > 0 ? 1 : 0;
  }

  /** Stop reading commands (shutdown); run() then waits for the runs in flight as at end of input. */
  async stop(): Promise<void> {
    this.rl?.close();
  }

  private conversation(): Conversation {
    return {
      say: async (v: View) => this.print(renderView(v, this.style)),
      whisper: async (v: View) => this.print(renderView(v, this.style)),
      status: async (v: StatusView) => (this.opts.interactive ? this.redraw(v) : this.printStepChanges(v)),
    };
  }

  private print(lines: string[]): void {
    this.lastBlock = undefined;
    this.opts.output.write(`${lines.join("\n")}\n`);
  }

  /** TTY: overwrite this spawn's block if it is the last thing on screen, else print a new one. */
  private redraw(v: StatusView): void {
    const lines = renderStatus(v, this.style);
    const out = this.opts.output;
    if (this.lastBlock?.spawnId === v.spawnId) out.write(`\x1b[${this.lastBlock.lines}A\r\x1b[0J`);
    out.write(`${lines.join("\n")}\n`);
    this.lastBlock = { spawnId: v.spawnId, lines: lines.length };
    this.rl?.prompt(true); // the block was drawn under the prompt: show it again below
  }

  /** Pipe: one line per step that changed state, then the result once. */
  private printStepChanges(v: StatusView): void {
    const lines: string[] = [];
    if (!this.seen.has(v.spawnId)) {
      this.seen.set(v.spawnId, "");
      lines.push(`[${v.name}] ${v.title}`);
    }
    for (const s of v.steps) {
      const key = `${v.spawnId}/${s.name}`;
      const stamp = `${s.state}|${s.detail ?? ""}`;
      if (s.state === "pending" || this.seen.get(key) === stamp) continue;
      this.seen.set(key, stamp);
      lines.push(renderStepLine(v, s));
    }
    if (v.result && !this.seen.has(`${v.spawnId}/result`)) {
      this.seen.set(`${v.spawnId}/result`, v.result.outcome);
      lines.push(`[${v.name}] ${v.result.outcome}: ${v.result.message}`);
    }
    if (lines.length) this.print(lines);
  }
}
