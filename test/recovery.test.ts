// Start-up recovery on an adopted host (the ssh cloud against the real sshd): only the tmux session
// of the interrupted spawn is killed, a same-named session it never started is left alone, and the
// owner and the status message hear about it once the platform's outlet attaches.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatOutlet } from "../src/bot/outlet.js";
import type { StatusView, View } from "../src/bot/views/views.js";
import { HetznerCloud } from "../src/orchestrator/clouds/hetzner.js";
import { STEPS } from "../src/orchestrator/index.js";
import { HetznerFake } from "./fakes/hetzner-fake.js";
import { RecordingConversation, makeBot, request, type TestBot } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbrec2";
let sshd: TestSshd;

beforeAll(async () => {
  sshd = await startSshd(USER);
}, 30_000);

afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

const asUser = (cmd: string) => spawnSync("su", ["-", USER, "-c", cmd]).status;
const sessionAlive = (name: string) => asUser(`tmux has-session -t =${name}`) === 0;

/** A spawn on the adopted test host that a crash left in flight with the given step running. */
async function interrupted(bot: TestBot, name: string, runningStep: string) {
  const rec = await bot.store.recordIntent({
    id: `00000000-0000-4000-8000-${name.padStart(12, "0").slice(-12)}`, name, platform: "test", workspace: "W1", channel: "C1",
    ownerId: "U1", ownerName: "alice", agent: "testagent", cloud: "ssh", model: "m", size: null, zone: null, session: name,
    prompt: null, createdAt: Date.now(), expiresAt: null,
  });
  await bot.store.updateSpawn(rec.id, { status: "provisioning", serverId: `${USER}@127.0.0.1:${sshd.port}`, address: "127.0.0.1", sshUser: USER, sshPort: sshd.port });
  const cut = STEPS.findIndex((s) => s.name === runningStep);
  for (const [i, s] of STEPS.entries()) await bot.store.markStep(rec.id, i, s.name, i < cut ? "succeeded" : i === cut ? "running" : "pending", null);
  return rec;
}

class RecordingOutlet implements ChatOutlet {
  readonly platform = "test";
  readonly notes: { userId: string; view: View }[] = [];
  readonly statuses: StatusView[] = [];
  async notify(userId: string, view: View) { this.notes.push({ userId, view }); }
  async status(_place: unknown, view: StatusView) { this.statuses.push(view); }
}

describe("recovery on an adopted host", () => {
  it("ends a run it cannot continue (recorded by an older version): kills only the session whose launch began, and tells the owner once the outlet attaches", async () => {
    const bot = makeBot();
    sshd.authorize(bot.botKey.publicKey);
    asUser("tmux new-session -d -s launched 'sleep 600'; tmux new-session -d -s early 'sleep 600'");
    const launched = await interrupted(bot, "launched", "launch");
    const early = await interrupted(bot, "early", "install"); // never reached launch: a session named "early" is not its own

    const report = await bot.core.recover({ startUp: true });
    expect(report).toEqual({ resumed: [], ended: expect.arrayContaining([launched.id, early.id]), deleted: [], pending: [] });
    expect(sessionAlive("launched")).toBe(false);
    expect(sessionAlive("early")).toBe(true);
    for (const rec of [launched, early]) {
      expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^the bot restarted during ".*" and could not continue it \(it was started by an older version of spawnbot/) });
      expect((await bot.store.listSteps(rec.id)).filter((s) => s.state === "running" || s.state === "pending")).toEqual([]);
    }
    expect((await bot.store.listSteps(launched.id)).find((s) => s.name === "launch")).toMatchObject({ state: "failed", detail: "interrupted: the bot restarted" });

    // Recovery ran before the adapter attached: its messages wait for the outlet, then arrive.
    const outlet = new RecordingOutlet();
    bot.core.attachOutlet(outlet);
    await bot.core.idle();
    expect(outlet.statuses.map((v) => [v.name, v.status, v.result?.outcome])).toEqual(expect.arrayContaining([["launched", "failed", "failed"], ["early", "failed", "failed"]]));
    expect(outlet.notes).toHaveLength(2);
    expect(outlet.notes.every((n) => n.userId === "U1" && n.view.kind === "error")).toBe(true);
    await bot.store.close();
  });

  it("keeps a spawn whose host cannot be reached cleanup pending, and a later pass finishes it", async () => {
    const bot = makeBot();
    sshd.authorize(bot.botKey.publicKey);
    asUser("tmux new-session -d -s blocked 'sleep 600'");
    const rec = await interrupted(bot, "blocked", "launch");
    await sshd.stop();
    try {
      const first = await bot.core.recover({ startUp: true });
      expect(first.pending).toEqual([rec.id]);
      expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "deleting", error: expect.stringMatching(/^cleanup pending: /) });
      expect(await bot.store.upkeep.getCleanup(rec.id)).toMatchObject({ what: "leftovers", attempts: 1 });
      expect(sessionAlive("blocked")).toBe(true);
      // A pass while the host is still down counts another try, and tells nobody again.
      expect((await bot.core.recover({ startUp: false })).pending).toEqual([rec.id]);
      expect(await bot.store.upkeep.getCleanup(rec.id)).toMatchObject({ what: "leftovers", attempts: 2 });
    } finally {
      await sshd.start();
    }
    const later = await bot.core.recover({ startUp: false });
    expect(later.ended).toEqual([rec.id]);
    expect((await bot.store.getSpawn(rec.id))?.status).toBe("failed");
    expect(await bot.store.upkeep.getCleanup(rec.id)).toBeUndefined();
    expect(sessionAlive("blocked")).toBe(false);
    await bot.store.close();
  }, 30_000);
});

describe("a failed run whose server cannot be deleted", () => {
  it("stays visibly cleanup pending instead of failed-and-clean, and the retry pass removes the server", async () => {
    const fake = await HetznerFake.start();
    try {
      const bot = makeBot({ clouds: (key) => [new HetznerCloud({
        botPublicKey: key.publicKey, token: fake.validToken, apiUrl: fake.url, location: "nbg1", defaultSize: "cx23", sshPort: sshd.port, sshUser: USER,
        pollIntervalMs: 20, requestTimeoutMs: 2000, apiRetry: { baseDelayMs: 20, maxDelayMs: 50 }, cloudInitTimeoutMs: 500,
      })] });
      sshd.authorize(bot.botKey.publicKey);
      asUser("tmux new-session -d -s taken 'sleep 600'"); // the run's launch step refuses to reuse it
      fake.rejectNext({ match: "DELETE /servers", status: 403, code: "forbidden", message: "insufficient permissions for this request" });
      const conv = new RecordingConversation();
      await bot.core.handle(request("spawn testagent hetzner --name taken"), conv);
      await bot.core.idle();
      const rec = (await bot.store.listAll("test")).find((r) => r.name === "taken")!;
      expect(rec).toMatchObject({ status: "deleting", error: expect.stringMatching(/^cleanup pending: a tmux session named taken already runs .*insufficient permissions/) });
      expect(fake.servers()).toHaveLength(1);
      expect(conv.statuses.at(-1)?.result?.message).toMatch(/^taken: cleanup pending: /);
      // Owed in the one record the upkeep retries from (not found by the error's wording).
      expect(await bot.store.upkeep.getCleanup(rec.id)).toMatchObject({ what: "leftovers" });

      const pass = await bot.core.recover({ startUp: false });
      expect(pass.ended).toEqual([rec.id]);
      expect(await bot.store.getSpawn(rec.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^a tmux session named taken already runs/) });
      expect(fake.servers()).toEqual([]);
      expect(await bot.store.upkeep.getCleanup(rec.id)).toBeUndefined();
      expect(sessionAlive("taken")).toBe(true); // not this spawn's session: it never started one
      await bot.store.close();
    } finally {
      asUser("tmux kill-session -t =taken");
      await fake.close();
    }
  }, 30_000);
});
