// The agents this build offers, as key/name pairs, for adapters that declare their commands ahead
// of time (Discord's registered choices): they get the catalog through the core, not the orchestrator.
import { AGENTS } from "../../orchestrator/index.js";

export interface AgentChoice {
  key: string;
  name: string;
}

export const AGENT_CHOICES: readonly AgentChoice[] = AGENTS.map((a) => ({ key: a.key, name: a.name }));
