// Renders the bot's views as Discord embeds and buttons. Only rendering: no API calls here.
// Text that came from users or hosts is markdown-escaped; nothing rendered here pings anyone
// except a run's result note, which names its owner in `mentions`.
import {
  ButtonStyle, ComponentType, escapeMarkdown,
  type APIActionRowComponent, type APIComponentInMessageActionRow, type APIEmbed,
} from "discord.js";
import { deleteConsequence, pageNote, type ConnectView, type ListView, type PlanView, type RemovalKind, type SettingsView, type StatusView, type TextView, type View } from "../../bot/index.js";
import type { ThreadNote } from "../common/status-threads.js";
import { commandFor } from "../common/command-syntax.js";
import { listTable } from "../common/list-table.js";

export interface DiscordMessage {
  content?: string;
  embeds: APIEmbed[];
  /** An empty list removes the buttons a message had. */
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** The users this message may notify; nobody when absent. */
  mentions?: string[];
}

// Discord's embed limits (discord.com/developers/docs/resources/message#embed-object-embed-limits).
const MAX_TITLE = 256;
const MAX_DESCRIPTION = 4096;
const MAX_FOOTER = 1024; // Discord allows 2048, but an embed's texts together hold at most 6000
const MAX_TAIL = 1500; // a prompt run's output tail: enough to read, with room for the rest of the message

const COLOR = { running: 0x5865f2, ready: 0x57f287, failed: 0xed4245, ended: 0x99aab5 } as const;
const MARK: Record<string, string> = { pending: "⚪", running: "🔄", succeeded: "✅", warned: "⚠️", failed: "❌", skipped: "➖" };

/** What a button does; its custom_id is `spawn:<action>:<spawn id>[:<status message id>]`. */
export const BUTTONS = { connect: "connect", extend: "extend", delete: "delete", confirmDelete: "delete-yes" } as const;
export type ButtonAction = (typeof BUTTONS)[keyof typeof BUTTONS];
const BUTTON_ID_RE = /^spawn:(connect|extend|delete|delete-yes):([A-Za-z0-9-]{1,63})(?::(\d{17,20}))?$/;

export function buttonId(action: ButtonAction, spawnId: string, statusMessageId?: string): string {
  return `spawn:${action}:${spawnId}${statusMessageId ? `:${statusMessageId}` : ""}`;
}

export function parseButtonId(customId: string): { action: ButtonAction; spawnId: string; statusMessageId?: string } | undefined {
  const m = BUTTON_ID_RE.exec(customId);
  return m ? { action: m[1] as ButtonAction, spawnId: m[2]!, statusMessageId: m[3] } : undefined;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** User- or host-supplied text: no markdown, no masked links. */
const md = (text: string) => escapeMarkdown(text, { maskedLink: true });
/** The core's sentences: their `code` stays code, everything else is escaped. */
const prose = (text: string) => escapeMarkdown(text, { inlineCode: false, inlineCodeContent: false, maskedLink: true });
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
const codeBlock = (text: string, lang = "") => `\`\`\`${lang}\n${text.replace(/```/g, "'''")}\n\`\`\``;

const embed = (e: APIEmbed): APIEmbed => ({
  ...e,
  ...(e.title !== undefined ? { title: clip(e.title, MAX_TITLE) } : {}),
  ...(e.description !== undefined ? { description: clip(e.description, MAX_DESCRIPTION) } : {}),
});

/** The live status message of a run: its name, title, step checklist, result and (while it lives) buttons. */
export function statusMessage(v: StatusView, withButtons: boolean): DiscordMessage {
  const live = !v.result || v.result.outcome === "ready";
  return { embeds: [statusEmbed(v)], components: live && withButtons ? [spawnButtons(v.spawnId, v.result?.outcome === "ready")] : [] };
}

function statusEmbed(v: StatusView): APIEmbed {
  const steps = v.steps.map((s) => {
    const dur = s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)}s)` : "";
    return `${MARK[s.state] ?? "•"} ${md(s.title)}${dur}${s.detail ? ` — ${md(s.detail)}` : ""}`;
  });
  const outcome = v.result?.outcome;
  if (v.result) steps.push("", `${outcome === "ready" ? "🟢" : outcome === "failed" ? "🔴" : "⚫"} ${md(v.result.message)}`);
  const color = !outcome ? COLOR.running : outcome === "ready" ? COLOR.ready : outcome === "failed" ? COLOR.failed : COLOR.ended;
  return embed({
    // The author line carries the spawn's name: the Delete confirmation reads it from there.
    author: { name: clip(v.name, MAX_TITLE) }, title: md(v.title), description: steps.join("\n") || "_starting…_", color,
    footer: { text: clip([v.status, ...(v.facts ?? [])].join(" · "), MAX_FOOTER) },
  });
}

/** Connect (once the spawn is ready: before that there is nothing to connect to), Extend and Delete. */
function spawnButtons(spawnId: string, ready: boolean): APIActionRowComponent<APIComponentInMessageActionRow> {
  const button = (action: ButtonAction, label: string, style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger) =>
    ({ type: ComponentType.Button as const, custom_id: buttonId(action, spawnId), label, style });
  return {
    type: ComponentType.ActionRow,
    components: [
      ...(ready ? [button(BUTTONS.connect, "Connect", ButtonStyle.Primary)] : []),
      button(BUTTONS.extend, "Extend", ButtonStyle.Secondary), button(BUTTONS.delete, "Delete", ButtonStyle.Danger),
    ],
  };
}

/**
 * The private question a Delete click asks first, saying what deleting does for that kind of cloud.
 * Like the status message, its author line is the spawn's name; its button carries where the status
 * message is, for the public answer's thread.
 */
export function deleteConfirmation(spawnId: string, name: string, statusMessageId: string | undefined, removal: RemovalKind | undefined): DiscordMessage {
  return {
    embeds: [embed({ author: { name: clip(name, MAX_TITLE) }, description: `Delete **${md(name)}**? ${prose(deleteConsequence(removal))}`, color: COLOR.failed })],
    components: [{
      type: ComponentType.ActionRow,
      components: [{ type: ComponentType.Button, custom_id: buttonId(BUTTONS.confirmDelete, spawnId, statusMessageId), label: "Yes, delete", style: ButtonStyle.Danger }],
    }],
  };
}

/** A note in the thread under a status message; a ready or failed result mentions the owner (its one notification). */
export function noteMessage(note: ThreadNote, v: StatusView): DiscordMessage {
  const mention = note.kind === "result" && (v.result?.outcome === "ready" || v.result?.outcome === "failed");
  if (mention) return { content: `<@${v.requesterId}> ${md(note.text)}`, embeds: [], mentions: [v.requesterId] };
  return { content: `${note.kind === "warning" ? "⚠️ " : ""}${md(note.text)}`, embeds: [] };
}

function connectMessage(v: ConnectView): DiscordMessage {
  const parts = ["Only you can see this.", codeBlock(v.attachCommand, "sh")];
  if (v.knownHostsLine) parts.push(`Host key ${code(v.hostKeyFingerprint ?? "")}; to verify it on first connect, add this line to ${code("~/.ssh/known_hosts")}:`, codeBlock(v.knownHostsLine));
  if (v.tunnelCommand) parts.push(`Dashboard: run ${code(v.tunnelCommand)} then open ${md(v.dashboardUrl ?? "")}`);
  else if (v.dashboardUrl) parts.push(`Dashboard: ${md(v.dashboardUrl)}`);
  if (v.gatewayUrl) parts.push(`Dashboard in your browser through spawnbot (keep this link private): ${v.gatewayUrl}`);
  if (v.promptOutput) {
    const tail = v.promptOutput.tail.trimEnd() || "(no output)";
    parts.push(`The prompt run exited with code ${v.promptOutput.exitCode}; last lines:`, codeBlock(tail.length > MAX_TAIL ? `…${tail.slice(-MAX_TAIL)}` : tail));
  }
  return { embeds: [embed({ title: `Connect to ${v.name}`, description: parts.join("\n"), color: COLOR.ready })] };
}

/** A page of spawns as a monospace table (25 rows stay well under 4,096 characters) and where it sits in the whole list. */
function listMessage(v: ListView, now = Date.now()): DiscordMessage {
  if (v.rows.length === 0) return { embeds: [embed({ description: prose(v.empty) })] };
  const table = codeBlock(listTable(v.rows, now).join("\n"));
  const note = pageNote(v, (words) => commandFor("discord", words)); // a footer shows no markdown: the command as typed
  return { embeds: [embed({ title: md(v.title), description: table, ...(note ? { footer: { text: clip(note, MAX_FOOTER) } } : {}) })] };
}

function planMessage(v: PlanView): DiscordMessage {
  const source = v.modelSource === "flag" ? "from --model" : v.modelSource === "preference" ? "your saved preference" : "the agent's default";
  const lines = [
    `agent ${md(v.agent)} · cloud ${md(v.cloud)} · name ${code(v.name)}`,
    [`model ${code(v.model)} (${source})`, ...(v.host ? [`host ${code(v.host)}`] : []), ...(v.repo ? [`repo ${code(v.repo)}`] : []), ...(v.size ? [`size ${md(v.size)}`] : []), ...(v.zone ? [`zone ${md(v.zone)}`] : []), `ttl ${md(v.ttl)}`].join(" · "),
    `price ${md(v.price)}`,
    `steps ${v.steps.length ? md(v.steps.join(", ")) : "none"}${v.prompt ? " · runs the prompt once" : ""}`,
  ];
  return { embeds: [embed({ title: "Dry run — nothing was created", description: lines.join("\n") })] };
}

/** Lines laid out in columns (help, agents, clouds, keys) need a monospace block to stay aligned. */
function textMessage(v: TextView): DiscordMessage {
  const aligned = v.lines.some((l) => /\S {2,}\S/.test(l));
  const description = aligned ? codeBlock(v.lines.join("\n")) : v.lines.map(prose).join("\n");
  return { embeds: [embed({ ...(v.title ? { title: md(v.title) } : {}), description: description || "\u200b" })] };
}

export function settingsSummary(v: SettingsView): string {
  return v.apiKey.source === "yours" ? `yours, ending in ${v.apiKey.last4}` : v.apiKey.source === "per-spawn" ? "none of your own; each spawn gets its own capped key from the bot" : v.apiKey.source === "workspace" ? "none of your own; the bot's shared key is used" : "none set";
}

/** Any view as a private or public message (a status view without its buttons, e.g. the answer to `status`). */
export function message(view: View): DiscordMessage {
  switch (view.kind) {
    case "status": return { embeds: [statusEmbed(view)] };
    case "connect": return connectMessage(view);
    case "list": return listMessage(view);
    case "plan": return planMessage(view);
    case "text": return textMessage(view);
    case "settings": return { embeds: [embed({ description: `Your OpenRouter key: ${settingsSummary(view)}. Change it, your SSH keys and default models with ${code("/spawn settings")}, or get a key by signing in to OpenRouter with ${code("/spawn settings openrouter:True")}.` })] };
    case "error": return {
      embeds: [embed({ description: `❗ ${prose(view.message)}${view.usage ? `\nusage: ${code(view.usage)}` : ""}`, color: COLOR.failed })],
    };
  }
}
