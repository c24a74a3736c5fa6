// What the suite produces, kept for the secret scan that runs after it (test/secret-scan.check.ts):
// every test bot's log lines, the chat messages the bot sends (recorded conversations and the
// Slack and Discord fakes), the SQLite files the test bots write, and the secret values the bot
// was told to hold. One file of each kind per worker, appended with plain synchronous writes.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { createLogger, type Logger } from "../../src/log.js";

/** Inside the worktree (git-ignored), so runs in other checkouts never mix. */
export const CAPTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.test-capture");

export type CaptureKind = "logs" | "messages" | "secrets" | "stores";

const fds = new Map<CaptureKind, number>();

function fdFor(kind: CaptureKind): number {
  let fd = fds.get(kind);
  if (fd === undefined) {
    mkdirSync(CAPTURE_DIR, { recursive: true });
    fd = openSync(path.join(CAPTURE_DIR, `${kind}-${process.pid}-${threadId}.ndjson`), "a");
    fds.set(kind, fd);
  }
  return fd;
}

function append(kind: CaptureKind, line: string): void {
  writeSync(fdFor(kind), line.endsWith("\n") ? line : `${line}\n`);
}

/** A logger like production's (JSON, every line through the redactor) that keeps every line, trace included. */
export function captureLogger(): Logger {
  const destination = { write: (chunk: string) => (append("logs", chunk), true) } as unknown as NodeJS.WritableStream;
  return createLogger({ level: "trace", format: "json", destination });
}

/** A chat message as it left the bot: `source` says where it was seen (a conversation, a fake's endpoint). */
export function captureMessage(source: string, body: unknown): void {
  append("messages", JSON.stringify({ source, body }));
}

/** A secret value the scan must never find in what was captured. */
export function captureSecret(value: string | undefined | null): void {
  if (value) append("secrets", JSON.stringify(value));
}

/** A SQLite file a test bot wrote, whose audit rows the scan reads. */
export function captureStore(file: string): void {
  append("stores", JSON.stringify(file));
}

/** Close this worker's files (tests of the capture itself use it). */
export function closeCapture(): void {
  for (const fd of fds.values()) closeSync(fd);
  fds.clear();
}
