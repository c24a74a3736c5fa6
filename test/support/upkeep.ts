// For the expiry and reconciler tests: a bot whose VM clouds are the real Hetzner and
// DigitalOcean providers pointed at their wire-level fakes, an outlet that records what each
// person would have been sent, and spawns written straight into the store as a run leaves them.
import { randomUUID } from "node:crypto";
import type { ChatPlace } from "../../src/bot/outlet.js";
import type { SpawnRecord, SpawnStatus } from "../../src/bot/store/index.js";
import type { StatusView, View } from "../../src/bot/views/views.js";
import { DigitalOceanCloud } from "../../src/orchestrator/clouds/digitalocean.js";
import { HetznerCloud } from "../../src/orchestrator/clouds/hetzner.js";
import { secrets } from "../../src/secrets.js";
import { DigitalOceanFake } from "../fakes/digitalocean-fake.js";
import { HetznerFake } from "../fakes/hetzner-fake.js";
import { makeBot, type TestBot } from "./bot.js";
import { FAKE_KEY } from "./test-agent.js";

export const PLATFORM = "test";
export const OWNER = { id: "U1", name: "alice" };
export const ADMIN = "UADMIN";

export interface Fakes {
  hetzner: HetznerFake;
  digitalocean: DigitalOceanFake;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const hetzner = await HetznerFake.start();
  const digitalocean = await DigitalOceanFake.start();
  // main.ts registers every cloud token with the redactor; so does this.
  secrets.add(hetzner.validToken);
  secrets.add(digitalocean.validToken);
  return { hetzner, digitalocean, close: async () => { await hetzner.close(); await digitalocean.close(); } };
}

/** One try per API request, so an injected fault is a failed call and not a retried one. */
export function bootBot(fakes: Fakes, dataDir?: string): TestBot {
  return makeBot({
    dataDir, admins: [ADMIN],
    clouds: (botKey) => [
      new HetznerCloud({
        botPublicKey: botKey.publicKey, token: fakes.hetzner.validToken, apiUrl: fakes.hetzner.url, location: "nbg1", defaultSize: "cx23",
        pollIntervalMs: 20, requestTimeoutMs: 1000, apiRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
      }),
      new DigitalOceanCloud({
        botPublicKey: botKey.publicKey, token: fakes.digitalocean.validToken, apiUrl: fakes.digitalocean.url, region: "nyc3", defaultSize: "s-2vcpu-2gb",
        pollIntervalMs: 20, bootTimeoutMs: 5000, requestTimeoutMs: 1000, retryBaseDelayMs: 10,
      }),
    ],
  });
}

export interface Sent {
  notes: { userId: string; view: View; place?: ChatPlace }[];
  statuses: { place: ChatPlace; view: StatusView }[];
  /** Every line sent to userId, flattened to text. */
  to(userId: string): string[];
}

export function recordOutlet(bot: TestBot): Sent {
  const sent: Sent = {
    notes: [], statuses: [],
    to: (userId) => sent.notes.filter((n) => n.userId === userId).map((n) => JSON.stringify(n.view)),
  };
  bot.core.attachOutlet({
    platform: PLATFORM,
    notify: async (userId, view, place) => void sent.notes.push({ userId, view, place }),
    status: async (place, view) => void sent.statuses.push({ place, view }),
  });
  return sent;
}

/** A spawn as a finished run leaves it in the store. */
export async function readySpawn(bot: TestBot, o: {
  cloud: string; serverId: string | null; id?: string; name?: string; expiresAt?: number | null; status?: SpawnStatus; now?: number;
  /** Where it was asked for and by whom (default: the test platform, W1/C1, alice). */
  where?: { platform: string; workspace: string; channel: string; ownerId: string; ownerName: string };
}): Promise<SpawnRecord> {
  const id = o.id ?? randomUUID();
  const name = o.name ?? `s-${id.slice(0, 8)}`;
  const now = o.now ?? Date.now();
  await bot.store.recordIntent({
    id, name, platform: PLATFORM, workspace: "W1", channel: "C1", ownerId: OWNER.id, ownerName: OWNER.name, ...o.where, agent: "testagent", cloud: o.cloud,
    model: "openai/gpt-4o-mini", size: null, zone: null, session: name, prompt: null, createdAt: now, expiresAt: o.expiresAt === undefined ? now + 86_400_000 : o.expiresAt,
  });
  return bot.store.updateSpawn(id, { status: o.status ?? "ready", serverId: o.serverId, address: "127.0.0.1", sshUser: "root", sshPort: 22, readyAt: now });
}

/** Labels of a server the bot made for a spawn (Hetzner). */
export function botLabels(spawnId: string): Record<string, string> {
  return { "spawnbot-managed": "true", "spawnbot-spawn-id": spawnId, "spawnbot-owner": "test-U1" };
}

/** No message, status view or audit line holds a cloud token or the OpenRouter key. */
export async function secretsIn(fakes: Fakes, bot: TestBot, sent: Sent): Promise<string[]> {
  const everything = JSON.stringify([sent.notes, sent.statuses, await bot.store.listAudit({ limit: 1000 }), await bot.store.listLive()]);
  return [fakes.hetzner.validToken, fakes.digitalocean.validToken, FAKE_KEY].filter((s) => everything.includes(s));
}

/** A fresh pair of cloud fakes, a bot on them and its recording outlet (one per test). */
export async function upkeepBot(): Promise<{ fakes: Fakes; bot: TestBot; sent: Sent }> {
  const fakes = await startFakes();
  const bot = bootBot(fakes);
  return { fakes, bot, sent: recordOutlet(bot) };
}

export async function closeUpkeepBot(fakes: Fakes, bot: TestBot): Promise<void> {
  await bot.store.close();
  await fakes.close();
}
