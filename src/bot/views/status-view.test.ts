// A spawn's checklist names its steps for the place it runs: no server is provisioned on a host
// the user keeps, and the bot's own host is not reached over SSH.
import { describe, expect, it } from "vitest";
import type { SpawnRecord, StepRecord } from "../store/index.js";
import { buildStatusView } from "./status-view.js";

const rec = { id: "3f2c9a4e-0000-4000-8000-000000000001", name: "fix-bug", ownerId: "U1", ownerName: "alice", status: "provisioning", model: "openai/gpt-5" } as SpawnRecord;
const step = (seq: number, name: string, detail: string | null): StepRecord => ({ spawnId: rec.id, seq, name, state: "succeeded", detail, startedAt: 1, endedAt: 2 });
const steps = (place: string, shell: string) => [step(1, "provision", place), step(2, "wait-ssh", shell)];
const checklist = (removal: "server" | "host" | "local", list: StepRecord[]) =>
  buildStatusView(rec, list, { agent: "Codex CLI", cloud: "somewhere", removal }).steps.map((s) => [s.title, s.detail]);

describe("the steps of a status checklist", () => {
  it("on the bot's own host: the host is chosen and a local shell opened, never 'Wait for SSH — local shell'", () => {
    expect(checklist("local", steps("the bot's own host", "local shell"))).toEqual([["Choose the host", "the bot's own host"], ["Open a local shell", undefined]]);
  });

  it("on an existing host: the host is chosen, not provisioned, and SSH is waited for", () => {
    expect(checklist("host", steps("existing host", "ssh ok"))).toEqual([["Choose the host", "existing host"], ["Wait for SSH", "ssh ok"]]);
  });

  it("on a server the bot makes: the server is provisioned", () => {
    expect(checklist("server", steps("root@203.0.113.10:22", "ssh ok"))[0]).toEqual(["Provision the server", "root@203.0.113.10:22"]);
  });
});
