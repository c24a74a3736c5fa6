import { describe, expect, it } from "vitest";
import { text, type StatusView } from "../../bot/views.js";
import { buttonId, deleteConfirmation, message, noteMessage, parseButtonId, statusMessage } from "./render.js";

const view = (over: Partial<StatusView> = {}): StatusView => ({
  kind: "status", spawnId: "3f2c9a4e-0000-4000-8000-000000000001", name: "fix-bug", title: "alice is spawning Codex CLI on Hetzner · openai/gpt-5",
  requester: "alice", requesterId: "400000000000000001", agent: "Codex CLI", cloud: "Hetzner", model: "openai/gpt-5", status: "provisioning",
  steps: [{ name: "provision", title: "Provision the server", state: "running" }], warnings: [], ...over,
});

describe("rendering for Discord", () => {
  it("shows Connect, Extend and Delete while a spawn lives, and removes them once it has ended", () => {
    const live = statusMessage(view(), true);
    expect(live.components![0]!.components.map((b) => ("custom_id" in b ? b.custom_id : ""))).toEqual(
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
