// A RemoteHost that is the bot's own machine, through child processes (the `local` cloud).
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { agentEnvironment } from "./clean-env.js";
import { CommandTimeoutError } from "./errors.js";
import { appendCapped, type PortForward, type RemoteHost, type RunOptions, type RunResult } from "./types.js";

const DEFAULT_COMMAND_TIMEOUT_MS = 300_000;

export class LocalHost implements RemoteHost {
  readonly connected = true; // the bot's own machine is never disconnected
  constructor(readonly home: string) {}

  run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", command], {
        cwd: this.home,
        // Never the bot's own environment (its tokens and keys): see clean-env.ts.
        env: agentEnvironment(process.env, this.home),
        stdio: ["ignore", "pipe", "pipe"],
        signal: opts.signal, // an abort kills the command and ends in "error" below
      });
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new CommandTimeoutError("a local command", timeoutMs));
      }, timeoutMs);
      child.stdout.on("data", (d: Buffer) => {
        stdout = appendCapped(stdout, d.toString("utf8"));
        opts.onOutput?.(d.toString("utf8"));
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr = appendCapped(stderr, d.toString("utf8"));
        opts.onOutput?.(d.toString("utf8"));
      });
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 255), stdout, stderr });
      });
    });
  }

  async writeFile(file: string, content: string, mode: number): Promise<void> {
    const full = path.resolve(this.home, file.replace(/^~\//, ""));
    mkdirSync(path.dirname(full), { recursive: true, mode: 0o700 });
    try {
      chmodSync(full, mode); // tighten before writing secret content into an existing file
    } catch {
      // new file: writeFileSync's mode applies
    }
    writeFileSync(full, content, { mode });
    chmodSync(full, mode);
  }

  /** The agent already listens on this machine's loopback: nothing to forward. */
  async forwardPort(remotePort: number): Promise<PortForward> {
    return { localPort: remotePort, close: async () => undefined };
  }

  async close(): Promise<void> {}
}
