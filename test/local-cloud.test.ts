// The `local` cloud (the bot's own host) end to end through the bot core: a spawn in a
// throwaway home, warn-and-continue steps, cancelling a run in flight, and deleting.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request } from "./support/bot.js";
import { FAKE_KEY } from "./support/test-agent.js";

const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-localhome-"));
const tag = Math.random().toString(36).slice(2, 8);
const names = { ready: `lc-${tag}`, cancel: `lcx-${tag}` };
const sessionAlive = (name: string) => spawnSync("tmux", ["has-session", "-t", `=${name}`]).status === 0;

afterAll(() => {
  for (const n of Object.values(names)) spawnSync("tmux", ["kill-session", "-t", `=${n}`]);
});

describe("the local cloud", () => {
  it("spawns on the bot's own host, warns about unsupported optional steps and still ends ready", async () => {
    const bot = makeBot({ localHome: home });
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${names.ready} --steps github,frobnicate`), conv);
    await bot.core.idle();
    const final = conv.statuses.at(-1)!;
    expect(final.result).toMatchObject({ outcome: "ready" });
    expect(final.warnings.join(" ")).toMatch(/unknown step frobnicate ignored.*step github is not supported by spawnbot yet and was skipped/);
    expect(statSync(path.join(home, ".spawnrc")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(home, ".spawnrc"), "utf8")).toContain(FAKE_KEY);
    expect(sessionAlive(names.ready)).toBe(true);
    expect(conv.private.at(-1)).toMatchObject({ kind: "connect", attachCommand: `tmux attach -t '${names.ready}'` });
    // The status view is public: it names the steps but never holds the key.
    expect(JSON.stringify(conv.statuses)).not.toContain(FAKE_KEY);

    await bot.core.handle(request(`delete ${names.ready}`), conv);
    expect(sessionAlive(names.ready)).toBe(false);
    expect((await bot.store.listAudit()).map((a) => a.action)).toEqual(["delete", "spawn"]);
  });

  it("cancels a run still in flight at its next safe point and leaves nothing running", async () => {
    const bot = makeBot({ localHome: home });
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent local --name ${names.cancel}`), conv);
    await bot.core.handle(request(`delete ${names.cancel}`), conv);
    expect(conv.public.at(-1)).toMatchObject({ kind: "text", lines: [expect.stringContaining("is being cancelled")] });
    await bot.core.idle();
    expect(conv.statuses.at(-1)!.result).toMatchObject({ outcome: "cancelled" });
    expect((await bot.store.findSpawn(names.cancel, { platform: "test" }))?.status).toBe("cancelled");
    expect(sessionAlive(names.cancel)).toBe(false);
  });

  it("is refused on a bot where an admin has not enabled it", async () => {
    const { LocalCloud } = await import("../src/orchestrator/index.js");
    await expect(new LocalCloud({ enabled: false }).checkCredentials()).rejects.toThrow(/SPAWNBOT_ENABLE_LOCAL=true/);
  });
});
