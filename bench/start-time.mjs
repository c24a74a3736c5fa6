#!/usr/bin/env node
// How long `npm start` takes on an unchanged tree, from the command to the bot's exit after
// answering `help` on stdin (the console adapter exits at end of input). Prints, never asserts.
// `node bench/start-time.mjs [runs] [--before]`: --before times what `npm start` ran until
// issue 20 (tsc on every start, then the bot), for the before/after in bench/RESULTS.md.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const before = process.argv.includes("--before");
const command = before ? "npx tsc -p tsconfig.build.json && node dist/main.js" : "npm start --silent";

// One start first so the measured ones find a current build (the "unchanged tree").
spawnSync("npm", ["start", "--silent"], { cwd: ROOT, input: "", stdio: ["pipe", "ignore", "inherit"], env: { ...process.env, SPAWNBOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "spawnbot-bench-start-")) } });

const times = [];
for (let i = 0; i < runs; i++) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-bench-start-"));
  const t0 = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", command], { cwd: ROOT, input: "help\n", encoding: "utf8", env: { ...process.env, SPAWNBOT_DATA_DIR: dataDir } });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 || !r.stdout.includes("spawn <agent> <cloud>")) throw new Error(`run ${i + 1} failed (exit ${r.status}): ${r.stderr}`);
  times.push(s);
  console.log(`run ${i + 1}: ${s.toFixed(2)} s`);
}
times.sort((a, b) => a - b);
console.log(`${before ? "before (tsc every start)" : "npm start, unchanged tree"}: median ${times[Math.floor(times.length / 2)].toFixed(2)} s, min ${times[0].toFixed(2)} s, max ${times.at(-1).toFixed(2)} s over ${runs} runs; load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
