// Cloud prices as people see them: each provider's price reaches the dry-run plan (Hetzner's and
// DigitalOcean's from their fakes' price fields, AWS's and GCP's from the dated price table, with
// its date), the status view shows the price and the running cost, list shows cost so far, delete
// shows the totals, and a price that cannot be had says "price unknown", never 0.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsCloud } from "../src/orchestrator/clouds/aws.js";
import { GcpCloud } from "../src/orchestrator/clouds/gcp.js";
import { AWS_PRICES, GCP_PRICES } from "../src/orchestrator/clouds/price-table.js";
import type { View } from "../src/bot/views/views.js";
import { Ec2Fake, FAKE_ACCESS_KEY_ID, FAKE_REGION, FAKE_SECRET_ACCESS_KEY } from "./fakes/ec2-fake.js";
import { GceFake } from "./fakes/gce-fake.js";
import { RecordingConversation, request } from "./support/bot.js";
import { bootBot, closeUpkeepBot, readySpawn, recordOutlet, startFakes, type Fakes } from "./support/upkeep.js";
import { TEST_AGENT } from "./support/test-agent.js";
import type { TestBot } from "./support/bot.js";

const BOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFI9w48awYyh1RZHvP9mSE37aa0rYnSH4BWzAh3HXnqN spawnbot";
const HOUR = 3_600_000;
const seen = (v: View | undefined) => JSON.stringify(v ?? null);

let fakes: Fakes;
let bot: TestBot;
beforeAll(async () => {
  fakes = await startFakes();
  bot = bootBot(fakes);
});
afterAll(async () => closeUpkeepBot(fakes, bot));

async function ask(line: string, user = { id: "U1", name: "alice" }): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(line, user), conv);
  return conv;
}

describe("the dry-run plan shows the price an hour", () => {
  it("from Hetzner's server_types prices for the size and location, in euros, net of VAT", async () => {
    const conv = await ask("spawn testagent hetzner --size cx23 --zone nbg1 --dry-run");
    expect(seen(conv.lastPrivate())).toContain('"price":"€0.0056/h (Hetzner API, net of VAT)"');
    // The US location has its own price in the same list.
    expect(seen((await ask("spawn testagent hetzner --size cx23 --zone ash --dry-run")).lastPrivate())).toContain("€0.0067/h");
  });

  it("from DigitalOcean's sizes price_hourly, in dollars", async () => {
    const conv = await ask("spawn testagent digitalocean --size s-2vcpu-4gb --dry-run");
    expect(seen(conv.lastPrivate())).toContain(`"price":"$${(Math.round((24 / 672) * 1e5) / 1e5).toFixed(4)}/h (DigitalOcean API)"`);
  });

  it("says price unknown, never 0, when the provider lists no price for the place", async () => {
    // The fake lists cx23's prices for fsn1, nbg1, hel1 and ash only, as Hetzner lists per location.
    const plan = seen((await ask("spawn testagent hetzner --size cx23 --zone sin --dry-run")).lastPrivate());
    expect(plan).toContain("price unknown (Hetzner lists no price for cx23 in sin)");
    expect(plan).not.toMatch(/€0\.0000|\$0\.00/);
  });

  it("says price unknown with the provider's reason when the price call fails", async () => {
    fakes.digitalocean.inject({ kind: "server-error", times: 10, match: "GET /sizes" });
    const plan = seen((await ask("spawn testagent digitalocean --dry-run")).lastPrivate());
    expect(plan).toContain("price unknown (the provider did not say: DigitalOcean kept failing while reading prices (HTTP 5");
  });

  it("is free on a host the bot does not pay for", async () => {
    expect(seen((await ask("spawn testagent local --dry-run")).lastPrivate())).toContain('"price":"free (a host the bot does not pay for)"');
  });
});

describe("AWS and GCP are priced from the dated table", () => {
  it("names the table's date beside an AWS price, and says unknown for a region it lacks", async () => {
    const fake = await Ec2Fake.start();
    try {
      const make = (region: string) => new AwsCloud({
        botPublicKey: BOT_KEY, region, defaultSize: "t3.small", sshCidr: "203.0.113.0/24", endpoint: fake.url,
        credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY },
      });
      expect(await make(FAKE_REGION).priceOf({ agent: TEST_AGENT })).toEqual({
        kind: "priced", price: { perHour: AWS_PRICES.regions["us-east-1"]!["t3.small"], currency: "USD", source: `price table of ${AWS_PRICES.date}` },
      });
      expect(await make("ap-south-2").priceOf({ size: "t3.small", agent: TEST_AGENT })).toMatchObject({ kind: "unknown", why: expect.stringContaining(`the price table of ${AWS_PRICES.date} has no price for region ap-south-2`) });
    } finally {
      await fake.close();
    }
  });

  it("prices a GCP machine type by its zone's region from the table", async () => {
    const fake = await GceFake.start();
    try {
      const cloud = new GcpCloud({
        botPublicKey: BOT_KEY, project: fake.project, zone: fake.zone, defaultSize: "e2-medium", apiEndpoint: fake.url,
        authClient: { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${fake.validToken}` }) },
      });
      expect(await cloud.priceOf({ size: "e2-standard-2", agent: TEST_AGENT })).toEqual({
        kind: "priced", price: { perHour: GCP_PRICES.regions["us-central1"]!["e2-standard-2"], currency: "USD", source: `price table of ${GCP_PRICES.date}` },
      });
      expect(await cloud.priceOf({ size: "a3-megagpu-8g", agent: TEST_AGENT })).toMatchObject({ kind: "unknown" });
    } finally {
      await fake.close();
    }
  });
});

describe("a spawn's cost where people look", () => {
  it("status shows the price an hour and the cost so far; list shows it; delete shows the totals", async () => {
    const now = Date.now();
    const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null, now: now - 10 * HOUR, name: "priced-one" });
    await bot.store.costs.recordPrice(rec.id, { kind: "priced", perHour: 0.5, currency: "EUR", source: "Hetzner API, net of VAT" });
    const status = seen((await ask("status priced-one")).lastPrivate());
    expect(status).toContain("cost: €0.5000/h (Hetzner API, net of VAT); so far €5.00 cloud over 10h");
    expect(seen((await ask("list")).lastPrivate())).toMatch(/"name":"priced-one".*"cost":"€5\.00"/);
    const conv = await ask("delete priced-one");
    expect(seen(conv.statuses.at(-1))).toContain("priced-one was deleted by alice; total: €5.00 cloud over 10h");
  });

  it("the expiry message gives the owner the totals", async () => {
    const sent = recordOutlet(bot);
    const now = Date.now();
    const rec = await readySpawn(bot, { cloud: "hetzner", serverId: null, now: now - 4 * HOUR, expiresAt: now - 1000, name: "expiring-one" });
    await bot.store.costs.recordPrice(rec.id, { kind: "priced", perHour: 0.25, currency: "EUR", source: "Hetzner API, net of VAT" });
    await bot.core.sweepExpiry({ reminderMs: HOUR }, now);
    expect(sent.to("U1").join()).toContain("expiring-one expired and was deleted with its server; total: €1.00 cloud over 4h.");
  });

  it("a spawn recorded without a price shows price unknown, never a zero cost", async () => {
    await readySpawn(bot, { cloud: "hetzner", serverId: null, name: "unpriced-one" });
    const status = seen((await ask("status unpriced-one")).lastPrivate());
    expect(status).toContain("cost: price unknown (recorded before the bot kept prices)");
    expect(seen((await ask("list")).lastPrivate())).toMatch(/"name":"unpriced-one".*"cost":"\?"/);
  });
});
