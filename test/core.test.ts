// The bot core without a host: model priority, dry runs, prefs, keys, lists, permissions.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

const bob = { id: "U2", name: "bob" };

function newKey(type: string, bits?: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-key-")), "k");
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", bits] : []), "-N", "", "-C", "alice@laptop", "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").trim();
}

describe("model priority: --model, then the saved preference, then the agent's default", () => {
  it("uses the agent's default when nothing else is given", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("spawn codex local --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", model: "openai/gpt-5.3-codex", modelSource: "default" });
  });

  it("uses the saved preference over the default, per user and per agent", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("prefs model codex anthropic/claude-opus-4.1"), conv);
    await core.handle(request("spawn codex local --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", model: "anthropic/claude-opus-4.1", modelSource: "preference" });
    await core.handle(request("spawn codex local --dry-run", bob), conv);
    expect(conv.lastPrivate()).toMatchObject({ model: "openai/gpt-5.3-codex" });
    await core.handle(request("spawn pi local --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ model: "anthropic/claude-sonnet-4.6" });
  });

  it("uses --model over the saved preference", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("prefs model codex anthropic/claude-opus-4.1"), conv);
    await core.handle(request("spawn codex local --dry-run -m openai/gpt-5"), conv);
    expect(conv.lastPrivate()).toMatchObject({ model: "openai/gpt-5", modelSource: "flag" });
  });

  it("falls back to the default again after prefs model --clear", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("prefs model codex anthropic/claude-opus-4.1"), conv);
    await core.handle(request("prefs model codex --clear"), conv);
    await core.handle(request("spawn codex local --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ model: "openai/gpt-5.3-codex", modelSource: "default" });
  });
});

describe("a dry run", () => {
  it("shows the plan and creates nothing", async () => {
    const { core, store } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("spawn codex local --dry-run --name my-box --ttl 2h --steps github"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", agent: "Codex CLI", cloud: "Local machine", name: "my-box", ttl: "2h", steps: ["github"] });
    expect(await store.listForChannel("test", "W1", "C1")).toEqual([]);
    expect(conv.public).toEqual([]);
  });
});

describe("bad input", () => {
  it("gets one line of error and the usage, and changes nothing", async () => {
    const { core, store } = makeBot();
    const conv = new RecordingConversation();
    for (const text of ["spawn codx local", "spawn codex local --frobnicate", 'spawn codex local --prompt "open', "x".repeat(10_000), "spawn codex local --model \u0000"]) {
      await core.handle(request(text), conv);
      const v = conv.lastPrivate();
      expect(v?.kind).toBe("error");
      if (v?.kind === "error") {
        expect(v.message).not.toContain("\n");
        expect(v.usage).toBeTruthy();
      }
    }
    expect(await store.listForChannel("test", "W1", "C1")).toEqual([]);
    expect(await store.listAudit()).toEqual([]);
  });

  it("refuses a cloud that is not set up yet with the list of those that are", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("spawn codex aws"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("available clouds: local, ssh") });
  });
});

describe("keys", () => {
  it("accepts ed25519, ECDSA and 3072-bit RSA keys and lists them with the user's own spawnbot key", async () => {
    const { core, botKey } = makeBot();
    const conv = new RecordingConversation();
    for (const k of [newKey("ed25519"), newKey("ecdsa"), newKey("rsa", "3072")]) {
      await core.handle(request(`keys add ${k}`), conv);
      expect(conv.lastPrivate()).toMatchObject({ kind: "text", lines: [expect.stringMatching(/^added .* key SHA256:/)] });
    }
    await core.handle(request("keys"), conv);
    const lines = (conv.lastPrivate() as { lines: string[] }).lines;
    expect(lines.filter((l) => l.startsWith("SHA256:"))).toHaveLength(3);
    const own = await core.userHostKeyLine({ platform: "test", userId: "U1" });
    expect(own).toMatch(/^ssh-ed25519 \S+ spawnbot-test-U1$/);
    expect(lines).toContain(own);
    // The bot's own key opens servers it made and shared hosts: members are not told to authorize it.
    expect(lines).not.toContain(botKey.publicKey);
  });

  it("gives every user their own spawnbot key, the same one every time, and shows admins the bot's key", async () => {
    const { core, botKey, dataDir } = makeBot({ admins: ["U9"] });
    const alice = await core.userHostKeyLine({ platform: "test", userId: "U1" });
    expect(await core.userHostKeyLine({ platform: "test", userId: "U1" })).toBe(alice);
    expect(await core.userHostKeyLine({ platform: "test", userId: "U2" })).not.toBe(alice);
    const conv = new RecordingConversation();
    await core.handle(request("keys", { id: "U9", name: "admin" }), conv);
    expect((conv.lastPrivate() as { lines: string[] }).lines).toContain(botKey.publicKey);
    // Sealed at rest: the database holds no private key.
    const db = readFileSync(path.join(dataDir, "spawnbot.db"), "latin1") + (existsSync(path.join(dataDir, "spawnbot.db-wal")) ? readFileSync(path.join(dataDir, "spawnbot.db-wal"), "latin1") : "");
    expect(db).not.toContain("OPENSSH PRIVATE KEY");
    // A restarted bot on the same data reads the same key back.
    expect(await makeBot({ dataDir }).core.userHostKeyLine({ platform: "test", userId: "U1" })).toBe(alice);
  });

  it("refuses a 2048-bit RSA key with what to use instead", async () => {
    const { core, store } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request(`keys add ${newKey("rsa", "2048")}`), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("2048 bits") });
    expect(await store.listUserKeys({ platform: "test", userId: "U1" })).toEqual([]);
  });

  it("removes a key by fingerprint and records it in the audit log", async () => {
    const { core, store } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request(`keys add ${newKey("ed25519")}`), conv);
    const fp = (await store.listUserKeys({ platform: "test", userId: "U1" }))[0]!.fingerprint;
    await core.handle(request(`keys remove ${fp}`), conv);
    expect(await store.listUserKeys({ platform: "test", userId: "U1" })).toEqual([]);
    expect((await store.listAudit()).map((a) => a.action)).toEqual(["keys-remove", "keys-add"]);
  });
});

describe("a dry run on a host the bot does not make", () => {
  it("speaks of sizes and zones only for a cloud that makes servers, and of the host for ssh", async () => {
    const { core } = makeBot();
    const conv = new RecordingConversation();
    await core.handle(request("spawn codex local --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", cloud: "Local machine" });
    expect(conv.lastPrivate()).not.toHaveProperty("size");
    expect(conv.lastPrivate()).not.toHaveProperty("zone");
    await core.handle(request("spawn codex ssh --host dev@127.0.0.1:2222 --dry-run"), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", host: "dev@127.0.0.1:2222" });
    expect(conv.lastPrivate()).not.toHaveProperty("size");
  });
});

describe("who may see what", () => {
  it("lets only admins list every spawn", async () => {
    const { core } = makeBot({ admins: ["U9"] });
    const conv = new RecordingConversation();
    await core.handle(request("list --all"), conv);
    expect(conv.lastPrivate()?.kind).toBe("error");
    await core.handle(request("list --all", { id: "U9", name: "root" }), conv);
    expect(conv.lastPrivate()?.kind).toBe("list");
  });
});
