// The import boundaries of DESIGN.md, proven: the bot core and the orchestrator know no chat
// SDK; only the orchestrator touches ssh2 and cloud SDKs; only the store touches SQLite.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith(".ts") && !full.endsWith(".test.ts") ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+["']([^"']+)["']/g), ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
}

const files = sourceFiles(SRC).map((f) => ({ rel: path.relative(SRC, f), imports: importsOf(f) }));
const CHAT_SDKS = /^(@slack\/|discord\.js|@discordjs\/)/;
const HOST_AND_CLOUD_SDKS = /^(ssh2|@aws-sdk\/|@google-cloud\/)/;

describe("import boundaries", () => {
  it("finds the source files it checks", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it("keeps chat SDKs out of src/bot and src/orchestrator", () => {
    const bad = files.filter((f) => /^(bot|orchestrator)\//.test(f.rel) && f.imports.some((i) => CHAT_SDKS.test(i)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("lets only src/orchestrator import ssh2 or a cloud SDK", () => {
    const bad = files.filter((f) => !f.rel.startsWith("orchestrator/") && f.imports.some((i) => HOST_AND_CLOUD_SDKS.test(i)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("keeps SQLite inside the store", () => {
    const bad = files.filter((f) => !f.rel.startsWith("bot/store/") && f.imports.some((i) => i === "better-sqlite3"));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("lets the orchestrator import no adapter and nothing of the bot core", () => {
    const bad = files.filter((f) => f.rel.startsWith("orchestrator/") && f.imports.some((i) => /\/(adapters|bot)\//.test(i)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("lets adapters reach the orchestrator only through the bot core", () => {
    const bad = files.filter((f) => f.rel.startsWith("adapters/") && f.imports.some((i) => i.includes("/orchestrator/")));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("lets the bot core use the orchestrator only through its door", () => {
    const bad = files.filter((f) => f.rel.startsWith("bot/") && f.imports.some((i) => /\/orchestrator\/(?!index\.js$)/.test(i)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  it("lets adapters and start-up use the bot core only through its door (src/bot/index.ts)", () => {
    const bad = files.filter((f) => !f.rel.startsWith("bot/") && f.imports.some((i) => /(^|\/)bot\/(?!index\.js$)/.test(i)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });
});
