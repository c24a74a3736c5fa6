// What goes into a run and what comes out of it: the plan, step events, the journal the run
// writes its state to (the store implements it), and the result.
import type { AgentSpec } from "./agents/types.js";
import type { Cloud, ServerInfo } from "./clouds/types.js";
import type { BotKey } from "./remote/bot-key.js";
import type { RemoteHost } from "./remote/types.js";
import type { SecretSealer } from "./dashboard-token.js";
import type { RepoPlan } from "./repo-clone.js";
import type { Logger } from "../log.js";

export interface RunPlan {
  spawnId: string;
  name: string;
  /** tmux session name on the host. */
  session: string;
  agent: AgentSpec;
  cloud: Cloud;
  /** The model in effect (flag > saved preference > agent default), already validated. */
  model: string;
  size?: string;
  zone?: string;
  host?: { user: string; host: string; port: number };
  /** Optional setup steps asked for with --steps. */
  steps: string[];
  prompt?: string;
  apiKey: string | undefined;
  /** The user's own key for an agent with `ownKey` (exported as its env var), if they saved one. */
  agentKey?: string;
  /** --repo: cloned into ~/<dir> before launch, where the agent then starts. */
  repo?: RepoPlan;
  /** The owner's SSH public keys, installed on the host so the connect command works. */
  ownerKeys: string[];
  tags: Record<string, string>;
  /**
   * The agents of the other live spawns on this spawn's host user, asked by a failed run's clean-up
   * on an adopted host: files they share (~/.spawnrc, their config files) stay. Without it the
   * clean-up keeps every shared file.
   */
  agentsSharingHost?: () => Promise<readonly Pick<AgentSpec, "configFiles">[]>;
  /** The key that reaches the host; the bot's own key when absent (servers the bot creates). */
  sshAuth?: BotKey;
  /** Adopted hosts: their host key is pinned per host across spawns, in the bot core's store. */
  hostPins?: HostPins;
  /** A run a restart cut short, continued from what its journal says was done. */
  resume?: ResumePoint;
}

/** Where an interrupted run stood, from its journal: every step is safe to run again. */
export interface ResumePoint {
  /** Steps that ended (succeeded, warned or skipped): not run again. */
  ended: string[];
  /** Steps that were running when the bot stopped: run again, marked as resumed. */
  interrupted: string[];
  /** The server provision had made, if it had. */
  server?: ServerInfo;
  /** The host key pinned at first contact. */
  hostKey?: string;
  /** The launch step began: a session with the spawn's name on its host is this spawn's own. */
  sessionMayExist: boolean;
  /** The dashboard token the run had made (its config file on the host holds it). */
  dashboardToken?: string;
}

/** Host keys pinned per SSH endpoint ("host:port"), kept outside the run. */
export interface HostPins {
  pinned(endpoint: string): Promise<string | undefined>;
  /** Pin a first-seen key; returns the key in force (another spawn may have pinned first). */
  pin(endpoint: string, hostKey: string): Promise<string>;
  /** The endpoint presented another key than its pin: remember it for the owner to review. */
  refused(endpoint: string, seenKey: string): Promise<void>;
}

export type StepState = "pending" | "running" | "succeeded" | "warned" | "failed" | "skipped";

export interface StepEvent {
  spawnId: string;
  seq: number;
  step: string;
  state: StepState;
  message?: string;
  at: number;
}

/** Where a run persists its progress as it happens (the store satisfies this). */
export interface RunJournal {
  markStep(spawnId: string, seq: number, name: string, state: StepState, detail?: string | null, at?: number): Promise<unknown>;
  updateSpawn(id: string, patch: {
    status?: "provisioning" | "ready" | "failed" | "cancelled" | "deleting" | "deleted";
    serverId?: string | null; address?: string | null; sshUser?: string | null; sshPort?: number | null;
    hostKey?: string | null; error?: string | null; readyAt?: number | null; deletedAt?: number | null;
    meta?: Record<string, string>;
  }): Promise<unknown>;
}

export interface ConnectInfo {
  /** The one command that puts the user in the agent's session. */
  attachCommand: string;
  session: string;
  /** A known_hosts line with the pinned key, so the first connection can be verified. */
  knownHostsLine?: string;
  hostKeyFingerprint?: string;
  dashboard?: { tunnelCommand?: string; localUrl: string };
}

export interface PromptResult {
  exitCode: number;
  /** Last lines of the agent's output. */
  tail: string;
}

export interface RunResult {
  spawnId: string;
  /** "interrupted": suspended at shutdown, its state left in the journal for recovery. */
  outcome: "ready" | "failed" | "cancelled" | "interrupted";
  error?: string;
  connect?: ConnectInfo;
  prompt?: PromptResult;
}

export interface RunDeps {
  journal: RunJournal;
  botKey: BotKey;
  logger: Logger;
  /** Seals what the journal must not hold in clear (the dashboard token). */
  sealer: SecretSealer;
  /** Shorter step timeouts by step name (tests of what a timeout stops); each step's own otherwise. */
  stepTimeoutsMs?: Readonly<Record<string, number>>;
  /** An agent install silent this long is stopped (SPAWNBOT_INSTALL_STALL); DEFAULT_INSTALL_STALL_MS otherwise. */
  installStallMs?: number;
  /** How often a running install reports its elapsed time (tests); INSTALL_ELAPSED_EVERY_MS otherwise. */
  installProgressEveryMs?: number;
  /** Where step durations go for /metrics (the Orchestrator gives one). */
  metrics?: { observeStep(step: string, ms: number): void };
}

/** What steps share while a run goes on. */
export interface RunContext {
  plan: RunPlan;
  deps: RunDeps;
  log: Logger;
  signal: AbortSignal;
  server?: ServerInfo;
  host?: RemoteHost;
  hostKey?: string;
  sessionStarted?: boolean;
  connect?: ConnectInfo;
  prompt?: PromptResult;
  /** Report progress inside a step (shown under the step in the status view). */
  progress(message: string): void;
}
