// Which clouds (or agents) may be used where: SPAWNBOT_ALLOW_CLOUDS / SPAWNBOT_ALLOW_AGENTS.
// Syntax: rules separated by ";", each "SCOPE:LIST". SCOPE is "*" (everywhere), a workspace id
// ("T123") or a workspace and channel ("T123/C456"); LIST is "*" (all), "none", or names "aws,ssh".
// A rule without "SCOPE:" applies everywhere. The most specific rule for a place wins (channel,
// then workspace, then "*"); with no matching rule everything is allowed, so "" and "*" mean the same.

/** Scope ("*", "T123" or "T123/C456") → the names allowed there, or "*" for all. */
export type AllowRules = Readonly<Record<string, readonly string[] | "*">>;

export const ALLOW_ALL: AllowRules = {};

const SCOPE_RE = /^(\*|[A-Za-z0-9_.-]{1,64}(\/[A-Za-z0-9_.-]{1,64})?)$/;
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

export type AllowParse = { ok: true; rules: AllowRules } | { ok: false; error: string };

/** Read a rule text; the error names the bad entry and what is expected instead. */
export function parseAllowRules(text: string): AllowParse {
  const rules: Record<string, readonly string[] | "*"> = {};
  for (const raw of text.split(";")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const colon = entry.indexOf(":");
    const scope = colon < 0 ? "*" : entry.slice(0, colon).trim();
    const list = (colon < 0 ? entry : entry.slice(colon + 1)).trim();
    if (!SCOPE_RE.test(scope)) return { ok: false, error: `"${entry}": the scope must be *, a workspace id (T123) or workspace/channel (T123/C456)` };
    if (scope in rules) return { ok: false, error: `"${entry}": ${scope} has two rules; merge them into one` };
    if (list === "*" || list === "none") {
      rules[scope] = list === "*" ? "*" : [];
      continue;
    }
    const names = list.split(",").map((n) => n.trim().toLowerCase());
    const bad = names.find((n) => !NAME_RE.test(n));
    if (bad !== undefined) return { ok: false, error: `"${entry}": "${bad}" is not a name; list names as aws,ssh, or use * or none` };
    rules[scope] = names;
  }
  return { ok: true, rules };
}

/** What the most specific rule for a place allows: "*" or a list of names. */
export function allowedAt(rules: AllowRules, place: { workspace: string; channel: string }): readonly string[] | "*" {
  return rules[`${place.workspace}/${place.channel}`] ?? rules[place.workspace] ?? rules["*"] ?? "*";
}

export function isAllowedAt(rules: AllowRules, place: { workspace: string; channel: string }, name: string): boolean {
  const allowed = allowedAt(rules, place);
  return allowed === "*" || allowed.includes(name);
}

/** The names in the rules that are not among `known`, each once, in the order written. */
export function unknownNames(rules: AllowRules, known: readonly string[]): string[] {
  const unknown = new Set<string>();
  for (const list of Object.values(rules)) if (list !== "*") for (const name of list) if (!known.includes(name)) unknown.add(name);
  return [...unknown];
}
