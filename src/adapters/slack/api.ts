// Every outbound Slack Web API call of the adapter, through one Outbox per workspace that keeps
// to Slack's published limits (docs.slack.dev/apis/web-api/rate-limits): about one message per
// second per channel for chat.postMessage, Tier 3 (50+/min) for chat.update, Tier 4 (100+/min)
// for ephemeral messages, views and DMs. A 429 pauses the lane for its Retry-After. With send slots
// (replicas on one database) the lanes of a workspace are paced across every replica.
import type { webApi } from "@slack/bolt";
import type { Logger } from "../../log.js";
import { Outbox, type LaneLimit, type SendSlotBooking } from "../common/outbox.js";
import type { SlackMessage } from "./blocks.js";

const LIMITS: Record<string, LaneLimit> = {
  post: { perSecond: 1, burst: 1 }, // per channel
  "chat.update": { perSecond: 50 / 60, burst: 3 },
  tier4: { perSecond: 100 / 60, burst: 5 },
};

/** Errors that mean "this channel cannot be written to by the bot": the message goes to a DM instead. */
export const CHANNEL_UNAVAILABLE = new Set(["channel_not_found", "not_in_channel", "is_archived", "user_not_in_channel", "restricted_action", "ekm_access_denied", "team_access_not_granted"]);

export function slackErrorCode(err: unknown): string | undefined {
  const data = (err as { data?: { error?: string } })?.data;
  return data?.error;
}

/** Refusals of what the bot rendered: blocks (chat.*) or a view (views.*) over Block Kit's limits. */
const REFUSED_RENDERING = new Set(["invalid_blocks", "invalid_arguments"]);

/** The lines Slack explains a refusal with (response_metadata.messages: "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"). */
export function slackErrorMessages(err: unknown): string[] {
  const messages = (err as { data?: { response_metadata?: { messages?: unknown } } })?.data?.response_metadata?.messages;
  return Array.isArray(messages) ? messages.filter((m): m is string => typeof m === "string") : [];
}

export class SlackApi {
  private readonly outboxes = new Map<string, Outbox>();
  /** Rendered text of the last edit sent per message, so an unchanged view costs no call. */
  private readonly lastSent = new Map<string, string>();
  readonly counts = { calls: 0, rateLimited: 0 };

  /** sendSlots: the store's booking shared by replicas; without it each process paces alone. */
  constructor(private readonly client: webApi.WebClient, private readonly log: Logger, private readonly sendSlots?: SendSlotBooking) {}

  /** msg may be a function, read when the post is actually sent (after waiting in the lane). */
  postMessage(team: string, channel: string, msg: SlackMessage | (() => SlackMessage), threadTs?: string, urgent?: () => boolean): Promise<{ channel: string; ts: string }> {
    return this.call(team, `post:${channel}`, undefined, async () => {
      const m = typeof msg === "function" ? msg() : msg;
      const r = await this.client.chat.postMessage({ channel, text: m.text, blocks: m.blocks as never, thread_ts: threadTs, unfurl_links: false, unfurl_media: false });
      return { channel: r.channel ?? channel, ts: r.ts! };
    }, urgent);
  }

  /** Edit a message with the newest content; waiting edits of the same message are replaced, not queued. */
  async update(team: string, channel: string, ts: string, latest: () => SlackMessage, urgent?: () => boolean): Promise<void> {
    const key = `${channel}/${ts}`;
    if (this.lastSent.get(key) === JSON.stringify(latest())) return;
    await this.call(team, "chat.update", `update:${key}`, async () => {
      const msg = latest();
      const body = JSON.stringify(msg);
      if (this.lastSent.get(key) === body) return;
      await this.client.chat.update({ channel, ts, text: msg.text, blocks: msg.blocks as never });
      this.lastSent.set(key, body);
    }, urgent);
  }

  /** A message was posted with this content: an edit to the same content costs no call. */
  rememberSent(channel: string, ts: string, msg: SlackMessage): void {
    this.lastSent.set(`${channel}/${ts}`, JSON.stringify(msg));
  }

  postEphemeral(team: string, channel: string, user: string, msg: SlackMessage): Promise<void> {
    return this.call(team, "tier4", undefined, async () => {
      await this.client.chat.postEphemeral({ channel, user, text: msg.text, blocks: msg.blocks as never });
    });
  }

  /** A direct message from the bot to a user. */
  async dm(team: string, user: string, msg: SlackMessage): Promise<{ channel: string; ts: string }> {
    const channel = await this.call(team, "tier4", undefined, async () => (await this.client.conversations.open({ users: user })).channel!.id!);
    return this.postMessage(team, channel, msg);
  }

  openView(team: string, triggerId: string, view: Record<string, unknown>): Promise<void> {
    return this.call(team, "tier4", undefined, async () => {
      await this.client.views.open({ trigger_id: triggerId, view: view as never });
    });
  }

  publishHome(team: string, user: string, view: Record<string, unknown>): Promise<void> {
    return this.call(team, "tier4", `home:${user}`, async () => {
      await this.client.views.publish({ user_id: user, view: view as never });
    });
  }

  /** Calls waiting in every workspace's outbox. */
  get waiting(): number {
    let n = 0;
    for (const o of this.outboxes.values()) n += o.waiting;
    return n;
  }

  close(): void {
    for (const o of this.outboxes.values()) o.close();
  }

  private call<T>(team: string, lane: string, coalesceKey: string | undefined, send: () => Promise<T>, urgent?: () => boolean): Promise<T> {
    return this.outbox(team).call({
      lane, coalesceKey, urgent,
      send: async () => {
        this.counts.calls++;
        try {
          return await send();
        } catch (err) {
          // A render that breaks Block Kit's limits is a bug of ours: log which block and why.
          const code = slackErrorCode(err);
          if (code && REFUSED_RENDERING.has(code)) this.log.error({ team, lane, error: code, problems: slackErrorMessages(err) }, "Slack refused what the bot rendered");
          throw err;
        }
      },
    });
  }

  private outbox(team: string): Outbox {
    let o = this.outboxes.get(team);
    if (!o) {
      o = new Outbox({
        limitFor: (lane) => LIMITS[lane.startsWith("post:") ? "post" : lane] ?? LIMITS.tier4!,
        retryAfter: (err) => ((err as { code?: string }).code === "slack_webapi_rate_limited_error" ? (err as { retryAfter: number }).retryAfter : undefined),
        onRateLimited: (lane, seconds) => {
          this.counts.rateLimited++;
          this.log.warn({ team, lane, seconds }, "Slack rate-limited a call; waiting it out");
        },
        ...(this.sendSlots ? {
          slots: this.sendSlots,
          slotScope: `slack:${team}`,
          onSlotsUnavailable: (err: unknown) => this.log.warn({ team, err }, "could not book shared send slots in the database; pacing this workspace's Slack calls locally for now"),
          onSlotsBack: () => this.log.info({ team }, "shared send slots answer again; Slack calls are paced across replicas"),
        } : {}),
      });
      this.outboxes.set(team, o);
    }
    return o;
  }
}
