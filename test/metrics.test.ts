// /metrics after real spawns: step durations per step and cloud API calls and errors per cloud,
// scraped from the ops endpoint of a whole bot (console adapter, Hetzner fake, real sshd).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsServer } from "../src/ops.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { parsePrometheusText, sampleValue } from "./support/prom-text.js";
import type { TestBot } from "./support/bot.js";
import { makeBotOnHetznerFake, typeAt } from "./support/cloud-e2e.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbben-metrics";
let fake: HetznerFake;
let sshd: TestSshd;
let bot: TestBot;
let ops: { port: number; close(): Promise<void> };

beforeAll(async () => {
  fake = await HetznerFake.start({ bootDelayMs: 50 });
  sshd = await startSshd(USER);
  bot = makeBotOnHetznerFake({ fake, sshd, pollIntervalMs: 20, sshWait: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 } });
  const { orchestrator, store } = bot;
  ops = await startOpsServer(0, "127.0.0.1", { storeOpen: async () => true, platformConnected: () => true }, {
    spawnCounts: () => store.countSpawns(), runsInFlight: () => orchestrator.inFlight().length,
    recentTimesToReady: () => store.recentTimesToReady(100), chat: () => undefined,
    own: orchestrator.metrics.all,
  });
});

afterAll(async () => {
  await ops?.close();
  killUserProcesses(USER);
  await sshd?.stop();
  await fake?.close();
});

const scrape = async () => (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
/** The value of a series written as `name{label="value",…}`, read with the strict text parser (label order is free). */
const sample = (text: string, series: string) => {
  const [, name, labelText = ""] = /^(\w+)(?:\{(.*)\})?$/.exec(series)!;
  const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return sampleValue(parsePrometheusText(text), name!, labels);
};

describe("/metrics after spawns", () => {
  it("shows each step's duration and the cloud's calls, and counts a refused create as an error", async () => {
    const ok = await typeAt(bot, "spawn testagent hetzner --name metered");
    expect(ok.out).toContain("[metered] ready");
    let text = await scrape();
    expect(text).toContain("# TYPE spawnbot_step_duration_seconds histogram");
    for (const step of ["validate", "provision", "wait-ssh", "install", "launch"]) {
      expect(sample(text, `spawnbot_step_duration_seconds_count{step="${step}"}`), step).toBe(1);
      expect(sample(text, `spawnbot_step_duration_seconds_bucket{step="${step}",le="+Inf"}`), step).toBe(1);
    }
    expect(sample(text, 'spawnbot_step_duration_seconds_sum{step="provision"}')).toBeGreaterThan(0.05); // the fake's boot delay
    expect(sample(text, 'spawnbot_cloud_api_calls_total{cloud="hetzner",operation="createServer"}')).toBe(1);
    expect(sample(text, 'spawnbot_cloud_api_calls_total{cloud="hetzner",operation="checkCredentials"}')).toBe(1);
    expect(text).not.toContain("spawnbot_cloud_api_errors_total{");

    fake.rejectNext({ match: "POST /servers", status: 403, code: "resource_limit_exceeded", message: "server limit reached" });
    const refused = await typeAt(bot, "spawn testagent hetzner --name refused");
    expect(refused.out).toContain("refused");
    text = await scrape();
    expect(sample(text, 'spawnbot_cloud_api_calls_total{cloud="hetzner",operation="createServer"}')).toBe(2);
    expect(sample(text, 'spawnbot_cloud_api_errors_total{cloud="hetzner",operation="createServer",code="QUOTA"}')).toBe(1);
    expect(sample(text, 'spawnbot_step_duration_seconds_count{step="provision"}')).toBe(2);
    expect(sample(text, 'spawnbot_step_duration_seconds_count{step="install"}')).toBe(1); // the refused run never got there
  });
});
