// Every bot-token call of the Discord adapter: channel messages, their edits, threads and DMs.
// discord.js's REST queue keeps to Discord's per-route buckets and waits out every 429 itself;
// the Outbox on top keeps each channel's calls in order and coalesces the edits of a message,
// so an edit that waits (for its bucket, or behind a 429) is sent once, with the newest state.
// With send slots (replicas on one database) each lane is paced across every replica. None of this
// needs the gateway: the bot token on the REST client is enough, on a gateway standby too.
import { DiscordAPIError, RESTEvents, RESTJSONErrorCodes, Routes, type REST } from "discord.js";
import type { Logger } from "../../log.js";
import { Outbox, type SendSlotBooking } from "../common/outbox.js";
import type { DiscordMessage } from "./render.js";

// Generous on purpose: Discord's global limit is 50 requests per second, and the real per-route
// buckets are discord.js's to follow (it reads them from every response's headers).
const LANE_LIMIT = { perSecond: 50, burst: 50 };
const MESSAGES_REMEMBERED = 500; // per message: the last body sent (to skip unchanged edits) and its thread; oldest forgotten first
const THREAD_ARCHIVE_MINUTES = 1440; // a status thread hides after a day without messages; a new note brings it back

/** The bot cannot write in the channel: a status or public answer goes to a DM instead. */
export const CHANNEL_UNAVAILABLE: ReadonlySet<number> = new Set([
  RESTJSONErrorCodes.MissingAccess, RESTJSONErrorCodes.MissingPermissions, RESTJSONErrorCodes.UnknownChannel,
  RESTJSONErrorCodes.CannotSendMessagesInNonTextChannel,
]);

/** No thread can be started under the message: it sits in a thread or a DM, or the bot may not start threads there. */
const NO_THREAD: ReadonlySet<number> = new Set([
  RESTJSONErrorCodes.CannotExecuteActionOnThisChannelType, RESTJSONErrorCodes.MissingPermissions, RESTJSONErrorCodes.MissingAccess,
]);

export function discordErrorCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === "number" ? err.code : undefined;
}

export interface PostedMessage {
  channel: string;
  message: string;
}

export interface DiscordApiOptions {
  /** The store's booking of send slots shared by replicas; without it each process paces alone. */
  sendSlots?: SendSlotBooking;
  /** The application's id: names its lanes in the shared booking (channel ids are Discord-wide already). */
  appId?: string;
}

export class DiscordApi {
  private readonly outbox: Outbox;
  private readonly lastSent = new Map<string, string>();
  private readonly dmChannels = new Map<string, string>();
  private readonly threads = new Map<string, string | null>(); // starter message id → thread id, or null: none possible
  private readonly tally = { calls: 0, rateLimited: 0 };

  constructor(private readonly rest: REST, private readonly log: Logger, opts: DiscordApiOptions = {}) {
    this.outbox = new Outbox({
      limitFor: () => LANE_LIMIT,
      retryAfter: () => undefined, // discord.js has already waited out and retried every 429
      ...(opts.sendSlots ? {
        slots: opts.sendSlots,
        slotScope: `discord:${opts.appId ?? "app"}`,
        onSlotsUnavailable: (err: unknown) => this.log.warn({ err }, "could not book shared send slots in the database; pacing Discord calls locally for now"),
        onSlotsBack: () => this.log.info("shared send slots answer again; Discord calls are paced across replicas"),
      } : {}),
    });
    rest.on(RESTEvents.Response, (_request, response) => {
      this.tally.calls++;
      if (response.status === 429) {
        this.tally.rateLimited++;
        this.log.warn({ status: 429 }, "Discord rate-limited a call; discord.js waits it out");
      }
    });
  }

  /** REST calls made (interaction answers included), 429s met, and status edits replaced by a newer one before they went. */
  get counts(): { calls: number; rateLimited: number; coalesced: number } {
    return { ...this.tally, coalesced: this.outbox.counts.coalesced };
  }

  post(channel: string, msg: DiscordMessage, replyTo?: string): Promise<PostedMessage> {
    return this.outbox.call({
      lane: `post:${channel}`,
      send: async () => {
        const reference = replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {};
        const posted = (await this.rest.post(Routes.channelMessages(channel), { body: { ...body(msg), ...reference } })) as { id: string };
        return { channel, message: posted.id };
      },
    });
  }

  /** Edit a message with the newest content; waiting edits of the same message are replaced, not queued. */
  async edit(ref: PostedMessage, latest: () => DiscordMessage): Promise<void> {
    const key = `${ref.channel}/${ref.message}`;
    if (this.lastSent.get(key) === JSON.stringify(body(latest()))) return;
    await this.outbox.call({
      lane: `edit:${ref.channel}`,
      coalesceKey: key,
      send: async () => {
        const payload = body(latest());
        const text = JSON.stringify(payload);
        if (this.lastSent.get(key) === text) return;
        await this.rest.patch(Routes.channelMessage(ref.channel, ref.message), { body: payload });
        remember(this.lastSent, key, text);
      },
    });
  }

  /** Post under a message: in its thread (started on first use), or as a reply where no thread can be. */
  async postUnder(root: PostedMessage, threadName: string, msg: DiscordMessage): Promise<PostedMessage> {
    const thread = await this.thread(root, threadName);
    return thread ? this.post(thread, msg) : this.post(root.channel, msg, root.message);
  }

  private async thread(root: PostedMessage, name: string): Promise<string | null> {
    const known = this.threads.get(root.message);
    if (known !== undefined) return known;
    const id = await this.outbox.call({
      lane: `thread:${root.channel}`,
      send: async () => {
        try {
          const body = { name: name.slice(0, 100), auto_archive_duration: THREAD_ARCHIVE_MINUTES };
          return ((await this.rest.post(Routes.threads(root.channel, root.message), { body })) as { id: string }).id;
        } catch (err) {
          const code = discordErrorCode(err) ?? 0;
          // Started before (by an earlier process, or a note that raced this one): a thread from a message takes its id.
          if (code === (RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage as number)) return root.message;
          if (NO_THREAD.has(code)) return null;
          throw err;
        }
      },
    });
    remember(this.threads, root.message, id);
    return id;
  }

  /** A direct message from the bot to a user. */
  async dm(user: string, msg: DiscordMessage): Promise<PostedMessage> {
    let channel = this.dmChannels.get(user);
    if (!channel) {
      const dm = (await this.outbox.call({ lane: "dm", send: () => this.rest.post(Routes.userChannels(), { body: { recipient_id: user } }) })) as { id: string };
      channel = dm.id;
      this.dmChannels.set(user, channel);
    }
    return this.post(channel, msg);
  }

  close(): void {
    this.outbox.close();
  }
}

/** Set a value as the newest in a map kept to MESSAGES_REMEMBERED entries (a Map iterates oldest first). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MESSAGES_REMEMBERED) map.delete(map.keys().next().value!);
}

/** The REST body of a message: nobody is pinged unless the message names them. */
function body(msg: DiscordMessage) {
  return {
    ...(msg.content !== undefined ? { content: msg.content } : {}),
    embeds: msg.embeds,
    ...(msg.components ? { components: msg.components } : {}),
    allowed_mentions: { parse: [], users: msg.mentions ?? [] },
  };
}
