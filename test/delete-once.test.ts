// `delete` says so once: the spawn's status message carries who deleted it, and nothing else is
// posted where the spawn was asked for; asked from another channel, the requester also gets one
// private line there. Real spawns of the test agent on the local cloud, through the bot core.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../src/bot/request.js";
import { makeBot, RecordingConversation } from "./support/bot.js";

const tag = Math.random().toString(36).slice(2, 7);
const bot = makeBot({ localHome: mkdtempSync(path.join(os.tmpdir(), "spawnbot-del-home-")) });
const sessions: string[] = [];
const alice = { id: "U1", name: "alice" };
const req = (text: string, channel = "C1"): ChatRequest => ({ platform: "test", workspace: "W1", channel, user: alice, text });

afterAll(() => {
  for (const s of sessions) spawnSync("tmux", ["kill-session", "-t", `=${s}`]);
});

async function readySpawn(name: string): Promise<string> {
  const full = `${name}-${tag}`;
  sessions.push(full);
  await bot.core.handle(req(`spawn testagent local --name ${full}`), new RecordingConversation());
  await bot.core.idle();
  expect((await bot.store.listAll("test")).find((r) => r.name === full)?.status).toBe("ready");
  return full;
}

describe("delete says so once", () => {
  it("in the status message only, when asked where the spawn was asked for", async () => {
    const name = await readySpawn("del-here");
    const conv = new RecordingConversation();
    await bot.core.handle(req(`delete ${name}`), conv);
    expect(conv.statuses.map((v) => v.result)).toEqual([{ outcome: "deleted", message: `${name} was deleted by alice` }]);
    expect([...conv.public, ...conv.private]).toEqual([]);
  });

  it("in the status message and one private line, when asked from another channel", async () => {
    const name = await readySpawn("del-there");
    const conv = new RecordingConversation();
    await bot.core.handle(req(`delete ${name}`, "C9"), conv);
    expect(conv.statuses.map((v) => v.result?.message)).toEqual([`${name} was deleted by alice`]);
    expect(conv.public).toEqual([]);
    expect(conv.private).toEqual([{ kind: "text", lines: [`${name} is deleted; its status message says so where it was asked for`] }]);
  });
});
