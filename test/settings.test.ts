// A user's settings through the core: their OpenRouter key sealed at rest and used by their
// spawns, default models and SSH keys from one form, extend, and deliveries handled once.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSecretBox, parseSecretKey, SecretBox } from "../src/bot/access/secret-box.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

const ALICE_KEY = `sk-or-v1-${"a1b2c3d4".repeat(8)}`;
const bob = { id: "U2", name: "bob" };
const session = `settings-${process.pid}`;

afterAll(() => {
  spawnSync("tmux", ["kill-session", "-t", `=${session}`]);
});

/** Every byte the store keeps on disk: the database and its write-ahead log. */
function storeBytes(dataDir: string): string {
  return readdirSync(dataDir).filter((f) => f.startsWith("spawnbot.db")).map((f) => readFileSync(path.join(dataDir, f)).toString("latin1")).join("");
}

describe("the secret box", () => {
  it("opens what it sealed, and nothing sealed for another user or with another key", () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const sealed = box.seal(ALICE_KEY, "slack:U1:openrouter-api-key");
    expect(sealed).not.toContain(ALICE_KEY);
    expect(box.open(sealed, "slack:U1:openrouter-api-key")).toBe(ALICE_KEY);
    expect(() => box.open(sealed, "slack:U2:openrouter-api-key")).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, "slack:U1:openrouter-api-key")).toThrow();
  });

  it("makes its key file 0600 on first start and reads the same key afterwards", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-box-"));
    const sealed = loadSecretBox(dir).seal("hello", "ctx");
    expect(statSync(path.join(dir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(loadSecretBox(dir).open(sealed, "ctx")).toBe("hello");
  });

  it("reads SPAWNBOT_SECRET_KEY as 64 hex digits or base64 of 32 bytes, nothing else", () => {
    expect(parseSecretKey("ab".repeat(32))?.length).toBe(32);
    expect(parseSecretKey(Buffer.alloc(32, 1).toString("base64"))?.length).toBe(32);
    expect(parseSecretKey("short")).toBeUndefined();
    expect(parseSecretKey("ab".repeat(16))).toBeUndefined();
  });
});

describe("the OpenRouter key in settings", () => {
  it("is stored sealed, shown only by its last four characters, and used by the user's spawns", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-home-"));
    const bot = makeBot({ apiKey: "", localHome: home });
    const conv = new RecordingConversation();
    expect(await bot.core.saveSettings(request(""), conv, { apiKey: ALICE_KEY })).toEqual({});
    expect(JSON.stringify(conv.private)).toContain("ending in c3d4");
    expect(JSON.stringify(conv.private)).not.toContain(ALICE_KEY);
    expect(storeBytes(bot.dataDir)).not.toContain(ALICE_KEY);
    expect(JSON.stringify(await bot.store.listAudit())).not.toContain(ALICE_KEY);

    await bot.core.handle(request("settings"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "settings", apiKey: { source: "yours", last4: "c3d4" } });

    await bot.core.handle(request(`spawn testagent local --name ${session}`), conv);
    const [result] = (await bot.core.idle()) as { outcome: string }[];
    expect(result?.outcome).toBe("ready");
    expect(readFileSync(path.join(home, ".spawnrc"), "utf8")).toContain(ALICE_KEY);
    expect(JSON.stringify([conv.public, conv.statuses])).not.toContain(ALICE_KEY);
  });

  it("is the user's own: another user without a key gets told how to add one and nothing is made", async () => {
    const bot = makeBot({ apiKey: "" });
    const conv = new RecordingConversation();
    await bot.core.saveSettings(request(""), conv, { apiKey: ALICE_KEY });
    await bot.core.handle(request("spawn testagent local", bob), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("no OpenRouter API key: add yours with `settings`") });
    expect(await bot.store.listForOwner({ platform: "test", userId: bob.id })).toEqual([]);
  });

  it("refuses a key pasted into a command, without echoing it, and changes nothing", async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    for (const text of [`prefs key ${ALICE_KEY}`, `spawn codex local --prompt "use ${ALICE_KEY}"`, `settings ${ALICE_KEY}`]) {
      await bot.core.handle(request(text), conv);
      const answer = conv.lastPrivate();
      expect(answer).toMatchObject({ kind: "error", message: expect.stringContaining("never paste one into a chat message") });
      expect(JSON.stringify(answer)).not.toContain("a1b2c3d4");
    }
    expect(await bot.store.listForOwner({ platform: "test", userId: "U1" })).toEqual([]);
    expect(await bot.store.chat.getUserSecret({ platform: "test", userId: "U1" }, "openrouter-api-key")).toBeUndefined();
  });

  it("rejects a bad form field by field and changes nothing", async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const errors = await bot.core.saveSettings(request(""), conv, {
      apiKey: "not-a-key-at-all-but-long-enough", addKey: "ssh-dss AAAA", models: { codex: "gpt5", claude: "anthropic/claude-opus-4.1" },
    });
    expect(Object.keys(errors).sort()).toEqual(["addKey", "apiKey", "model:codex"]);
    expect(JSON.stringify(errors)).not.toContain("not-a-key-at-all");
    expect(await bot.store.listModelPreferences({ platform: "test", userId: "U1" })).toEqual([]);
    expect(conv.private).toEqual([]);
  });

  it("saves default models and an SSH key from one form and clears a model with an empty field", async () => {
    const bot = makeBot();
    const conv = new RecordingConversation();
    const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-key-"));
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const pub = readFileSync(path.join(dir, "k.pub"), "utf8").trim();
    expect(await bot.core.saveSettings(request(""), conv, { models: { codex: "openai/gpt-5", claude: "" }, addKey: pub })).toEqual({});
    const user = { platform: "test", userId: "U1" };
    expect(await bot.store.listModelPreferences(user)).toEqual([{ agent: "codex", model: "openai/gpt-5" }]);
    expect(await bot.store.listUserKeys(user)).toHaveLength(1);
    await bot.core.saveSettings(request(""), conv, { models: { codex: "" } });
    expect(await bot.store.listModelPreferences(user)).toEqual([]);
    const view = await bot.core.homeView(request(""));
    expect(view.settings.models.find((m) => m.agent === "codex")).toMatchObject({ saved: undefined, defaultModel: "openai/gpt-5.3-codex" });
  });
});

describe("extend", () => {
  it("pushes a live spawn's expiry back for its owner only, and refuses bad durations", async () => {
    const bot = makeBot();
    const now = Date.now();
    const rec = await bot.store.recordIntent({
      id: "3f0e7a52-0000-4000-8000-000000000001", name: "box-one", platform: "test", workspace: "W1", channel: "C1", ownerId: "U1", ownerName: "alice",
      agent: "codex", cloud: "local", model: "openai/gpt-5", size: null, zone: null, session: "box-one", prompt: null, createdAt: now, expiresAt: now + 3600_000,
    });
    const conv = new RecordingConversation();
    await bot.core.handle(request("extend box-one 4h"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "text", lines: ["box-one now expires in 5h"] });
    expect((await bot.store.getSpawn(rec.id))!.expiresAt).toBeGreaterThanOrEqual(now + 5 * 3600_000);

    await bot.core.handle(request("extend box-one", bob), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: "only alice or an admin can extend box-one" });
    await bot.core.handle(request("extend box-one soon"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("is not a duration") });
    expect((await bot.store.getSpawn(rec.id))!.expiresAt).toBeLessThan(now + 6 * 3600_000);
  });
});

describe("deliveries", () => {
  it("are claimed once, and forgotten after the memory window", async () => {
    const bot = makeBot();
    expect(await bot.core.claimDelivery("slack", "T1:trigger-1")).toBe(true);
    expect(await bot.core.claimDelivery("slack", "T1:trigger-1")).toBe(false);
    expect(await bot.core.claimDelivery("discord", "T1:trigger-1")).toBe(true);
    const at = Date.now() + 16 * 60_000;
    expect(await bot.store.chat.claimDelivery("slack:T1:trigger-1", 15 * 60_000, at)).toBe(true);
  });
});
