// The bot core: turns a platform-neutral request into a command, applies who-may-do-what, and
// answers through the adapter's conversation. Every outgoing view passes the secret redactor.
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.js";
import type { Orchestrator, TunnelTarget } from "../orchestrator/index.js";
import { secrets } from "../secrets.js";
import { handleAgents, handleClouds, handleHelp } from "./commands/catalog-commands.js";
import type { Command } from "./grammar/commands.js";
import type { CoreContext, CoreSettings, GatewayControl, Invocation, RunQueue } from "./context.js";
import { parseCommand, type GrammarCatalog } from "./grammar/grammar.js";
import { handleConnect, handleDelete, handleExtend, handleList, handleStatus } from "./commands/manage-commands.js";
import { completeConnectOpenRouter, confirmConnect, connectPage, handleConnectOpenRouter, newLinkHint, type CallbackAnswer, type ConfirmAnswer } from "./commands/openrouter-connect.js";
import type { ChatOutlet } from "./outlet.js";
import { Announcer, finishAbandonedDeletes, recoverSpawns, takeQueuedRun, type QueuedRunOptions, type RecoveryReport } from "./upkeep/recovery.js";
import type { SecretBox } from "./access/secret-box.js";
import type { ChatRequest, Conversation } from "./request.js";
import { handleKeysAdd, handleKeysList, handleKeysRemove, handlePrefsClear, handlePrefsSet, handlePrefsShow } from "./commands/settings-commands.js";
import { handleShare } from "./commands/share-commands.js";
import { handleHostsAdd, handleHostsList, handleHostsRemove, handleHostsTrust } from "./commands/host-commands.js";
import { retryKeyRevocations } from "./spawns/spawn-api-keys.js";
import { handleSpawn } from "./commands/spawn-command.js";
import { handleRestart } from "./commands/restart-command.js";
import { handleBudget, handleCosts, homeCosts } from "./commands/cost-commands.js";
import { refreshSpend } from "./spawns/spawn-spend.js";
import { sweepIdle, type IdleReport, type IdleSettings } from "./upkeep/idle.js";
import { sweepExpiry, type ExpirySettings, type SweepReport } from "./upkeep/expiry.js";
import { reconcile, type CloudPass, type ReconcileSettings } from "./upkeep/reconciler.js";
import { startUpkeep, type Upkeep, type UpkeepSchedule, type UpkeepSettings } from "./upkeep/upkeep.js";
import { resolveTunnel } from "./spawns/tunnel-links.js";
import { sweepQueuedRun } from "./spawns/spawn-removal.js";
import { OpenRouterModels } from "./spawns/openrouter-models.js";
import type { Store, UserRef } from "./store/index.js";
import { userHostKey } from "./access/host-access.js";
import { handleSettings, homeView, saveSettings, validateSettings, type SettingsErrors, type SettingsInput } from "./commands/user-settings.js";
import { error, removalKindOf, type HomeView, type RemovalKind, type View } from "./views/views.js";

/** Platforms retry for minutes (Slack for about 5); a handled delivery is remembered this long. */
const DELIVERY_MEMORY_MS = 15 * 60_000;

/** Every cloud name the grammar knows (the spawn CLI's), and what turns each one on. */
export const CLOUD_SETUP: Record<string, string> = {
  local: "an admin sets SPAWNBOT_ENABLE_LOCAL=true",
  ssh: "always available",
  aws: "set AWS_REGION and AWS credentials (the SDK's standard chain)",
  gcp: "set SPAWNBOT_GCP_PROJECT and Google credentials (GOOGLE_APPLICATION_CREDENTIALS)",
  hetzner: "set HCLOUD_TOKEN",
  digitalocean: "set DIGITALOCEAN_ACCESS_TOKEN",
};

export interface BotCoreDeps {
  store: Store;
  orchestrator: Orchestrator;
  settings: CoreSettings;
  logger: Logger;
  /** The bot's SSH public key, shown by `keys`. */
  botPublicKey: string;
  secretBox: SecretBox;
  /** Replicas on PostgreSQL: the shared queue runs go through (see CoreContext.runQueue). */
  runQueue?: RunQueue;
}

export class BotCore {
  private readonly ctx: CoreContext;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly outcomes: unknown[] = [];
  private readonly announcer: Announcer;

  constructor(private readonly deps: BotCoreDeps) {
    const catalog: GrammarCatalog = {
      agents: deps.orchestrator.agents.map((a) => a.key),
      clouds: Object.keys(CLOUD_SETUP),
    };
    this.ctx = {
      store: deps.store, orchestrator: deps.orchestrator, settings: deps.settings, secretBox: deps.secretBox, log: deps.logger, catalog, cloudSetup: CLOUD_SETUP, outlets: new Map(),
      runQueue: deps.runQueue,
      models: deps.settings.openrouter?.api ? new OpenRouterModels(deps.settings.openrouter.api, deps.logger) : undefined,
      track: (work) => {
        // Only a run's work resolves with a value (its outcome); other background work adds none.
        const p = work.then((r) => void (r !== undefined && this.outcomes.push(r)), (err) => deps.logger.error({ err }, "background work failed"));
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      },
    };
    this.announcer = new Announcer(this.ctx);
  }

  /**
   * End the runs a killed or stopped bot left in flight and finish its deletes (startUp: true, before
   * the adapter takes commands); later passes retry only the leftovers owed (cleanups_owed).
   */
  recover(opts: { startUp: boolean }): Promise<RecoveryReport> {
    return recoverSpawns(this.ctx, this.announcer, opts);
  }

  /** Answer one request. Resolves once it is answered; spawns go on in the background. */
  async handle(req: ChatRequest, conversation: Conversation): Promise<void> {
    const inv = this.invocation(req, conversation);
    const { conv } = inv;
    const parsed = parseCommand(req.text, this.ctx.catalog);
    if (!parsed.ok) return conv.whisper(error(parsed.error, parsed.usage));
    try {
      await this.dispatch(inv, parsed.command);
    } catch (err) {
      const id = randomBytes(4).toString("hex");
      this.deps.logger.error({ err, errorId: id, command: parsed.command.kind }, "command failed");
      await conv.whisper(error(`internal error (id ${id}); the bot log has the details`));
    }
  }

  /** A user's submitted settings form: field errors (nothing changed), or {} once saved and answered. */
  async saveSettings(req: ChatRequest, conversation: Conversation, input: SettingsInput): Promise<SettingsErrors> {
    const inv = this.invocation(req, conversation);
    try {
      return await saveSettings(this.ctx, inv, input);
    } catch (err) {
      this.deps.logger.error({ err }, "saving settings failed");
      return { form: "the settings could not be saved (internal error); try again" };
    }
  }

  /** Check a settings form without saving it (a form must be answered within seconds). */
  checkSettings(input: SettingsInput): SettingsErrors {
    return validateSettings(this.ctx, input);
  }

  /** What a user's home shows: their spawns and settings. */
  async homeView(req: Pick<ChatRequest, "platform" | "user">): Promise<HomeView> {
    return secrets.redactDeep(await homeView(this.ctx, { platform: req.platform, userId: req.user.id }));
  }

  /** This month's spend of a user's spawns, for their Home tab. */
  async homeCosts(req: Pick<ChatRequest, "platform" | "user">): Promise<{ title: string; lines: string[] }> {
    return secrets.redactDeep(await homeCosts(this.ctx, { platform: req.platform, userId: req.user.id }));
  }

  /** One read of every live spawn's own OpenRouter key (the upkeep runs the same): spend kept, notices sent. */
  refreshSpend(): Promise<{ read: number; failed: number }> {
    return refreshSpend(this.ctx);
  }

  /** One idle check now (the upkeep runs it after each spend refresh when SPAWNBOT_IDLE_AFTER is set). */
  sweepIdle(settings: IdleSettings, now?: number): Promise<IdleReport> {
    return sweepIdle(this.ctx, settings, now);
  }

  /** True the first time a platform delivery id is seen; a retry or redelivery gets false. */
  claimDelivery(platform: string, deliveryId: string): Promise<boolean> {
    return this.deps.store.chat.claimDelivery(`${platform}:${deliveryId}`, DELIVERY_MEMORY_MS);
  }

  /** Where each spawn's status message lives on a platform, kept across restarts. */
  messageRefs(platform: string) {
    const chat = this.deps.store.chat;
    return {
      get: (spawnId: string) => chat.getMessageRef(spawnId, platform),
      save: (spawnId: string, ref: Record<string, string>) => chat.saveMessageRef(spawnId, platform, ref),
    };
  }

  /** The public line of a user's own spawnbot key for hosts they adopt (made on first need). */
  async userHostKeyLine(user: UserRef): Promise<string> {
    return (await userHostKey(this.ctx, user)).publicKey;
  }

  isAdmin(userId: string): boolean {
    return this.deps.settings.admins.includes(userId);
  }

  private invocation(req: ChatRequest, conversation: Conversation): Invocation {
    return { req, conv: redacting(conversation), user: { platform: req.platform, userId: req.user.id }, isAdmin: this.isAdmin(req.user.id) };
  }

  /** What deleting this spawn does (for a Delete confirmation built at click time); undefined for an unknown id. */
  async removalKind(spawnId: string): Promise<RemovalKind | undefined> {
    const rec = await this.ctx.store.getSpawn(spawnId);
    return rec ? removalKindOf(this.ctx.orchestrator.cloud(rec.cloud)) : undefined;
  }

  /** The tunnel gateway's lookup: a token hash to a live spawn's dashboard, or undefined. */
  resolveTunnel(tokenHash: string): Promise<TunnelTarget | undefined> {
    return resolveTunnel(this.ctx, tokenHash);
  }

  /** The Connect OpenRouter link was opened (see openrouter-connect.ts): whose account it is for. Changes nothing. */
  async connectOpenRouterPage(state: string): Promise<CallbackAnswer> {
    return this.connectPageAnswer("page", () => connectPage(this.ctx, state));
  }

  /** "Continue to OpenRouter" was clicked on that page: where the browser goes next. */
  async confirmConnectOpenRouter(state: string): Promise<ConfirmAnswer> {
    return this.connectPageAnswer("confirmation", () => confirmConnect(this.ctx, state));
  }

  /** The browser is back from OpenRouter's sign-in: what its page says. */
  async connectOpenRouterCallback(state: string, code: string | undefined): Promise<CallbackAnswer> {
    return this.connectPageAnswer("callback", () => completeConnectOpenRouter(this.ctx, state, code));
  }

  private async connectPageAnswer<T>(what: string, answer: () => Promise<T>): Promise<T | CallbackAnswer> {
    try {
      return await answer();
    } catch (err) {
      const id = randomBytes(4).toString("hex");
      this.deps.logger.error({ err, errorId: id }, `Connect OpenRouter ${what} failed`);
      return { status: 500, title: "Connect OpenRouter failed", message: `internal error (id ${id})`, hint: newLinkHint() };
    }
  }

  /** Let the core close the gateway's connections to a spawn when it is deleted. */
  attachGateway(gateway: GatewayControl): void {
    this.ctx.gateway = gateway;
  }

  /** Let the core reach this platform's users and status messages outside a request. */
  attachOutlet(outlet: ChatOutlet): void {
    this.ctx.outlets.set(outlet.platform, redactingOutlet(outlet));
    this.ctx.track(this.announcer.flush(outlet.platform)); // what recovery said before this platform attached
  }

  /**
   * Start the expiry sweep and the reconciler (on start, then on their intervals); stop() ends them.
   * With replicas, the job queue's schedule runs each pass once per period across all of them, and
   * a runs sweep makes sure every live run has its job (and finishes deletes a dead replica left).
   */
  startUpkeep(settings: UpkeepSettings, schedule?: UpkeepSchedule): Upkeep {
    // The clean-up job also deletes spawns' OpenRouter keys whose delete failed or never ran.
    const retryCleanups = async () => ({ recovery: await this.recover({ startUp: false }), keys: await this.retryKeyRevocations() });
    const queue = this.ctx.runQueue;
    const sweepMs = settings.runsSweepMs;
    const runsSweep = queue && sweepMs
      ? { intervalMs: sweepMs, pass: async () => ({ queued: await this.queueLiveRuns(queue, sweepMs), deletes: await finishAbandonedDeletes(this.ctx, this.announcer) }) }
      : undefined;
    return startUpkeep(this.ctx, settings, retryCleanups, schedule, runsSweep);
  }

  /** The job queue's handler for a spawn's run (replicas): see takeQueuedRun. */
  takeRun(spawnId: string, opts: QueuedRunOptions): Promise<string> {
    return takeQueuedRun(this.ctx, this.announcer, spawnId, opts);
  }

  /** Send a job for every live run that has none (see sweepQueuedRun): a run whose job was never sent is not lost. */
  private async queueLiveRuns(queue: RunQueue, settledMs: number): Promise<number> {
    const runs = (await this.ctx.store.listLive()).filter((r) => r.status === "pending" || r.status === "provisioning");
    for (const r of runs) await sweepQueuedRun(this.ctx, queue, r, settledMs);
    return runs.length;
  }

  /** One pass over spawns' OpenRouter keys still to delete (the clean-up job runs the same). */
  retryKeyRevocations(now?: number): Promise<{ deleted: number; failed: number }> {
    return retryKeyRevocations(this.ctx, now);
  }

  /** One expiry sweep now (the schedule runs the same; tests pass their own clock). */
  sweepExpiry(settings: ExpirySettings, now?: number): Promise<SweepReport> {
    return sweepExpiry(this.ctx, settings, now);
  }

  /** One reconcile pass now over every VM cloud. */
  reconcile(settings: ReconcileSettings, now?: number): Promise<CloudPass[]> {
    return reconcile(this.ctx, settings, now);
  }

  /** Wait for every run in flight to end; resolves with their results in the order they ended. */
  async idle(): Promise<unknown[]> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    return this.outcomes;
  }

  private dispatch(inv: Invocation, cmd: Command): Promise<void> {
    const { ctx } = this;
    switch (cmd.kind) {
      case "spawn": return handleSpawn(ctx, inv, cmd);
      case "list": return handleList(ctx, inv, cmd.scope, cmd.filter, cmd.page);
      case "status": return handleStatus(ctx, inv, cmd.target);
      case "connect": return handleConnect(ctx, inv, cmd.target);
      case "restart": return handleRestart(ctx, inv, cmd.target);
      case "extend": return handleExtend(ctx, inv, cmd.target, cmd.byMs);
      case "budget": return handleBudget(ctx, inv, cmd.target, cmd.usd);
      case "costs": return handleCosts(ctx, inv, cmd.scope, cmd.month);
      case "settings": return handleSettings(ctx, inv);
      case "settings-openrouter": return handleConnectOpenRouter(ctx, inv);
      case "delete": return handleDelete(ctx, inv, cmd.target);
      case "share": return handleShare(ctx, inv, cmd.target, cmd.user, true);
      case "unshare": return handleShare(ctx, inv, cmd.target, cmd.user, false);
      case "prefs-show": return handlePrefsShow(ctx, inv);
      case "prefs-model-set": return handlePrefsSet(ctx, inv, cmd.agent, cmd.model);
      case "prefs-model-clear": return handlePrefsClear(ctx, inv, cmd.agent);
      case "keys-list": return handleKeysList(ctx, inv, this.deps.botPublicKey);
      case "keys-add": return handleKeysAdd(ctx, inv, cmd.publicKey);
      case "keys-remove": return handleKeysRemove(ctx, inv, cmd.fingerprint);
      case "hosts-list": return handleHostsList(ctx, inv);
      case "hosts-add": return handleHostsAdd(ctx, inv, cmd.host, cmd.channels, this.deps.botPublicKey);
      case "hosts-remove": return handleHostsRemove(ctx, inv, cmd.host);
      case "hosts-trust": return handleHostsTrust(ctx, inv, cmd.host);
      case "agents": return handleAgents(ctx, inv);
      case "clouds": return handleClouds(ctx, inv);
      case "help": return handleHelp(ctx, inv, cmd.topic);
    }
  }
}

/** Wrap an outlet so no view leaves the core holding a registered secret. */
function redactingOutlet(outlet: ChatOutlet): ChatOutlet {
  return {
    platform: outlet.platform,
    notify: (userId, v, place) => outlet.notify(userId, secrets.redactDeep(v), place),
    status: (place, v) => outlet.status(place, secrets.redactDeep(v)),
  };
}

/** Wrap a conversation so no view leaves the core holding a registered secret. */
function redacting(conv: Conversation): Conversation {
  const clean = <T extends View>(v: T) => secrets.redactDeep(v);
  return {
    say: (v) => conv.say(clean(v)),
    whisper: (v) => conv.whisper(clean(v)),
    status: (v) => conv.status(clean(v)),
  };
}
