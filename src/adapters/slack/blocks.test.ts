// The Delete button's confirmation in Slack says what deleting does for that kind of cloud.
import { describe, expect, it } from "vitest";
import { spawnButtons } from "./blocks.js";

type Confirm = { text: { text: string } };
const confirmOf = (removal: "server" | "host" | "local" | undefined): string => {
  const block = spawnButtons("3f2c9a4e-0000-4000-8000-000000000001", "fix-bug", removal) as unknown as { elements: { confirm?: Confirm }[] };
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
