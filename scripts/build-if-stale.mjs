#!/usr/bin/env node
// Compile src/ into dist/ only when the sources changed since the last good build, so `npm start`
// on an unchanged tree starts the built bot at once instead of running tsc (14-35 s) every time.
// "Changed" is a fingerprint of every input's path, size and mtime (directories too, so a deleted
// file counts), kept in dist/.build-stamp after tsc succeeds. Runs from `npm start`, from `prepare`
// (after `npm ci`) and from tests; SPAWNBOT_BUILD_ROOT points it at another project (tests).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = process.env.SPAWNBOT_BUILD_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".build-stamp");
const LOCK = path.join(DIST, ".build-lock");
const ENTRY = path.join(DIST, "main.js");
/** What a build reads besides src/: the compiler options and the installed dependencies' types. */
const INPUT_FILES = ["tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"];
const LOCK_WAIT_MS = 10 * 60_000; // a build on a busy 2-core machine took up to 35 s; a lock older than this is a dead build's
const LOCK_POLL_MS = 200;
const FORCE = process.argv.includes("--force"); // `npm run build`: compile whatever the stamp says

/** Every input's path, size and mtime, hashed: equal fingerprints mean dist/ is current. */
function fingerprint() {
  const lines = [];
  const walk = (dir) => {
    const st = statSync(dir);
    lines.push(`${path.relative(ROOT, dir)}/\t${st.mtimeMs}`);
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const f = statSync(full);
        lines.push(`${path.relative(ROOT, full)}\t${f.size}\t${f.mtimeMs}`);
      }
    }
  };
  walk(path.join(ROOT, "src"));
  for (const name of INPUT_FILES) {
    const file = path.join(ROOT, name);
    if (existsSync(file)) {
      const f = statSync(file);
      lines.push(`${name}\t${f.size}\t${f.mtimeMs}`);
    }
  }
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

function isCurrent(print) {
  if (!existsSync(ENTRY) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, "utf8").trim() === print;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One build at a time: two `npm start`s (or two test files) must not write dist/ together. */
function withLock(work) {
  mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      const age = Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
      if (age > LOCK_WAIT_MS || Date.now() > deadline) rmSync(LOCK, { recursive: true, force: true });
      else sleep(LOCK_POLL_MS);
    }
  }
  try {
    return work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function build() {
  if (!existsSync(path.join(ROOT, "src"))) return 0; // `npm ci` in the Docker build stage runs before src/ is copied
  if (!FORCE && isCurrent(fingerprint())) return 0;
  return withLock(() => {
    const before = fingerprint(); // taken before tsc: an edit during the build makes the next start build again
    if (!FORCE && isCurrent(before)) return 0; // another process built it while we waited
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    if (!existsSync(tsc)) {
      if (existsSync(ENTRY)) {
        process.stderr.write("spawnbot: sources changed but TypeScript is not installed (npm ci --omit=dev?); starting the existing build\n");
        return 0;
      }
      process.stderr.write("spawnbot: dist/ is missing and TypeScript is not installed: run npm ci (with dev dependencies)\n");
      // As `prepare` (npm ci --omit=dev) this must not fail the install; `npm start` still refuses.
      return process.env.npm_lifecycle_event === "prepare" ? 0 : 1;
    }
    const started = Date.now();
    if (!FORCE) process.stderr.write("spawnbot: sources changed since the last build; compiling (tsc)…\n");
    rmSync(STAMP, { force: true });
    const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0) {
      process.stderr.write("spawnbot: the build failed (see above); dist/ was not marked current\n");
      return r.status ?? 1;
    }
    writeFileSync(STAMP, `${before}\n`);
    if (!FORCE) process.stderr.write(`spawnbot: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  });
}

process.exitCode = build();
