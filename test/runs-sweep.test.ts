// The replicas' runs sweep on one live run (sweepQueuedRun), against a real SQLite store: it queues
// a run that has no job only once the replica that recorded it has had time to queue it itself
// (that replica still makes the spawn's OpenRouter key in between), and it takes the claim of a
// run someone asked to cancel away again, however young the run.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { RunQueue } from "../src/bot/context.js";
import { sweepQueuedRun } from "../src/bot/spawns/spawn-removal.js";
import { openStore } from "../src/bot/store/index.js";

const SETTLED_MS = 20_000;
const NOW = Date.UTC(2026, 11, 5, 12);

function recordingQueue(where: "running" | "queued" | "none" = "none") {
  const calls: string[] = [];
  const queue: RunQueue = {
    enqueueRun: async (id) => void calls.push(`enqueue ${id}`),
    cancelRun: async (id) => {
      calls.push(`cancel ${id}`);
      return where;
    },
  };
  return { queue, calls };
}

describe("the runs sweep", () => {
  const store = openStore(path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-sweep-")), "spawnbot.db"));

  it("leaves a run recorded moments ago to the replica that recorded it (it is still making the key), and queues one older than a sweep period", async () => {
    const { queue, calls } = recordingQueue();
    await sweepQueuedRun({ store }, queue, { id: "young", createdAt: NOW - 2_000 }, SETTLED_MS, NOW);
    expect(calls).toEqual([]);
    await sweepQueuedRun({ store }, queue, { id: "settled", createdAt: NOW - SETTLED_MS }, SETTLED_MS, NOW);
    expect(calls).toEqual(["enqueue settled"]);
  });

  it("takes the claim of a run with a cancel mark away, however young the run", async () => {
    const { queue, calls } = recordingQueue("running");
    await store.leases.acquire("cancel:marked", "U001", 60_000, NOW - 1_000);
    await sweepQueuedRun({ store }, queue, { id: "marked", createdAt: NOW - 2_000 }, SETTLED_MS, NOW);
    expect(calls).toEqual(["cancel marked"]);
  });
});
