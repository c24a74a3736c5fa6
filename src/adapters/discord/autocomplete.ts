// Suggestions while someone types an option of /spawn: models (their saved one, the agent's
// default, then OpenRouter's ids that match what is typed), their own spawns and their SSH keys, all from their home view in the core. Agents are
// not suggested: they are a registered choice list.
import type { HomeView } from "../../bot/index.js";
import type { OptionValue } from "./commands.js";

export interface Choice {
  name: string;
  value: string;
}

const MAX_CHOICES = 25; // Discord shows at most 25 suggestions
const MAX_CHOICE_TEXT = 100; // a suggestion's name and value hold 1-100 characters each

/** Suggestions for the focused option `option`, given what is typed and the other options' values. */
export function suggest(option: string, typed: string, values: Record<string, OptionValue>, home: HomeView): Choice[] {
  const { settings } = home;
  let choices: Choice[];
  switch (option) {
    case "model": {
      const agent = String(values.agent ?? "").toLowerCase();
      const models = settings.models.filter((m) => m.agent === agent);
      choices = (models.length ? models : settings.models).flatMap((m) => [
        ...(m.saved ? [choice(`${m.saved} (your default for ${m.agent})`, m.saved)] : []),
        choice(`${m.defaultModel} (${m.name}'s default)`, m.defaultModel),
      ]);
      // OpenRouter's list: ids holding what is typed, those starting with it first (so "anthropic/" lists Anthropic's).
      const needle = typed.trim().toLowerCase();
      const ids = (home.modelIds ?? []).filter((id) => needle !== "" && id.toLowerCase().includes(needle));
      const starting = ids.filter((id) => id.toLowerCase().startsWith(needle));
      choices.push(...[...starting, ...ids.filter((id) => !starting.includes(id))].map((id) => choice(id, id)));
      break;
    }
    case "target":
      choices = home.spawns.map((s) => choice(`${s.name} · ${s.agent} on ${s.cloud} · ${s.status}`, s.id));
      break;
    case "fingerprint":
      choices = settings.keys.map((k) => choice(`${k.fingerprint} ${k.keyType}${k.comment ? ` ${k.comment}` : ""}`, k.fingerprint));
      break;
    default:
      choices = [];
  }
  const needle = typed.trim().toLowerCase();
  const seen = new Set<string>();
  return choices
    .filter((c) => c.value.length <= MAX_CHOICE_TEXT) // a longer value cannot be offered without changing it
    .filter((c) => (needle === "" || c.name.toLowerCase().includes(needle)) && !seen.has(c.value) && seen.add(c.value))
    .slice(0, MAX_CHOICES);
}

function choice(name: string, value: string): Choice {
  return { name: name.length > MAX_CHOICE_TEXT ? `${name.slice(0, MAX_CHOICE_TEXT - 1)}…` : name, value };
}
