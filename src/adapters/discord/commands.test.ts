import { describe, expect, it } from "vitest";
import { parseCommand } from "../../bot/grammar/grammar.js";
import { AGENT_CHOICES } from "../../bot/commands/agent-choices.js";
import { COMMANDS } from "../../bot/grammar/usage.js";
import { commandText, readOptions, SPAWN_COMMAND, type OptionValue } from "./commands.js";

const catalog = { agents: ["codex", "testagent"], clouds: ["local", "ssh", "hetzner"] };
const spawn = (values: Record<string, OptionValue>) => parseCommand(commandText({ path: ["spawn"], values })!, catalog);

describe("the /spawn command definition", () => {
  it("keeps within Discord's limits for names, descriptions, options and choices", () => {
    const problems: string[] = [];
    let chars = 0;
    const walk = (o: { name: string; description: string; options?: unknown[]; choices?: { name: string; value: unknown }[]; required?: boolean }, at: string) => {
      if (!/^[-_\p{Ll}\p{N}]{1,32}$/u.test(o.name)) problems.push(`${at}: name '${o.name}'`);
      if (o.description.length < 1 || o.description.length > 100) problems.push(`${at}: description of ${o.description.length} characters`);
      chars += o.name.length + o.description.length;
      for (const c of o.choices ?? []) chars += c.name.length + String(c.value).length;
      if ((o.choices ?? []).length > 25) problems.push(`${at}: more than 25 choices`);
      const options = (o.options ?? []) as (typeof o)[];
      if (options.length > 25) problems.push(`${at}: more than 25 options`);
      const firstOptional = options.findIndex((x) => !x.required);
      if (firstOptional >= 0 && options.slice(firstOptional).some((x) => x.required)) problems.push(`${at}: a required option after an optional one`);
      options.forEach((x) => walk(x, `${at} ${x.name}`));
    };
    walk(SPAWN_COMMAND, "/spawn");
    expect(problems).toEqual([]);
    expect(chars).toBeLessThanOrEqual(8000); // Discord's limit for one command's names, descriptions and choices
  });

  it("offers every agent of the catalog as a choice wherever an agent is asked for", () => {
    const agentOptions = JSON.stringify(SPAWN_COMMAND).match(/"name":"agent"[^\]]*\]/g) ?? [];
    expect(agentOptions).toHaveLength(3); // spawn, prefs set, prefs clear
    for (const option of agentOptions) {
      for (const a of AGENT_CHOICES) expect(option).toContain(`{"name":"${a.key} — ${a.name}","value":"${a.key}"}`);
      expect(option).not.toContain("autocomplete");
    }
    expect(AGENT_CHOICES.map((a) => a.key)).toEqual(expect.arrayContaining(["claude", "codex", "openclaw"]));
  });

  it("has a subcommand (or group) for every command of the grammar", () => {
    const names = (SPAWN_COMMAND.options ?? []).map((o) => o.name);
    expect(names.sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });
});

describe("options as command text", () => {
  it("reads the subcommand path and its values from discord.js's option data", () => {
    const data = [{ name: "prefs", type: 2, options: [{ name: "set", type: 1, options: [{ name: "agent", type: 3, value: "codex" }, { name: "model", type: 3, value: "openai/gpt-5" }] }] }];
    const invoked = readOptions(data);
    expect(invoked).toEqual({ path: ["prefs", "set"], values: { agent: "codex", model: "openai/gpt-5" } });
    expect(parseCommand(commandText(invoked)!, catalog)).toEqual({ ok: true, command: { kind: "prefs-model-set", agent: "codex", model: "openai/gpt-5" } });
  });

  it("turns every subcommand into the command the grammar reads", () => {
    const parsed = (path: string[], values: Record<string, OptionValue> = {}) => parseCommand(commandText({ path, values })!, catalog);
    expect(spawn({ agent: "codex", cloud: "hetzner", model: "openai/gpt-5", ttl: "2h", dry_run: true })).toMatchObject({
      ok: true, command: { kind: "spawn", agent: "codex", cloud: "hetzner", model: "openai/gpt-5", ttlMs: 7_200_000, dryRun: true },
    });
    expect(parsed(["list"], { scope: "mine", filter: "codex" })).toMatchObject({ ok: true, command: { kind: "list", scope: "mine", filter: "codex" } });
    expect(parsed(["list"], { scope: "all", page: 3, filter: "codex" })).toEqual({ ok: true, command: { kind: "list", scope: "all", filter: "codex", page: 3 } });
    expect(parsed(["extend"], { target: "fix-bug", duration: "4h" })).toMatchObject({ ok: true, command: { kind: "extend", target: "fix-bug", byMs: 14_400_000 } });
    expect(parsed(["share"], { target: "fix-bug", user: "400000000000000002" })).toMatchObject({ ok: true, command: { kind: "share", user: "400000000000000002" } });
    expect(parsed(["prefs", "clear"], { agent: "codex" })).toMatchObject({ ok: true, command: { kind: "prefs-model-clear", agent: "codex" } });
    expect(parsed(["keys", "remove"], { fingerprint: `SHA256:${"a".repeat(43)}` })).toMatchObject({ ok: true, command: { kind: "keys-remove" } });
    expect(parsed(["help"], { topic: "spawn" })).toEqual({ ok: true, command: { kind: "help", topic: "spawn" } });
    expect(commandText({ path: ["nonsense"], values: {} })).toBeUndefined();
  });

  it("never lets an option value become a flag, whatever quotes, backslashes or newlines it holds", () => {
    const hostile = [
      'x" --dry-run "y', "x\\\" --host evil@203.0.113.9 \\\"", "--host evil@203.0.113.9", "x\n--dry-run", "“ --dry-run ”", "\\", 'a\\"b', "-n",
    ];
    const flags = (r: ReturnType<typeof spawn>) => (r.ok && r.command.kind === "spawn" ? { dryRun: r.command.dryRun, host: r.command.host } : "refused");
    for (const value of hostile) {
      // As a name it is refused or kebab-cased, never read as --dry-run or --host.
      expect([{ dryRun: false, host: undefined }, "refused"]).toContainEqual(flags(spawn({ agent: "codex", cloud: "hetzner", name: value })));
      // A prompt is free text: it arrives exactly as typed, and still sets no flag.
      const prompt = spawn({ agent: "codex", cloud: "hetzner", prompt: value });
      expect(prompt).toMatchObject({ ok: true, command: { prompt: value } });
      expect(flags(prompt)).toEqual({ dryRun: false, host: undefined });
    }
  });

  it("keeps a list scope to the three it knows", () => {
    expect(commandText({ path: ["list"], values: { scope: "constructor" } })).toBe("list");
    expect(commandText({ path: ["list"], values: { scope: "all" } })).toBe("list --all");
  });
});
