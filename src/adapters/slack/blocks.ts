// Renders the bot's views as Slack Block Kit with a plain-text fallback (notifications, screen
// readers and clients without blocks read the text). Only rendering: no API calls here.
import { deleteConsequence, pageNote, type ConnectView, type HomeView, type ListView, type PlanView, type RemovalKind, type SettingsView, type StatusView, type View } from "../../bot/index.js";
import { formatDuration, plural } from "../../bot/index.js";
import { commandFor } from "../common/command-syntax.js";
import { chunkLines, listTable } from "../common/list-table.js";

/** Block Kit's own shapes, kept loose: Slack validates them. */
export type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export const ACTIONS = { connect: "spawn_connect", extend: "spawn_extend", delete: "spawn_delete", openSettings: "open_settings", connectOpenRouter: "connect_openrouter" } as const;

/** Runs `settings openrouter`: a private one-time link that gets the user a key from OpenRouter. */
const connectOpenRouterButton = (): Block => ({ type: "button", action_id: ACTIONS.connectOpenRouter, text: plain("Connect OpenRouter"), value: "openrouter" });
export const SETTINGS_CALLBACK = "spawn_settings";

const MARK: Record<string, string> = { pending: "⚪", running: "🔄", succeeded: "✅", warned: "⚠️", failed: "❌", skipped: "➖" };
const MAX_TEXT = 2900; // a section's text may hold 3,000 characters

const mrkdwn = (text: string) => ({ type: "mrkdwn", text: clip(text) });
const section = (text: string): Block => ({ type: "section", text: mrkdwn(text) });
const context = (text: string): Block => ({ type: "context", elements: [mrkdwn(text)] });
const plain = (text: string) => ({ type: "plain_text", text: clip(text, 150), emoji: true });

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Slack's mrkdwn treats &, < and > specially; user-supplied text must not form links or mentions. */
export function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const code = (text: string) => `\`${escape(text).replace(/`/g, "'")}\``;
const codeBlock = (text: string) => `\`\`\`${escape(text).replace(/```/g, "'''")}\`\`\``;

/** The live root message of a spawn's status thread: title, step checklist, result and buttons. */
export function statusMessage(v: StatusView): SlackMessage {
  const steps = v.steps.map((s) => {
    const dur = s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)}s)` : "";
    return `${MARK[s.state] ?? "•"} ${escape(s.title)}${dur}${s.detail ? ` — ${escape(s.detail)}` : ""}`;
  });
  const blocks: Block[] = [section(`*${escape(v.title)}*`), section(steps.join("\n") || "_starting…_")];
  const facts = [`\`${escape(v.name)}\``, escape(v.status), ...(v.facts ?? []).map(escape)];
  blocks.push(context(facts.join(" · ")));
  if (v.result) blocks.push(section(`${v.result.outcome === "ready" ? "🟢" : v.result.outcome === "failed" ? "🔴" : "⚫"} ${escape(v.result.message)}`));
  const live = !v.result || v.result.outcome === "ready";
  if (live) blocks.push(spawnButtons(v.spawnId, v.name, v.removal, v.result?.outcome === "ready"));
  const done = v.steps.filter((s) => s.state === "succeeded" || s.state === "warned" || s.state === "skipped").length;
  return { text: `${v.title} — ${v.result ? v.result.message : `${v.status}, ${done}/${v.steps.length} steps done`}`, blocks };
}

/**
 * Connect (once the spawn is ready: before that there is nothing to connect to), Extend and
 * Delete for one spawn; Delete asks first, saying what deleting does there.
 */
export function spawnButtons(spawnId: string, name: string, removal: RemovalKind | undefined, ready: boolean): Block {
  return {
    type: "actions",
    block_id: `spawn_actions:${spawnId}`,
    elements: [
      ...(ready ? [{ type: "button", action_id: ACTIONS.connect, text: plain("Connect"), value: spawnId, style: "primary" }] : []),
      { type: "button", action_id: ACTIONS.extend, text: plain("Extend"), value: spawnId },
      {
        type: "button", action_id: ACTIONS.delete, text: plain("Delete"), value: spawnId, style: "danger",
        confirm: {
          title: plain("Delete this spawn?"),
          text: mrkdwn(`Delete *${escape(name)}*? ${escape(deleteConsequence(removal))}`),
          confirm: plain("Delete"), deny: plain("Keep it"), style: "danger",
        },
      },
    ],
  };
}

function connectMessage(v: ConnectView): SlackMessage {
  const lines = [`*Connect to ${escape(v.name)}* (only you can see this)`, codeBlock(v.attachCommand)];
  if (v.knownHostsLine) lines.push(`Host key ${code(v.hostKeyFingerprint ?? "")}; to verify it on first connect, add this line to \`~/.ssh/known_hosts\`:`, codeBlock(v.knownHostsLine));
  if (v.tunnelCommand) lines.push(`Dashboard: run ${code(v.tunnelCommand)} then open ${escape(v.dashboardUrl ?? "")}`);
  else if (v.dashboardUrl) lines.push(`Dashboard: ${escape(v.dashboardUrl)}`);
  if (v.gatewayUrl) lines.push(`Dashboard in your browser through spawnbot (keep this link private): ${v.gatewayUrl}`);
  if (v.promptOutput) lines.push(`The prompt run exited with code ${v.promptOutput.exitCode}; last lines:`, codeBlock(v.promptOutput.tail.trimEnd() || "(no output)"));
  return { text: `Connect to ${v.name}: ${v.attachCommand}`, blocks: lines.map(section) };
}

/** Blocks one list message may use for its rows: a page of 25 needs two or three (Slack allows 50 a message). */
const MAX_LIST_SECTIONS = 40;

/** A page of spawns as a monospace table (split into sections under 3,000 characters) and where it sits in the whole list. */
function listMessage(v: ListView, now = Date.now()): SlackMessage {
  if (v.rows.length === 0) return { text: v.empty, blocks: [section(escape(v.empty))] };
  const fence = "```";
  const lines = listTable(v.rows, now).map((l) => escape(l).replace(/```/g, "'''"));
  const chunks = chunkLines(lines, MAX_TEXT - 2 * fence.length).slice(0, MAX_LIST_SECTIONS);
  const note = pageNote(v, (words) => code(commandFor("slack", words)));
  const blocks: Block[] = [section(`*${escape(v.title)}*`), ...chunks.map((c) => section(`${fence}${c.join("\n")}${fence}`))];
  if (note) blocks.push(context(note));
  const plainNote = pageNote(v, (words) => commandFor("slack", words));
  return { text: `${v.title}: ${plural(v.rows.length, "spawn")}${plainNote ? ` (${plainNote})` : ""}`, blocks };
}

function planMessage(v: PlanView): SlackMessage {
  const source = v.modelSource === "flag" ? "from --model" : v.modelSource === "preference" ? "your saved preference" : "the agent's default";
  const lines = [
    "*Dry run — nothing was created*",
    `agent ${escape(v.agent)} · cloud ${escape(v.cloud)} · name \`${escape(v.name)}\``,
    [`model ${code(v.model)} (${source})`, ...(v.host ? [`host ${code(v.host)}`] : []), ...(v.repo ? [`repo ${code(v.repo)}`] : []), ...(v.size ? [`size ${escape(v.size)}`] : []), ...(v.zone ? [`zone ${escape(v.zone)}`] : []), `ttl ${escape(v.ttl)}`].join(" · "),
    `price ${escape(v.price)}`,
    `steps ${v.steps.length ? escape(v.steps.join(", ")) : "none"}${v.prompt ? " · runs the prompt once" : ""}`,
  ];
  return { text: `Dry run: ${v.agent} on ${v.cloud} with ${v.model}`, blocks: [section(lines.join("\n"))] };
}

function settingsMessage(v: SettingsView): SlackMessage {
  const text = `Your OpenRouter key: ${keyLine(v)}. Open the settings form with \`/spawn settings\` or from the bot's Home tab, or get a key by signing in to OpenRouter.`;
  return { text, blocks: [section(text), { type: "actions", elements: [connectOpenRouterButton()] }] };
}

function keyLine(v: SettingsView): string {
  return v.apiKey.source === "yours" ? `yours, ending in ${v.apiKey.last4}` : v.apiKey.source === "per-spawn" ? "none of your own; each spawn gets its own capped key from the bot" : v.apiKey.source === "workspace" ? "none of your own; the bot's shared key is used" : "none set";
}

/** Any view as a message (status views too, e.g. the answer to `status`). */
export function message(view: View): SlackMessage {
  switch (view.kind) {
    case "status": {
      const m = statusMessage(view);
      return { text: m.text, blocks: m.blocks.filter((b) => b.type !== "actions") }; // buttons live on the thread's root only
    }
    case "connect": return connectMessage(view);
    case "list": return listMessage(view);
    case "plan": return planMessage(view);
    case "settings": return settingsMessage(view);
    case "text": {
      // Lines laid out in columns (help, agents, clouds, keys) need a monospace block to stay aligned, as on Discord.
      const aligned = view.lines.some((l) => /\S {2,}\S/.test(l));
      const body = aligned ? codeBlock(view.lines.join("\n")) : view.lines.map(escape).join("\n");
      const text = view.title ? `*${escape(view.title)}*\n${body}` : body;
      return { text: view.title ? `${view.title}: ${view.lines.join(" ")}` : view.lines.join(" "), blocks: [section(text || " ")] };
    }
    case "error": {
      const text = `❗ ${escape(view.message)}${view.usage ? `\nusage: ${code(view.usage)}` : ""}`;
      return { text: `error: ${view.message}`, blocks: [section(text)] };
    }
  }
}

/** Block ids of the settings form; view_submission values come back under these. */
export const SETTINGS_FIELDS = {
  apiKey: "api_key", clearApiKey: "clear_api_key", cursorKey: "cursor_key", clearCursorKey: "clear_cursor_key", gitToken: "git_token", clearGitToken: "clear_git_token", addKey: "add_key", modelPrefix: "model__",
} as const;

/** The private settings form (a modal). private_metadata carries where to answer. */
export function settingsModal(v: SettingsView, privateMetadata: string): Block {
  const input = (blockId: string, label: string, element: Block, hint?: string): Block => ({
    type: "input", block_id: blockId, optional: true, label: plain(label), element, ...(hint ? { hint: plain(hint) } : {}),
  });
  const blocks: Block[] = [
    section(`*OpenRouter API key*: ${keyLine(v)}. It is stored encrypted and never shown again; only its last four characters are.`),
    input(SETTINGS_FIELDS.apiKey, "New OpenRouter API key", { type: "plain_text_input", action_id: "value", placeholder: plain("sk-or-v1-… (leave empty to keep the current one)") }),
  ];
  if (v.apiKey.source === "yours") {
    blocks.push(input(SETTINGS_FIELDS.clearApiKey, "Remove my key", { type: "checkboxes", action_id: "value", options: [{ text: plain("Remove my OpenRouter key"), value: "clear" }] }));
  }
  blocks.push(
    section(`*Cursor API key* (for Cursor spawns only; Cursor never gets the OpenRouter key): ${v.cursorKey ? `yours, ending in ${v.cursorKey.last4}` : "none set"}`),
    input(SETTINGS_FIELDS.cursorKey, "New Cursor API key", { type: "plain_text_input", action_id: "value", placeholder: plain("from cursor.com → Dashboard → Integrations (leave empty to keep)") }),
  );
  if (v.cursorKey) {
    blocks.push(input(SETTINGS_FIELDS.clearCursorKey, "Remove my Cursor key", { type: "checkboxes", action_id: "value", options: [{ text: plain("Remove my Cursor key"), value: "clear" }] }));
  }
  blocks.push(
    section(`*Git token* (clones your private repositories for \`--repo\`; sent only to the bot's git host): ${v.gitToken ? `yours, ending in ${v.gitToken.last4}` : "none set"}`),
    input(SETTINGS_FIELDS.gitToken, "New git token", { type: "plain_text_input", action_id: "value", placeholder: plain("ghp_… or github_pat_… (leave empty to keep)") }),
  );
  if (v.gitToken) {
    blocks.push(input(SETTINGS_FIELDS.clearGitToken, "Remove my git token", { type: "checkboxes", action_id: "value", options: [{ text: plain("Remove my git token"), value: "clear" }] }));
  }
  blocks.push(
    { type: "divider" },
    section(`*SSH public keys* (installed on your servers): ${v.keys.length ? v.keys.map((k) => `\`${k.fingerprint}\` ${escape(k.keyType)}${k.comment ? ` ${escape(k.comment)}` : ""}`).join(", ") : "none yet"}`),
    input(SETTINGS_FIELDS.addKey, "Add an SSH public key", { type: "plain_text_input", action_id: "value", placeholder: plain("ssh-ed25519 AAAA… you@laptop") }, "The one line of your ~/.ssh/id_ed25519.pub; remove keys with /spawn keys remove"),
    { type: "divider" },
    section("*Default model per agent* (empty: the agent's default; `--model` still wins)"),
  );
  for (const m of v.models) {
    blocks.push(input(`${SETTINGS_FIELDS.modelPrefix}${m.agent}`, m.name, {
      type: "plain_text_input", action_id: "value", placeholder: plain(m.defaultModel), ...(m.saved ? { initial_value: m.saved } : {}),
    }));
  }
  return {
    type: "modal", callback_id: SETTINGS_CALLBACK, private_metadata: privateMetadata,
    title: plain("spawnbot settings"), submit: plain("Save"), close: plain("Cancel"), blocks,
  };
}

/** Block Kit's limits: a header's text 150 characters, a section's 3,000. */
const MAX_HEADER = 150;
const MAX_SECTION = 3000;

/** The App Home tab: the user's spawns with their actions, this month's costs, and their settings. */
export function homeTab(v: HomeView, now = Date.now()): Block {
  const blocks: Block[] = [
    { type: "header", text: plain("Your spawns") },
  ];
  if (v.spawns.length === 0) blocks.push(section("No spawns yet. Start one in a channel with `/spawn <agent> <cloud>`, e.g. `/spawn codex hetzner`."));
  for (const r of v.spawns) {
    const expiry = r.live && r.expiresAt ? ` · expires in ${formatDuration(Math.max(0, r.expiresAt - now))}` : "";
    blocks.push(section(`*${escape(r.name)}* · ${escape(r.agent)} on ${escape(r.cloud)} · ${escape(r.status)} · ${escape(r.model)}\n${age(r.createdAt, now)} old${expiry} · \`${r.id.slice(0, 8)}\``));
    if (r.live && r.status !== "deleting") blocks.push(spawnButtons(r.id, r.name, r.removal, r.status === "ready"));
  }
  if (v.total > v.spawns.length) {
    blocks.push(context(`showing the newest ${v.spawns.length} of your ${v.total} spawns — \`/spawn list --mine --page 2\` shows the rest, 25 to a page`));
  }
  if (v.costs) {
    // A section holds 3,000 characters; one person's month is a few dozen lines at most.
    blocks.push({ type: "divider" }, { type: "header", text: plain(v.costs.title.slice(0, MAX_HEADER)) }, section(escape(v.costs.lines.join("\n")).slice(0, MAX_SECTION)));
  }
  blocks.push(
    { type: "divider" },
    { type: "header", text: plain("Settings") },
    section(`OpenRouter key: ${keyLine(v.settings)} · SSH keys: ${v.settings.keys.length} · saved models: ${v.settings.models.filter((m) => m.saved).length}`),
    { type: "actions", elements: [{ type: "button", action_id: ACTIONS.openSettings, text: plain("Open settings"), value: "home" }, connectOpenRouterButton()] },
  );
  return { type: "home", blocks };
}

function age(since: number, now = Date.now()): string {
  return formatDuration(Math.max(60_000, now - since));
}
