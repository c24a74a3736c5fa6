// The console's status block: the hint to connect appears once the spawn is ready, not before.
import { describe, expect, it } from "vitest";
import type { StatusView } from "../../bot/views/views.js";
import { renderStatus, renderStatusLine } from "./render.js";

const view = (over: Partial<StatusView> = {}): StatusView => ({
  kind: "status", spawnId: "3f2c9a4e-0000-4000-8000-000000000001", name: "fix-bug", title: "alice is spawning Test Agent on Local machine · openai/gpt-4o-mini",
  requester: "alice", requesterId: "U1", agent: "Test Agent", cloud: "Local machine", model: "openai/gpt-4o-mini", status: "provisioning",
  steps: [{ name: "install", title: "Install the agent", state: "running" }, { name: "launch", title: "Launch in tmux", state: "pending" }], warnings: [], ...over,
});

describe("the console's status block", () => {
  it("offers `connect` only once the spawn is ready", () => {
    expect(renderStatus(view(), { color: false }).join("\n")).not.toContain("connect fix-bug");
    expect(renderStatus(view({ status: "failed", result: { outcome: "failed", message: "fix-bug failed: no" } }), { color: false }).join("\n")).not.toContain("connect fix-bug");
    const ready = renderStatus(view({ status: "ready", result: { outcome: "ready", message: "fix-bug is ready" } }), { color: false });
    expect(ready.at(-1)).toBe("  `connect fix-bug` shows how to connect again");
  });

  it("folds a run in flight to its name, status and the step it is on", () => {
    expect(renderStatusLine(view())).toBe("[fix-bug · provisioning] … Install the agent");
  });
});
