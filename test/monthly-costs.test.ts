// Monthly budgets and the `costs` command, on a clock the test moves: a spawn that would take its
// owner or its channel over the month's budget is refused with the figures and admitted once the
// month rolls over; a channel near its budget is warned once; `costs` sums each grouping exactly as
// the spawns' own records add up; a live spawn's hours are split between the months they fall in.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPEN_POLICY } from "../src/bot/access/policy.js";
import type { View } from "../src/bot/views/views.js";
import { DigitalOceanCloud } from "../src/orchestrator/clouds/digitalocean.js";
import { DigitalOceanFake } from "./fakes/digitalocean-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { prng, pick } from "./support/hostile-input.js";

const HOUR = 3_600_000;
const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
const ADMIN = { id: "UADMIN", name: "root" };
const seen = (v: View | undefined) => JSON.stringify(v ?? null);
/** DigitalOcean's fake lists s-2vcpu-4gb at $24 a month, price_hourly 24 / 672 rounded as DO does. */
const S2_4_HOURLY = Math.round((24 / 672) * 1e5) / 1e5;

let fake: DigitalOceanFake;
beforeAll(async () => {
  fake = await DigitalOceanFake.start();
});
afterAll(async () => fake.close());

function budgetBot(clock: { now: number }, budgets: { perUser?: number; perChannel?: number }): TestBot {
  return makeBot({
    admins: [ADMIN.id], localHome: mkdtempSync(path.join(os.tmpdir(), "spawnbot-costs-home-")),
    policy: { ...OPEN_POLICY, limits: { ...OPEN_POLICY.limits, monthlyBudgetPerUserUsd: budgets.perUser ?? 0, monthlyBudgetPerChannelUsd: budgets.perChannel ?? 0 } },
    settings: { clock: () => clock.now, usdPerEur: 1.25 },
    clouds: (botKey) => [new DigitalOceanCloud({ botPublicKey: botKey.publicKey, token: fake.validToken, apiUrl: fake.url, region: "nyc3", defaultSize: "s-2vcpu-2gb", retryBaseDelayMs: 10 })],
  });
}

/** A spawn as the store keeps it: made at `from`, deleted at `to` (live when absent), with its price and LLM spend. */
async function record(bot: TestBot, o: {
  owner?: { id: string; name: string }; channel?: string; cloud?: string; agent?: string; from: number; to?: number;
  price?: { perHour: number; currency: string } | "free" | "unknown"; llm?: number;
}): Promise<string> {
  const id = randomUUID();
  const owner = o.owner ?? alice;
  await bot.store.recordIntent({
    id, name: `r-${id.slice(0, 8)}`, platform: "test", workspace: "W1", channel: o.channel ?? "C1", ownerId: owner.id, ownerName: owner.name,
    agent: o.agent ?? "testagent", cloud: o.cloud ?? "digitalocean", model: null, size: null, zone: null, session: "s", prompt: null, createdAt: o.from, expiresAt: null,
  });
  await bot.store.updateSpawn(id, o.to === undefined ? { status: "ready", readyAt: o.from } : { status: "deleted", readyAt: o.from, deletedAt: o.to });
  const price = o.price ?? { perHour: 1, currency: "USD" };
  if (price === "free") await bot.store.costs.recordPrice(id, { kind: "free", source: "free" });
  else if (price === "unknown") await bot.store.costs.recordPrice(id, { kind: "unknown", source: "no price" });
  else await bot.store.costs.recordPrice(id, { kind: "priced", perHour: price.perHour, currency: price.currency, source: "test" });
  if (o.llm !== undefined) await bot.store.costs.recordSpend(id, { usage: o.llm, limit: 100, at: o.from });
  return id;
}

async function ask(bot: TestBot, line: string, user = alice, channel = "C1"): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(line, user, channel), conv);
  return conv;
}

describe("monthly budgets", () => {
  it("refuses the spawn that would take its owner over the month's budget, with the figures, and admits it after the month rolls", async () => {
    const clock = { now: Date.UTC(2026, 10, 20, 12) }; // 20 November 2026
    const bot = budgetBot(clock, { perUser: 20 });
    // 24 hours at $0.50 = $12 of cloud, and $5 of LLM: $17 spent in November.
    await record(bot, { from: Date.UTC(2026, 10, 10), to: Date.UTC(2026, 10, 11), price: { perHour: 0.5, currency: "USD" }, llm: 5 });
    const line = "spawn testagent digitalocean --size s-2vcpu-4gb --ttl 100h --dry-run";
    const refused = await ask(bot, line);
    const cost = (S2_4_HOURLY * 100).toFixed(2);
    expect(refused.lastPrivate()).toMatchObject({ kind: "error" });
    expect(seen(refused.lastPrivate())).toContain(`this spawn could cost up to $${cost} ($${S2_4_HOURLY.toFixed(4)}/h × 4d 4h) and you have spent $17.00 of the $20.00 budget for 2026-11`);
    expect((await bot.store.listAudit({ limit: 1 }))[0]).toMatchObject({ action: "refused", detail: { code: "budget-user" } });
    // A shorter spawn fits under the budget.
    expect(seen((await ask(bot, "spawn testagent digitalocean --size s-2vcpu-4gb --ttl 24h --dry-run")).lastPrivate())).toContain('"kind":"plan"');

    clock.now = Date.UTC(2026, 11, 1, 0, 0, 1); // 1 December: November's spend no longer counts
    expect(seen((await ask(bot, line)).lastPrivate())).toContain(`"price":"$${S2_4_HOURLY.toFixed(4)}/h (DigitalOcean API)"`);
    await bot.store.close();
  });

  it("refuses a spawn that would take the channel over its budget, counting everyone's spend there, in euros converted", async () => {
    const clock = { now: Date.UTC(2026, 10, 20, 12) };
    const bot = budgetBot(clock, { perChannel: 30 });
    // alice's €16 (= $20 at 1.25) in C1, and bob's $5 of LLM in C1; carol's spend in C2 is not C1's.
    await record(bot, { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 1, 16), price: { perHour: 1, currency: "EUR" } });
    await record(bot, { owner: bob, from: Date.UTC(2026, 10, 2), to: Date.UTC(2026, 10, 2, 1), price: "free", llm: 5 });
    await record(bot, { owner: { id: "U3", name: "carol" }, channel: "C2", from: Date.UTC(2026, 10, 2), to: Date.UTC(2026, 10, 3), price: { perHour: 0.1, currency: "USD" } });
    const answer = seen((await ask(bot, "spawn testagent digitalocean --size s-2vcpu-4gb --ttl 200h --dry-run", bob)).lastPrivate());
    expect(answer).toContain("this channel has spent $25.00 of the $30.00 budget for 2026-11");
    expect(seen((await ask(bot, "spawn testagent digitalocean --size s-2vcpu-4gb --ttl 200h --dry-run", bob, "C2")).lastPrivate())).toContain('"kind":"plan"');
    await bot.store.close();
  });

  it("warns a channel once a month when a spawn brings it near its budget", async () => {
    const clock = { now: Date.UTC(2026, 10, 20, 12) };
    const bot = budgetBot(clock, { perChannel: 20 });
    await record(bot, { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 1, 17), price: { perHour: 1, currency: "USD" } }); // $17 = 85 %
    const first = await ask(bot, "spawn testagent local --ttl 1h --steps \"\"");
    const second = await ask(bot, "spawn testagent local --ttl 1h --steps \"\"");
    await bot.core.idle();
    expect(first.public.map((v) => seen(v)).join()).toContain("this channel has used $17.00 of its $20.00 budget for 2026-11");
    expect(second.public.map((v) => seen(v)).join()).not.toContain("budget for 2026-11");
    for (const rec of await bot.store.listLive()) await ask(bot, `delete ${rec.id}`, ADMIN);
    await bot.core.idle();
    await bot.store.close();
  });
});

describe("costs", () => {
  it("sums each grouping exactly as the spawns' records add up", async () => {
    const clock = { now: Date.UTC(2026, 10, 25, 12) };
    const bot = budgetBot(clock, { perUser: 500, perChannel: 900 });
    const random = prng(18);
    const people = [alice, bob, { id: "U3", name: "carol" }];
    const month = { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) };
    type Rec = { owner: string; channel: string; cloud: string; agent: string; usd: number; eur: number; llm: number };
    const expected: Rec[] = [];
    for (let i = 0; i < 40; i++) {
      const owner = pick(random, people);
      const channel = pick(random, ["C1", "C2"]);
      const cloud = pick(random, ["hetzner", "digitalocean", "aws"]);
      const agent = pick(random, ["codex", "claude", "testagent"]);
      const from = month.from + Math.floor(random() * 24 * 24) * HOUR;
      const hours = 1 + Math.floor(random() * 48);
      const live = random() < 0.2;
      const to = live ? undefined : Math.min(from + hours * HOUR, clock.now);
      const perHour = Math.round(random() * 1000) / 1000;
      const currency = cloud === "hetzner" ? "EUR" : "USD";
      const llm = Math.round(random() * 500) / 100;
      await record(bot, { owner, channel, cloud, agent, from, to, price: { perHour, currency }, llm });
      const billed = ((to ?? clock.now) - from) / HOUR * perHour;
      expected.push({ owner: owner.name, channel, cloud, agent, usd: currency === "USD" ? billed : 0, eur: currency === "EUR" ? billed : 0, llm });
    }
    // October's spawn is not November's.
    await record(bot, { from: Date.UTC(2026, 9, 3), to: Date.UTC(2026, 9, 4), llm: 50 });
    const text = seen((await ask(bot, "costs --all", ADMIN)).lastPrivate());
    const sum = (rows: Rec[], f: (r: Rec) => number) => rows.reduce((n, r) => n + f(r), 0);
    const money = (n: number, sign: string) => `${sign}${n.toFixed(2)}`;
    const describe = (rows: Rec[]) => {
      const cloud = [...(sum(rows, (r) => r.eur) > 0 ? [money(sum(rows, (r) => r.eur), "€")] : []), ...(sum(rows, (r) => r.usd) > 0 ? [money(sum(rows, (r) => r.usd), "$")] : [])];
      return `${cloud.join(" + ")} cloud + ${money(sum(rows, (r) => r.llm), "$")} LLM`;
    };
    expect(text).toContain(`total: ${describe(expected)}`);
    for (const [key, values] of [["owner", people.map((p) => p.name)], ["channel", ["C1", "C2"]], ["cloud", ["hetzner", "digitalocean", "aws"]], ["agent", ["codex", "claude", "testagent"]]] as const) {
      for (const value of values) {
        const rows = expected.filter((r) => r[key] === value);
        if (rows.length) expect(text, `${key} ${value}`).toContain(`  ${value}: ${describe(rows)}`);
      }
    }
    // Each person's and channel's line carries its budget; the US-dollar sum converts euros at 1.25.
    const alices = expected.filter((r) => r.owner === "alice");
    const aliceUsd = sum(alices, (r) => r.usd + r.eur * 1.25 + r.llm);
    expect(text).toContain(`alice: ${describe(alices)} (≈ $${aliceUsd.toFixed(2)}, ${Math.round((aliceUsd / 500) * 100)} % of the $500.00 budget)`);
    expect(text).toMatch(/C1: .*% of the \$900\.00 budget/);

    // --mine is the asker's own; --all is for admins; --month reads another month.
    const mine = seen((await ask(bot, "costs --mine", bob)).lastPrivate());
    expect(mine).toContain(`total: ${describe(expected.filter((r) => r.owner === "bob"))}`);
    expect(seen((await ask(bot, "costs --all", bob)).lastPrivate())).toContain("only admins can see the whole workspace's costs");
    expect(seen((await ask(bot, "costs --mine --month 2026-10")).lastPrivate())).toContain("total: $24.00 cloud + $50.00 LLM");
    expect(seen((await ask(bot, "costs --mine --month 2026-12")).lastPrivate())).toContain("no spend in 2026-12 for your spawns");
    await bot.store.close();
  });

  it("splits a live spawn's hours between the months they fall in", async () => {
    const clock = { now: Date.UTC(2026, 11, 1, 3) }; // 03:00 on 1 December
    const bot = budgetBot(clock, {});
    await record(bot, { from: Date.UTC(2026, 10, 30, 22), price: { perHour: 2, currency: "USD" } });
    // One that ran from 23:00 to 02:00 across the same boundary, and one that ended before it.
    await record(bot, { from: Date.UTC(2026, 10, 30, 23), to: Date.UTC(2026, 11, 1, 2), price: { perHour: 10, currency: "USD" } });
    await record(bot, { from: Date.UTC(2026, 10, 30, 20), to: Date.UTC(2026, 10, 30, 21), price: { perHour: 100, currency: "USD" } });
    expect(seen((await ask(bot, "costs --month 2026-11")).lastPrivate())).toContain("total: $114.00 cloud + $0.00 LLM · 3 spawns");
    expect(seen((await ask(bot, "costs")).lastPrivate())).toContain("total: $26.00 cloud + $0.00 LLM · 2 spawns");
    await bot.store.close();
  });
});
