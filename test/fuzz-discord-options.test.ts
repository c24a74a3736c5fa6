// Discord's /spawn options are turned back into the core's grammar text (src/adapters/discord/
// commands.ts): generated hostile option values must never become a flag or another command.
import { describe, expect, it } from "vitest";
import { commandText } from "../src/adapters/discord/commands.js";
import type { SpawnCommand } from "../src/bot/grammar/commands.js";
import { parseCommand, type GrammarCatalog } from "../src/bot/grammar/grammar.js";
import { SPAWN_FLAGS } from "../src/bot/grammar/usage.js";
import { pick, prng, valuePool } from "./support/hostile-input.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const SETS = 3_000;
const catalog: GrammarCatalog = { agents: ["codex", "claude", "testagent"], clouds: ["local", "ssh", "gcp", "hetzner"] };
/** What each subcommand path parses to, and its text options (the user option is a Discord id). */
const PATHS: [string[], string, string[]][] = [
  [["list"], "list", ["filter"]], [["status"], "status", ["target"]], [["delete"], "delete", ["target"]], [["connect"], "connect", ["target"]],
  [["extend"], "extend", ["target", "duration"]], [["share"], "share", ["target", "user"]], [["unshare"], "unshare", ["target", "user"]],
  [["prefs", "set"], "prefs-model-set", ["agent", "model"]], [["prefs", "clear"], "prefs-model-clear", ["agent"]],
  [["keys", "remove"], "keys-remove", ["fingerprint"]], [["help"], "help", ["topic"]],
];
const FIELD: Partial<Record<string, keyof SpawnCommand>> = { ttl: "ttlMs" };

describe(`${SETS} generated hostile Discord option sets`, () => {
  it("never turn an option value into a flag or another command, and keep a prompt as typed", () => {
    const random = prng(SEED);
    const pool = valuePool("/tmp/sbfuz-discord-canary");
    const value = () => (random() < 0.3 ? `${pick(random, pool)} ${pick(random, ["--dry-run", "-n", "--host root@203.0.113.9", '" -n "', "\u201D -n \u201C"])}` : pick(random, pool));
    let spawns = 0;
    for (let i = 0; i < SETS; i++) {
      const context = `seed ${SEED}, set #${i}`;
      if (i % 2 === 0) {
        const values: Record<string, string | boolean> = { agent: random() < 0.7 ? "codex" : value(), cloud: pick(random, ["ssh", "gcp", value()]) };
        // The prompt is free text (most sets parse); every other flag is checked and mostly refused.
        for (const f of SPAWN_FLAGS) if (f.value && random() < (f.key === "prompt" ? 0.8 : 0.1)) values[f.key] = value();
        const text = commandText({ path: ["spawn"], values })!;
        const r = parseCommand(text, catalog);
        if (!r.ok) continue;
        expect(r.command.kind, `${context}: ${JSON.stringify(text)}`).toBe("spawn");
        const cmd = r.command as SpawnCommand;
        spawns++;
        expect(cmd.dryRun, `${context}: ${JSON.stringify(text)}`).toBe(false);
        for (const f of SPAWN_FLAGS) {
          const given = values[f.key];
          const field = FIELD[f.key] ?? (f.key as keyof SpawnCommand);
          if (given === undefined && f.value) expect(cmd[field], `${context}: ${f.key} set from ${JSON.stringify(text)}`).toBeUndefined();
        }
        // The tokenizer reads a tab as a space and CR LF as a newline; nothing else may change.
        const plain = (s: string | undefined) => s?.replace(/\r\n?/g, "\n").replace(/\t/g, " ");
        if (typeof values.prompt === "string") expect(plain(cmd.prompt), `${context}: ${JSON.stringify(text)}`).toBe(plain(values.prompt));
      } else {
        const [path, kind, names] = pick(random, PATHS);
        const values = Object.fromEntries(names.map((n) => [n, value()]));
        const r = parseCommand(commandText({ path, values })!, catalog);
        if (r.ok) expect(r.command.kind, `${context}: ${JSON.stringify(values)}`).toBe(kind);
      }
    }
    expect(spawns).toBeGreaterThan(100);
  });
});
