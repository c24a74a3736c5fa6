// Platform-neutral views: what the bot shows, as data. Adapters only render these
// (ANSI text in the console, Block Kit in Slack, embeds in Discord).
import type { StepState } from "../../orchestrator/index.js";

export interface StatusStepView {
  name: string;
  title: string;
  state: StepState;
  detail?: string;
  durationMs?: number;
}

/** The live view of one spawn's run; the same spawnId always means the same message. */
export interface StatusView {
  kind: "status";
  spawnId: string;
  name: string;
  /** "alice is spawning Codex CLI on Existing host over SSH · openai/gpt-5.3-codex" */
  title: string;
  requester: string;
  /** The requester's platform user id, for the one mention a finished run makes. */
  requesterId: string;
  agent: string;
  cloud: string;
  model: string;
  status: string;
  steps: StatusStepView[];
  warnings: string[];
  /** Set when the run has ended. */
  result?: { outcome: "ready" | "failed" | "cancelled" | "deleted"; message: string };
  /** Extra facts for `status`: session alive, how the model is wired, expiry. */
  facts?: string[];
  /** What deleting it does (its Delete confirmation says so). */
  removal?: RemovalKind;
}

/** Private connect details: only ever sent to the requester (or an admin). */
export interface ConnectView {
  kind: "connect";
  spawnId: string;
  name: string;
  attachCommand: string;
  knownHostsLine?: string;
  hostKeyFingerprint?: string;
  tunnelCommand?: string;
  dashboardUrl?: string;
  /** The dashboard through the bot's tunnel gateway (a private, revocable link). */
  gatewayUrl?: string;
  /** The tail of a --prompt run's output. */
  promptOutput?: { exitCode: number; tail: string };
}

export interface ListRow {
  id: string;
  name: string;
  agent: string;
  cloud: string;
  model: string;
  status: string;
  owner: string;
  createdAt: number;
  /** When a live spawn is deleted by itself; null for ended ones and those that never expire. */
  expiresAt: number | null;
  /** Cloud cost so far + LLM spend ("€0.12 + $0.42"); absent where the list does not say. */
  cost?: string;
}

/** Where a page sits in the whole list, and how to ask for the next one. */
export interface ListPage {
  /** 1-based. */
  number: number;
  /** Rows a page holds. */
  size: number;
  /** Rows in the whole list (with the filter applied), or a floor of it when atLeast. */
  total: number;
  /** The list holds more than total rows: it was counted only so far ("1,000+"). */
  atLeast?: boolean;
  /** The command that shows the next page, when there is one ("list --mine --page 3"). */
  next?: string;
}

export interface ListView {
  kind: "list";
  title: string;
  rows: ListRow[];
  /** What to say when rows is empty. */
  empty: string;
  page: ListPage;
}

/** The column names every renderer puts over a list's rows, in this order. */
export const LIST_COLUMNS = ["name", "agent", "cloud", "status", "model", "owner", "age", "expires", "cost", "id"] as const;

/**
 * The line under a list that is not all there: "showing 26–50 of 63 — narrow with a filter or
 * `list --page 3`". Undefined when the page holds the whole list. `command` writes a command in
 * the platform's own syntax.
 */
export function pageNote(v: ListView, command: (words: string) => string = (w) => `\`${w}\``): string | undefined {
  const { number, size, total, next, atLeast } = v.page;
  if (v.rows.length === 0 || (number === 1 && total <= v.rows.length && !atLeast)) return undefined;
  const from = (number - 1) * size + 1;
  const shown = `showing ${from}–${from + v.rows.length - 1} of ${atLeast ? `${total.toLocaleString("en-US")}+` : total}`;
  return next ? `${shown} — narrow with a filter or ${command(next)}` : `${shown}, the last page`;
}

/** The --dry-run plan: everything resolved, nothing touched. */
export interface PlanView {
  kind: "plan";
  agent: string;
  cloud: string;
  model: string;
  modelSource: "flag" | "preference" | "default";
  name: string;
  /** Absent on a host the bot does not make (ssh, local): it has no size or zone to choose. */
  size?: string;
  zone?: string;
  /** Where an existing host is, for ssh ("root@203.0.113.10:22"). */
  host?: string;
  steps: string[];
  prompt: boolean;
  ttl: string;
  /** --repo: "acme/webapp@main into ~/webapp". */
  repo?: string;
  /** What the server costs an hour and where the price comes from, or "price unknown (…)" / "free (…)". */
  price: string;
}

export interface TextView {
  kind: "text";
  title?: string;
  lines: string[];
}

export interface ErrorView {
  kind: "error";
  message: string;
  usage?: string;
}

/** A user's own settings; chat adapters show them as a private form, the console as text. */
export interface SettingsView {
  kind: "settings";
  /** Which OpenRouter key the user's spawns use: theirs (shown by its last four characters only), the workspace's, or none. */
  apiKey: { source: "yours"; last4: string } | { source: "per-spawn" } | { source: "workspace" } | { source: "none" };
  /** The user's own Cursor key, when saved (Cursor never gets the OpenRouter key). */
  cursorKey?: { last4: string };
  /** The user's git token for private --repo repositories, when saved. */
  gitToken?: { last4: string };
  keys: { fingerprint: string; keyType: string; comment: string }[];
  /** Every agent, with the user's saved model when there is one. */
  models: { agent: string; name: string; saved?: string; defaultModel: string }[];
}

export interface HomeRow extends ListRow {
  live: boolean;
  expiresAt: number | null;
  /** What deleting it does (its Delete confirmation says so). */
  removal?: RemovalKind;
}

/** A user's home (Slack's App Home): their spawns and their settings. */
export interface HomeView {
  kind: "home";
  spawns: HomeRow[];
  /** How many spawns the user has in all (spawns holds the newest few). */
  total: number;
  settings: SettingsView;
  /** OpenRouter's model ids as last read (empty until read, or when the bot has no model list): for autocomplete. */
  modelIds?: readonly string[];
  /** This month's spend of the user's spawns, beside their budget (the `costs --mine` lines). */
  costs?: { title: string; lines: string[] };
}

export type View = StatusView | ConnectView | ListView | PlanView | TextView | ErrorView | SettingsView;

/**
 * What deleting a spawn does, by the kind of place it runs: a server the bot created (deleted
 * with everything on it), a host the user keeps (only what spawnbot put there goes), or the
 * bot's own host (likewise).
 */
export type RemovalKind = "server" | "host" | "local";

const DELETE_CONSEQUENCE: Record<RemovalKind, string> = {
  server: "Its server and everything on it is deleted. This cannot be undone.",
  host: "The agent is stopped and what spawnbot installed on the host is removed (its processes, the SSH keys it added, ~/.spawnrc and the agent's config files); the host and your own files stay.",
  local: "The agent is stopped and what spawnbot installed on the bot's own host is removed (its processes, ~/.spawnrc and the agent's config files); the host and your own files stay.",
};

/** The Delete confirmation's sentence for a kind of cloud (a cautious one when the kind is not known). */
export function deleteConsequence(kind: RemovalKind | undefined): string {
  return kind ? DELETE_CONSEQUENCE[kind] : "The agent is stopped and what spawnbot made for it is removed. This cannot be undone.";
}

/** The removal kind of a cloud: VM clouds delete their server; adopted ones keep the host. */
export function removalKindOf(cloud: { adopted?: boolean; access: "ssh" | "local" } | undefined): RemovalKind | undefined {
  if (!cloud) return undefined;
  return !cloud.adopted ? "server" : cloud.access === "local" ? "local" : "host";
}

export function text(lines: string[] | string, title?: string): TextView {
  return { kind: "text", title, lines: Array.isArray(lines) ? lines : [lines] };
}

export function error(message: string, usage?: string): ErrorView {
  return { kind: "error", message, usage };
}
