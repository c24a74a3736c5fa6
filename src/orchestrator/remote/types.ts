// One interface for every host we run on: a VM over SSH or the bot's own machine.

export interface RunOptions {
  /** Abandon the command (and report a timeout) after this long. */
  timeoutMs?: number;
  /** Called with each chunk of stdout/stderr as it arrives. */
  onOutput?: (chunk: string) => void;
  /** Stop the command when this aborts (the step timed out or the run was cancelled). */
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PortForward {
  localPort: number;
  close(): Promise<void>;
}

export interface RemoteHost {
  /** False once the connection is gone (sshd restarted, network dropped): open a new one to go on. */
  readonly connected: boolean;
  /** Run a command through the login user's shell; resolves with its exit code (never throws on non-zero). */
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /** Write a file (path relative to home) with an exact mode, even if it existed before with another. */
  writeFile(path: string, content: string, mode: number): Promise<void>;
  /** Listen on 127.0.0.1 locally and forward each connection to remotePort on the host's loopback. */
  forwardPort(remotePort: number): Promise<PortForward>;
  close(): Promise<void>;
}

/** Output kept from a command, so a chatty install cannot fill memory. */
export const MAX_CAPTURED_OUTPUT = 64 * 1024;

export function appendCapped(buf: string, chunk: string): string {
  const next = buf + chunk;
  return next.length > MAX_CAPTURED_OUTPUT ? next.slice(next.length - MAX_CAPTURED_OUTPUT) : next;
}
