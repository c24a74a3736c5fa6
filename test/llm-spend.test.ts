// A spawn's LLM spend from its own OpenRouter key, against the fake Management API: the spend
// moves with the key's usage on each refresh and on `status`, the owner is warned privately once at
// 80 % of the limit, the status message says once that the key stopped at 100 %, and `budget`
// (owner or admin) raises the limit with a PATCH, after which the notices may come again.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenRouterManagement } from "../src/bot/spawns/openrouter-management.js";
import type { View } from "../src/bot/views/views.js";
import { secrets } from "../src/secrets.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot } from "./support/bot.js";
import { recordOutlet, type Sent } from "./support/upkeep.js";

const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
const ADMIN = { id: "UADMIN", name: "root" };
let fake: OpenRouterFake;
const seen = (v: View | undefined) => JSON.stringify(v ?? null);

beforeAll(async () => {
  fake = await OpenRouterFake.start();
  secrets.add(fake.managementKey);
});
afterAll(async () => fake.close());

function spendBot(): { bot: TestBot; sent: Sent } {
  const bot = makeBot({
    admins: [ADMIN.id],
    settings: { openrouterManagementKey: fake.managementKey, shareWorkspaceKey: false, openrouter: { api: fake.apiUrl }, spawnBudget: { defaultUsd: 10, maxUsd: 50 } },
  });
  return { bot, sent: recordOutlet(bot) };
}

/** A ready spawn of alice's on the local cloud with a key of its own (limit 10 USD), as a run leaves it. */
async function spawnWithKey(bot: TestBot, name: string): Promise<{ id: string; hash: string }> {
  const id = randomUUID();
  const now = Date.now();
  await bot.store.recordIntent({
    id, name, platform: "test", workspace: "W1", channel: "C1", ownerId: alice.id, ownerName: alice.name, agent: "testagent", cloud: "local",
    model: "openai/gpt-4o-mini", size: null, zone: null, session: name, prompt: null, createdAt: now, expiresAt: now + 86_400_000,
  });
  await bot.store.updateSpawn(id, { status: "ready", readyAt: now });
  await bot.store.costs.recordPrice(id, { kind: "free", source: "free" });
  const made = await new OpenRouterManagement(fake.apiUrl, fake.managementKey).createKey({ name: `spawnbot ${name}`, limitUsd: 10, expiresAt: null });
  await bot.store.spawnKeys.recordSpawnKey({ spawnId: id, keyHash: made.data.hash, limitUsd: 10, expiresAt: null, createdAt: now });
  return { id, hash: made.data.hash };
}

async function ask(bot: TestBot, line: string, user = alice): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(line, user), conv);
  return conv;
}

describe("LLM spend per spawn", () => {
  it("moves with the key's usage on each refresh and on status", async () => {
    const { bot } = spendBot();
    const { id, hash } = await spawnWithKey(bot, "spender");
    fake.spend(hash, 1.25);
    expect(await bot.core.refreshSpend()).toEqual({ read: 1, failed: 0 });
    expect(await bot.store.costs.getCost(id)).toMatchObject({ llmUsage: 1.25, llmLimit: 10 });
    fake.spend(hash, 2);
    // status reads it afresh: the fact line and the cost line agree.
    const status = seen((await ask(bot, "status spender")).lastPrivate());
    expect(status).toContain("its own OpenRouter key: $3.25 spent of its $10.00 limit");
    expect(status).toContain("cost: free (a host the bot does not pay for); so far $3.25 LLM of its $10.00 limit");
    expect(seen((await ask(bot, "list")).lastPrivate())).toContain('"cost":"free + $3.25"');
    // One GET per live spawn with a key per refresh: the calls cost tracking adds.
    const gets = fake.managementCalls.filter((c) => c.method === "GET" && c.path.endsWith(hash)).length;
    await bot.core.refreshSpend();
    expect(fake.managementCalls.filter((c) => c.method === "GET" && c.path.endsWith(hash)).length).toBe(gets + 1);
    await bot.store.close();
  });

  it("warns the owner privately once at 80 %, then posts the stop notice once at 100 %", async () => {
    const { bot, sent } = spendBot();
    const { hash } = await spawnWithKey(bot, "looper");
    fake.spend(hash, 7.9);
    await bot.core.refreshSpend();
    expect(sent.notes).toHaveLength(0); // 79 %: nothing yet
    fake.spend(hash, 0.2);
    await bot.core.refreshSpend();
    await bot.core.refreshSpend();
    expect(sent.notes.map((n) => n.userId)).toEqual([alice.id]);
    expect(sent.to(alice.id)[0]).toContain("looper has spent $8.10 of its $10.00 LLM budget (81 %)");
    expect(sent.to(alice.id)[0]).toContain("budget looper <USD>");
    expect(sent.statuses).toHaveLength(0);

    fake.spend(hash, 1.9);
    await bot.core.refreshSpend();
    await bot.core.refreshSpend();
    expect(sent.statuses).toHaveLength(1);
    expect(sent.statuses[0]!.place).toEqual({ workspace: "W1", channel: "C1" });
    expect(sent.statuses[0]!.view.warnings).toContain("LLM budget reached: $10.00 of its $10.00 limit is spent and OpenRouter stopped its key; alice or an admin can raise it with `budget looper <USD>`");
    expect(sent.notes).toHaveLength(1); // no second private note
    await bot.store.close();
  });

  it("lets the owner or an admin raise the limit with budget (PATCH on the key), and no one else", async () => {
    const { bot, sent } = spendBot();
    const { id, hash } = await spawnWithKey(bot, "raiser");
    fake.spend(hash, 10);
    await bot.core.refreshSpend();
    expect(sent.statuses).toHaveLength(1);

    expect(seen((await ask(bot, "budget raiser 20", bob)).lastPrivate())).toContain("only alice or an admin can budget raiser");
    expect(fake.managed.get(hash)!.data.limit).toBe(10);
    expect(seen((await ask(bot, "budget raiser 500")).lastPrivate())).toContain("$500.00 is above this bot's most per spawn ($50.00)");

    const conv = await ask(bot, "budget raiser 20");
    expect(seen(conv.lastPrivate())).toContain("raiser's LLM budget is now $20.00 ($10.00 spent)");
    expect(fake.managementCalls.filter((c) => c.method === "PATCH" && c.path.endsWith(hash))).toHaveLength(1);
    expect(fake.managed.get(hash)!.data).toMatchObject({ limit: 20, limit_remaining: 10 });
    expect(conv.statuses.at(-1)!.warnings.join()).not.toContain("LLM budget reached");
    expect(await bot.store.costs.getCost(id)).toMatchObject({ llmLimit: 20, warnedAt: null, stoppedAt: null });

    // At the new limit the notices come again, once each.
    fake.spend(hash, 7);
    await bot.core.refreshSpend();
    expect(sent.to(alice.id).at(-1)).toContain("raiser has spent $17.00 of its $20.00 LLM budget");
    expect(seen((await ask(bot, "budget raiser 30", ADMIN)).lastPrivate())).toContain("raiser's LLM budget is now $30.00");
    expect(fake.managed.get(hash)!.data.limit).toBe(30);
    await bot.store.close();
  });

  it("says why when a spawn has no key of its own", async () => {
    const { bot } = spendBot();
    const id = randomUUID();
    await bot.store.recordIntent({
      id, name: "ownkey", platform: "test", workspace: "W1", channel: "C1", ownerId: alice.id, ownerName: alice.name, agent: "testagent", cloud: "local",
      model: null, size: null, zone: null, session: "ownkey", prompt: null, createdAt: Date.now(), expiresAt: null,
    });
    await bot.store.updateSpawn(id, { status: "ready" });
    expect(seen((await ask(bot, "budget ownkey 5")).lastPrivate())).toContain("ownkey has no OpenRouter key of its own");
    await bot.store.close();
  });
});
