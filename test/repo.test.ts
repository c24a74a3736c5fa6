// --repo on a real sshd against a real git host on 127.0.0.1 (git http-backend): a public
// repository is cloned at the asked ref into the agent's working directory before launch, safely
// again on a second run; a private one fails with a clear hint without a token, and is cloned with
// the owner's token from `settings`, which reaches the host only as a 0600 git credential that
// delete removes. The token never shows in chat or logs (the suite's secret scan checks that too).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloneScript } from "../src/orchestrator/repo-clone.js";
import { repoPlanFor } from "../src/bot/spawns/repos.js";
import type { StatusView, TextView } from "../src/bot/views/views.js";
import { captureSecret } from "./support/capture.js";
import { startGitServer, type TestGitServer } from "./support/git-server.js";
import { makeBot, RecordingConversation, request, authorizeUsers, type TestBot } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import type { SpawnRecord } from "../src/bot/store/index.js";

const USER = "sbt-repo";
const TOKEN = `ghp_${"A1b2C3d4E5".repeat(3)}xyz789`;
const ALICE = { platform: "test", userId: "U1" };
let sshd: TestSshd;
let git: TestGitServer;
let bot: TestBot;
let commits: { mainCommit: string; featureCommit: string };

// Async: the git host runs in this process, and a blocking call to a git that talks to it would never end.
const asUser = async (script: string) => (await promisify(execFile)("runuser", ["-u", USER, "--", "bash", "-c", script], { encoding: "utf8" })).stdout.trim();
const find = async (name: string) => (await bot.store.findSpawn(name, { owner: ALICE, platform: "test", workspace: "W1" }))!;

async function spawnWith(name: string, repo: string): Promise<{ rec: SpawnRecord; conv: RecordingConversation }> {
  const conv = new RecordingConversation();
  await bot.core.handle(request(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name ${name} --repo ${repo}`), conv);
  await bot.core.idle();
  return { rec: await find(name), conv };
}

beforeAll(async () => {
  captureSecret(TOKEN);
  sshd = await startSshd(USER);
  git = await startGitServer(TOKEN);
  commits = git.addRepo("acme", "webapp");
  git.addRepo("acme", "secret", { private: true });
  bot = makeBot({ settings: { gitBaseUrl: git.url } });
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
}, 60_000);
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
  await git?.stop();
});

describe("--repo with a public repository", () => {
  it("clones it at the ref before launch, and the agent starts in it", async () => {
    const { rec, conv } = await spawnWith("pub", "acme/webapp@feature");
    expect(rec.status, rec.error ?? "").toBe("ready");
    const home = sshd.home;
    expect(readFileSync(path.join(home, "webapp/FEATURE.md"), "utf8")).toBe("on the feature branch\n");
    expect(await asUser("git -C ~/webapp rev-parse HEAD")).toBe(commits.featureCommit);
    expect(await asUser("git -C ~/webapp remote get-url origin")).toBe(`${git.url}/acme/webapp.git`);
    const agentPid = await asUser("pgrep -u $(id -u) -f 'testagent --model' | head -1");
    expect(await asUser(`readlink /proc/${agentPid}/cwd`)).toBe(path.join(home, "webapp"));
    // The status message and `status` show the repository and its ref.
    expect(conv.statuses.at(-1)!.title).toContain("· acme/webapp@feature");
    expect(conv.statuses.at(-1)!.steps.find((s) => s.name === "repo")).toMatchObject({ state: "succeeded", detail: "acme/webapp@feature in ~/webapp" });
    const status = new RecordingConversation();
    await bot.core.handle(request("status pub"), status);
    expect((status.lastPrivate() as StatusView).facts).toContain("repository: acme/webapp at feature, in ~/webapp (where the agent starts)");
  }, 60_000);

  it("skips a clone that is already there at that ref when the step runs again", async () => {
    const pub = await find("pub");
    const repo = pub.options!.repo!;
    expect(await asUser(cloneScript(pub.id, repo, false))).toBe("already cloned");
    expect(await asUser(cloneScript(pub.id, { ...repo, ref: "v1" }, false))).toBe("checked out v1");
    expect(await asUser("git -C ~/webapp rev-parse HEAD")).toBe(commits.mainCommit);
  });

  it("shows the repository in a dry run's plan", async () => {
    const conv = new RecordingConversation();
    await bot.core.handle(request(`spawn testagent ssh --host ${USER}@127.0.0.1:${sshd.port} --repo acme/webapp@v1 --dry-run`), conv);
    expect(conv.lastPrivate()).toMatchObject({ kind: "plan", repo: "acme/webapp@v1 into ~/webapp" });
  });
});

describe("--repo with a private repository", () => {
  it("fails with a hint to save a token when there is none, and leaves no credential", async () => {
    const { rec } = await spawnWith("priv-none", "acme/secret");
    expect(rec.status).toBe("failed");
    expect(rec.error).toContain("cloning acme/secret failed");
    expect(rec.error).toContain("for a private repository, save a git token in your `settings`");
    expect(existsSync(path.join(sshd.home, "secret"))).toBe(false);
  }, 60_000);

  it("refuses a token that is not one in settings, and saves a real one sealed", async () => {
    const conv = new RecordingConversation();
    expect(await bot.core.saveSettings(request(""), conv, { gitToken: "sk-or-v1-" + "0".repeat(64) })).toHaveProperty("gitToken");
    expect(await bot.core.saveSettings(request(""), conv, { gitToken: "short" })).toHaveProperty("gitToken");
    expect(await bot.core.saveSettings(request(""), conv, { gitToken: TOKEN })).toEqual({});
    expect((conv.lastPrivate() as TextView).lines.join("\n")).toContain(`your git token ending in ${TOKEN.slice(-4)} is saved (encrypted)`);
    expect(readFileSync(path.join(bot.dataDir, "spawnbot.db")).includes(Buffer.from(TOKEN))).toBe(false);
  });

  it("clones it with the owner's token, kept on the host only as a 0600 git credential", async () => {
    const { rec, conv } = await spawnWith("priv", "acme/secret@v1");
    expect(rec.status, rec.error ?? "").toBe("ready");
    expect(git.passwordsSeen).toContain(TOKEN);
    expect(readFileSync(path.join(sshd.home, "secret/README.md"), "utf8")).toBe("# secret\n");
    const credential = path.join(sshd.home, `.spawnbot/git-credentials-${rec.id}`);
    expect(statSync(credential).mode & 0o777).toBe(0o600);
    // git's store helper writes the line back in its own encoding ("127.0.0.1%3a<port>") once used.
    expect(readFileSync(credential, "utf8")).toMatch(new RegExp(`^http://x-access-token:${TOKEN}@127\\.0\\.0\\.1(:|%3a)${new URL(git.url).port}\n$`));
    // The agent's own pulls use it too.
    expect(await asUser("git -C ~/secret fetch -q origin && echo fetched")).toBe("fetched");
    expect(JSON.stringify([conv.public, conv.private, conv.statuses])).not.toContain(TOKEN);
    expect(await asUser("cat ~/.spawnbot/*/launch.sh ~/.spawnrc")).not.toContain(TOKEN);
  }, 60_000);

  it("removes the credential on delete and keeps the clone, the user's work", async () => {
    const rec = await find("priv");
    const conv = new RecordingConversation();
    await bot.core.handle(request("delete priv"), conv);
    await bot.core.idle();
    expect((await find("priv")).status).toBe("deleted");
    expect(existsSync(path.join(sshd.home, `.spawnbot/git-credentials-${rec.id}`))).toBe(false);
    expect(existsSync(path.join(sshd.home, "secret/README.md"))).toBe(true);
  }, 60_000);

  it("gives the token only for repositories on the bot's git host", async () => {
    const rec = await find("pub");
    const elsewhere = { ...rec, options: { repo: { url: "https://git.example.net/acme/secret.git", dir: "secret", display: "https://git.example.net/acme/secret.git" } } };
    const ctx = (bot.core as unknown as { ctx: Parameters<typeof repoPlanFor>[0] }).ctx;
    expect((await repoPlanFor(ctx, elsewhere))?.token).toBeUndefined();
    expect((await repoPlanFor(ctx, { ...rec, options: { repo: { ...rec.options!.repo!, url: `${git.url}/acme/secret.git` } } }))?.token).toBe(TOKEN);
  });
});
