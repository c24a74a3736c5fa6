// `npm start` compiles only when a source changed: scripts/build-if-stale.mjs run against a small
// project of its own (same layout: src/, tsconfig.build.json, dist/), with this repository's TypeScript.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const SCRIPT = path.join(ROOT, "scripts", "build-if-stale.mjs");

// The smallest standard library keeps each compile near a second on a busy machine.
const COMPILER_OPTIONS = { target: "ES2022", module: "NodeNext", strict: true, types: [], lib: ["es5"], skipLibCheck: true };

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-build-"));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS }));
  writeFileSync(path.join(dir, "tsconfig.build.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { rootDir: "src", outDir: "dist" }, include: ["src"] }));
  mkdirSync(path.join(dir, "src", "lib"), { recursive: true });
  writeFileSync(path.join(dir, "src", "lib", "word.ts"), 'export const word: string = "first";\n');
  writeFileSync(path.join(dir, "src", "main.ts"), 'import { word } from "./lib/word.js";\ndeclare const console: { log(s: string): void };\nconsole.log(word);\n');
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  return dir;
}

/** What `npm start` does: build if stale, then run dist/main.js. */
function start(dir: string) {
  const build = spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, SPAWNBOT_BUILD_ROOT: dir }, encoding: "utf8", timeout: 120_000 });
  const out = build.status === 0 ? execFileSync(process.execPath, [path.join(dir, "dist", "main.js")], { encoding: "utf8" }).trim() : undefined;
  return { code: build.status, built: build.stderr.includes("compiling"), stderr: build.stderr, out };
}

const mtime = (file: string) => statSync(file).mtimeMs;

describe("npm start's build step", () => {
  it("compiles a fresh checkout, then starts an unchanged tree without compiling", () => {
    const dir = project();
    const first = start(dir);
    expect(first, first.stderr).toMatchObject({ code: 0, built: true, out: "first" });
    const builtAt = mtime(path.join(dir, "dist", "main.js"));
    const again = start(dir);
    expect(again, again.stderr).toMatchObject({ code: 0, built: false, out: "first" });
    expect(mtime(path.join(dir, "dist", "main.js"))).toBe(builtAt);
  });

  it("rebuilds when a source changes, so dist/ never runs stale code", () => {
    const dir = project();
    expect(start(dir).out).toBe("first");
    const file = path.join(dir, "src", "lib", "word.ts");
    writeFileSync(file, 'export const word: string = "second";\n');
    // Same second as the last build on a coarse clock: the size change alone must be enough.
    const changed = start(dir);
    expect(changed, changed.stderr).toMatchObject({ code: 0, built: true, out: "second" });
    // An edit that keeps the size and goes back in time (a checkout of an older file) counts too.
    writeFileSync(file, 'export const word: string = "third!";\n');
    utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect(start(dir)).toMatchObject({ built: true, out: "third!" });
    expect(start(dir)).toMatchObject({ built: false, out: "third!" });
  });

  it("rebuilds when the compiler options change or a source is deleted", () => {
    const dir = project();
    start(dir);
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, target: "ES2020" } }));
    expect(start(dir).built).toBe(true);
    writeFileSync(path.join(dir, "src", "extra.ts"), "export const extra = 1;\n");
    expect(start(dir).built).toBe(true);
    unlinkSync(path.join(dir, "src", "extra.ts"));
    expect(start(dir).built).toBe(true);
  });

  it("does not mark a failed build current: the next start tries again and says why", () => {
    const dir = project();
    start(dir);
    writeFileSync(path.join(dir, "src", "lib", "word.ts"), "export const word: number = 'not a number';\n");
    const broken = start(dir);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain("the build failed");
    const retried = start(dir);
    expect(retried.built).toBe(true);
    expect(retried.code).not.toBe(0);
  });
});
