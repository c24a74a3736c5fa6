// Runs an agent's install on its host so that it tells the truth: the status shows how long it
// has been running, a failing installer fails the step at once in its own words, and an install
// that prints nothing for too long is stopped with one clear message instead of hanging.
import type { Logger } from "../log.js";
import type { RemoteHost } from "./remote/types.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/**
 * An install silent this long is taken as hung. npm prints a line per download (host-scripts.ts
 * sets its log level), so only a dead network or a stuck installer is this quiet.
 */
export const DEFAULT_INSTALL_STALL_MS = 5 * MINUTE;
/** How often the status view's "installing … (elapsed)" line is refreshed. */
export const INSTALL_ELAPSED_EVERY_MS = 10 * SECOND;
/** Lines of the installer's own error shown to the user. */
const ERROR_TAIL_LINES = 3;
/** npm's chatter around an error, which says nothing about the cause. */
const NOISE = /^npm (http|warn|notice|verb|timing) |A complete log of this run can be found in/;

/** Exit codes from here up are a signal's (128 + n) or the SSH session's own (255), not the installer's. */
const KILLED_EXIT = 128;

/** An install that failed or stalled: retrying the same install on the same host will not help. */
export class InstallError extends Error {
  readonly code = "INSTALL_FAILED";
  readonly retryable = false;
}

/** "45s", "2m 05s". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / SECOND);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

export interface InstallRunOptions {
  script: string;
  /** The agent's display name, for messages. */
  name: string;
  timeoutMs: number;
  stallMs: number;
  progressEveryMs?: number;
  signal: AbortSignal;
  progress(message: string): void;
  log: Logger;
}

export async function runInstall(host: RemoteHost, o: InstallRunOptions): Promise<void> {
  const started = Date.now();
  const stalled = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stalled.abort(), o.stallMs);
  };
  armStallTimer();
  const ticker = setInterval(() => o.progress(`installing ${o.name} (${formatElapsed(Date.now() - started)})`), o.progressEveryMs ?? INSTALL_ELAPSED_EVERY_MS);
  let result;
  try {
    result = await host.run(o.script, {
      timeoutMs: o.timeoutMs,
      signal: AbortSignal.any([o.signal, stalled.signal]),
      onOutput: (chunk) => {
        armStallTimer();
        o.log.debug({ chunk }, `installing ${o.name}`);
      },
    });
  } catch (err) {
    if (stalled.signal.aborted && !o.signal.aborted) {
      throw new InstallError(`the install of ${o.name} printed nothing for ${formatElapsed(o.stallMs)} and was stopped; check that the host reaches its package registry, then spawn again`);
    }
    throw err;
  } finally {
    clearTimeout(stallTimer);
    clearInterval(ticker);
  }
  if (result.code !== 0) {
    // The connection died under the install (sshd restarted, the host rebooted) or something
    // killed the installer: the installer did not fail, so the step's next try may well succeed.
    if (!host.connected || result.code >= KILLED_EXIT) {
      throw Object.assign(new Error(`the install of ${o.name} was cut short (exit ${result.code}); trying again`), { retryable: true });
    }
    const lines = (result.stderr.trim() || result.stdout.trim()).split("\n").map((l) => l.trim()).filter((l) => l && !NOISE.test(l));
    const tail = lines.slice(-ERROR_TAIL_LINES).join(" / ");
    throw new InstallError(`installing ${o.name} failed (exit ${result.code})${tail ? `: ${tail}` : ""}`);
  }
}
