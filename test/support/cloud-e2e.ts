// One end-to-end spawn on a VM cloud whose fake hands out the real test sshd as the server:
// console adapter → pipeline → fake cloud API → real sshd → live tmux; then delete.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { ConsoleAdapter } from "../../src/adapters/console/index.js";
import { HetznerCloud } from "../../src/orchestrator/clouds/hetzner.js";
import type { AgentSpec, BotKey, Cloud } from "../../src/orchestrator/index.js";
import type { HetznerFake } from "../fakes/hetzner-fake.js";
import type { CloudFake } from "../fakes/cloud-fake.js";
import { makeBot, type TestBot } from "./bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./sshd.js";

export interface EndToEndResult {
  /** Console output of the spawn. */
  out: string;
  code: number;
  sessionAliveAfterSpawn: boolean;
  deleteOut: string;
  serversAfterSpawn: number;
  serversAfterDelete: number;
  apiCallsPerSpawn: number;
  apiCallsPerDelete: number;
  timeToReadyMs: number;
}

/**
 * A whole test bot whose Hetzner cloud is the wire-level fake handing out the real test sshd as
 * every server, with the bot's key authorized there and first boot marked done.
 */
export function makeBotOnHetznerFake(opts: {
  fake: HetznerFake; sshd: TestSshd; pollIntervalMs: number; sshWait: Cloud["sshWait"]; agents?: AgentSpec[];
}): TestBot {
  const { fake, sshd } = opts;
  const bot = makeBot({
    agents: opts.agents,
    clouds: (key) => [new HetznerCloud({
      botPublicKey: key.publicKey, token: fake.validToken, apiUrl: fake.url, location: "nbg1", defaultSize: "cx23",
      sshPort: sshd.port, sshUser: sshd.user, pollIntervalMs: opts.pollIntervalMs, cloudInitTimeoutMs: 2000, sshWait: opts.sshWait,
    })],
  });
  sshd.authorize(bot.botKey.publicKey);
  markFirstBootDone();
  return bot;
}

/** cloud-init on a real VM writes this marker; the test host plays a VM whose first boot is done. */
export function markFirstBootDone(): void {
  mkdirSync("/var/lib/spawnbot", { recursive: true });
  writeFileSync("/var/lib/spawnbot/cloud-init-complete", new Date().toISOString());
}

export async function typeAt(bot: TestBot, line: string): Promise<{ code: number; out: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = "";
  output.on("data", (d: Buffer) => (out += d.toString()));
  const done = new ConsoleAdapter({ core: bot.core, input, output, interactive: false, user: { id: "U1", name: "alice" } }).run();
  input.end(`${line}\n`);
  return { code: await done, out };
}

export async function spawnEndToEnd(opts: {
  cloudKey: string;
  unixUser: string;
  fake: CloudFake;
  /** Build the provider under test pointed at the fake, with sshPort/sshUser of the given sshd. */
  makeCloud(botKey: BotKey, sshd: TestSshd): Cloud;
}): Promise<EndToEndResult> {
  const sshd = await startSshd(opts.unixUser);
  try {
    const bot = makeBot({ clouds: (key) => [opts.makeCloud(key, sshd)] });
    sshd.authorize(bot.botKey.publicKey); // on a real VM the cloud or the user-data does this
    markFirstBootDone();
    const name = `e2e-${opts.cloudKey}`;
    const callsBefore = opts.fake.calls.length;
    const started = Date.now();
    const spawned = await typeAt(bot, `spawn testagent ${opts.cloudKey} --name ${name}`);
    const timeToReadyMs = Date.now() - started;
    const apiCallsPerSpawn = opts.fake.calls.length - callsBefore;
    const sessionAliveAfterSpawn = spawnSync("su", ["-", opts.unixUser, "-c", `tmux has-session -t =${name}`]).status === 0;
    const serversAfterSpawn = opts.fake.servers().length;
    const callsBeforeDelete = opts.fake.calls.length;
    const deleted = await typeAt(bot, `delete ${name}`);
    return {
      out: spawned.out, code: spawned.code, sessionAliveAfterSpawn, deleteOut: deleted.out, serversAfterSpawn,
      serversAfterDelete: opts.fake.servers().length, apiCallsPerSpawn, apiCallsPerDelete: opts.fake.calls.length - callsBeforeDelete, timeToReadyMs,
    };
  } finally {
    killUserProcesses(opts.unixUser);
    await sshd.stop();
  }
}
