// The agent catalog's door.
export { AGENTS } from "./catalog.js";
export type { AgentSpec, AgentTier, AgentConfigFile } from "./types.js";
