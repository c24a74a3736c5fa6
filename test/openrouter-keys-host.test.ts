// The workspace OpenRouter key never lands on a machine: a member spawns on a host they control
// (the ssh cloud against the real sshd) on a bot with a management key, and every file in the
// host user's home is read afterwards. The spawn's own key is there (~/.spawnrc); the workspace
// key and the management key are nowhere, and the spawn's key stops working when it is deleted.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secrets } from "../src/secrets.js";
import { OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request, type TestBot, authorizeUsers } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { FAKE_KEY } from "./support/test-agent.js";

const USER = "sbt-orkeys";
const WORKSPACE_KEY = FAKE_KEY; // makeBot's OPENROUTER_API_KEY
let sshd: TestSshd;
let fake: OpenRouterFake;
let bot: TestBot;
let conv: RecordingConversation;

/** Every regular file under dir (symlinks are not followed: they point outside the home). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

const holding = (secret: string) => filesUnder(sshd.home).filter((f) => readFileSync(f).includes(secret));

beforeAll(async () => {
  fake = await OpenRouterFake.start();
  secrets.add(fake.managementKey);
  sshd = await startSshd(USER);
  bot = makeBot({ settings: { openrouterManagementKey: fake.managementKey, shareWorkspaceKey: false, openrouter: { api: fake.apiUrl } } });
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  conv = new RecordingConversation();
  // --prompt too: the test agent's prompt run echoes $OPENROUTER_API_KEY into its output on the host.
  await bot.core.handle(request(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name hostscan --prompt "say hi"`), conv);
  await bot.core.idle();
}, 60_000);

afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
  await fake?.close();
});

describe("on a host the member controls", () => {
  it("puts the spawn's own key in ~/.spawnrc and the workspace and management keys in no file of the home", () => {
    expect(conv.statuses.at(-1)?.result).toMatchObject({ outcome: "ready" });
    const [made] = fake.keys();
    const spawnKey = fake.managed.get(made!.hash)!.key;
    const files = filesUnder(sshd.home);
    expect(files.length).toBeGreaterThan(3); // .spawnrc, .bashrc, the agent, its config and log at least
    expect(readFileSync(path.join(sshd.home, ".spawnrc"), "utf8")).toContain(`export OPENROUTER_API_KEY='${spawnKey}'`);
    expect(holding(spawnKey)).toContain(path.join(sshd.home, ".spawnrc"));
    expect(holding(WORKSPACE_KEY)).toEqual([]);
    expect(holding(fake.managementKey)).toEqual([]);
  });

  it("deletes the spawn's key at OpenRouter when the spawn is deleted", async () => {
    const [made] = fake.keys();
    await bot.core.handle(request("delete hostscan"), conv);
    expect(fake.managed.has(made!.hash)).toBe(false);
    expect(holding(WORKSPACE_KEY)).toEqual([]);
  });
});
