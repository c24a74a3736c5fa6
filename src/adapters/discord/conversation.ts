// How the bot core's answers reach Discord for one interaction: private answers as the
// interaction's ephemeral reply and follow-ups while its token lives, else as a DM; public answers
// in the channel (in the status message's thread for a button); a run's status in an ordinary bot
// message with a thread under it, written with the bot token so it outlives the interaction.
import { MessageFlags, RESTJSONErrorCodes, type InteractionEditReplyOptions, type InteractionReplyOptions } from "discord.js";
import type { Conversation } from "../../bot/index.js";
import type { StatusView, View } from "../../bot/index.js";
import type { Logger } from "../../log.js";
import { StatusThreads, type MessageRefStore, type StatusPlatform } from "../common/status-threads.js";
import { CHANNEL_UNAVAILABLE, discordErrorCode, type DiscordApi, type PostedMessage } from "./api.js";
import { message, noteMessage, statusMessage, type DiscordMessage } from "./render.js";

// A status message sent to the requester's DM because the bot cannot write in the channel has no
// buttons: a click in a DM comes from outside the guild the spawn belongs to, where the core would
// not find it; the owner uses /spawn in the channel instead. Its ref is marked so edits agree.
const DM_FALLBACK = "dm-fallback";

const TOKEN_LIFE_MS = 14 * 60_000; // Discord: an interaction token answers for 15 minutes; keep a minute of headroom
/** Answers that mean the interaction's token or reply is gone: the answer goes by DM instead. */
const TOKEN_GONE: ReadonlySet<number> = new Set([
  RESTJSONErrorCodes.InvalidWebhookToken, RESTJSONErrorCodes.UnknownWebhook, RESTJSONErrorCodes.UnknownInteraction, RESTJSONErrorCodes.UnknownMessage,
]);

/** A rendered message as the options of an interaction answer (which then pings nobody). */
export function replyOptions(msg: DiscordMessage) {
  return { content: msg.content ?? "", embeds: msg.embeds, components: msg.components ?? [], allowedMentions: { parse: [] } };
}

/** What a conversation needs of an acknowledged (deferred, or updated) interaction. */
export interface AnsweredInteraction {
  createdTimestamp: number;
  editReply(options: InteractionEditReplyOptions): Promise<unknown>;
  followUp(options: InteractionReplyOptions): Promise<unknown>;
  deleteReply(): Promise<void>;
}

/** Where a request came from. */
export interface Origin {
  interaction: AnsweredInteraction;
  user: string;
  channel: string;
  /** The status message a button was clicked on (or for): public answers go in its thread. */
  statusMessage?: PostedMessage & { name: string };
}

export interface DiscordConversation extends Conversation {
  /** Once the core has answered: remove the "thinking…" reply if nothing private was said in it. */
  finish(): Promise<void>;
}

export class DiscordConversations {
  readonly threads: StatusThreads;

  constructor(private readonly api: DiscordApi, private readonly log: Logger, refs: MessageRefStore) {
    this.threads = new StatusThreads(this.statusPlatform(), refs);
  }

  for(origin: Origin): DiscordConversation {
    const i = origin.interaction;
    let replied = false;
    const privately = async (msg: DiscordMessage): Promise<void> => {
      if (Date.now() - i.createdTimestamp < TOKEN_LIFE_MS) {
        const options = replyOptions(msg);
        try {
          // The first answer replaces the deferred "thinking…" reply; later ones are ephemeral follow-ups.
          if (!replied) {
            replied = true;
            await i.editReply(options);
          } else {
            await i.followUp({ ...options, flags: MessageFlags.Ephemeral });
          }
          return;
        } catch (err) {
          if (!TOKEN_GONE.has(discordErrorCode(err) ?? 0)) throw err;
          this.log.info({ code: discordErrorCode(err) }, "the interaction can no longer be answered; sending a DM");
        }
      }
      await this.api.dm(origin.user, msg);
    };
    return {
      whisper: (view: View) => privately(message(view)),
      say: async (view: View) => {
        const msg = message(view);
        try {
          await this.postPublic(origin, msg);
        } catch (err) {
          if (!CHANNEL_UNAVAILABLE.has(discordErrorCode(err) ?? 0)) throw err;
          await privately(msg);
        }
      },
      status: (view: StatusView) => this.threads.show(view, { channel: origin.channel }),
      finish: async () => {
        if (replied) return;
        replied = true;
        try {
          await i.deleteReply();
        } catch (err) {
          this.log.debug({ err: (err as Error).message }, "the deferred reply could not be removed");
        }
      },
    };
  }

  private async postPublic(origin: Origin, msg: DiscordMessage): Promise<void> {
    const status = origin.statusMessage;
    await (status ? this.api.postUnder(status, status.name, msg) : this.api.post(origin.channel, msg));
  }

  private statusPlatform(): StatusPlatform {
    const api = this.api;
    return {
      post: async (view, target) => {
        try {
          return { ...(await api.post(target.channel!, statusMessage(view, true))) };
        } catch (err) {
          if (!CHANNEL_UNAVAILABLE.has(discordErrorCode(err) ?? 0)) throw err;
          // The bot cannot write in the channel: the requester follows the run in a DM instead.
          return { ...(await api.dm(view.requesterId, statusMessage(view, false))), via: DM_FALLBACK };
        }
      },
      edit: (ref, latest) => api.edit({ channel: ref.channel!, message: ref.message! }, () => statusMessage(latest(), ref.via !== DM_FALLBACK)),
      reply: async (ref, note, view) => void (await api.postUnder({ channel: ref.channel!, message: ref.message! }, view.name, noteMessage(note, view))),
    };
  }
}
