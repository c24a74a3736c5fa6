// The adopted-host clean-up's file edits, run by bash in a throwaway home: the line that sources
// ~/.spawnrc comes out exactly, whatever the user did around it, and nothing of theirs goes.
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentSpec } from "./agents/types.js";
import { cleanUpAdoptedHost, keepOriginalsCommand } from "./host-cleanup.js";
import { LocalHost } from "./remote/local-host.js";
import { HOOK_RC_FILES_COMMAND, renderSpawnrc, SPAWNRC_PATH } from "./spawnrc.js";

const agent = { configFiles: [{ path: ".tool/config.json", mode: 0o600, content: "{}" }] } as unknown as AgentSpec;

function setUp() {
  const home = mkdtempSync(path.join(os.tmpdir(), "spawnbot-cleanup-"));
  return { home, host: new LocalHost(home), file: (rel: string) => path.join(home, rel) };
}

const cleanup = (host: LocalHost, otherAgents: AgentSpec[] = []) =>
  cleanUpAdoptedHost(host, { spawnId: randomUUID(), session: "s1", agent, killSession: true, keys: false, marked: true, otherAgents });

describe("taking back the ~/.spawnrc hook", () => {
  it("removes exactly the added line, keeping what the user wrote before and after it, with or without a final newline", async () => {
    const { host, file } = setUp();
    writeFileSync(file(".bashrc"), "alias ll='ls -l'\n");
    writeFileSync(file(".profile"), "export EDITOR=vi"); // no final newline
    expect((await host.run(HOOK_RC_FILES_COMMAND)).code).toBe(0);
    expect(readFileSync(file(".bashrc"), "utf8")).toContain("# added by spawnbot");
    appendFileSync(file(".bashrc"), "export LATER=1\n"); // the user edits after the spawn
    await cleanup(host);
    expect(readFileSync(file(".bashrc"), "utf8")).toBe("alias ll='ls -l'\nexport LATER=1\n");
    expect(readFileSync(file(".profile"), "utf8")).toBe("export EDITOR=vi");
  });

  it("removes the rc files it had to create, and only those", async () => {
    const { host, file } = setUp();
    writeFileSync(file(".bashrc"), "");
    expect((await host.run(HOOK_RC_FILES_COMMAND)).code).toBe(0);
    expect(existsSync(file(".profile"))).toBe(true);
    await cleanup(host);
    expect(existsSync(file(".profile"))).toBe(false);
    expect(readFileSync(file(".bashrc"), "utf8")).toBe(""); // the user's own empty file stays
    expect(existsSync(file(".spawnbot"))).toBe(false);
  });

  it("leaves a ~/.spawnrc the bot did not write, and everything while another spawn uses the host login", async () => {
    const { host, file } = setUp();
    writeFileSync(file(SPAWNRC_PATH), "export MINE=1\n");
    await cleanup(host);
    expect(readFileSync(file(SPAWNRC_PATH), "utf8")).toBe("export MINE=1\n");
    writeFileSync(file(SPAWNRC_PATH), renderSpawnrc({ OPENROUTER_API_KEY: "k" }));
    expect((await host.run(HOOK_RC_FILES_COMMAND)).code).toBe(0);
    await cleanup(host, [agent]);
    expect(existsSync(file(SPAWNRC_PATH))).toBe(true);
    expect(readFileSync(file(".bashrc"), "utf8")).toContain("# added by spawnbot");
    await cleanup(host);
    expect(existsSync(file(SPAWNRC_PATH))).toBe(false);
  });
});

describe("taking back config files", () => {
  it("puts back the user's own version, or removes the file when there was none", async () => {
    const { host, file } = setUp();
    expect((await host.run(keepOriginalsCommand([".tool/config.json"]))).code).toBe(0);
    await host.writeFile(".tool/config.json", "{ \"ours\": 1 }", 0o600);
    await cleanup(host);
    expect(existsSync(file(".tool/config.json"))).toBe(false);

    await host.writeFile(".tool/config.json", "{ \"theirs\": 1 }\n", 0o644);
    expect((await host.run(keepOriginalsCommand([".tool/config.json"]))).code).toBe(0);
    await host.writeFile(".tool/config.json", "{ \"ours\": 1 }", 0o600);
    expect((await host.run(keepOriginalsCommand([".tool/config.json"]))).code).toBe(0); // a second spawn keeps the first record
    await cleanup(host);
    expect(readFileSync(file(".tool/config.json"), "utf8")).toBe("{ \"theirs\": 1 }\n");
  });

  it("leaves a config file it has no record of writing (the run failed before configuring)", async () => {
    const { host, file } = setUp();
    await host.writeFile(".tool/config.json", "{ \"theirs\": 1 }\n", 0o644);
    await cleanup(host);
    expect(readFileSync(file(".tool/config.json"), "utf8")).toBe("{ \"theirs\": 1 }\n");
  });
});
