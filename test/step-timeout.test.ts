// A step that times out stops its work: the provision step's signal reaches the cloud client, so
// a create the step gave up on is never sent afterwards (the wire-level Hetzner fake counts calls).
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HetznerCloud } from "../src/orchestrator/clouds/hetzner.js";
import { Orchestrator, loadOrCreateBotKey, type RunJournal } from "../src/orchestrator/index.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { captureLogger } from "./support/capture.js";
import { FAKE_KEY, TEST_AGENT } from "./support/test-agent.js";
import { loadSecretBox } from "../src/bot/access/secret-box.js";

const PROVISION_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2500; // longer than the step: only the step's own signal can stop the call in time
let fake: HetznerFake;

beforeAll(async () => {
  fake = await HetznerFake.start();
});
afterAll(async () => {
  await fake?.close();
});

describe("a step that times out", () => {
  it("stops its cloud call: no server is created after the timeout", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-data-"));
    const botKey = loadOrCreateBotKey(dataDir);
    const cloud = new HetznerCloud({
      botPublicKey: botKey.publicKey, token: fake.validToken, apiUrl: fake.url, location: "nbg1", defaultSize: "cx23",
      pollIntervalMs: 20, requestTimeoutMs: REQUEST_TIMEOUT_MS, apiRetry: { baseDelayMs: 50, maxDelayMs: 200 },
    });
    const states: string[] = [];
    const journal: RunJournal = { markStep: async (_id, _seq, name, state, detail) => states.push(`${name}:${state}${detail ? `:${detail}` : ""}`), updateSpawn: async () => undefined };
    const orchestrator = new Orchestrator({
      journal, botKey, logger: captureLogger(), sealer: loadSecretBox(dataDir), clouds: [cloud], agents: [TEST_AGENT], stepTimeoutsMs: { provision: PROVISION_TIMEOUT_MS },
    });
    // The provider's look for its SSH key hangs: the step's clock runs out meanwhile.
    fake.inject({ kind: "timeout", times: 1, match: "GET /ssh_keys" });
    const result = await orchestrator.start({
      spawnId: crypto.randomUUID(), name: "slowcloud", session: "slowcloud", agent: TEST_AGENT, cloud, model: "openai/gpt-5",
      steps: [], apiKey: FAKE_KEY, ownerKeys: [], tags: {},
    }).done;
    expect(result.outcome).toBe("failed");
    expect(states).toContain(`provision:failed:step provision did not finish within ${PROVISION_TIMEOUT_MS / 1000} s`);
    // Past the point where the hung request would have timed out and been retried on its own.
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 1500));
    expect(fake.calls.filter((c) => c.action === "POST /servers")).toEqual([]);
    expect(fake.servers()).toEqual([]);
  }, 20_000);
});
