// Replicas posting into one Slack channel keep to its limit together: two Slack API clients (each
// its own outbox, as two bot processes have) book send slots in one real PostgreSQL database and
// the fake Slack, enforcing chat.postMessage's one message per second per channel, answers no 429.
// The same traffic without shared slots does meet 429s, so the test can fail.
import { LogLevel, webApi } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackApi } from "../src/adapters/slack/api.js";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { createLogger } from "../src/log.js";
import { captureLogger } from "./support/capture.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { startSlackFake, type SlackFake } from "./fakes/slack-fake.js";

const PER_REPLICA = 20;
const CHANNEL = "C024BE91L";

let server: TestPostgres;
const stores: PgStore[] = [];
const fakes: SlackFake[] = [];
const apis: SlackApi[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  for (const api of apis) api.close();
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(fakes.map((f) => f.close()));
  await server?.stop();
});

async function enforcingFake(): Promise<SlackFake> {
  const fake = await startSlackFake({ enforceLimits: true });
  fakes.push(fake);
  return fake;
}

/** One replica's Slack client: its own WebClient and outbox, as in its own process. */
function replica(fake: SlackFake, slots?: PgStore, logger = captureLogger()): SlackApi {
  const client = new webApi.WebClient(fake.botToken, {
    slackApiUrl: fake.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR,
  });
  const api = new SlackApi(client, logger, slots?.sendSlots);
  apis.push(api);
  return api;
}

/** Each replica posts its messages into the one channel, all at once; how each post ended. */
function postFromEach(fake: SlackFake, replicas: SlackApi[]): Promise<PromiseSettledResult<{ ts: string }>[]> {
  return Promise.allSettled(replicas.flatMap((api, r) => Array.from({ length: PER_REPLICA }, (_, i) =>
    api.postMessage(fake.teamId, CHANNEL, { text: `replica ${r} status ${i}`, blocks: [] }))));
}

describe("outbound Slack pacing across replicas", () => {
  it("keeps two replicas posting 20 messages each into one channel to Slack's limit: all 40 delivered, 0 × 429", async () => {
    const url = await server.createDatabase();
    const [one, two] = [await openPgStore(url), await openPgStore(url)];
    stores.push(one, two);
    const shared = await enforcingFake();
    const sharedRun = postFromEach(shared, [replica(shared, one), replica(shared, two)]);

    // The control, at the same time on its own fake: each replica paces alone, together twice too fast.
    const alone = await enforcingFake();
    const aloneRun = postFromEach(alone, [replica(alone), replica(alone)]);

    const [sharedPosts, alonePosts] = await Promise.all([sharedRun, aloneRun]);
    expect(shared.count429).toBe(0);
    expect(sharedPosts.filter((p) => p.status === "fulfilled")).toHaveLength(2 * PER_REPLICA);
    expect(shared.messages(CHANNEL)).toHaveLength(2 * PER_REPLICA);
    expect(shared.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(2 * PER_REPLICA); // one call per message
    // Alone, the replicas meet 429s (and a message rate-limited more than ten times is given up).
    expect(alone.count429).toBeGreaterThan(0);
    expect(alonePosts.length).toBe(2 * PER_REPLICA); // measured: 28 × 429, and 1 of the 40 given up
  }, 120_000);

  it("posts every message when the database is gone, paced locally, and says so in the log", async () => {
    const gone = await openPgStore(await server.createDatabase());
    await gone.close();
    const fake = await enforcingFake();
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", destination: { write: (l: string) => (lines.push(l), true) } as unknown as NodeJS.WritableStream });
    const api = replica(fake, gone, logger);
    const posted = await Promise.all([0, 1, 2].map((i) => api.postMessage(fake.teamId, "C0DBDOWN", { text: `status ${i}`, blocks: [] })));
    expect(posted).toHaveLength(3);
    expect(fake.messages("C0DBDOWN")).toHaveLength(3);
    expect(fake.count429).toBe(0);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.msg.includes("pacing this workspace's Slack calls locally"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40); // warn
  }, 30_000);
});
