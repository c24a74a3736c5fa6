// The store's door: open a SQLite-backed Store (asynchronous, like any store) and the record types it speaks in.
// Callers use named functions (recordIntent, markStep, listForChannel); no SQL leaves this folder.

import { openSqliteStore } from "./sqlite-store.js";
import { promised } from "./promised.js";
import type { Store } from "./types.js";

export * from "./types.js";
export type { ChatState, SealedSecret } from "./chat-tables.js";
export type { CleanupKind, CleanupOwed, OrphanServer, UpkeepState } from "./upkeep-tables.js";
export type { NewOAuthState, OAuthState, OAuthStateRecord } from "./oauth-tables.js";
export type { HostPin, HostState, SharedHost } from "./host-tables.js";
export type { Lease, LeaseState } from "./lease-tables.js";
export type { SpawnKeyRecord, SpawnKeyState } from "./spawn-key-tables.js";
export type { IdentityState } from "./identity-tables.js";
export type { SendSlotState } from "./send-slot-tables.js";
export type { CostGroup, CostNotice, CostScope, CostState, CostTotal, PriceKind, SpawnCostRecord } from "./cost-tables.js";

/**
 * Open (creating the file and its parent directory if missing) and migrate the store at path.
 * Several processes may open the same file: writers wait for each other up to 5 s.
 */
export function openStore(path: string): Store {
  return promised(openSqliteStore(path));
}
