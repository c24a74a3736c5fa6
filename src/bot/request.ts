// What an adapter hands the bot core (a request) and how the core answers (a conversation).
import type { StatusView, View } from "./views/views.js";

export interface ChatUser {
  id: string;
  /** Display name for public messages ("alice"). */
  name: string;
}

export interface ChatRequest {
  platform: string;
  workspace: string;
  channel: string;
  user: ChatUser;
  /** The command text, with or without a leading /spawn. */
  text: string;
}

/** How the core answers one request; each adapter implements it for its platform. */
export interface Conversation {
  /** Public, in the channel. */
  say(view: View): Promise<void>;
  /** Private to the requester (ephemeral message or DM). */
  whisper(view: View): Promise<void>;
  /** Post or update the live status message of a run (same spawnId, same message). */
  status(view: StatusView): Promise<void>;
}
