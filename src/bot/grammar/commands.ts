// The typed commands of spawnbot's platform-neutral grammar; the parser (grammar.ts) makes them.

/** A host given with `--host user@host[:port]` for the `ssh` cloud. */
export interface HostSpec {
  user: string;
  host: string;
  port: number;
}

/**
 * A repository from `--repo`: `owner/name` on the bot's git host (SPAWNBOT_GIT_BASE_URL), or a full
 * https URL, with the branch, tag or commit to check out when given (`@ref`).
 */
export interface RepoSpec {
  source: string;
  ref?: string;
}

export interface SpawnCommand {
  kind: "spawn";
  agent: string;
  cloud: string;
  model?: string;
  name?: string;
  size?: string;
  zone?: string;
  /** Optional setup steps by name; [] when `--steps ""` disables all. */
  steps?: string[];
  prompt?: string;
  /** Time to live in milliseconds, from `--ttl 2h`. */
  ttlMs?: number;
  /** Spend limit in USD of the spawn's own OpenRouter key, from `--budget 5`. */
  budgetUsd?: number;
  dryRun: boolean;
  host?: HostSpec;
  repo?: RepoSpec;
}

export type ListScope = "channel" | "mine" | "all";

/** Whose spend `costs` sums: yours, this channel's, or the whole workspace's (admins). */
export type CostScopeName = "mine" | "channel" | "all";

export type Command =
  | SpawnCommand
  | { kind: "list"; scope: ListScope; filter?: string; page?: number }
  | { kind: "status"; target: string }
  | { kind: "delete"; target: string }
  | { kind: "connect"; target: string }
  /** Bring back the agent's session and dashboard where they are gone. */
  | { kind: "restart"; target: string }
  /** Push the expiry back by byMs (the default time to live when absent). */
  | { kind: "extend"; target: string; byMs?: number }
  /** `user` is a platform user id (from @name, or Slack's <@U123|name>). */
  | { kind: "share"; target: string; user: string }
  | { kind: "unshare"; target: string; user: string }
  /** Set the spend limit (USD) of the spawn's own OpenRouter key. */
  | { kind: "budget"; target: string; usd: number }
  /** Month totals; month is "YYYY-MM" (the current month when absent). */
  | { kind: "costs"; scope: CostScopeName; month?: string }
  | { kind: "prefs-show" }
  | { kind: "prefs-model-set"; agent: string; model: string }
  | { kind: "prefs-model-clear"; agent: string }
  | { kind: "keys-list" }
  | { kind: "keys-add"; publicKey: string }
  | { kind: "keys-remove"; fingerprint: string }
  /** Hosts an admin shares with channels; channels absent means the channel the command came from. */
  | { kind: "hosts-list" }
  | { kind: "hosts-add"; host: HostSpec; channels?: string[] }
  | { kind: "hosts-remove"; host: HostSpec }
  /** Accept the new host key an adopted host presented (its pin's owner or an admin). */
  | { kind: "hosts-trust"; host: HostSpec }
  | { kind: "settings" }
  /** Connect OpenRouter: a one-time link that gets the user a key through OpenRouter's OAuth PKCE flow. */
  | { kind: "settings-openrouter" }
  | { kind: "agents" }
  | { kind: "clouds" }
  | { kind: "help"; topic?: string };

export type CommandKind = Command["kind"];

/** What the parser answers: a command, or a one-line error with the usage line to show under it. */
export type ParseResult =
  | { ok: true; command: Command }
  | { ok: false; error: string; usage: string };
