// The Discord adapter: interactions arrive over the gateway (a discord.js client with only the
// Guilds intent: no privileged intent) or, with the HTTP transport, as signed POSTs to the app's
// Interactions Endpoint URL, which any replica can serve. Every slash command, click and form is
// answered first (deferred within Discord's 3 s), claimed once by its interaction id so a
// redelivery never acts twice, and handed to the bot core in the background. With several replicas
// on the gateway only the holder of a lease connects (gateway-leader.ts); REST works on every one.
import { NEVER_ENDS, type ChatAdapter } from "../../bot/index.js";
import { once } from "node:events";
import {
  Client, DefaultRestOptions, Events, GatewayIntentBits, MessageFlags, Routes,
  type AutocompleteInteraction, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction, type ModalSubmitInteraction,
} from "discord.js";
import type { BotCore } from "../../bot/index.js";
import type { ChatRequest } from "../../bot/index.js";
import { error, text } from "../../bot/index.js";
import type { Logger } from "../../log.js";
import { Intake } from "../common/intake.js";
import type { SendSlotBooking } from "../common/outbox.js";
import { DiscordApi } from "./api.js";
import { GatewayLeadership, type GatewayLeaderOptions, type GatewayRole } from "./gateway-leader.js";
import { suggest } from "./autocomplete.js";
import { COMMAND_NAME, commandText, readOptions } from "./commands.js";
import { DiscordConversations, replyOptions, type Origin } from "./conversation.js";
import { FirstAnswers } from "./first-answers.js";
import { HttpInteractions, type Outcome } from "./http-transport.js";
import { interactionsEndpoint, type Route } from "./interactions-endpoint.js";
import { discordPublicKey } from "./signature.js";
import { BUTTONS, deleteConfirmation, message, parseButtonId } from "./render.js";
import { errorLines, readSettings, SETTINGS_MODAL_ID, settingsModal } from "./settings-form.js";

export interface DiscordOptions {
  token: string;
  /** The application the commands are registered for; checked against the token's at start. */
  appId: string;
  /** REST base, e.g. http://127.0.0.1:PORT/api for a test double; Discord's own by default. */
  apiUrl?: string;
  /** How interactions arrive: the gateway (the default), or HTTP POSTs to the Interactions Endpoint URL. */
  transport?: "gateway" | "http";
  /** The application's public key, 64 hex digits: checks every HTTP interaction's signature (http transport). */
  publicKey?: string;
  /** Send slots shared by replicas on one database (the store's sendSlots): each lane paced across all of them. */
  sendSlots?: SendSlotBooking;
  /**
   * Gateway transport with several replicas: only the holder of this lease logs in to the gateway,
   * the others stand by (serving REST) and take over when it stops. Without it the adapter logs in
   * at start, as a single process does. Ignored with the HTTP transport, which every replica serves.
   */
  leader?: GatewayLeaderOptions;
}

const PLATFORM = "discord";
/**
 * Discord has no workspace for a DM with the bot: each user's DM is its own, "dm:<user id>", so
 * `list` and name lookups in one person's DM never reach another's (store migration 11 moved the
 * spawns of the old shared "dm" workspace to their owners').
 */
const dmWorkspace = (userId: string) => `dm:${userId}`;
const OUTDATED = "this button or form is from an older version of spawnbot; use /spawn instead";

type Answerable = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export class DiscordAdapter implements ChatAdapter {
  readonly platform = "discord";
  /** A chat adapter runs until it is stopped. */
  readonly ended = NEVER_ENDS;
  private readonly client: Client;
  private readonly api: DiscordApi;
  private readonly conversations: DiscordConversations;
  // Each interaction's own first answer (defer, modal, reply) is part of its work, so nothing waits its turn.
  private readonly work = new Intake((err) => this.log.error({ err }, "Discord interaction failed"));
  /** With the HTTP transport: the interactions endpoint's requests and their first answers. */
  private readonly http?: { interactions: HttpInteractions; route: Route };
  /** Gateway with a leader lease: who connects, and the gateway client of this replica's current term. */
  private readonly leadership?: GatewayLeadership;
  private gatewayClient?: Client;
  private started = false;
  private stopping = false;

  constructor(private readonly core: BotCore, private readonly opts: DiscordOptions, private readonly log: Logger) {
    const answers = opts.transport === "http" ? new FirstAnswers() : undefined;
    this.client = this.newClient(answers);
    this.api = new DiscordApi(this.client.rest, log, { sendSlots: opts.sendSlots, appId: opts.appId });
    this.conversations = new DiscordConversations(this.api, log, core.messageRefs(PLATFORM));
    if (answers) {
      const publicKey = discordPublicKey(opts.publicKey ?? "");
      if (!publicKey) throw new Error("the Discord HTTP transport needs the application's public key (64 hex digits)");
      const interactions = new HttpInteractions(this.client, answers, { accepting: () => this.connected, serve: (i) => this.onInteraction(i) }, log);
      this.http = { interactions, route: interactionsEndpoint(publicKey, (payload) => interactions.receive(payload), log) };
    } else if (opts.leader) {
      // this.client never logs in: it carries the bot token for REST; each term as leader has its own gateway client.
      this.leadership = new GatewayLeadership(opts.leader, { connect: () => this.connectGateway(), disconnect: () => this.disconnectGateway() }, log);
    } else {
      this.client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    }
  }

  private newClient(answers?: FirstAnswers): Client {
    const client = new Client({
      intents: [GatewayIntentBits.Guilds], allowedMentions: { parse: [] },
      rest: {
        ...(this.opts.apiUrl ? { api: this.opts.apiUrl } : {}),
        ...(answers ? { makeRequest: answers.requestFunction(DefaultRestOptions.makeRequest) } : {}),
      },
    });
    client.on(Events.Error, (err) => this.log.error({ err }, "Discord client error"));
    client.on(Events.Warn, (warning) => this.log.warn({ warning }, "Discord client warning"));
    return client;
  }

  /**
   * Gateway: logged in and the session is ready. HTTP: started and not stopping. Gateway with a
   * leader lease: started and not stopping, leader or standby: a standby is ready (REST works, so
   * its runs post their status) and connects when it gets the lease.
   */
  get connected(): boolean {
    return this.http || this.leadership ? this.started && !this.stopping : this.client.isReady();
  }

  /** With a leader lease: whether this replica holds the gateway now. */
  get gatewayRole(): GatewayRole | undefined {
    return this.leadership?.role;
  }

  /** With a leader lease: terms as gateway leader, takeovers from a dead leader, terms lost to a takeover (metrics). */
  get gatewayCounts(): { terms: number; takeovers: number; lost: number } | undefined {
    return this.leadership && { ...this.leadership.counts };
  }

  /**
   * The interactions endpoint for the bot's public server (POST /discord/interactions), with the
   * HTTP transport; it answers 503 until start() has attached the adapter to the core.
   */
  get interactionsRoute(): Route | undefined {
    return this.http?.route;
  }

  /** REST calls made, 429s met and status edits coalesced, for tests and metrics. */
  get counts() {
    return this.api.counts;
  }

  /** Interactions whose work is running (metrics). */
  get requestsInProgress(): number {
    return this.work.size;
  }

  async start(): Promise<void> {
    const appId = this.http ? await this.startHttp() : this.leadership ? (await this.currentApplication()).id : await this.startGateway();
    // Reminders, reports and redraws outside a request: a DM, and the spawn's status message, both
    // with the bot token through the adapter's outbox (no interaction token lives that long).
    this.core.attachOutlet({
      platform: PLATFORM,
      notify: async (userId, view) => void (await this.api.dm(userId, message(view))),
      status: (place, view) => this.conversations.threads.show(view, { channel: place.channel }),
    });
    if (appId !== this.opts.appId) {
      this.log.warn({ appId, configured: this.opts.appId }, "DISCORD_APP_ID is not this bot's application: commands registered for it never reach this bot");
    }
    this.started = true;
    await this.leadership?.start();
    const gateway = this.gatewayClient ?? this.client;
    this.log.info({ transport: this.http ? "http" : "gateway", role: this.leadership?.role, user: gateway.user?.tag, guilds: gateway.guilds.cache.size }, "Discord adapter connected");
  }

  /** A term as gateway leader: a fresh client (discord.js cannot log a destroyed one in again). */
  private async connectGateway(): Promise<void> {
    const client = this.newClient();
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    this.gatewayClient = client;
    const ready = once(client, Events.ClientReady);
    await client.login(this.opts.token);
    await ready;
    this.log.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, "Discord gateway session ready");
  }

  private async disconnectGateway(): Promise<void> {
    const client = this.gatewayClient;
    this.gatewayClient = undefined;
    if (!client) return;
    await client.destroy();
    // destroy() also takes the token from the client's REST; interactions it already delivered still answer through it.
    client.rest.setToken(this.opts.token);
  }

  /** Log in to the gateway; the application's id. */
  private async startGateway(): Promise<string | undefined> {
    const ready = once(this.client, Events.ClientReady);
    await this.client.login(this.opts.token);
    await ready;
    return this.client.application?.id;
  }

  /** No gateway (yet): the bot token serves REST only, and GET /applications/@me checks it (a bad token fails here). */
  private async currentApplication(): Promise<{ id: string; verify_key?: string }> {
    this.client.rest.setToken(this.opts.token);
    return (await this.client.rest.get(Routes.currentApplication())) as { id: string; verify_key?: string };
  }

  private async startHttp(): Promise<string> {
    const app = await this.currentApplication();
    if (app.verify_key !== undefined && app.verify_key.toLowerCase() !== this.opts.publicKey?.toLowerCase()) {
      this.log.error({ appId: app.id }, "SPAWNBOT_DISCORD_PUBLIC_KEY is not this application's public key: every interaction will be refused (401)");
    }
    return app.id;
  }

  /** Stop taking interactions, let the answers in flight finish (bounded by timeoutMs), then disconnect. */
  async stop(timeoutMs = 10_000): Promise<void> {
    // A leader first hands the gateway over (closing its session and releasing the lease), so a
    // standby connects while this one finishes its answers over REST; what came before is served.
    await this.leadership?.stop();
    this.stopping = true;
    await Promise.race([this.work.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.api.close();
    await this.client.destroy();
  }

  /** Everything started by interactions so far has finished (tests). */
  async idle(): Promise<void> {
    await this.work.idle();
  }

  /** Serve an interaction from either transport; undefined when it is not a kind the bot takes. */
  private onInteraction(i: Interaction): Promise<Outcome> | undefined {
    if (this.stopping) return undefined;
    if (i.isAutocomplete()) return this.take(async () => (await this.autocomplete(i), "acted"));
    if (!i.isChatInputCommand() && !i.isButton() && !i.isModalSubmit()) return undefined;
    return this.take(async () => {
      // A gateway resume (or a retried POST) may deliver an interaction again: only its first delivery is acted on.
      if (!(await this.core.claimDelivery(PLATFORM, i.id))) return "duplicate";
      if (i.isChatInputCommand()) await this.onCommand(i);
      else if (i.isButton()) await this.onButton(i);
      else await this.onModal(i);
      return "acted";
    });
  }

  /** Start a job at once; resolves with how it ended (a failure is logged by the intake). */
  private take(job: () => Promise<Outcome>): Promise<Outcome> {
    return new Promise((resolve) => {
      this.work.startNow(async () => {
        let outcome: Outcome = "failed";
        try {
          outcome = await job();
        } finally {
          resolve(outcome);
        }
      });
    });
  }

  private async onCommand(i: ChatInputCommandInteraction): Promise<void> {
    const invoked = readOptions(i.options.data);
    const req = this.request(i, "");
    // A modal must be the first answer to its interaction: no defer before it.
    if (invoked.path[0] === "settings" && invoked.values.openrouter !== true) return void (await i.showModal(settingsModal((await this.core.homeView(req)).settings)));
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const conv = this.conversations.for(this.origin(i));
    const command = i.commandName === COMMAND_NAME ? commandText(invoked) : undefined;
    if (command === undefined) {
      await conv.whisper(error(`this bot does not know /${i.commandName} ${invoked.path.join(" ")}; an admin should run npm run discord:register again`));
      return;
    }
    await this.core.handle({ ...req, text: command }, conv);
    await conv.finish();
  }

  private async onButton(i: ButtonInteraction): Promise<void> {
    const button = parseButtonId(i.customId);
    if (!button) return void (await i.reply({ ...replyOptions(message(error(OUTDATED))), flags: MessageFlags.Ephemeral }));
    // Status messages and the Delete question carry the spawn's name in their embed's author line.
    const name = i.message.embeds[0]?.author?.name ?? "this spawn";
    if (button.action === BUTTONS.delete) {
      // Nothing is deleted on the first click: the clicker confirms privately; the core then decides.
      const removal = await this.core.removalKind(button.spawnId);
      await i.reply({ ...replyOptions(deleteConfirmation(button.spawnId, name, i.message.id, removal)), flags: MessageFlags.Ephemeral });
      return;
    }
    let statusMessageId: string | undefined = i.message.id;
    if (button.action === BUTTONS.confirmDelete) {
      statusMessageId = button.statusMessageId;
      await i.update({ components: [] }); // the question loses its button: it cannot be confirmed twice
    } else {
      await i.deferReply({ flags: MessageFlags.Ephemeral });
    }
    const verb = button.action === BUTTONS.confirmDelete ? "delete" : button.action;
    const statusMessage = statusMessageId ? { channel: i.channelId, message: statusMessageId, name } : undefined;
    const conv = this.conversations.for(this.origin(i, statusMessage));
    await this.core.handle(this.request(i, `${verb} ${button.spawnId}`), conv);
    await conv.finish();
  }

  private async onModal(i: ModalSubmitInteraction): Promise<void> {
    if (i.customId !== SETTINGS_MODAL_ID) return void (await i.reply({ ...replyOptions(message(error(OUTDATED))), flags: MessageFlags.Ephemeral }));
    const req = this.request(i, "settings");
    const field = (id: string) => {
      const f = i.fields.fields.get(id);
      return f && "value" in f && typeof f.value === "string" ? f.value : "";
    };
    const { input, errors } = readSettings(field, (await this.core.homeView(req)).settings.models);
    const problems = { ...errors, ...this.core.checkSettings(input) };
    if (Object.keys(problems).length > 0) {
      // A Discord modal cannot show errors beside its fields: say what to fix, privately, and save nothing.
      const lines = [...errorLines(problems), "Nothing was saved; open /spawn settings again."];
      return void (await i.reply({ ...replyOptions(message(text(lines, "Settings not saved"))), flags: MessageFlags.Ephemeral }));
    }
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const conv = this.conversations.for(this.origin(i));
    const late = await this.core.saveSettings(req, conv, input);
    if (Object.keys(late).length > 0) await conv.whisper(text(errorLines(late), "Settings not saved"));
    await conv.finish();
  }

  private async autocomplete(i: AutocompleteInteraction): Promise<void> {
    const focused = i.options.getFocused(true);
    const { values } = readOptions(i.options.data);
    const home = await this.core.homeView(this.request(i, ""));
    await i.respond(suggest(focused.name, String(focused.value), values, home));
  }

  private request(i: Interaction, command: string): ChatRequest {
    return {
      platform: PLATFORM, workspace: i.guildId ?? dmWorkspace(i.user.id), channel: i.channelId ?? "",
      user: { id: i.user.id, name: i.user.displayName }, text: command,
    };
  }

  private origin(i: Answerable, statusMessage?: Origin["statusMessage"]): Origin {
    return { interaction: i, user: i.user.id, channel: i.channelId ?? "", statusMessage };
  }
}
