// How the bot core's answers reach Slack for one request: private answers through the
// command's response_url while it is valid, else as an ephemeral message, else as a DM; public
// answers in the channel (in the spawn's thread for a button); status views in the status thread.
import type { Conversation } from "../../bot/index.js";
import type { StatusView, View } from "../../bot/index.js";
import type { Logger } from "../../log.js";
import { resultCarried, StatusThreads, type MessageRef, type StatusPlatform } from "../common/status-threads.js";
import { CHANNEL_UNAVAILABLE, slackErrorCode, type SlackApi } from "./api.js";
import { postResponseUrl } from "./response-url.js";
import { escape, message, settingsModal, statusMessage, type SlackMessage } from "./blocks.js";

// Slack: a response_url takes up to 5 messages within 30 minutes; keep a margin on both.
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFE_MS = 25 * 60_000;
const TRIGGER_LIFE_MS = 2500; // a trigger_id opens a modal within 3 s of the click or command
const RESPONSE_TIMEOUT_MS = 10_000;

/** Where a request came from and what Slack gave us to answer it. */
export interface Origin {
  team: string;
  user: string;
  /** Absent when the request came from the App Home. */
  channel?: string;
  responseUrl?: string;
  triggerId?: string;
  /** The status message a button was clicked on: public answers go in its thread. */
  threadTs?: string;
  receivedAt: number;
}

export class SlackConversations {
  readonly threads: StatusThreads;

  constructor(private readonly api: SlackApi, private readonly log: Logger, refs: ConstructorParameters<typeof StatusThreads>[1]) {
    this.threads = new StatusThreads(this.statusPlatform(), refs);
  }

  for(origin: Origin): Conversation {
    let responseUses = 0;
    const privately = async (msg: SlackMessage): Promise<void> => {
      const fresh = origin.responseUrl && responseUses < RESPONSE_URL_USES && Date.now() - origin.receivedAt < RESPONSE_URL_LIFE_MS;
      if (fresh) {
        responseUses++;
        if (await this.respond(origin.responseUrl!, msg)) return;
      }
      await this.ephemeralOrDm(origin.team, origin.channel, origin.user, msg);
    };
    return {
      whisper: async (view: View) => {
        if (view.kind === "settings" && origin.triggerId && Date.now() - origin.receivedAt < TRIGGER_LIFE_MS) {
          return this.api.openView(origin.team, origin.triggerId, settingsModal(view, JSON.stringify({ channel: origin.channel ?? "" })));
        }
        return privately(message(view));
      },
      say: async (view: View) => {
        if (!origin.channel) return privately(message(view));
        try {
          await this.api.postMessage(origin.team, origin.channel, message(view), origin.threadTs);
        } catch (err) {
          if (!CHANNEL_UNAVAILABLE.has(slackErrorCode(err) ?? "")) throw err;
          await privately(message(view));
        }
      },
      status: (view: StatusView) => this.threads.show(view, { team: origin.team, channel: origin.channel ?? "" }),
    };
  }

  /** An ephemeral message in the channel, or a DM when the bot cannot write there. */
  async ephemeralOrDm(team: string, channel: string | undefined, user: string, msg: SlackMessage): Promise<void> {
    if (channel) {
      try {
        return await this.api.postEphemeral(team, channel, user, msg);
      } catch (err) {
        if (!CHANNEL_UNAVAILABLE.has(slackErrorCode(err) ?? "")) throw err;
      }
    }
    await this.api.dm(team, user, msg);
  }

  /** POST to a response_url; false when Slack refused it (expired, used up), so the caller falls back. */
  private async respond(url: string, msg: SlackMessage): Promise<boolean> {
    try {
      const status = await postResponseUrl(url, { response_type: "ephemeral", replace_original: false, text: msg.text, blocks: msg.blocks }, RESPONSE_TIMEOUT_MS);
      return status >= 200 && status < 300;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "response_url answer failed; sending it another way");
      return false;
    }
  }

  private statusPlatform(): StatusPlatform {
    const api = this.api;
    return {
      post: async (view, target, latest = () => view) => {
        const team = target.team!;
        try {
          if (!target.channel) throw Object.assign(new Error("no channel"), { data: { error: "channel_not_found" } });
          // In a busy channel the root post may wait a while (one post per second per channel):
          // it is rendered when sent, goes first once the run has ended, and then carries the
          // result with its mention, so the final state costs one post, not two.
          let sent = view;
          const r = await api.postMessage(team, target.channel, () => rootMessage((sent = latest())), undefined, () => latest().result !== undefined);
          api.rememberSent(r.channel, r.ts, statusMessage(sent));
          return { team, channel: r.channel, ts: r.ts, ...resultCarried(sent) };
        } catch (err) {
          if (!CHANNEL_UNAVAILABLE.has(slackErrorCode(err) ?? "")) throw err;
          // Not in the channel (or none): the requester follows the run in a DM instead.
          const r = await api.dm(team, view.requesterId, statusMessage(view));
          return { team, channel: r.channel, ts: r.ts };
        }
      },
      edit: (ref: MessageRef, latest) => api.update(ref.team!, ref.channel!, ref.ts!, () => statusMessage(latest()), () => latest().result !== undefined),
      reply: async (ref, note, view) => {
        const text = note.kind === "result" && mentions(view)
          ? `<@${view.requesterId}> ${escape(note.text)}`
          : `${note.kind === "warning" ? "⚠️ " : ""}${escape(note.text)}`;
        const urgent = note.kind === "result" ? () => true : undefined; // a final state goes before other posts
        await api.postMessage(ref.team!, ref.channel!, { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] }, ref.ts, urgent);
      },
    };
  }
}

/** The result mentions the owner (the one notification of a run); warnings stay quiet. */
function mentions(view: StatusView): boolean {
  return view.result?.outcome === "ready" || view.result?.outcome === "failed";
}

/** The status message as first posted: an ended run's message also mentions its owner. */
function rootMessage(view: StatusView): SlackMessage {
  const msg = statusMessage(view);
  if (!view.result || !mentions(view)) return msg;
  const text = `<@${view.requesterId}> ${escape(view.result.message)}`;
  return { text: `<@${view.requesterId}> ${msg.text}`, blocks: [...msg.blocks, { type: "section", text: { type: "mrkdwn", text } }] };
}
