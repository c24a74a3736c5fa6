// Lists that say when they are cut: 63 spawns in a channel come back 25 to a page, newest first,
// with "showing N–M of 63" and the command for the next page; bad page numbers are refused.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Store } from "../src/bot/store/index.js";
import type { ListView } from "../src/bot/views/views.js";
import { pageNote } from "../src/bot/views/views.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

const HOUR_MS = 3_600_000;

/** `count` spawns in channel C1 of workspace W1, alice's, one minute apart (spawn-1 oldest). */
async function seed(store: Store, count: number, over: { ownerId?: string; ownerName?: string; agent?: string; prefix?: string } = {}): Promise<string[]> {
  const start = Date.now() - count * 60_000;
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = randomUUID();
    await store.recordIntent({
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
    await seed(bot.store, 63);
    const page = await list("list");
    expect(page.rows.map((r) => r.name)).toEqual(Array.from({ length: 25 }, (_, i) => `spawn-${63 - i}`));
    expect(page.page).toMatchObject({ number: 1, size: 25, total: 63, next: "list --page 2" });
    expect(pageNote(page)).toBe("showing 1–25 of 63 — narrow with a filter or `list --page 2`");
    expect(page.rows[0]!.expiresAt).toBeGreaterThan(Date.now()); // the expiry column has something to show
  });

  it("counts a long history only 250 past the page: \"250+\", and still a next page", async () => {
    bot = makeBot();
    await seed(bot.store, 290);
    const first = await list("list");
    expect(first.page).toMatchObject({ total: 250, atLeast: true, next: "list --page 2" });
    expect(pageNote(first)).toBe("showing 1–25 of 250+ — narrow with a filter or `list --page 2`");
    const near = await list("list --page 3"); // 50 + 250 reaches past the 290: counted exactly
    expect(near.page).toMatchObject({ total: 290, next: "list --page 4" });
    expect(near.page.atLeast).toBeUndefined();
  });

  it("walks the pages with --page, and the last one says it is the last", async () => {
    bot = makeBot();
    await seed(bot.store, 63);
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
    await seed(bot.store, 63);
    const past = await list("list --page 9");
    expect(past.rows).toEqual([]);
    expect(past.empty).toBe("page 9 is past the end: the list has 63 spawns on 3 pages; try `list --page 3`");
  });

  it("keeps the scope and the filter in the next page's command, and counts only what matches", async () => {
    bot = makeBot();
    await seed(bot.store, 63);
    const claude = await list("list --mine claude");
    expect(claude.page.total).toBe(31); // the even-numbered ones
    expect(claude.rows).toHaveLength(25);
    expect(claude.page.next).toBe("list --mine --page 2 claude");
    const rest = await list(claude.page.next!);
    expect(rest.rows.map((r) => r.agent)).toEqual(Array(6).fill("claude"));
  });

  it("has no note when everything fits on one page", async () => {
    bot = makeBot();
    await seed(bot.store, 3);
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

/** One spawn called `name` in channel C1, by `owner`, in `status`. */
async function spawnCalled(store: Store, name: string, owner: { id: string; name: string }, status: "pending" | "ready" | "failed" | "cancelled" | "deleted" = "pending"): Promise<string> {
  const id = randomUUID();
  await store.recordIntent({
    id, name, platform: "test", workspace: "W1", channel: "C1", ownerId: owner.id, ownerName: owner.name, agent: "codex", cloud: "hetzner", model: null,
    size: "cx22", zone: "fsn1", session: `spawn-${name}`, prompt: null, createdAt: Date.now() - 60_000, expiresAt: Date.now() + HOUR_MS,
  });
  if (status !== "pending") await bot.store.updateSpawn(id, { status });
  return id;
}

const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };

async function answer(text: string, user = alice) {
  const conv = new RecordingConversation();
  await bot.core.handle(request(text, user), conv);
  return conv.lastPrivate()!;
}

describe("two spawns with one name", () => {
  it("are not chosen between: the answer lists their ids, and an id picks one", async () => {
    bot = makeBot();
    const mine = await spawnCalled(bot.store, "api", alice);
    const bobs = await spawnCalled(bot.store, "api", bob);
    const refused = await answer("status api");
    expect(refused.kind).toBe("error");
    const message = (refused as { message: string }).message;
    expect(message).toContain("2 spawns here are called api");
    expect(message).toContain(`${mine.slice(0, 8)} (alice's, pending, 1m old)`);
    expect(message).toContain(`${bobs.slice(0, 8)} (bob's, pending, 1m old)`);
    expect(message).toContain(`e.g. \`status ${mine.slice(0, 8)}\``);
    expect(await answer(`status ${bobs.slice(0, 8)}`)).toMatchObject({ kind: "status", spawnId: bobs });
  });

  it("leaves no choice when the user may act on only one of them", async () => {
    bot = makeBot();
    const mine = await spawnCalled(bot.store, "api", alice);
    const bobs = await spawnCalled(bot.store, "api", bob);
    const before = (await bot.store.getSpawn(bobs))!.expiresAt;
    expect(await answer("extend api 2h")).toMatchObject({ kind: "text" }); // only the owner (or an admin) may extend
    expect((await bot.store.getSpawn(mine))!.expiresAt).toBeGreaterThan(Date.now() + 2 * HOUR_MS);
    expect((await bot.store.getSpawn(bobs))!.expiresAt).toBe(before);
  });

  it("means the one live spawn when the others have ended, but delete still asks which", async () => {
    bot = makeBot();
    const failed = await spawnCalled(bot.store, "api", alice, "failed");
    const live = await spawnCalled(bot.store, "api", alice);
    expect(await answer("status api")).toMatchObject({ kind: "status", spawnId: live });
    const refused = await answer("delete api");
    expect((refused as { message: string }).message).toContain(`${failed.slice(0, 8)} (alice's, failed`);
    expect((await bot.store.getSpawn(live))!.status).toBe("pending"); // nothing was deleted
  });
});

describe("dismissing a failed spawn", () => {
  it("takes it out of list and the Home tab, keeps its record, and is audited", async () => {
    bot = makeBot();
    const failed = await spawnCalled(bot.store, "broken", alice, "failed");
    await spawnCalled(bot.store, "good", alice);
    expect((await list("list")).rows.map((r) => r.name)).toEqual(["good", "broken"]);
    expect(await answer("delete broken")).toEqual({ kind: "text", lines: ["broken (failed) is dismissed: `list` no longer shows it, and its record stays in the audit log"] });
    expect((await list("list")).rows.map((r) => r.name)).toEqual(["good"]);
    expect((await list("list")).page.total).toBe(1);
    expect((await bot.core.homeView(request("", alice))).spawns.map((r) => r.name)).toEqual(["good"]);
    expect((await bot.store.getSpawn(failed))?.status).toBe("failed");
    expect((await bot.store.listAudit({ limit: 10 })).find((a) => a.action === "dismiss")).toMatchObject({ spawnId: failed, userId: "U1" });
    expect(await answer(`delete ${failed.slice(0, 8)}`)).toEqual({ kind: "text", lines: ["broken (failed) was already dismissed; `list` no longer shows it"] });
  });

  it("is for the owner or an admin only, and a cancelled spawn can be dismissed too", async () => {
    bot = makeBot();
    await spawnCalled(bot.store, "stopped", alice, "cancelled");
    expect(await answer("delete stopped", bob)).toMatchObject({ kind: "error", message: "only alice or an admin can delete stopped" });
    expect((await list("list")).rows).toHaveLength(1);
    expect(await answer("delete stopped")).toMatchObject({ kind: "text" });
    expect((await list("list")).rows).toHaveLength(0);
  });

  it("does not apply to a deleted spawn, which is history", async () => {
    bot = makeBot();
    await spawnCalled(bot.store, "gone", alice, "deleted");
    expect(await answer("delete gone")).toMatchObject({ kind: "error", message: "gone is already deleted; nothing to delete" });
  });
});
