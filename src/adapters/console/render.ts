// Renders the bot's views as terminal text (ANSI colour only on a TTY).
import { pageNote, type ConnectView, type ListView, type PlanView, type SettingsView, type StatusView, type View } from "../../bot/index.js";
import { listTable } from "../common/list-table.js";

const MARK: Record<string, string> = { pending: "·", running: "…", succeeded: "✓", warned: "!", failed: "✗", skipped: "-" };

export interface Style {
  color: boolean;
}

const paint = (style: Style, code: number, s: string) => (style.color ? `\x1b[${code}m${s}\x1b[0m` : s);

export function renderStatus(v: StatusView, style: Style): string[] {
  const lines = [paint(style, 1, `${v.title}  [${v.name} · ${v.status}]`)];
  for (const s of v.steps) {
    const dur = s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)}s)` : "";
    const mark = s.state === "failed" ? paint(style, 31, MARK.failed!) : s.state === "warned" ? paint(style, 33, MARK.warned!) : MARK[s.state] ?? "?";
    lines.push(`  ${mark} ${s.title}${dur}${s.detail ? ` — ${s.detail}` : ""}`);
  }
  for (const f of v.facts ?? []) lines.push(`  ${f}`);
  if (v.result) lines.push(paint(style, v.result.outcome === "ready" ? 32 : 31, `  ${v.result.message}`));
  // The console's Connect button: offered once there is something to connect to.
  if (v.result?.outcome === "ready") lines.push(`  \`connect ${v.name}\` shows how to connect again`);
  return lines;
}

/** A run in flight in one line, for a terminal too small for its whole block: name, status and the step it is on. */
export function renderStatusLine(v: StatusView): string {
  const step = v.steps.find((s) => s.state === "running") ?? v.steps.find((s) => s.state === "pending");
  return `[${v.name} · ${v.status}]${step ? ` ${MARK[step.state]} ${step.title}` : ""}`;
}

/** One line per step change, for logs and pipes (no redraws). */
export function renderStepLine(v: StatusView, step: StatusView["steps"][number]): string {
  const dur = step.durationMs !== undefined ? ` (${(step.durationMs / 1000).toFixed(1)}s)` : "";
  return `[${v.name}] ${MARK[step.state] ?? "?"} ${step.title}${dur}${step.detail ? ` — ${step.detail}` : ""}`;
}

function renderConnect(v: ConnectView): string[] {
  const lines = [`Connect to ${v.name} (private to you):`, `  ${v.attachCommand}`];
  if (v.knownHostsLine) lines.push(`  host key ${v.hostKeyFingerprint}; to verify it, add to ~/.ssh/known_hosts:`, `  ${v.knownHostsLine}`);
  if (v.tunnelCommand) lines.push(`  dashboard: run \`${v.tunnelCommand}\` then open ${v.dashboardUrl}`);
  else if (v.dashboardUrl) lines.push(`  dashboard: ${v.dashboardUrl}`);
  if (v.gatewayUrl) lines.push(`  dashboard in your browser, through spawnbot (keep this link private): ${v.gatewayUrl}`);
  if (v.promptOutput) {
    lines.push(`  the prompt run exited with code ${v.promptOutput.exitCode}; last lines of its output:`);
    for (const l of v.promptOutput.tail.trimEnd().split("\n")) lines.push(`    ${l}`);
  }
  return lines;
}

function renderList(v: ListView): string[] {
  if (v.rows.length === 0) return [v.empty];
  const note = pageNote(v);
  return [`${v.title}:`, ...listTable(v.rows).map((l) => `  ${l}`), ...(note ? [note] : [])];
}

function renderPlan(v: PlanView): string[] {
  return [
    "Dry run — nothing was created:",
    `  agent  ${v.agent}`,
    `  cloud  ${v.cloud}`,
    `  model  ${v.model} (${v.modelSource === "flag" ? "from --model" : v.modelSource === "preference" ? "your saved preference" : "the agent's default"})`,
    `  name   ${v.name}`,
    ...(v.host ? [`  host   ${v.host}`] : []),
    ...(v.repo ? [`  repo   ${v.repo}`] : []),
    ...(v.size ? [`  size   ${v.size}`] : []),
    ...(v.zone ? [`  zone   ${v.zone}`] : []),
    `  steps  ${v.steps.length ? v.steps.join(", ") : "none"}`,
    `  ttl    ${v.ttl}`,
    `  price  ${v.price}`,
    ...(v.prompt ? ["  runs the prompt once instead of the interactive agent"] : []),
  ];
}

function renderSettings(v: SettingsView): string[] {
  const key = v.apiKey.source === "yours" ? `yours, ending in ${v.apiKey.last4}` : v.apiKey.source === "per-spawn" ? "the bot makes one per spawn (OPENROUTER_MANAGEMENT_KEY)" : v.apiKey.source === "workspace" ? "the bot's (OPENROUTER_API_KEY)" : "none set";
  return [
    "Your settings:",
    `  OpenRouter key: ${key} (in chat, set yours in the private settings form)`,
    `  Cursor key: ${v.cursorKey ? `yours, ending in ${v.cursorKey.last4}` : "none set"} (Cursor spawns only; Cursor never gets the OpenRouter key)`,
    `  Git token: ${v.gitToken ? `yours, ending in ${v.gitToken.last4}` : "none set"} (private repositories for --repo)`,
    `  SSH keys: ${v.keys.length ? v.keys.map((k) => k.fingerprint).join(", ") : "none; add one with `keys add`"}`,
    ...v.models.map((m) => `  ${m.agent.padEnd(9)} ${m.saved ?? `${m.defaultModel} (default)`}`),
  ];
}

export function renderView(view: View, style: Style): string[] {
  switch (view.kind) {
    case "status": return renderStatus(view, style);
    case "connect": return renderConnect(view);
    case "list": return renderList(view);
    case "plan": return renderPlan(view);
    case "text": return view.title ? [`${view.title}:`, ...view.lines.map((l) => (l ? `  ${l}` : ""))] : view.lines;
    case "settings": return renderSettings(view);
    case "error": return [paint(style, 31, `error: ${view.message}`), ...(view.usage ? [`usage: ${view.usage}`] : [])];
  }
}
