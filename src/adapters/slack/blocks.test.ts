// The Delete button's confirmation in Slack says what deleting does for that kind of cloud.
import { describe, expect, it } from "vitest";
import { text, type ListView, type View } from "../../bot/views/views.js";
import type { StatusView } from "../../bot/views/views.js";
import { homeTab, message, spawnButtons, statusMessage } from "./blocks.js";

type Confirm = { text: { text: string } };
const confirmOf = (removal: "server" | "host" | "local" | undefined): string => {
  const block = spawnButtons("3f2c9a4e-0000-4000-8000-000000000001", "fix-bug", removal, true) as unknown as { elements: { confirm?: Confirm }[] };
  return block.elements.find((e) => e.confirm)!.confirm!.text.text;
};

describe("the Delete confirmation in Slack", () => {
  it("says a VM's server and everything on it is deleted", () => {
    expect(confirmOf("server")).toContain("Its server and everything on it is deleted");
  });

  it("says an existing host and the user's files stay, and only what spawnbot installed goes", () => {
    const host = confirmOf("host");
    expect(host).toContain("what spawnbot installed on the host is removed");
    expect(host).toContain("the host and your own files stay");
    expect(host).not.toContain("everything on it is deleted");
    expect(confirmOf("local")).toContain("on the bot's own host is removed");
  });

  it("stays within Slack's 300 characters for a confirmation's text", () => {
    for (const kind of ["server", "host", "local", undefined] as const) expect(confirmOf(kind).length).toBeLessThanOrEqual(300 - 64);
  });
});

// A full page of the longest rows a user can make, in a list of 63.
const longRows = (count: number, now: number) => Array.from({ length: count }, (_, i) => ({
  id: `3f2c9a4e-0000-4000-8000-${String(i).padStart(12, "0")}`, name: `fix-the-flaky-login-test-on-safari-${i}`.padEnd(63, "x"), agent: "opencode", cloud: "digitalocean",
  model: "anthropic/claude-sonnet-4.5-with-a-very-long-suffix", status: "provisioning", owner: "alice & the <infra> team with a long name", cost: "€1234.56 + $999.99", createdAt: now - (i + 1) * 3_600_000, expiresAt: now + 86_400_000,
}));
const page = (rows: ReturnType<typeof longRows>, number = 1, total = 63): ListView => ({
  kind: "list", title: "Spawns in this channel", rows, empty: "no spawns yet", page: { number, size: 25, total, ...(number * 25 < total ? { next: `list --page ${number + 1}` } : {}) },
});
type Section = { type: string; text?: { text: string }; elements?: { text: string }[] };
const slack = (v: View) => message(v) as unknown as { text: string; blocks: Section[] };

describe("a list in Slack", () => {
  const now = Date.now(); // the renderer measures ages and expiries from the clock

  it("fits a page of 25 long rows within Block Kit's limits, every row whole, under column headers", () => {
    const m = slack(page(longRows(25, now)));
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) expect((b.text?.text ?? b.elements?.[0]?.text ?? "").length).toBeLessThanOrEqual(3000);
    const table = m.blocks.filter((b) => b.text?.text.startsWith("```")).map((b) => b.text!.text.replace(/```/g, "")).join("\n").split("\n");
    expect(table[0]).toMatch(/^name\s+agent\s+cloud\s+status\s+model\s+owner\s+age\s+expires\s+cost\s+id$/);
    expect(table).toHaveLength(26);
    for (let i = 0; i < 25; i++) expect(table[i + 1]).toMatch(new RegExp(`^fix-the-flaky-login-test-on-saf… +opencode +digitalocean +provisioning .* 1d +€1234\\.56 \\+ \\$999… +3f2c9a4e$`));
    expect(table.join("\n")).toContain("alice &amp; the &lt;…"); // escaped, so no mention or link can form
  });

  it("says how much is shown and how to see the rest, in Slack's own command syntax", () => {
    const m = slack(page(longRows(25, now)));
    expect(m.blocks.at(-1)).toEqual({ type: "context", elements: [{ type: "mrkdwn", text: "showing 1–25 of 63 — narrow with a filter or `/spawn list --page 2`" }] });
    expect(m.text).toBe("Spawns in this channel: 25 spawns (showing 1–25 of 63 — narrow with a filter or /spawn list --page 2)");
    const last = slack(page(longRows(13, now), 3));
    expect(last.blocks.at(-1)!.elements![0]!.text).toBe("showing 51–63 of 63, the last page");
  });

  it("shows a short list whole, with no note", () => {
    const m = slack(page(longRows(2, now), 1, 2));
    expect(m.blocks.some((b) => b.type === "context")).toBe(false);
  });

  it("sends help, agents and clouds in a code block so their columns align", () => {
    const m = slack(text(["codex     Codex CLI", "pi        Pi"], "Agents"));
    expect(m.blocks[0]!.text!.text).toBe("*Agents*\n```codex     Codex CLI\npi        Pi```");
    expect((slack(text("run `help spawn`"))).blocks[0]!.text!.text).toBe("run `help spawn`");
  });
});

describe("the App Home tab", () => {
  it("shows the newest 25 of 63 spawns within Slack's 100 blocks and says where the rest are", () => {
    const now = Date.now();
    const spawns = longRows(25, now).map((r) => ({ ...r, live: true, removal: "server" as const }));
    const home = homeTab({ kind: "home", spawns, total: 63, settings: { kind: "settings", apiKey: { source: "none" }, keys: [], models: [] } }, now) as unknown as { blocks: Section[] };
    expect(home.blocks.length).toBeLessThanOrEqual(100);
    expect(home.blocks.map((b) => b.elements?.[0]?.text).filter(Boolean)).toContain("showing the newest 25 of your 63 spawns — `/spawn list --mine --page 2` shows the rest, 25 to a page");
  });
});

describe("the status message's buttons in Slack", () => {
  const view = (over: Partial<StatusView> = {}): StatusView => ({
    kind: "status", spawnId: "3f2c9a4e-0000-4000-8000-000000000001", name: "fix-bug", title: "alice is spawning Codex CLI on Hetzner · openai/gpt-5",
    requester: "alice", requesterId: "U1", agent: "Codex CLI", cloud: "Hetzner", model: "openai/gpt-5", status: "provisioning",
    steps: [{ name: "provision", title: "Provision the server", state: "running" }], warnings: [], ...over,
  });
  const actions = (v: StatusView) => (statusMessage(v).blocks as { type: string; elements?: { action_id: string }[] }[])
    .filter((b) => b.type === "actions").flatMap((b) => b.elements!.map((e) => e.action_id));

  it("offers Connect only once the spawn is ready; Extend and Delete (to cancel) while it is being made", () => {
    expect(actions(view())).toEqual(["spawn_extend", "spawn_delete"]);
    expect(actions(view({ status: "ready", result: { outcome: "ready", message: "fix-bug is ready" } }))).toEqual(["spawn_connect", "spawn_extend", "spawn_delete"]);
    expect(actions(view({ status: "failed", result: { outcome: "failed", message: "fix-bug failed" } }))).toEqual([]);
  });

  it("offers Connect on the App Home only for the spawns that are ready", () => {
    const now = Date.now();
    const [making, ready] = longRows(2, now).map((r, i) => ({ ...r, status: i === 0 ? "provisioning" : "ready", live: true, removal: "server" as const }));
    const home = homeTab({ kind: "home", spawns: [making!, ready!], total: 2, settings: { kind: "settings", apiKey: { source: "none" }, keys: [], models: [] } }, now) as unknown as { blocks: { block_id?: string; elements?: { action_id: string }[] }[] };
    const rowActions = home.blocks.filter((b) => b.block_id?.startsWith("spawn_actions:")).map((b) => b.elements!.map((e) => e.action_id));
    expect(rowActions).toEqual([["spawn_extend", "spawn_delete"], ["spawn_connect", "spawn_extend", "spawn_delete"]]);
  });
});
