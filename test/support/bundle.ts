// Builds one TypeScript entry of this repository into a single ESM file that plain `node` runs,
// for tests and benchmarks that need the bot as a separate process. Bare imports (better-sqlite3,
// ssh2, @slack/bolt…) stay imports: the file lives under node_modules/.cache so they resolve.
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Bundle `entry` (relative to the repository root); returns the path of the .mjs to run. */
export async function bundleEntry(entry: string, name: string): Promise<string> {
  const { build } = await import("rolldown");
  const dir = path.join(ROOT, "node_modules", ".cache", `spawnbot-${name}`);
  await build({
    input: path.join(ROOT, entry), platform: "node", logLevel: "silent",
    external: (id) => !id.startsWith(".") && !path.isAbsolute(id),
    output: { dir, format: "esm", entryFileNames: `${name}.mjs` },
  });
  return path.join(dir, `${name}.mjs`);
}
