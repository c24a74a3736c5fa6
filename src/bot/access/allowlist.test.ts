// The allowlist syntax of SPAWNBOT_ALLOW_CLOUDS / SPAWNBOT_ALLOW_AGENTS, and how config reports it.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config.js";
import { allowedAt, isAllowedAt, parseAllowRules, type AllowRules } from "./allowlist.js";

const rules = (text: string): AllowRules => {
  const r = parseAllowRules(text);
  if (!r.ok) throw new Error(r.error);
  return r.rules;
};
const C1 = { workspace: "T1", channel: "C1" };
const C2 = { workspace: "T1", channel: "C2" };
const T2 = { workspace: "T2", channel: "C1" };

describe("allowlist rules", () => {
  it("allows everything when empty or *", () => {
    for (const text of ["", "*", "*:*", " ; "]) expect(allowedAt(rules(text), C1)).toBe("*");
  });

  it("lets the channel rule beat the workspace rule, and that beat the default", () => {
    const r = rules("*:ssh; T1:aws,ssh; T1/C2:hetzner");
    expect([allowedAt(r, C1), allowedAt(r, C2), allowedAt(r, T2)]).toEqual([["aws", "ssh"], ["hetzner"], ["ssh"]]);
    expect([isAllowedAt(r, C1, "aws"), isAllowedAt(r, C2, "aws"), isAllowedAt(r, T2, "aws")]).toEqual([true, false, false]);
  });

  it("reads a bare list as the rule for everywhere, and none as nothing", () => {
    expect(allowedAt(rules("aws, SSH"), T2)).toEqual(["aws", "ssh"]);
    expect(allowedAt(rules("*:*;T2:none"), T2)).toEqual([]);
    expect(isAllowedAt(rules("T2:none"), C1, "aws")).toBe(true); // no rule for T1: all allowed
  });

  it("refuses bad rules with the entry and what to write instead", () => {
    expect(parseAllowRules("T1:aws;T1:ssh")).toEqual({ ok: false, error: '"T1:ssh": T1 has two rules; merge them into one' });
    expect(parseAllowRules("T1:aws ssh")).toMatchObject({ ok: false, error: expect.stringContaining('"aws ssh" is not a name') });
    expect(parseAllowRules("T 1:aws")).toMatchObject({ ok: false, error: expect.stringContaining("the scope must be") });
    expect(parseAllowRules("T1/C1/x:aws")).toMatchObject({ ok: false });
    expect(parseAllowRules("T1:")).toMatchObject({ ok: false });
  });
});

describe("policy configuration", () => {
  it("defaults to every cloud and agent everywhere, limits of 5/50 live and 10/100 an hour, and no monthly budgets", () => {
    const c = loadConfig({});
    expect(c.policy).toEqual({
      allowClouds: { "*": "*" }, allowAgents: { "*": "*" },
      limits: { livePerUser: 5, livePerWorkspace: 50, hourlyPerUser: 10, hourlyPerWorkspace: 100, monthlyBudgetPerUserUsd: 0, monthlyBudgetPerChannelUsd: 0 },
    });
    expect(c.enableLocal).toBe(true); // console; off by default for chat platforms
  });

  it("reads rules and limits, 0 meaning no limit", () => {
    const c = loadConfig({ SPAWNBOT_ALLOW_CLOUDS: "*:ssh;T1:aws", SPAWNBOT_MAX_LIVE_PER_USER: "0", SPAWNBOT_MAX_HOURLY_PER_WORKSPACE: "7" });
    expect(c.policy.allowClouds).toEqual({ "*": ["ssh"], T1: ["aws"] });
    expect(c.policy.limits).toMatchObject({ livePerUser: 0, hourlyPerWorkspace: 7 });
  });

  it("names the variable and the bad entry in one line per problem", () => {
    let err: unknown;
    try {
      loadConfig({ SPAWNBOT_ALLOW_AGENTS: "T1:codex;T1:claude", SPAWNBOT_MAX_LIVE_PER_USER: "-1" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'SPAWNBOT_ALLOW_AGENTS: "T1:claude": T1 has two rules; merge them into one (syntax: SCOPE:LIST;… e.g. *:ssh;T123:aws,ssh;T123/C456:*)',
      "SPAWNBOT_MAX_LIVE_PER_USER: must be a whole number (0 means no limit)",
    ]);
  });
});
