// The secret scanner on planted captures: it must fail the suite when a secret leaks into a log
// line, a chat message or an audit row, in whatever form it travels, and stay quiet otherwise.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "../src/bot/store/index.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";
import { CAPTURE_DIR, captureLogger } from "./support/capture.js";
import { scanCapture } from "./support/secret-scan.js";

const SECRET = "hunter2-but-longer/with+odd=chars&more";
const USER_KEY = `sk-or-v1-${"c0ffee".repeat(8)}`;

/** A capture directory as test/support/capture.ts writes it, holding the given lines. */
async function planted(files: Record<string, unknown[]>, audit: Record<string, unknown>[] = []): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-capture-"));
  const storeFile = path.join(dir, "bot.db");
  const store = openStore(storeFile);
  for (const detail of audit) await store.audit({ platform: "test", userId: "U1", action: "spawn", detail });
  await store.close();
  const all = { secrets: [SECRET, USER_KEY], stores: [storeFile], logs: [], messages: [], ...files };
  for (const [kind, lines] of Object.entries(all)) {
    const text = lines.map((l) => (typeof l === "string" && kind === "logs" ? l : JSON.stringify(l))).join("\n");
    writeFileSync(path.join(dir, `${kind}-1-0.ndjson`), text ? `${text}\n` : "");
  }
  return dir;
}

const cleanLog = JSON.stringify({ level: 30, msg: "spawn started", apiKey: "[redacted]" });
const cleanMessage = { source: "conversation.whisper", body: { kind: "text", lines: ["key tail [redacted]"] } };

describe("the secret scanner", () => {
  it("passes a capture that holds no secret, counting what it read", async () => {
    const report = await scanCapture(await planted({ logs: [cleanLog, cleanLog], messages: [cleanMessage] }, [{ agent: "codex" }]));
    expect(report).toEqual({ secrets: 2, logLines: 2, messages: 1, stores: 1, auditRows: 1, findings: [] });
  });

  it("finds a registered secret in a log line and says where, without printing the secret", async () => {
    const report = await scanCapture(await planted({ logs: [cleanLog, JSON.stringify({ level: 50, msg: `ssh failed: ${SECRET}` })] }));
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ where: "logs-1-0.ndjson:2", secret: "hunt…(38 chars)" });
    expect(JSON.stringify(report.findings)).not.toContain(SECRET);
  });

  it("finds a user's key in a chat message a fake received, JSON-escaped or URL-encoded", async () => {
    const slashy = "abc/def\"ghi\\jkl-0123";
    const report = await scanCapture(
      await planted({ messages: [{ source: "slack chat.postMessage", body: { text: `here: ${USER_KEY}` } }, { source: "raw", body: encodeURIComponent(SECRET) }, { body: slashy }], secrets: [SECRET, USER_KEY, slashy] }),
    );
    expect(report.findings.map((f) => f.where)).toEqual(["messages-1-0.ndjson:1", "messages-1-0.ndjson:2", "messages-1-0.ndjson:3"]);
  });

  it("finds a secret in a stored audit row", async () => {
    const report = await scanCapture(await planted({}, [{ agent: "codex" }, { reason: `cloud said: bad token ${SECRET}` }]));
    expect(report.auditRows).toBe(2);
    expect(report.findings).toEqual([expect.objectContaining({ where: expect.stringMatching(/bot\.db audit #2$/), secret: "hunt…(38 chars)" })]);
  });

  it("finds a key-shaped value nobody registered, and secrets given by the caller", async () => {
    const stray = `sk-ant-${"x".repeat(30)}`;
    const extra = "caller-known-value-123";
    const report = await scanCapture(await planted({ logs: [JSON.stringify({ msg: stray }), JSON.stringify({ msg: extra })] }), [extra]);
    expect(report.findings.map((f) => f.secret)).toEqual(["a secret-shaped value", "call…(22 chars)"]);
  });

  it("ignores values too short to be redacted, as the redactor does", async () => {
    const report = await scanCapture(await planted({ logs: [JSON.stringify({ msg: "port 2222" })], secrets: ["2222"] }));
    expect(report).toMatchObject({ secrets: 0, findings: [] });
  });
});

describe("the capture the scan reads", () => {
  const captured = (kind: string) =>
    readdirSync(CAPTURE_DIR).filter((f) => f.startsWith(`${kind}-`)).map((f) => readFileSync(path.join(CAPTURE_DIR, f), "utf8")).join("");

  it("keeps a test bot's answers and its SQLite file, and every line of a test logger at trace level", async () => {
    const bot = makeBot();
    await bot.core.handle(request("keys"), new RecordingConversation());
    // The user's own spawnbot key is unique to this bot: its answer was captured.
    expect(captured("messages")).toContain((await bot.core.userHostKeyLine({ platform: "test", userId: "U1" })).split(" ")[1]);
    expect(captured("stores")).toContain(JSON.stringify(path.join(bot.dataDir, "spawnbot.db")));
    const marker = `trace-marker-${Math.random().toString(36).slice(2)}`;
    captureLogger().trace({ marker }, "kept for the scan");
    expect(captured("logs")).toContain(marker);
  });
});
