// The agents pinned because their platform binaries are published as separate npm packages: each
// pinned name and version, and the x86-64 Linux package it names, must still be in the npm
// registry (asked with `npm view`), or every install of that agent fails on a fresh VM.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { AGENTS } from "../src/orchestrator/index.js";
import { PINNED_PACKAGES } from "../src/orchestrator/agents/catalog.js";

const run = promisify(execFile);
/** The registry answers in well under a second here; allow for a slow mirror. */
const VIEW_TIMEOUT_MS = 60_000;
/** The platform of every VM size the bot offers (x86-64 Linux, glibc). */
const VM_PLATFORM = /linux-x64$/;

/** `npm view SPEC version`: the version the registry has for a name@version, or the npm error. */
async function view(spec: string, field = "version"): Promise<string> {
  const r = await run("npm", ["view", spec, field, "--json"], { timeout: VIEW_TIMEOUT_MS, cwd: "/tmp" }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`npm view ${spec} failed: ${(err.stderr ?? String(err)).split("\n").filter((l) => /error/.test(l)).slice(0, 2).join(" / ")}`);
  });
  return r.stdout.trim() ? JSON.parse(r.stdout) : "";
}

/** "@scope/name@1.2.3" → ["@scope/name", "1.2.3"]. */
function split(spec: string): [string, string] {
  const at = spec.lastIndexOf("@");
  return [spec.slice(0, at), spec.slice(at + 1)];
}

describe("pinned agent packages", () => {
  it("are the packages the catalog installs", () => {
    for (const [key, spec] of Object.entries(PINNED_PACKAGES)) {
      const agent = AGENTS.find((a) => a.key === key)!;
      expect(agent.install).toBe(`npm install -g ${spec}`);
      expect(split(spec)[1]).toMatch(/^\d+\.\d+\.\d+$/);
    }
    // Kilo Code's newest release named a Linux package it never published: it stays pinned.
    expect(Object.keys(PINNED_PACKAGES)).toEqual(expect.arrayContaining(["kilocode", "opencode", "codex", "claude"]));
  });

  it.each(Object.entries(PINNED_PACKAGES))("%s: %s and its x86-64 Linux package are in the npm registry", async (_key, spec) => {
    const [, version] = split(spec);
    expect(await view(spec)).toBe(version);
    const optional = (await view(spec, "optionalDependencies")) as unknown as Record<string, string> | "";
    const platforms = Object.entries(optional || {}).filter(([name]) => VM_PLATFORM.test(name));
    expect(platforms.length, `${spec} names no x86-64 Linux platform package`).toBe(1);
    for (const [name, range] of platforms) {
      // Codex aliases its platform builds to versions of itself: "npm:@openai/codex@0.171.0-linux-x64".
      const target = range.startsWith("npm:") ? range.slice(4) : `${name}@${range}`;
      expect(await view(target), `${target}, named by ${spec}`).toBe(split(target)[1]);
    }
  }, 4 * VIEW_TIMEOUT_MS);
});
