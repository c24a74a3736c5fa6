// What every command handler of the bot core shares.
import type { Logger } from "../log.js";
import type { Orchestrator } from "../orchestrator/index.js";
import type { GrammarCatalog } from "./grammar/grammar.js";
import type { ChatOutlet } from "./outlet.js";
import type { PolicySettings } from "./access/policy.js";
import type { SecretBox } from "./access/secret-box.js";
import type { ChatRequest, Conversation } from "./request.js";
import type { Store, UserRef } from "./store/index.js";
import type { OpenRouterModels } from "./spawns/openrouter-models.js";

export interface CoreSettings {
  /** User ids (on any platform) allowed to act on everyone's spawns. */
  admins: readonly string[];
  defaultTtlMs: number;
  /** The workspace's OpenRouter key (console mode reads it from OPENROUTER_API_KEY). */
  openrouterApiKey: string | undefined;
  /**
   * OPENROUTER_MANAGEMENT_KEY: with it, a spawn whose owner has no key of their own gets a key of
   * its own (capped, expiring with it, deleted with it); the workspace key never reaches a host.
   */
  openrouterManagementKey?: string;
  /**
   * SPAWNBOT_SHARE_WORKSPACE_KEY: without a management key, hand the workspace key itself to the
   * spawns of members without their own (readable by whoever controls the host). Off unless set.
   */
  shareWorkspaceKey?: boolean;
  /** A per-spawn key's spend limit without --budget, and the most --budget may ask, in USD. */
  spawnBudget?: { defaultUsd: number; maxUsd: number };
  /** The bot's public URL, when it serves the tunnel gateway. */
  publicUrl?: string;
  /** `tunnels.example.com`: dashboard links are `<token>.<domain>` (scheme and port of publicUrl); else `<publicUrl>/t/<token>/`. */
  tunnelDomain?: string;
  /** Allowlists, the local cloud and spawn limits; without it everything is allowed (OPEN_POLICY). */
  policy?: PolicySettings;
  /** Where Connect OpenRouter signs in and trades its code (OpenRouter's own unless overridden, for tests). */
  openrouter?: { api?: string; auth?: string };
  /** Where `--repo owner/name` is cloned from (SPAWNBOT_GIT_BASE_URL); https://github.com unless set. */
  gitBaseUrl?: string;
  /** The clock budgets and costs read (tests move it across a month boundary); Date.now unless set. */
  clock?: () => number;
  /** SPAWNBOT_USD_PER_EUR: how budget sums count a Hetzner bill (EUR); DEFAULT_USD_PER_EUR unless set. */
  usdPerEur?: number;
  /** How long a Connect OpenRouter link stays valid (10 minutes unless set). */
  oauthStateTtlMs?: number;
}

export interface CoreContext {
  store: Store;
  orchestrator: Orchestrator;
  settings: CoreSettings;
  /** Seals users' secrets before they reach the store. */
  secretBox: SecretBox;
  log: Logger;
  catalog: GrammarCatalog;
  /** OpenRouter's model list, when the bot knows where OpenRouter is (settings.openrouter.api). */
  models?: OpenRouterModels;
  /** What turns each known cloud on, for messages about clouds that are not set up. */
  cloudSetup: Record<string, string>;
  /** The tunnel gateway, when one runs: its SSH connections to a spawn close when the spawn goes. */
  gateway?: GatewayControl;
  /** The adapters' ways to reach people outside a request, by platform (see attachOutlet). */
  outlets: Map<string, ChatOutlet>;
  /** Track a background promise (a run being followed) so shutdown and tests can wait for it. */
  track(work: Promise<unknown>): void;
  /**
   * Replicas on PostgreSQL: runs go through the shared job queue and any replica takes them; without
   * it (one bot on SQLite) a run starts in the process that was asked.
   */
  runQueue?: RunQueue;
}

/** The replicas' queue of runs, as the core uses it (src/jobs/job-queue.ts). */
export interface RunQueue {
  /** Hand a recorded spawn's run to the next free replica; nothing happens if it is queued or running already. */
  enqueueRun(spawnId: string): Promise<void>;
  /** Take a running run's claim away, so the replica holding it reads the cancel mark; says where the run was: "running", "queued" or "none". */
  cancelRun(spawnId: string): Promise<"running" | "queued" | "none">;
}

/** What the core may ask of the tunnel gateway when it takes links back. */
export interface GatewayControl {
  /** Close the gateway's connection to a spawn (delete, expiry). */
  closeSpawn(spawnId: string): Promise<void>;
  /** Cut the requests and WebSockets open now through these (revoked) links. */
  closeTokens(tokenHashes: readonly string[]): Promise<void>;
}

export interface Invocation {
  req: ChatRequest;
  conv: Conversation;
  user: UserRef;
  isAdmin: boolean;
}
