// `costs` over a workspace holding 100,000 spawns spread over a year (each with its price and LLM
// spend), through the bot core (parse, the store's grouped query, the summary, the view) with the
// real SQLite file: the current month for the workspace (--all), a channel and one person, and an
// older month. Printed for bench/RESULTS.md; the bound below only catches a lost index.
import path from "node:path";
import { expect, it } from "vitest";
import { makeBot, RecordingConversation, request } from "../test/support/bot.js";
import { machine, summarize } from "./support.js";

const PAST = 100_000;
const SPREAD_MS = 365 * 86_400_000; // a year of spawns, one every ~5 minutes
const AGENTS = ["codex", "claude", "opencode", "openclaw"];
const CLOUDS = ["hetzner", "digitalocean", "aws", "gcp"];
const ADMIN = { id: "UADMIN", name: "root" };

it("sums a month's costs over 100,000 spawns quickly", async () => {
  const bot = makeBot({ admins: [ADMIN.id] });
  const started = Date.now();
  for (let i = 0; i < PAST; i++) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const createdAt = started - SPREAD_MS + Math.floor((i * SPREAD_MS) / PAST);
    const cloud = CLOUDS[i % CLOUDS.length]!;
    await bot.store.recordIntent({
      id, name: `past-${i}`, platform: "test", workspace: "W1", channel: `C${i % 10}`, ownerId: i % 40 === 0 ? "U1" : `U${i % 40}`, ownerName: `user${i % 40}`,
      agent: AGENTS[i % AGENTS.length]!, cloud, model: null, size: null, zone: null, session: `past-${i}`, prompt: null, createdAt, expiresAt: null,
    });
    // Most ended after a few hours; one in a hundred is still live.
    if (i % 100 !== 0) await bot.store.updateSpawn(id, { status: "deleted", deletedAt: createdAt + (1 + (i % 12)) * 3_600_000 });
    else await bot.store.updateSpawn(id, { status: "ready" });
    await bot.store.costs.recordPrice(id, { kind: "priced", perHour: 0.01 * (1 + (i % 7)), currency: cloud === "hetzner" ? "EUR" : "USD", source: "bench" });
    await bot.store.costs.recordSpend(id, { usage: (i % 500) / 100, limit: 10, at: createdAt });
  }
  const seeded = Date.now() - started;

  const run = async (text: string, n: number, user = ADMIN) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const conv = new RecordingConversation();
      const t = performance.now();
      await bot.core.handle(request(text, user), conv);
      samples.push(performance.now() - t);
      expect(conv.lastPrivate()).toMatchObject({ kind: "text" });
    }
    return summarize(samples);
  };
  for (let i = 0; i < 20; i++) await run("costs --all", 1); // warm-up
  const month = new Date(started - 180 * 86_400_000).toISOString().slice(0, 7);
  const all = await run("costs --all", 200);
  const channel = await run("costs", 200);
  const mine = await run("costs --mine", 200, { id: "U1", name: "user0" });
  const older = await run(`costs --all --month ${month}`, 200);
  const fmt = (s: ReturnType<typeof summarize>) => `n=${s.n} p50=${s.p50.toFixed(2)} ms p99=${s.p99.toFixed(2)} ms max=${s.max.toFixed(2)} ms`;
  console.log(`machine: ${machine()}; store ${path.basename(bot.dataDir)}; seeded ${PAST} spawns with costs in ${seeded} ms`);
  console.log(`costs --all (this month, workspace): ${fmt(all)}`);
  console.log(`costs (this month, one channel of 10): ${fmt(channel)}`);
  console.log(`costs --mine (this month, one person of 40): ${fmt(mine)}`);
  console.log(`costs --all --month ${month} (six months back): ${fmt(older)}`);
  expect(all.p99).toBeLessThan(2_000); // a bound that catches a lost index; the numbers are in RESULTS.md
});
