import { describe, expect, it } from "vitest";
import { COMMANDS, GENERAL_USAGE, SPAWN_FLAGS, USAGE, commandNamed, helpText } from "./usage.js";

const TOP_LEVEL = ["spawn", "list", "status", "delete", "connect", "restart", "extend", "budget", "costs", "share", "unshare", "prefs", "keys", "hosts", "settings", "agents", "clouds", "help"];

describe("USAGE", () => {
  it("has one usage line for every top-level command", () => {
    expect(Object.keys(USAGE).sort()).toEqual([...TOP_LEVEL].sort());
    for (const line of Object.values(USAGE)) expect(line).not.toContain("\n");
  });

  it("shows every spawn flag in the spawn usage line", () => {
    expect(USAGE.spawn).toBe(
      "spawn <agent> <cloud> [--model|-m ID] [--name NAME] [--size S] [--zone Z] [--steps a,b] [--prompt|-p TEXT] [--ttl DURATION] [--budget USD] [--dry-run|-n] [--host user@host[:port]] [--repo owner/name[@ref]]",
    );
  });

  it("has a general one-line usage naming every command", () => {
    for (const name of TOP_LEVEL) expect(GENERAL_USAGE).toContain(name);
  });
});

describe("commandNamed", () => {
  it("knows the verbs and their aliases", () => {
    expect(["run", "launch", "start", "deploy"].map(commandNamed)).toEqual(["spawn", "spawn", "spawn", "spawn"]);
    expect(["ls", "history", "ps", "rm", "destroy", "kill"].map(commandNamed)).toEqual(["list", "list", "status", "delete", "delete", "delete"]);
  });

  it("does not treat ssh as connect: ssh is a cloud", () => {
    expect(commandNamed("ssh")).toBeUndefined();
  });
});

describe("helpText", () => {
  it("lists every command with a one-line description", () => {
    const text = helpText();
    for (const doc of COMMANDS) {
      const line = text.split("\n").find((l) => l.startsWith(`  ${doc.name}`));
      expect(line, doc.name).toContain(doc.about);
    }
  });

  it("explains each spawn flag with an example under help spawn", () => {
    const text = helpText("spawn");
    expect(text.split("\n")[0]).toBe(USAGE.spawn);
    for (const flag of SPAWN_FLAGS) {
      const line = text.split("\n").find((l) => l.trimStart().startsWith(flag.long));
      expect(line, flag.long).toContain(flag.about);
      expect(line, flag.long).toContain(`e.g. ${flag.example}`);
    }
  });

  it("gives a command's usage, aliases and example for help <command>, aliases included", () => {
    const text = helpText("rm");
    expect(text.split("\n")[0]).toBe(USAGE.delete);
    expect(text).toContain("rm, destroy, kill");
    expect(text).toContain("delete fix-login-bug");
  });

  it("falls back to the general help for an unknown topic", () => {
    expect(helpText("nonsense")).toBe(helpText());
  });
});
