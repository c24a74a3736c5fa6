// The bot core's door: adapters and start-up import from here only. The rooms behind it:
// grammar/ (parsing commands), commands/ (one handler module per command family), access/ (who may
// do what: policy, allowlists, audit, host keys, sealed secrets), spawns/ (a spawn's run, removal,
// keys and links), upkeep/ (expiry, reconcile, recovery), views/ (platform-neutral views), store/.
export { BotCore, CLOUD_SETUP } from "./core.js";
export { NEVER_ENDS, type ChatAdapter } from "./adapter.js";
export type { ChatRequest, Conversation } from "./request.js";
export type { ChatOutlet, ChatPlace } from "./outlet.js";
export * from "./views/views.js";
export { formatDuration, plural } from "./views/format.js";
export { parseCommand } from "./grammar/grammar.js";
export { COMMANDS, SPAWN_FLAGS, type CommandName, type SpawnFlagKey } from "./grammar/usage.js";
export { parseDuration } from "./grammar/duration.js";
export { nearest } from "./grammar/suggest.js";
export { AGENT_CHOICES, type AgentChoice } from "./commands/agent-choices.js";
export type { SettingsErrors, SettingsInput } from "./commands/user-settings.js";
export { newLinkHint, OPENROUTER_CALLBACK_PREFIX, OPENROUTER_CONNECT_PREFIX, type CallbackAnswer, type CommandHint, type ConfirmAnswer } from "./commands/openrouter-connect.js";
export { loadSecretBox, parseSecretKey, type SecretBox } from "./access/secret-box.js";
export { parseAllowRules, unknownNames, type AllowRules } from "./access/allowlist.js";
export { openStore, type CostTotal, type SpawnCount, type Store } from "./store/index.js";
export { BackupError, backupDatabase } from "./store/backup.js";
export { copySqliteToPostgres, openPgStore, StoreCopyError } from "./store/pg/index.js";
