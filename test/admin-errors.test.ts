// What the admin who runs the bot sees when the setup is wrong: the bot (built entry, its own
// process) refuses to start with one line saying what and where, never a stack trace.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bundleEntry } from "./support/bundle.js";
import { prepareUser } from "./support/sshd.js";

const USER = "sbben-admin"; // a plain user: root writes anywhere, a bind-mounted dir refuses others
let main: string;

beforeAll(async () => {
  main = await bundleEntry("src/main.ts", "main-admin");
  prepareUser(USER);
}, 120_000);

function runBot(env: Record<string, string>, asUser?: string) {
  const cmd = asUser ? "runuser" : process.execPath;
  const args = asUser ? ["-u", asUser, "--", process.execPath, main] : [main];
  const r = spawnSync(cmd, args, {
    input: "help\n", cwd: os.tmpdir(), timeout: 60_000, encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A world-traversable temp dir (mkdtemp makes 0700, which would hide everything from the test user). */
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-admin-"));
  chmodSync(dir, 0o755);
  return dir;
}

const uid = () => Number(execFileSync("id", ["-u", USER], { encoding: "utf8" }).trim());

function expectOneLine(err: string) {
  expect(err.trimEnd().split("\n"), err).toHaveLength(1);
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toContain("crashed");
}

describe("a data dir the bot cannot use", () => {
  it("a bind mount it may not write (0500, owned by someone else): one line with the path and the user, exit 2", () => {
    const dir = path.join(tempDir(), "data");
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    const { code, err, out } = runBot({ SPAWNBOT_DATA_DIR: dir }, USER);
    expect(code, err).toBe(2);
    expectOneLine(err);
    expect(err).toContain(`cannot write in the data dir ${dir} as user ${USER} (uid ${uid()}`);
    expect(err).toContain(`chown -R ${uid()}:`);
    expect(out).toBe("");
  });

  it("a database file owned by root in a dir the bot may write: names the file", () => {
    const dir = path.join(tempDir(), "data");
    mkdirSync(dir);
    chownSync(dir, uid(), uid());
    writeFileSync(path.join(dir, "spawnbot.db"), "");
    chmodSync(path.join(dir, "spawnbot.db"), 0o644);
    const { code, err } = runBot({ SPAWNBOT_DATA_DIR: dir }, USER);
    expect(code, err).toBe(2);
    expectOneLine(err);
    expect(err).toContain(`cannot write the database file ${path.join(dir, "spawnbot.db")} as user ${USER}`);
  });

  it("a path under a regular file: says which file is in the way", () => {
    const file = path.join(tempDir(), "not-a-dir");
    writeFileSync(file, "x");
    const { code, err } = runBot({ SPAWNBOT_DATA_DIR: path.join(file, "data") });
    expect(code, err).toBe(2);
    expectOneLine(err);
    expect(err).toContain(`${file} is a file, not a directory`);
  });

  it("a file that is not a database: one line pointing to the backup", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "spawnbot.db"), "this is not sqlite ".repeat(300));
    const { code, err } = runBot({ SPAWNBOT_DATA_DIR: dir });
    expect(code, err).toBe(2);
    expectOneLine(err);
    expect(err).toContain("is not a usable SQLite database");
  });
});

describe("allowlists and the public URL", () => {
  it("an unknown cloud or agent in an allowlist stops start-up, listing the known names", () => {
    const { code, err } = runBot({ SPAWNBOT_DATA_DIR: tempDir(), SPAWNBOT_ALLOW_CLOUDS: "*:ssh;T1:aws,hetzner2", SPAWNBOT_ALLOW_AGENTS: "T1:codex,clade" });
    expect(code, err).toBe(2);
    expect(err).toContain('SPAWNBOT_ALLOW_CLOUDS: unknown cloud "hetzner2" (did you mean hetzner?); known clouds: local, ssh, aws, gcp, hetzner, digitalocean');
    expect(err).toMatch(/SPAWNBOT_ALLOW_AGENTS: unknown agent "clade" \(did you mean claude\?\); known agents: claude, codex, /);
    expect(err).not.toMatch(/^\s+at /m);
  });

  it("a public URL without a scheme gets one message saying to add https://", () => {
    const { code, err } = runBot({ SPAWNBOT_DATA_DIR: tempDir(), SPAWNBOT_PUBLIC_URL: "spawnbot.example.com" });
    expect(code, err).toBe(2);
    expect(err).toContain("1 configuration problem(s)");
    expect(err).toContain("SPAWNBOT_PUBLIC_URL: must start with https:// (or http://), e.g. https://spawnbot.example.com");
  });
});
