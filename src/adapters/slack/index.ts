// The Slack adapter: Bolt in Socket Mode (SLACK_APP_TOKEN) or HTTP mode with request signing
// (SLACK_SIGNING_SECRET). It acks every command, click and form first, remembers each delivery
// so a retry or redelivery acts once, and hands the work to the bot core in the background.
import { NEVER_ENDS, type ChatAdapter } from "../../bot/index.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from "@slack/bolt";
import type { BotCore } from "../../bot/index.js";
import type { ChatRequest } from "../../bot/index.js";
import type { SettingsErrors, SettingsInput } from "../../bot/index.js";
import type { Logger } from "../../log.js";
import { Intake } from "../common/intake.js";
import type { SendSlotBooking } from "../common/outbox.js";
import { SlackApi } from "./api.js";
import { ACTIONS, homeTab, message, SETTINGS_CALLBACK, SETTINGS_FIELDS, settingsModal } from "./blocks.js";
import { SlackConversations, type Origin } from "./conversation.js";

export interface SlackOptions {
  botToken: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** HTTP mode: requests are verified with it (Bolt refuses bad and older-than-5-minutes signatures). */
  signingSecret?: string;
  /** Web API base, e.g. http://127.0.0.1:PORT/api/ for a test double; Slack's own by default. */
  apiUrl?: string;
  /** HTTP mode's listening port (0: any free port). */
  port: number;
  /** Socket Mode's ping timeout; Bolt's default (5 s) unless given. */
  clientPingTimeoutMs?: number;
  /**
   * Send slots shared by replicas on one database (the store's sendSlots): every workspace's
   * outbound calls keep to Slack's limits across all of them. Without, this process paces alone.
   */
  sendSlots?: SendSlotBooking;
}

const PLATFORM = "slack";
const COMMAND = "/spawn";
const BUTTON_VERBS: Record<string, string> = { [ACTIONS.connect]: "connect", [ACTIONS.extend]: "extend", [ACTIONS.delete]: "delete" };

type Values = Record<string, Record<string, { value?: string | null; selected_options?: { value: string }[] }>>;
interface ActionBody {
  trigger_id?: string;
  team?: { id: string } | null;
  user: { id: string; username?: string; name?: string; team_id?: string };
  channel?: { id: string };
  message?: { ts: string; thread_ts?: string };
  response_url?: string;
  view?: { type: string };
}

export class SlackAdapter implements ChatAdapter {
  readonly platform = "slack";
  /** A chat adapter runs until it is stopped. */
  readonly ended = NEVER_ENDS;
  private readonly app: App;
  private readonly api: SlackApi;
  private readonly conversations: SlackConversations;
  private readonly intake = new Intake((err) => this.log.error({ err }, "Slack background work failed"));
  private server: http.Server | undefined;
  private running = false;

  constructor(private readonly core: BotCore, private readonly opts: SlackOptions, private readonly log: Logger) {
    // The Web API client retries 5xx and network errors itself; 429s come back to our outbox,
    // which waits out Retry-After per lane instead of blocking every call.
    const clientOptions = {
      slackApiUrl: opts.apiUrl, rejectRateLimitedCalls: true, timeout: 15_000,
      retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5000, randomize: true },
    };
    const logger = boltLogger(log);
    // convoStore false: Bolt's default conversation store builds an Error (with a stack) on every
    // request that has no stored conversation; nothing here reads it, and it showed in the ack profile.
    // deferInitialization: Bolt's token check (auth.test) runs in start(), where its failure is an
    // error we report, instead of an unhandled rejection from the constructor.
    this.app = opts.appToken
      ? new App({
        token: opts.botToken, appToken: opts.appToken, socketMode: true, logger, clientOptions, deferInitialization: true, convoStore: false,
        receiver: new SocketModeReceiver({ appToken: opts.appToken, logger, clientPingTimeout: opts.clientPingTimeoutMs, installerOptions: { clientOptions } }),
      })
      : new App({ token: opts.botToken, signingSecret: opts.signingSecret, logger, clientOptions, deferInitialization: true, convoStore: false });
    this.api = new SlackApi(this.app.client, log, opts.sendSlots);
    this.conversations = new SlackConversations(this.api, log, core.messageRefs(PLATFORM));
    this.routes();
  }

  get mode(): "socket" | "http" {
    return this.opts.appToken ? "socket" : "http";
  }

  /** HTTP mode: the port Bolt listens on. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Started and not stopped: Bolt verified the token and listens (HTTP) or holds its socket. */
  get connected(): boolean {
    return this.running;
  }

  /** Web API calls made and 429s met, for tests and metrics. */
  get counts() {
    return this.api.counts;
  }

  /** Requests acknowledged whose work is waiting its turn or running (metrics). */
  get requestsInProgress(): number {
    return this.intake.size;
  }

  async start(): Promise<void> {
    await this.app.init();
    const started: unknown = this.mode === "http" ? await this.app.start({ port: this.opts.port }) : await this.app.start();
    if (started instanceof http.Server) this.server = started;
    this.running = true;
    // Reminders, reports and redraws outside a request: a DM, and the spawn's status message, both
    // through the same rate-limited outbox as every other call.
    this.core.attachOutlet({
      platform: PLATFORM,
      notify: async (userId, view, place) => void (await this.api.dm(place?.workspace ?? "", userId, message(view))),
      status: (place, view) => this.conversations.threads.show(view, { team: place.workspace, channel: place.channel }),
    });
    this.log.info({ mode: this.mode, port: this.port }, "Slack adapter connected");
  }

  /** Stop taking requests, then wait for the answers in flight (bounded by timeoutMs). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    await this.app.stop();
    await Promise.race([this.intake.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.api.close();
  }

  /** Everything started by requests so far has finished (tests). */
  async idle(): Promise<void> {
    await this.intake.idle();
  }

  private routes(): void {
    const { app } = this;
    app.command(COMMAND, async ({ command, ack }) => {
      await ack();
      const origin: Origin = {
        team: command.team_id, user: command.user_id, channel: command.channel_id,
        responseUrl: command.response_url, triggerId: command.trigger_id, receivedAt: Date.now(),
      };
      const req: ChatRequest = { platform: PLATFORM, workspace: command.team_id, channel: command.channel_id, user: { id: command.user_id, name: command.user_name }, text: command.text ?? "" };
      this.later(`${command.team_id}:${command.trigger_id}`, () => this.core.handle(req, this.conversations.for(origin)));
    });

    for (const actionId of Object.keys(BUTTON_VERBS)) {
      app.action(actionId, async ({ ack, body, action }) => {
        await ack();
        const b = body as unknown as ActionBody;
        const spawnId = (action as { value?: string }).value ?? "";
        this.later(this.deliveryOf(b), () => this.onButton(b, BUTTON_VERBS[actionId]!, spawnId));
      });
    }

    app.action(ACTIONS.openSettings, async ({ ack, body }) => {
      await ack();
      const b = body as unknown as ActionBody;
      const delivery = this.deliveryOf(b);
      if (!b.trigger_id || (delivery && !(await this.core.claimDelivery(PLATFORM, delivery)))) return;
      const settings = (await this.core.homeView({ platform: PLATFORM, user: this.userOf(b) })).settings;
      // A trigger_id opens a modal only within 3 s: this one does not wait its turn.
      this.intake.startNow(() => this.api.openView(this.teamOf(b), b.trigger_id!, settingsModal(settings, JSON.stringify({ channel: "" }))));
    });

    app.action(ACTIONS.connectOpenRouter, async ({ ack, body }) => {
      await ack();
      const b = body as unknown as ActionBody;
      // The same as typing `/spawn settings openrouter`; the link comes back privately.
      this.later(this.deliveryOf(b), () => this.onButton(b, "settings", "openrouter"));
    });

    app.view(SETTINGS_CALLBACK, async ({ ack, body, view }) => {
      const input = readSettings(view.state.values);
      const errors = this.core.checkSettings(input);
      if (Object.keys(errors).length > 0) return void (await ack({ response_action: "errors", errors: blockErrors(errors) }));
      await ack();
      const b = body as unknown as ActionBody;
      const channel = parseChannel(view.private_metadata);
      const team = this.teamOf(b);
      const req: ChatRequest = { platform: PLATFORM, workspace: team, channel: channel ?? "", user: this.userOf(b), text: "settings" };
      const conv = this.conversations.for({ team, user: b.user.id, channel, receivedAt: Date.now() });
      this.later(this.deliveryOf(b), () => this.core.saveSettings(req, conv, input).then(() => this.publishHome(team, b.user.id)));
    });

    app.event("app_home_opened", async ({ event, body }) => {
      if (event.tab !== "home") return;
      this.later(`${body.team_id}:${body.event_id}`, () => this.publishHome(body.team_id, event.user));
    });

    app.error(async (err) => {
      this.log.error({ err }, "Slack request failed");
    });
  }

  private async onButton(b: ActionBody, verb: string, spawnId: string): Promise<void> {
    const team = this.teamOf(b);
    const fromHome = b.view?.type === "home";
    const origin: Origin = {
      team, user: b.user.id, channel: fromHome ? undefined : b.channel?.id, responseUrl: b.response_url,
      threadTs: b.message ? (b.message.thread_ts ?? b.message.ts) : undefined, receivedAt: Date.now(),
    };
    const req: ChatRequest = { platform: PLATFORM, workspace: team, channel: b.channel?.id ?? "", user: this.userOf(b), text: `${verb} ${spawnId}` };
    await this.core.handle(req, this.conversations.for(origin));
    if (fromHome || verb !== "connect") await this.publishHome(team, b.user.id);
  }

  private async publishHome(team: string, user: string): Promise<void> {
    const who = { platform: PLATFORM, user: { id: user, name: user } };
    return this.api.publishHome(team, user, homeTab({ ...(await this.core.homeView(who)), costs: await this.core.homeCosts(who) }));
  }

  /** Each interaction has its own trigger_id: a redelivery repeats it, a second click does not. */
  private deliveryOf(b: ActionBody): string | undefined {
    return b.trigger_id === undefined ? undefined : `${this.teamOf(b)}:${b.trigger_id}`;
  }

  /**
   * Work for after the ack, in arrival order: first claim the delivery (so a retry or redelivery
   * acts once), then do it. The claim is a store write; outside the ack handler it does not hold
   * up the acks of a burst.
   */
  private later(delivery: string | undefined, work: () => Promise<unknown>): void {
    this.intake.add(async () => {
      if (delivery === undefined || (await this.core.claimDelivery(PLATFORM, delivery))) await work();
    });
  }

  private teamOf(b: ActionBody): string {
    return b.team?.id ?? b.user.team_id ?? "";
  }

  private userOf(b: ActionBody): ChatRequest["user"] {
    return { id: b.user.id, name: b.user.username ?? b.user.name ?? b.user.id };
  }
}

/** The settings form's values as the core's input. */
export function readSettings(values: Values): SettingsInput {
  const text = (block: string) => values[block]?.value?.value ?? undefined; // Slack sends null for an empty field
  const models: Record<string, string> = {};
  for (const [block, fields] of Object.entries(values)) {
    if (block.startsWith(SETTINGS_FIELDS.modelPrefix)) models[block.slice(SETTINGS_FIELDS.modelPrefix.length)] = fields.value?.value ?? "";
  }
  return {
    apiKey: text(SETTINGS_FIELDS.apiKey),
    clearApiKey: (values[SETTINGS_FIELDS.clearApiKey]?.value?.selected_options ?? []).some((o) => o.value === "clear"),
    cursorKey: text(SETTINGS_FIELDS.cursorKey),
    clearCursorKey: (values[SETTINGS_FIELDS.clearCursorKey]?.value?.selected_options ?? []).some((o) => o.value === "clear"),
    gitToken: text(SETTINGS_FIELDS.gitToken),
    clearGitToken: (values[SETTINGS_FIELDS.clearGitToken]?.value?.selected_options ?? []).some((o) => o.value === "clear"),
    addKey: text(SETTINGS_FIELDS.addKey),
    models,
  };
}

function blockErrors(errors: SettingsErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, msg] of Object.entries(errors)) {
    const block = field === "addKey" ? SETTINGS_FIELDS.addKey
      : field === "cursorKey" ? SETTINGS_FIELDS.cursorKey
      : field === "gitToken" ? SETTINGS_FIELDS.gitToken
      : field.startsWith("model:") ? `${SETTINGS_FIELDS.modelPrefix}${field.slice("model:".length)}`
      : SETTINGS_FIELDS.apiKey;
    out[block] = msg;
  }
  return out;
}

function parseChannel(metadata: string | undefined): string | undefined {
  try {
    const channel = (JSON.parse(metadata ?? "{}") as { channel?: unknown }).channel;
    return typeof channel === "string" && /^[A-Z0-9]{1,30}$/.test(channel) ? channel : undefined;
  } catch {
    return undefined;
  }
}

/** Bolt's logger interface over ours (so its lines are redacted and JSON like the rest). */
function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ part: "bolt" });
  let level = LogLevel.WARN;
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(" ")),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(" ")),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(" ")),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(" ")),
    setLevel: (l: LogLevel) => { level = l; },
    getLevel: () => level,
    setName: () => undefined,
  };
}
