// The permission matrix: six kinds of user (owner, admin, member of the same channel, member of
// another channel, member of another workspace, user the spawn is shared with) against every
// action, through core.handle with a real SQLite file and real spawns of the test agent on the
// local cloud. Refusals must be one-line answers, leave the spawn as it was, and be audited.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest, ChatUser } from "../src/bot/request.js";
import { loadConfig } from "../src/config.js";
import { makeBot, RecordingConversation, type TestBot } from "./support/bot.js";
import { FAKE_KEY } from "./support/test-agent.js";

const tag = Math.random().toString(36).slice(2, 7);
const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-pol-home-"));
const MAIN = `pm-${tag}`; // acted on by everyone, deleted by the admin at the end
const SPARE = `pd-${tag}`; // deleted by its owner
const CANCELLED = `pc-${tag}`;
const sessions = [MAIN, SPARE, CANCELLED];

interface Actor { user: ChatUser; workspace: string; channel: string }
const ACTORS = {
  owner: { user: { id: "U1", name: "alice" }, workspace: "W1", channel: "C1" },
  admin: { user: { id: "UA", name: "root" }, workspace: "W1", channel: "C9" },
  member: { user: { id: "U2", name: "bob" }, workspace: "W1", channel: "C1" },
  otherChannel: { user: { id: "U3", name: "carol" }, workspace: "W1", channel: "C2" },
  otherWorkspace: { user: { id: "U4", name: "dave" }, workspace: "W2", channel: "C1" },
  sharedWith: { user: { id: "U5", name: "erin" }, workspace: "W1", channel: "C3" },
} satisfies Record<string, Actor>;
type ActorKey = keyof typeof ACTORS;

// Clouds: local everywhere except channel W1/C2, which may use only ssh. Agents: all, except
// workspace W2, which may use only codex. Read through the real config loader.
const config = loadConfig({ SPAWNBOT_ALLOW_CLOUDS: "*:local; W1/C2:ssh", SPAWNBOT_ALLOW_AGENTS: "*:*;W2:codex", SPAWNBOT_MAX_LIVE_PER_USER: "0", SPAWNBOT_MAX_HOURLY_PER_USER: "0" });
const policy = { enableLocal: true, ...config.policy };

const COLUMNS = [
  `status ${MAIN}`, `connect ${MAIN}`, `extend ${MAIN} 1h`, `share ${MAIN} @U6`, `unshare ${MAIN} @U6`, "list --all",
  "spawn testagent local --dry-run", "spawn testagent ssh --host sbpol@127.0.0.1 --dry-run", "spawn codex local --dry-run",
];
// "ok", "not-found" (the lookup is scoped to the user's workspace) or the refusal's code.
const MATRIX: Record<ActorKey, string[]> = {
  owner: ["ok", "ok", "ok", "ok", "ok", "admins-only", "ok", "cloud-not-allowed", "ok"],
  admin: ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "cloud-not-allowed", "ok"],
  member: ["ok", "not-shared", "not-owner", "not-owner", "not-owner", "admins-only", "ok", "cloud-not-allowed", "ok"],
  otherChannel: ["other-channel", "not-shared", "not-owner", "not-owner", "not-owner", "admins-only", "cloud-not-allowed", "ok", "cloud-not-allowed"],
  otherWorkspace: ["not-found", "not-found", "not-found", "not-found", "not-found", "admins-only", "agent-not-allowed", "cloud-not-allowed", "ok"],
  sharedWith: ["ok", "ok", "not-owner", "not-owner", "not-owner", "admins-only", "ok", "cloud-not-allowed", "ok"],
};

let bot: TestBot;

function req(a: Actor, text: string): ChatRequest {
  return { platform: "test", workspace: a.workspace, channel: a.channel, user: a.user, text };
}

async function say(a: Actor, text: string): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(req(a, text), conv);
  return conv;
}

const spawnOf = async (name: string) => (await bot.store.findSpawn(name, { platform: "test", workspace: "W1" }))!;
const snapshot = async (name: string) => { const s = await spawnOf(name); return JSON.stringify([s, await bot.store.listShares(s.id), await bot.store.countLive({ platform: "test", workspace: "W1" })]); };

/** Run one command and classify what the user got: ok, not-found or the refusal code. */
async function outcome(a: Actor, text: string, watch = MAIN): Promise<string> {
  const lastId = (await bot.store.listAudit({ limit: 1 }))[0]?.id ?? 0;
  const before = await snapshot(watch);
  const conv = await say(a, text);
  const reply = conv.lastPrivate();
  const refused = (await bot.store.listAudit({ limit: 5 })).find((e) => e.id > lastId && e.action === "refused");
  if (refused) {
    expect(reply).toMatchObject({ kind: "error", message: expect.not.stringContaining("\n") });
    expect(await snapshot(watch)).toBe(before); // a refusal changes nothing
    expect(refused).toMatchObject({ userId: a.user.id, workspace: a.workspace, channel: a.channel });
    return String(refused.detail.code);
  }
  if (reply?.kind === "error") {
    expect(await snapshot(watch)).toBe(before);
    return reply.message.startsWith("no spawn called") ? "not-found" : `error: ${reply.message}`;
  }
  return "ok";
}

beforeAll(async () => {
  bot = makeBot({ admins: ["UA"], localHome: home, policy });
  for (const name of [MAIN, SPARE]) {
    const conv = await say(ACTORS.owner, `spawn testagent local --name ${name}`);
    await bot.core.idle();
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
  }
  expect(await outcome(ACTORS.owner, `share ${MAIN} @U5`)).toBe("ok");
}, 60_000);

afterAll(() => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
});

describe("the permission matrix", () => {
  for (const [key, expected] of Object.entries(MATRIX) as [ActorKey, string[]][]) {
    it(`gives the ${key} exactly: ${COLUMNS.map((c, i) => `${c.split(" ")[0]}${c.includes("spawn") ? ` ${c.split(" ").slice(1, 3).join(" ")}` : ""}=${expected[i]}`).join(", ")}`, async () => {
      const got: string[] = [];
      for (const text of COLUMNS) got.push(await outcome(ACTORS[key], text));
      expect(Object.fromEntries(COLUMNS.map((c, i) => [c, got[i]]))).toEqual(Object.fromEntries(COLUMNS.map((c, i) => [c, expected[i]])));
    });
  }

  it("lets only the owner and admins delete: others are refused and the spawn survives", async () => {
    for (const key of ["member", "otherChannel", "sharedWith"] as const) expect(await outcome(ACTORS[key], `delete ${MAIN}`)).toBe("not-owner");
    expect(await outcome(ACTORS.otherWorkspace, `delete ${MAIN}`)).toBe("not-found");
    expect((await spawnOf(MAIN)).status).toBe("ready");
    expect(await outcome(ACTORS.admin, `delete ${MAIN}`)).toBe("ok");
    expect(await outcome(ACTORS.owner, `delete ${SPARE}`, SPARE)).toBe("ok");
    expect([(await spawnOf(MAIN)).status, (await spawnOf(SPARE)).status]).toEqual(["deleted", "deleted"]);
  });

  it("audited every change and every refusal with who, where and when, and no secret", async () => {
    const rows = await bot.store.listAudit({ limit: 500 });
    const count = (action: string) => rows.filter((r) => r.action === action).length;
    expect({ spawn: count("spawn"), share: count("share"), unshare: count("unshare"), extend: count("extend"), delete: count("delete") })
      .toEqual({ spawn: 2, share: 3, unshare: 2, extend: 2, delete: 2 });
    const deleteRefusals = 3; // member, other channel, shared-with
    const refusals = Object.values(MATRIX).flat().filter((o) => o !== "ok" && o !== "not-found").length + deleteRefusals;
    expect(count("refused")).toBe(refusals);
    for (const r of rows) {
      expect(r.workspace).toMatch(/^W\d$/);
      expect(r.channel).toMatch(/^C\d$/);
      expect(r.at).toBeGreaterThan(Date.now() - 10 * 60_000);
    }
    expect(JSON.stringify(rows)).not.toContain(FAKE_KEY);
  });
});

describe("what is allowed where the user is", () => {
  const lines = async (a: Actor, text: string) => ((await say(a, text)).lastPrivate() as { lines: string[] }).lines;

  it("marks clouds and agents that are not allowed in this channel or workspace", async () => {
    const here = (ls: string[], key: string) => ls.find((l) => l.startsWith(`${key} `))!;
    const c1 = await lines(ACTORS.owner, "clouds");
    expect([here(c1, "local"), here(c1, "ssh")].map((l) => l.endsWith("(not allowed here)"))).toEqual([false, true]);
    const c2 = await lines(ACTORS.otherChannel, "clouds");
    expect([here(c2, "local"), here(c2, "ssh")].map((l) => l.endsWith("(not allowed here)"))).toEqual([true, false]);
    const w2 = await lines(ACTORS.otherWorkspace, "agents");
    expect([here(w2, "codex"), here(w2, "testagent")].map((l) => l.endsWith("(not allowed here)"))).toEqual([false, true]);
  });

  it("says in help what this place allows and the limits", async () => {
    const help = (await lines(ACTORS.otherWorkspace, "help")).join("\n");
    expect(help).toContain("Here: clouds local; agents codex");
    expect(help).toContain("Limits: live spawns no limit per person, 50 per workspace; starts per hour no limit per person, 100 per workspace");
  });

  it("refuses the local cloud when it is not enabled, before anything is recorded", async () => {
    const off = makeBot({ localHome: home, policy: { ...policy, enableLocal: false } });
    const conv = new RecordingConversation();
    await off.core.handle(req(ACTORS.owner, `spawn testagent local --name off-${tag}`), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", message: expect.stringContaining("SPAWNBOT_ENABLE_LOCAL=true") });
    expect(await off.store.listForChannel("test", "W1", "C1")).toEqual([]);
    expect((await off.store.listAudit()).map((a) => [a.action, a.detail.code])).toEqual([["refused", "local-disabled"]]);
  });
});

describe("the audit log", () => {
  it("records every changing action with who, where and when, and never a secret", async () => {
    const b = makeBot({ localHome: home, policy });
    const a = ACTORS.member;
    const run = async (text: string) => { const conv = new RecordingConversation(); await b.core.handle(req(a, text), conv); return conv; };
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-pol-key-")), "k");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bob@laptop", "-f", keyFile]);
    await run(`keys add ${readFileSync(`${keyFile}.pub`, "utf8").trim()}`);
    await run(`keys remove ${(await b.store.listUserKeys({ platform: "test", userId: a.user.id }))[0]!.fingerprint}`);
    await run("prefs model codex openai/gpt-5");
    await run("prefs model codex --clear");
    const userKey = `sk-or-v1-${"fedcba9876543210".repeat(4)}`;
    expect(await b.core.saveSettings(req(a, ""), new RecordingConversation(), { apiKey: userKey, models: { codex: "anthropic/claude-opus-4.1" } })).toEqual({});
    expect(await b.core.saveSettings(req(a, ""), new RecordingConversation(), { clearApiKey: true })).toEqual({});
    await run(`spawn testagent local --name ${CANCELLED}`);
    await run(`delete ${CANCELLED}`); // still being made: cancelled
    await b.core.idle();
    await run("spawn testagent ssh --host sbpol@127.0.0.1 --dry-run"); // ssh is not allowed in C1
    const rows = (await b.store.listAudit({ limit: 100 })).reverse();
    expect(rows.map((r) => r.action)).toEqual([
      "keys-add", "keys-remove", "prefs-model-set", "prefs-model-clear", "settings-api-key-set", "prefs-model-set", "settings-api-key-clear",
      "spawn", "cancel", "refused",
    ]);
    expect(rows.at(-1)!.detail).toEqual({ code: "cloud-not-allowed", attempted: "spawn-dry-run", agent: "testagent", cloud: "ssh" });
    for (const r of rows) expect(r).toMatchObject({ platform: "test", workspace: "W1", channel: "C1", userId: "U2", at: expect.any(Number) });
    const all = JSON.stringify(rows);
    for (const secret of [userKey, FAKE_KEY]) expect(all).not.toContain(secret);
  }, 30_000);
});
