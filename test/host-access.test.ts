// Hosts belong to the people who authorized them, checked against a real sshd: a host that trusts
// Alice's own spawnbot key refuses everyone else's spawn and is left byte-for-byte as it was; the
// bot's own key reaches only hosts an admin shared with a channel; host keys are pinned per host and
// only the pin's owner or an admin accepts a new one.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../src/bot/request.js";
import { authorizeUsers, makeBot, RecordingConversation, type TestBot } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-hosts";
const alice = { id: "U1", name: "alice" };
const mallory = { id: "U6", name: "mallory" };
const admin = { id: "U9", name: "admin" };
let sshd: TestSshd;
let bot: TestBot;
let target: string;

function req(text: string, who: { id: string; name: string }, channel = "C1", workspace = "W1"): ChatRequest {
  return { platform: "test", workspace, channel, user: who, text };
}

async function say(text: string, who = alice, channel = "C1", workspace = "W1"): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(req(text, who, channel, workspace), conv);
  await bot.core.idle();
  return conv;
}

const outcomeOf = (c: RecordingConversation) => c.statuses.at(-1)?.result;
const privateText = (c: RecordingConversation) => JSON.stringify(c.private);

/** Everything on the host a spawn can change for the login user. */
function hostFiles(): Record<string, string | null> {
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "latin1") : null);
  return {
    testAuthorizedKeys: read(path.join(sshd.dir, "authorized_keys")),
    homeAuthorizedKeys: read(path.join(sshd.home, ".ssh/authorized_keys")),
    spawnrc: read(path.join(sshd.home, ".spawnrc")),
    bashrc: read(path.join(sshd.home, ".bashrc")),
  };
}

beforeAll(async () => {
  sshd = await startSshd(USER);
  bot = makeBot({ admins: [admin.id] });
  target = `${USER}@127.0.0.1:${sshd.port}`;
  await authorizeUsers(sshd, bot.core, "test", [alice.id]);
  const c = await say(`spawn testagent ssh --host ${target} --name alices`);
  expect(outcomeOf(c)).toMatchObject({ outcome: "ready" });
});
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("a host adopted with --host", () => {
  it("is reached with its adopter's own key, recorded with the spawn", async () => {
    const rec = (await bot.store.findSpawn("alices", { platform: "test" }))!;
    expect(rec.status).toBe("ready");
    expect(rec.sshIdentity).toBe("owner");
  });

  it.each([
    ["another member of the channel", mallory, "C1", "W1"],
    ["a member of another channel", mallory, "C2", "W1"],
    ["a member of another workspace", mallory, "C1", "W2"],
    ["an admin (admins' keys are their own too)", admin, "C1", "W1"],
  ])("refuses %s and leaves the owner's host byte-for-byte unchanged", async (_who, who, channel, workspace) => {
    const before = hostFiles();
    const c = await say(`spawn testagent ssh --host ${target} --name takeover-${who.id.toLowerCase()}-${channel.toLowerCase()}-${workspace.toLowerCase()}`, who, channel, workspace);
    expect(outcomeOf(c)).toMatchObject({ outcome: "failed" });
    const line = await bot.core.userHostKeyLine({ platform: "test", userId: who.id });
    expect(JSON.stringify(c.statuses.at(-1))).toContain(`does not accept your spawnbot key. Authorize it on that host with: echo '${line}'`);
    expect(hostFiles()).toEqual(before);
  });

  it("does not let a spawn shared with someone become their way onto the host", async () => {
    await say("share alices @U6");
    const before = hostFiles();
    const c = await say(`spawn testagent ssh --host ${target} --name via-share`, mallory);
    expect(outcomeOf(c)).toMatchObject({ outcome: "failed" });
    expect(hostFiles()).toEqual(before);
    await say("unshare alices @U6");
  });

  it("keeps another member's key changes off the owner's host", async () => {
    const before = hostFiles();
    const k = sshd.clientKey("mallory");
    const added = await say(`keys add ${k.publicKey}`, mallory);
    expect(privateText(added)).not.toContain("running spawn");
    const fp = (await bot.store.listUserKeys({ platform: "test", userId: mallory.id }))[0]!.fingerprint;
    await say(`keys remove ${fp}`, mallory);
    expect(hostFiles()).toEqual(before);
  });

  it("does not open to the bot's own key for a host nobody shared", async () => {
    // A host that trusts the bot's key (as the bot's own machine might) is still not a member's to take.
    sshd.authorize(bot.botKey.publicKey);
    const before = hostFiles();
    const c = await say(`spawn testagent ssh --host ${target} --name bot-key-host`, mallory, "C2");
    expect(outcomeOf(c)).toMatchObject({ outcome: "failed" });
    expect(hostFiles()).toEqual(before);
  });
});

describe("hosts an admin shares with channels", () => {
  it("are for admins to add and remove", async () => {
    const c = await say(`hosts add ${target} --channel C2`, mallory);
    expect(privateText(c)).toContain("only admins can add shared hosts");
    expect(await bot.store.hosts.listSharedHosts("test", "W1")).toEqual([]);
    expect((await bot.store.listAudit({ limit: 1 }))[0]).toMatchObject({ action: "refused", userId: mallory.id, detail: { code: "admins-only", attempted: "hosts-add" } });
  });

  it("let spawns in the named channels reach the host with the bot's key, and no other channel", async () => {
    const added = await say(`hosts add ${target} --channel C2`, admin);
    expect(privateText(added)).toContain(bot.botKey.publicKey);
    const listed = await say("hosts", mallory, "C2");
    expect(privateText(listed)).toContain(target);
    expect(privateText(await say("hosts", mallory, "C3"))).toContain("no host is shared with this channel");

    const inC2 = await say(`spawn testagent ssh --host ${target} --name shared-c2`, mallory, "C2");
    expect(outcomeOf(inC2)).toMatchObject({ outcome: "ready" });
    expect((await bot.store.findSpawn("shared-c2", { platform: "test" }))!.sshIdentity).toBe("bot");
    const inC3 = await say(`spawn testagent ssh --host ${target} --name shared-c3`, mallory, "C3");
    expect(outcomeOf(inC3)).toMatchObject({ outcome: "failed" });
    const otherWorkspace = await say(`spawn testagent ssh --host ${target} --name shared-w2`, mallory, "C2", "W2");
    expect(outcomeOf(otherWorkspace)).toMatchObject({ outcome: "failed" });
    await say("delete shared-c2", mallory, "C2");
  });

  it("stop being reachable with the bot's key once removed", async () => {
    const removed = await say(`hosts remove ${target}`, admin);
    expect(privateText(removed)).toContain("is no longer shared");
    const c = await say(`spawn testagent ssh --host ${target} --name after-remove`, mallory, "C2");
    expect(outcomeOf(c)).toMatchObject({ outcome: "failed" });
  });
});

describe("host keys pinned per host", () => {
  it("refuses a changed key for every new spawn, and only the pin's owner or an admin accepts it", async () => {
    const pinned = (await bot.store.hosts.getPin(`127.0.0.1:${sshd.port}`))!;
    expect(pinned.owner).toEqual({ platform: "test", userId: alice.id });
    await sshd.rotateHostKey();
    const refused = await say(`spawn testagent ssh --host ${target} --name after-rotate`);
    expect(outcomeOf(refused)).toMatchObject({ outcome: "failed" });
    expect(JSON.stringify(refused.statuses.at(-1))).toContain("hosts trust");
    expect((await bot.store.hosts.getPin(`127.0.0.1:${sshd.port}`))!.hostKey).toBe(pinned.hostKey);

    const notTheirs = await say(`hosts trust ${target}`, mallory);
    expect(privateText(notTheirs)).toContain("only the person who first used this host");
    expect((await bot.store.hosts.getPin(`127.0.0.1:${sshd.port}`))!.hostKey).toBe(pinned.hostKey);

    const trusted = await say(`hosts trust ${target}`);
    expect(privateText(trusted)).toContain("is now trusted with host key");
    expect((await bot.store.hosts.getPin(`127.0.0.1:${sshd.port}`))!.hostKey).toBe(sshd.hostKey);
    const again = await say(`spawn testagent ssh --host ${target} --name after-trust`);
    expect(outcomeOf(again)).toMatchObject({ outcome: "ready" });
    // The earlier spawn on the host is reached with the accepted key too.
    const status = await say("status alices");
    expect(privateText(status)).not.toContain("changed");
  });

  it("says there is nothing to accept when the host presented no other key", async () => {
    const c = await say(`hosts trust ${target}`, admin);
    expect(privateText(c)).toContain("nothing to accept");
  });
});
