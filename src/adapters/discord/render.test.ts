import { describe, expect, it } from "vitest";
import { text, type ListView, type StatusView } from "../../bot/views/views.js";
import { buttonId, deleteConfirmation, message, noteMessage, parseButtonId, statusMessage } from "./render.js";

const view = (over: Partial<StatusView> = {}): StatusView => ({
  kind: "status", spawnId: "3f2c9a4e-0000-4000-8000-000000000001", name: "fix-bug", title: "alice is spawning Codex CLI on Hetzner · openai/gpt-5",
  requester: "alice", requesterId: "400000000000000001", agent: "Codex CLI", cloud: "Hetzner", model: "openai/gpt-5", status: "provisioning",
  steps: [{ name: "provision", title: "Provision the server", state: "running" }], warnings: [], ...over,
});

describe("rendering for Discord", () => {
  it("shows Connect once a spawn is ready, Extend and Delete while it lives, and removes them once it has ended", () => {
    const ids = (m: ReturnType<typeof statusMessage>) => m.components![0]!.components.map((b) => ("custom_id" in b ? b.custom_id : ""));
    const live = statusMessage(view(), true);
    expect(ids(live)).toEqual(["extend", "delete"].map((a) => `spawn:${a}:3f2c9a4e-0000-4000-8000-000000000001`));
    expect(ids(statusMessage(view({ status: "ready", result: { outcome: "ready", message: "fix-bug is ready" } }), true))).toEqual(
      ["connect", "extend", "delete"].map((a) => `spawn:${a}:3f2c9a4e-0000-4000-8000-000000000001`),
    );
    expect(statusMessage(view({ result: { outcome: "failed", message: "fix-bug failed: quota" } }), true).components).toEqual([]);
    expect(statusMessage(view(), false).components).toEqual([]);
    expect(live.embeds[0]!.author!.name).toBe("fix-bug");
  });

  it("escapes markdown and masked links in text that came from a host", () => {
    const hostile = view({ steps: [{ name: "install", title: "Install the agent", state: "failed", detail: "[click](https://evil.example) **now**" }] });
    const description = statusMessage(hostile, true).embeds[0]!.description!;
    expect(description).toContain("\\[click](https://evil.example) \\*\\*now\\*\\*");
  });

  it("mentions the owner only in a ready or failed result note", () => {
    const ready = view({ result: { outcome: "ready", message: "fix-bug is ready" } });
    expect(noteMessage({ kind: "result", text: "fix-bug is ready" }, ready)).toMatchObject({ content: "<@400000000000000001> fix-bug is ready", mentions: ["400000000000000001"] });
    expect(noteMessage({ kind: "warning", text: "github: skipped" }, ready).mentions).toBeUndefined();
    const deleted = view({ result: { outcome: "deleted", message: "fix-bug was deleted" } });
    expect(noteMessage({ kind: "result", text: "fix-bug was deleted" }, deleted).mentions).toBeUndefined();
  });

  it("keeps columns aligned in a monospace block, and the core's `code` as code elsewhere", () => {
    expect(message(text(["codex     Codex CLI", "pi        Pi"], "Agents")).embeds[0]!.description).toBe("```\ncodex     Codex CLI\npi        Pi\n```");
    expect(message(text("run `help spawn` for *details*")).embeds[0]!.description).toBe("run `help spawn` for \\*details\\*");
  });

  it("reads back only the button ids it makes", () => {
    const id = buttonId("delete-yes", "3f2c9a4e-0000-4000-8000-000000000001", "1574793572287250432");
    expect(id.length).toBeLessThanOrEqual(100); // Discord's limit for a custom_id
    expect(parseButtonId(id)).toEqual({ action: "delete-yes", spawnId: "3f2c9a4e-0000-4000-8000-000000000001", statusMessageId: "1574793572287250432" });
    for (const junk of ["spawn:nuke:abc", "spawn:delete:a b", "other:connect:abc", `spawn:connect:${"a".repeat(64)}`]) expect(parseButtonId(junk)).toBeUndefined();
  });

  it("asks before a delete, saying what deleting does for that kind of cloud", () => {
    const ask = (kind: "server" | "host" | "local") => deleteConfirmation("3f2c9a4e-0000-4000-8000-000000000001", "fix-bug", undefined, kind).embeds[0]!.description!;
    expect(ask("server")).toBe("Delete **fix-bug**? Its server and everything on it is deleted. This cannot be undone.");
    expect(ask("host")).toContain("the host and your own files stay");
    expect(ask("host")).not.toContain("everything on it is deleted");
    expect(ask("local")).toContain("the bot's own host");
  });
});

describe("a list in Discord", () => {
  const now = Date.now(); // the renderer measures ages and expiries from the clock
  const rows = (count: number) => Array.from({ length: count }, (_, i) => ({
    id: `3f2c9a4e-0000-4000-8000-${String(i).padStart(12, "0")}`, name: `fix-the-flaky-login-test-on-safari-${i}`.padEnd(63, "x"), agent: "opencode", cloud: "digitalocean",
    model: "anthropic/claude-sonnet-4.5-with-a-very-long-suffix", status: "provisioning", owner: "al**ce** `t`", cost: "€1234.56 + $999.99", createdAt: now - (i + 1) * 3_600_000, expiresAt: i % 2 ? null : now + 7_200_000,
  }));
  const list = (count: number, number: number, total: number, next?: string): ListView => ({
    kind: "list", title: "Your spawns matching \"codex\"", rows: rows(count), empty: "no spawn matches", page: { number, size: 25, total, ...(next ? { next } : {}) },
  });

  it("fits a page of 25 long rows in one embed, every row whole, under column headers", () => {
    const e = message(list(25, 1, 63, "list --mine --page 2 codex")).embeds[0]!;
    expect(e.description!.length).toBeLessThanOrEqual(4096);
    expect((e.title?.length ?? 0) + e.description!.length + (e.footer?.text.length ?? 0)).toBeLessThanOrEqual(6000);
    const table = e.description!.replace(/^```\n|\n```$/g, "").split("\n");
    expect(table[0]).toMatch(/^name\s+agent\s+cloud\s+status\s+model\s+owner\s+age\s+expires\s+cost\s+id$/);
    expect(table).toHaveLength(26);
    expect(table[1]).toMatch(/^fix-the-flaky-login-test-on-saf… +opencode +digitalocean +provisioning +anthropic\/claude-… +al\*\*ce\*\* `t` +1h +2h +€1234\.56 \+ \$999… +3f2c9a4e$/);
    expect(table[2]).toMatch(/ 2h +- +€1234\.56 \+ \$999… +3f2c9a4e$/); // an ended or never-expiring spawn has no expiry
  });

  it("says how much is shown and how to see the rest, in Discord's slash-command syntax", () => {
    expect(message(list(25, 1, 63, "list --mine --page 2 codex")).embeds[0]!.footer!.text).toBe("showing 1–25 of 63 — narrow with a filter or /spawn list scope:mine page:2 filter:codex");
    expect(message(list(13, 3, 63)).embeds[0]!.footer!.text).toBe("showing 51–63 of 63, the last page");
    expect(message(list(3, 1, 3)).embeds[0]!.footer).toBeUndefined();
  });
});
