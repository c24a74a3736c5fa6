// One real catalog agent, Codex CLI, installed over SSH from the npm registry as a non-root
// user (npm's global prefix moves under ~/.npm-global) and started in its tmux session.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBot, RecordingConversation, request, type TestBot, authorizeUsers } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";

const USER = "sbt-codex";
let sshd: TestSshd;
let bot: TestBot;
const conv = new RecordingConversation();

const asUser = (cmd: string) => spawnSync("su", ["-", USER, "-c", cmd], { encoding: "utf8" });

/**
 * The host reaches the npm registry the way this machine does: same registry and CA file
 * (a sandbox may sit behind a TLS-inspecting proxy whose CA only the machine's config names).
 */
function shareNpmRegistrySettings(home: string): void {
  const get = (key: string) => execFileSync("npm", ["config", "get", key], { encoding: "utf8" }).trim();
  const lines = [`registry=${get("registry")}`];
  const cafile = get("cafile");
  if (cafile && cafile !== "null" && cafile !== "undefined") lines.push(`cafile=${cafile}`);
  writeFileSync(path.join(home, ".npmrc"), `${lines.join("\n")}\n`);
  execFileSync("chown", [`${USER}:`, path.join(home, ".npmrc")]);
}

beforeAll(async () => {
  sshd = await startSshd(USER);
  shareNpmRegistrySettings(sshd.home);
  bot = makeBot();
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  await bot.core.handle(request(`spawn codex ssh --host ${USER}@127.0.0.1:${sshd.port} --name cdx -m anthropic/claude-sonnet-4.5`), conv);
  await bot.core.idle();
}, 600_000);
afterAll(async () => {
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("Codex CLI from the npm registry on a real SSH host", () => {
  it("is installed under the user's home and runs", () => {
    const final = conv.statuses.at(-1)!;
    expect(final, JSON.stringify(conv.private)).toBeDefined();
    expect(final.result, JSON.stringify(final.steps)).toMatchObject({ outcome: "ready" });
    expect(final.steps.find((s) => s.name === "install")?.detail).toBe("codex installed");
    const v = asUser("source ~/.spawnrc; command -v codex && codex --version");
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(path.join(sshd.home, ".npm-global/bin/codex"));
    expect(v.stdout).toMatch(/codex-cli \d+\.\d+/);
  });

  it("has the model wired into its config.toml with OpenRouter as the provider", () => {
    const toml = readFileSync(path.join(sshd.home, ".codex/config.toml"), "utf8");
    expect(toml).toContain('model = "anthropic/claude-sonnet-4.5"');
    expect(toml).toContain('env_key = "OPENROUTER_API_KEY"');
  });

  it("runs codex in the detached tmux session named after the spawn", async () => {
    expect(asUser("tmux has-session -t =cdx").status).toBe(0);
    let running = "";
    for (let i = 0; i < 20 && !running; i++) {
      running = asUser("pgrep -a -u $(id -u) -f '[n]pm-global/bin/codex|[c]odex/codex'").stdout.trim();
      if (!running) await new Promise((r) => setTimeout(r, 250));
    }
    expect(running).not.toBe("");
  });
});
