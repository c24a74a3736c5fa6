// Users' keys on running spawns, checked with the real ssh client: a key added after the spawn
// can log in, a removed one cannot; a shared user can, and cannot after unshare.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request, type TestBot, authorizeUsers } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-keys";
const alice = { id: "U1", name: "alice" };
const bob = { id: "U2", name: "bob" };
let sshd: TestSshd;
let bot: TestBot;
let knownHosts: string;

/** Can this private key log in to the test host with the real ssh client? */
function canLogIn(privateKeyPath: string): boolean {
  const r = spawnSync("ssh", ["-i", privateKeyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
    "-o", "StrictHostKeyChecking=yes", "-p", String(sshd.port), `${USER}@127.0.0.1`, "true"], { timeout: 15_000 });
  return r.status === 0;
}

async function say(text: string, who = alice): Promise<RecordingConversation> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(text, who), conv);
  return conv;
}

const lastText = (c: RecordingConversation) => JSON.stringify(c.private.at(-1));
let spawnConv: RecordingConversation;

beforeAll(async () => {
  sshd = await startSshd(USER);
  bot = makeBot();
  await authorizeUsers(sshd, bot.core, "test", [alice.id]);
  knownHosts = path.join(sshd.dir, "known_hosts_keys");
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
  spawnConv = await say(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name kdemo`);
  await bot.core.idle();
});
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("keys on running spawns", () => {
  it("tells a user with no key, privately, how to add one, and spawns anyway", () => {
    expect(JSON.stringify(spawnConv.private)).toContain("you have no SSH key on file");
    expect(JSON.stringify(spawnConv.public)).not.toContain("no SSH key");
    expect(spawnConv.statuses.at(-1)!.result).toMatchObject({ outcome: "ready" });
  });

  it("installs a key added after the spawn, so it can log in", async () => {
    const k = sshd.clientKey("alice-late");
    expect(canLogIn(k.privateKeyPath)).toBe(false);
    const c = await say(`keys add ${k.publicKey}`);
    expect(lastText(c)).toContain("installed on 1 running spawn");
    expect(canLogIn(k.privateKeyPath)).toBe(true);
  });

  it("removes a removed key, so it can no longer log in", async () => {
    const k = sshd.clientKey("alice-late");
    const fp = (await bot.store.listUserKeys({ platform: "test", userId: "U1" }))[0]!.fingerprint;
    const c = await say(`keys remove ${fp}`);
    expect(lastText(c)).toContain("removed from 1 running spawn");
    expect(canLogIn(k.privateKeyPath)).toBe(false);
  });
});

describe("sharing a spawn", () => {
  const bobKey = () => sshd.clientKey("bob");

  it("lets only the owner or an admin share", async () => {
    await say(`keys add ${bobKey().publicKey}`, bob);
    const c = await say("share kdemo @U3", bob);
    expect(lastText(c)).toContain("only alice or an admin can share kdemo");
    expect(await bot.store.listShares((await bot.store.findSpawn("kdemo", { platform: "test" }))!.id)).toEqual([]);
  });

  it("installs the shared user's keys and shows them the connect details", async () => {
    expect(canLogIn(bobKey().privateKeyPath)).toBe(false);
    const c = await say("share kdemo @U2");
    expect(lastText(c)).toContain("kdemo is shared with U2: their SSH key is installed");
    expect(canLogIn(bobKey().privateKeyPath)).toBe(true);
    const seen = await say("connect kdemo", bob);
    expect(seen.private.at(-1)).toMatchObject({ kind: "connect", attachCommand: expect.stringContaining("tmux attach -t 'kdemo'") });
  });

  it("installs a key the shared user adds later", async () => {
    const later = sshd.clientKey("bob-later");
    const c = await say(`keys add ${later.publicKey}`, bob);
    expect(lastText(c)).toContain("installed on 1 running spawn");
    expect(canLogIn(later.privateKeyPath)).toBe(true);
  });

  it("takes it all back on unshare, and records both in the audit log", async () => {
    const c = await say("unshare kdemo <@U2|bob>");
    expect(lastText(c)).toContain("no longer shared with U2; 2 keys removed");
    expect(canLogIn(bobKey().privateKeyPath)).toBe(false);
    expect(canLogIn(sshd.clientKey("bob-later").privateKeyPath)).toBe(false);
    const seen = await say("connect kdemo", bob);
    expect(seen.private.at(-1)).toMatchObject({ kind: "error" });
    expect((await bot.store.listAudit()).map((a) => a.action)).toEqual(expect.arrayContaining(["share", "unshare"]));
  });
});
