// How the bot core reaches people when it is not answering a request: expiry reminders, reports
// to admins, and status redraws after a restart. Each chat adapter provides one for its platform.
import type { StatusView, View } from "./views/views.js";

/** Where a spawn was asked for: its status message lives there. */
export interface ChatPlace {
  workspace: string;
  channel: string;
}

export interface ChatOutlet {
  /** The platform this outlet speaks for ("slack", "discord", "console"); matches SpawnRecord.platform. */
  readonly platform: string;
  /** A private message to one user (a DM, or the console). */
  notify(userId: string, view: View, place?: ChatPlace): Promise<void>;
  /** Show a spawn's status view in its status message at place (posted once, then edited). */
  status(place: ChatPlace, view: StatusView): Promise<void>;
}
