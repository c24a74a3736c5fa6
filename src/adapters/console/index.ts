// The console adapter, spawnbot's embedded default: a REPL over stdin/stdout with the same
// grammar as chat. On a TTY the runs in flight are redrawn in place above the prompt (screen.ts);
// in a pipe each step change is one plain line. Either way, at the end of input it waits for
// the runs in flight, and the exit code follows one rule (exitCode below).
import os from "node:os";
import readline from "node:readline";
import type { ChatAdapter } from "../../bot/index.js";
import type { BotCore } from "../../bot/index.js";
import type { ChatRequest, Conversation } from "../../bot/index.js";
import type { StatusView, View } from "../../bot/index.js";
import { renderStatus, renderStatusLine, renderStepLine, renderView, type Style } from "./render.js";
import { LiveScreen } from "./screen.js";

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
  private readonly screen: LiveScreen | undefined; // TTY only
  private rl: readline.Interface | undefined;

  constructor(private readonly opts: ConsoleOptions) {
    this.style = { color: opts.interactive };
    if (opts.interactive) this.screen = new LiveScreen(opts.output);
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
    const rl = readline.createInterface({ input, output: interactive ? output : undefined, terminal: interactive, prompt: PROMPT });
    this.rl = rl;
    const screen = this.screen;
    if (screen) {
      // Enter leaves the typed line under the live status blocks: the screen moves it above them.
      rl.on("line", (line) => screen.entered(`${PROMPT}${line}`));
      rl.on("close", () => screen.inputEnded());
    }
    const user = this.opts.user ?? { id: os.userInfo().username, name: os.userInfo().username };
    // Reminders, reports and redraws outside a command land on the same screen as everything else.
    const conv = this.conversation();
    core.attachOutlet({ platform: "console", notify: (_user, v) => conv.whisper(v), status: (_place, v) => conv.status(v) });
    if (screen) {
      screen.attachPrompt(rl);
      this.print(["spawnbot console — type `help` for commands, Ctrl-D to quit"]);
    }
    for await (const line of rl) {
      if (line.trim() !== "") {
        const req: ChatRequest = { platform: "console", workspace: "local", channel: "console", user, text: line };
        await core.handle(req, this.conversation());
      }
      if (interactive) rl.prompt(true); // keeps anything typed ahead while the command ran
    }
    return exitCode((await core.idle()) as RunOutcome[]);
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

  /** Text for good; on a TTY above the runs in flight and the prompt, which keeps what is being typed. */
  private print(lines: string[]): void {
    if (this.screen) return this.screen.print(lines);
    this.opts.output.write(`${lines.join("\n")}\n`);
  }

  /** TTY: a run in flight is redrawn in place; its final state is printed for good. */
  private redraw(v: StatusView): void {
    this.screen?.status(v.spawnId, renderStatus(v, this.style), v.result !== undefined, renderStatusLine(v));
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
    // Each outcome once: a spawn that was ready and is deleted later says so too.
    if (v.result && this.seen.get(`${v.spawnId}/result`) !== v.result.outcome) {
      this.seen.set(`${v.spawnId}/result`, v.result.outcome);
      lines.push(`[${v.name}] ${v.result.outcome}: ${v.result.message}`);
    }
    if (lines.length) this.print(lines);
  }
}

const PROMPT = "spawnbot> ";

/** What a run the console waited for ended as (the core's run results). */
interface RunOutcome {
  outcome?: string;
}

/**
 * The one exit rule, for piped input and an interactive session alike: 1 when any run of this
 * process ended other than ready (failed or cancelled), else 0. It counts every run, also those
 * that ended while the person was still typing, so quitting later does not hide a failure.
 */
export function exitCode(results: readonly (RunOutcome | undefined)[]): number {
  return results.some((r) => r?.outcome !== undefined && r.outcome !== "ready") ? 1 : 0;
}
