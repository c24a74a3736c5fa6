// Builds a whole bot the way main.ts does (real SQLite file, real bot key), with the test
// agent added to the catalog, and a conversation that records what a person would see.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CoreSettings } from "../../src/bot/context.js";
import { BotCore } from "../../src/bot/core.js";
import { loadSecretBox } from "../../src/bot/access/secret-box.js";
import type { PolicySettings } from "../../src/bot/access/policy.js";
import type { ChatRequest, Conversation } from "../../src/bot/request.js";
import { openStore, type Store } from "../../src/bot/store/index.js";
import type { StatusView, View } from "../../src/bot/views/views.js";
import type { Logger } from "../../src/log.js";
import {
  AGENTS, HostPolicy, LocalCloud, Orchestrator, SshCloud, loadOrCreateBotKey, parseNetworks, type AgentSpec, type BotKey, type Cloud, type RunDeps, type SshCloudSettings,
} from "../../src/orchestrator/index.js";
import { secrets } from "../../src/secrets.js";
import { captureLogger, captureMessage, captureStore } from "./capture.js";
import { FAKE_KEY, TEST_AGENT } from "./test-agent.js";

/**
 * The test sshd listens on 127.0.0.1, which the bot refuses by default: test bots allow loopback
 * the way an admin would, with SPAWNBOT_SSH_ALLOW_NETWORKS=127.0.0.0/8,::1.
 */
export const LOOPBACK_ALLOWED = (): SshCloudSettings => ({ policy: new HostPolicy({ allow: parseNetworks("127.0.0.0/8,::1").networks }) });

export interface TestBot {
  core: BotCore;
  store: Store;
  orchestrator: Orchestrator;
  botKey: BotKey;
  dataDir: string;
}

export function makeBot(opts: {
  apiKey?: string; admins?: string[]; localHome?: string; clouds?: (botKey: BotKey) => Cloud[]; agents?: AgentSpec[]; publicUrl?: string;
  policy?: PolicySettings;
  /** Reopen an earlier bot's store and key, as a restarted process would. */
  dataDir?: string;
  /** More core settings (e.g. Connect OpenRouter's URLs); a logger to read what the bot logged. */
  settings?: Partial<CoreSettings>; logger?: Logger;
  /** The ssh cloud's network policy and resolver; loopback allowed (LOOPBACK_ALLOWED) unless a test says otherwise. */
  sshCloud?: SshCloudSettings;
  /** Run settings a test shortens (the install stall watchdog, how often progress is reported). */
  runDeps?: Pick<RunDeps, "installStallMs" | "installProgressEveryMs" | "stepTimeoutsMs">;
} = {}): TestBot {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "spawnbot-data-"));
  const apiKey = opts.apiKey ?? FAKE_KEY;
  secrets.add(apiKey);
  // Every line at trace level, kept for the suite's secret scan (test/secret-scan.check.ts),
  // unless the test reads the log itself.
  const logger = opts.logger ?? captureLogger();
  const storeFile = path.join(dataDir, "spawnbot.db");
  captureStore(storeFile);
  const store = openStore(storeFile);
  const botKey = loadOrCreateBotKey(dataDir);
  const secretBox = loadSecretBox(dataDir);
  const orchestrator = new Orchestrator({
    journal: store, botKey, logger, sealer: secretBox, ...opts.runDeps,
    // A test's agent replaces the catalog's entry of the same key (say, Claude with its installer on 127.0.0.1).
    agents: [...AGENTS.filter((a) => !opts.agents?.some((o) => o.key === a.key)), TEST_AGENT, ...(opts.agents ?? [])],
    clouds: [new LocalCloud({ enabled: true, home: opts.localHome }), new SshCloud(opts.sshCloud ?? LOOPBACK_ALLOWED()), ...(opts.clouds?.(botKey) ?? [])],
  });
  const core = new BotCore({
    store, orchestrator, logger, botPublicKey: botKey.publicKey, secretBox,
    // Tests of other features spawn on the workspace key as before issue 15; the key tests set
    // shareWorkspaceKey: false or a management key through opts.settings.
    settings: {
      admins: opts.admins ?? [], defaultTtlMs: 86_400_000, openrouterApiKey: apiKey, shareWorkspaceKey: true, publicUrl: opts.publicUrl, policy: opts.policy,
      ...opts.settings,
    },
  });
  return { core, store, orchestrator, botKey, dataDir };
}

/** Authorize users' own spawnbot keys on a test host, as each of them would on their machine. */
export async function authorizeUsers(host: { authorize(publicKey: string): void }, core: BotCore, platform: string, userIds: readonly string[]): Promise<void> {
  for (const userId of userIds) host.authorize(await core.userHostKeyLine({ platform, userId }));
}

/** Everything a chat would show, split by who could see it. */
export class RecordingConversation implements Conversation {
  readonly public: View[] = [];
  readonly private: View[] = [];
  readonly statuses: StatusView[] = [];
  async say(v: View) { this.public.push(v); captureMessage("conversation.say", v); }
  async whisper(v: View) { this.private.push(v); captureMessage("conversation.whisper", v); }
  async status(v: StatusView) { this.statuses.push(v); captureMessage("conversation.status", v); }
  lastPrivate(): View | undefined { return this.private.at(-1); }
}

export function request(text: string, user = { id: "U1", name: "alice" }, channel = "C1"): ChatRequest {
  return { platform: "test", workspace: "W1", channel, user, text };
}
