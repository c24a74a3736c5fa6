// Lists that say when they are cut: 63 spawns in a channel come back 25 to a page, newest first,
// with "showing N–M of 63" and the command for the next page; bad page numbers are refused.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Store } from "../src/bot/store/index.js";
import type { ListView } from "../src/bot/views.js";
import { pageNote } from "../src/bot/views.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

const HOUR_MS = 3_600_000;

/** `count` spawns in channel C1 of workspace W1, alice's, one minute apart (spawn-1 oldest). */
function seed(store: Store, count: number, over: { ownerId?: string; ownerName?: string; agent?: string; prefix?: string } = {}): string[] {
  const start = Date.now() - count * 60_000;
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = randomUUID();
    store.recordIntent({
      id, name: `${over.prefix ?? "spawn"}-${i}`, platform: "test", workspace: "W1", channel: "C1", ownerId: over.ownerId ?? "U1", ownerName: over.ownerName ?? "alice",
      agent: over.agent ?? (i % 2 ? "codex" : "claude"), cloud: "hetzner", model: "openai/gpt-5.3-codex", size: "cx22", zone: "fsn1",
      session: `spawn-${i}`, prompt: null, createdAt: start + i * 60_000, expiresAt: Date.now() + 5 * HOUR_MS,
    });
    ids.push(id);
  }
  return ids;
}

async function list(text: string, user?: { id: string; name: string }): Promise<ListView> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(text, user), conv);
  const view = conv.lastPrivate();
  if (view?.kind !== "list") throw new Error(`expected a list, got ${JSON.stringify(view)}`);
  return view;
}

let bot: ReturnType<typeof makeBot>;

describe("a channel with 63 spawns", () => {
  it("shows the newest 25 and says the list goes on, with the command for page 2", async () => {
    bot = makeBot();
    seed(bot.store, 63);
    const page = await list("list");
    expect(page.rows.map((r) => r.name)).toEqual(Array.from({ length: 25 }, (_, i) => `spawn-${63 - i}`));
    expect(page.page).toMatchObject({ number: 1, size: 25, total: 63, next: "list --page 2" });
    expect(pageNote(page)).toBe("showing 1–25 of 63 — narrow with a filter or `list --page 2`");
    expect(page.rows[0]!.expiresAt).toBeGreaterThan(Date.now()); // the expiry column has something to show
  });

  it("walks the pages with --page, and the last one says it is the last", async () => {
    bot = makeBot();
    seed(bot.store, 63);
    const second = await list("list --page 2");
    expect(second.rows.map((r) => r.name)[0]).toBe("spawn-38");
    expect(pageNote(second)).toBe("showing 26–50 of 63 — narrow with a filter or `list --page 3`");
    const last = await list("list --page=3");
    expect(last.rows.map((r) => r.name)).toEqual(Array.from({ length: 13 }, (_, i) => `spawn-${13 - i}`));
    expect(last.page.next).toBeUndefined();
    expect(pageNote(last)).toBe("showing 51–63 of 63, the last page");
  });

  it("says where the list ends when a page is past it", async () => {
    bot = makeBot();
    seed(bot.store, 63);
    const past = await list("list --page 9");
    expect(past.rows).toEqual([]);
    expect(past.empty).toBe("page 9 is past the end: the list has 63 spawns on 3 pages; try `list --page 3`");
  });

  it("keeps the scope and the filter in the next page's command, and counts only what matches", async () => {
    bot = makeBot();
    seed(bot.store, 63);
    const claude = await list("list --mine claude");
    expect(claude.page.total).toBe(31); // the even-numbered ones
    expect(claude.rows).toHaveLength(25);
    expect(claude.page.next).toBe("list --mine --page 2 claude");
    const rest = await list(claude.page.next!);
    expect(rest.rows.map((r) => r.agent)).toEqual(Array(6).fill("claude"));
  });

  it("has no note when everything fits on one page", async () => {
    bot = makeBot();
    seed(bot.store, 3);
    const page = await list("list");
    expect(page.rows).toHaveLength(3);
    expect(pageNote(page)).toBeUndefined();
  });

  it.each([["0"], ["-1"], ["two"], ["1.5"], ["9999999"]])("refuses --page %s with the usage and lists nothing", async (value) => {
    bot = makeBot();
    const conv = new RecordingConversation();
    await bot.core.handle(request(`list --page ${value}`), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "error", usage: expect.stringContaining("--page N") });
    expect((conv.lastPrivate() as { message: string }).message).toMatch(/--page (takes a page number from 1 up|needs a value)/);
  });
});
