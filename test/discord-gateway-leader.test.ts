// Several replicas on the Discord gateway: only the holder of the leader lease opens a session
// (Discord sends every interaction to every session), standbys serve REST, and a standby connects
// when the leader stops, is killed (a real process, SIGKILL) or finds its lease taken over. Real
// discord.js against the wire-level fake Discord; the lease lives in one real SQLite file.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DiscordAdapter } from "../src/adapters/discord/index.js";
import { GATEWAY_LEASE } from "../src/adapters/discord/gateway-leader.js";
import { registerCommands } from "../src/adapters/discord/register.js";
import { text, type ChatOutlet } from "../src/bot/index.js";
import { createLogger } from "../src/log.js";
import { startDiscordFake, type DiscordFake } from "./fakes/discord-fake.js";
import { makeBot, type TestBot } from "./support/bot.js";
import { bundleEntry } from "./support/bundle.js";
import type { ReplicaEnv } from "./support/discord-replica.js";
import { until } from "./support/until.js";

const TTL_MS = 1500; // the lease TTL (config.leaseTtlMs), short for the test; renewed and retried every TTL/3
const LOGIN_MS = 1500; // headroom for a discord.js login to the fake (GET /gateway/bot, HELLO, IDENTIFY, READY, GUILD_CREATE)
const ALICE = { id: "400000000000000001", username: "alice" };

interface Replica { name: string; adapter: DiscordAdapter; bot: TestBot; lines: string[]; outlet: () => ChatOutlet }

let fake: DiscordFake;
let entry: string;
let first: TestBot;
let child: ChildProcess | undefined;
const replicas: Replica[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  [fake, entry] = await Promise.all([startDiscordFake(), bundleEntry("test/support/discord-replica.ts", "discord-replica")]);
  fake.addUser(ALICE);
  await registerCommands({ token: fake.token, appId: fake.appId, apiUrl: fake.restApi, guildId: fake.guildId, agents: [] });
  first = makeBot();
}, 60_000);

afterAll(async () => {
  child?.kill("SIGKILL");
  await Promise.all(replicas.map((r) => r.adapter.stop(1000)));
  await fake?.close();
});

/** A replica in this process, on the shared data dir's store. */
async function replica(name: string): Promise<Replica> {
  const lines: string[] = [];
  const logger = createLogger({ level: "info", format: "json", destination: { write: (l: string) => (lines.push(l), true) } as unknown as NodeJS.WritableStream });
  const bot = makeBot({ dataDir: first.dataDir, logger });
  const attach = vi.spyOn(bot.core, "attachOutlet");
  const adapter = new DiscordAdapter(bot.core, {
    token: fake.token, appId: fake.appId, apiUrl: fake.restApi, leader: { leases: bot.store.leases, ttlMs: TTL_MS, holder: name },
  }, logger);
  await adapter.start();
  const r = { name, adapter, bot, lines, outlet: () => attach.mock.calls[0]![0] };
  replicas.push(r);
  return r;
}

/** A replica as its own process, to be killed. Resolves with the role it started in. */
async function childReplica(name: string): Promise<string> {
  const env: ReplicaEnv = {
    REPLICA_DATA_DIR: first.dataDir, REPLICA_DISCORD_API: fake.restApi, REPLICA_DISCORD_TOKEN: fake.token,
    REPLICA_DISCORD_APP_ID: fake.appId, REPLICA_LEASE_TTL_MS: String(TTL_MS), REPLICA_NAME: name,
  };
  child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return until(`${name} to start (stderr: ${err.slice(-500)})`, () => /started (\w+)/.exec(out)?.[1], 30_000);
}

const logged = (r: Replica, words: string) => r.lines.filter((l) => l.includes(words)).length;
const leaders = () => replicas.filter((r) => r.adapter.gatewayRole === "leader");

/** Send /spawn help and wait for its answer; how many first answers (callbacks) the interaction got. */
async function helpAnsweredTimes(): Promise<number> {
  const ref = fake.chatInput({ user: ALICE, name: "spawn", subcommand: "help" });
  await fake.waitForCallback(ref.id);
  await until("the help text", () => fake.webhookMessages(ref.token).length > 0, 5_000);
  await sleep(300); // a second replica's answer would arrive by now
  return fake.calls.filter((c) => c.path.startsWith(`/interactions/${ref.id}/`)).length;
}

describe("the Discord gateway with several replicas", () => {
  it("opens one gateway session for three replicas: the leader's; the standbys say once that they stand by", async () => {
    expect(await childReplica("replica-c")).toBe("leader");
    const [a, b] = [await replica("replica-a"), await replica("replica-b")];
    expect([a.adapter.gatewayRole, b.adapter.gatewayRole]).toEqual(["standby", "standby"]);
    expect(a.adapter.connected && b.adapter.connected).toBe(true); // ready for /readyz: REST works on a standby
    await sleep(TTL_MS); // standbys ask again every TTL/3, and are refused
    expect(fake.openSessions).toBe(1);
    expect(fake.identifies).toBe(1);
    expect(logged(a, "standing by")).toBe(1);
    expect(logged(b, "standing by")).toBe(1);
  });

  it("answers an interaction once, from the leader, while a standby posts over REST", async () => {
    expect(await helpAnsweredTimes()).toBe(1);
    await replicas[0]!.outlet().notify(ALICE.id, text(["Your spawn fix-login expires in 1 hour."]));
    expect(JSON.stringify(fake.dms(ALICE.id))).toContain("expires in 1 hour");
  });

  it("connects a standby within the lease's TTL after the leader's process is killed", async () => {
    const killed = Date.now();
    child!.kill("SIGKILL");
    const [leader] = await until("a standby to take over", () => leaders().length === 1 && fake.openSessions === 1 && leaders(), 3 * TTL_MS + LOGIN_MS);
    // The lease outlives its last renewal by at most the TTL, a standby asks every TTL/3, then logs in.
    expect(Date.now() - killed).toBeLessThan(TTL_MS + TTL_MS / 3 + LOGIN_MS);
    expect(logged(leader!, "took over the Discord gateway from a replica that stopped renewing")).toBe(1);
    expect(leader!.adapter.gatewayCounts).toEqual({ terms: 1, takeovers: 1, lost: 0 });
    expect(fake.openSessions).toBe(1);
    expect(await helpAnsweredTimes()).toBe(1);
  });

  it("hands the gateway over at once when the leader stops in order", async () => {
    const [leader] = leaders();
    const other = replicas.find((r) => r !== leader)!;
    const stopped = Date.now();
    await leader!.adapter.stop(1000);
    replicas.splice(replicas.indexOf(leader!), 1);
    await until("the standby to connect", () => other.adapter.gatewayRole === "leader" && fake.openSessions === 1, TTL_MS + LOGIN_MS);
    // Released, not expired: the standby's next ask (every TTL/3) gets it.
    expect(Date.now() - stopped).toBeLessThan(TTL_MS / 3 + LOGIN_MS);
    expect(await helpAnsweredTimes()).toBe(1);
  });

  it("disconnects a leader at once when it finds its lease taken over, and stands by until it is free again", async () => {
    const [leader] = leaders();
    // Another replica took the lease after this one stalled past its expiry.
    await leader!.bot.store.leases.release(GATEWAY_LEASE, leader!.name);
    expect((await leader!.bot.store.leases.acquire(GATEWAY_LEASE, "replica-z", 60_000)).ok).toBe(true);
    await until("the leader to disconnect", () => fake.openSessions === 0, TTL_MS / 3 + 1000);
    expect(leader!.adapter.gatewayRole).toBe("standby");
    expect(logged(leader!, "another replica took over the Discord gateway; disconnecting")).toBe(1);
    expect(leader!.adapter.gatewayCounts?.lost).toBe(1);
    await leader!.bot.store.leases.release(GATEWAY_LEASE, "replica-z");
    await until("it to connect again", () => leader!.adapter.gatewayRole === "leader" && fake.openSessions === 1, TTL_MS + LOGIN_MS);
    expect(await helpAnsweredTimes()).toBe(1);
  });
});
