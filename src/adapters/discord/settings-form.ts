// The private settings form as a Discord modal, and its submitted fields as the core's
// SettingsInput. A modal holds at most five top-level components, so the default models share
// one paragraph of `agent=model` lines. The key field is never filled in: the key is not echoed.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData, type APITextInputComponent } from "discord.js";
import type { SettingsErrors, SettingsInput } from "../../bot/index.js";
import type { SettingsView } from "../../bot/index.js";
import { settingsSummary } from "./render.js";

export const SETTINGS_MODAL_ID = "spawn:settings";
export const SETTINGS_FIELDS = { apiKey: "api_key", cursorKey: "cursor_key", addKey: "add_key", models: "models" } as const;
/** Typed into the key field, removes the user's own key. */
const REMOVE_WORD = "remove";
const MODEL_LINE_RE = /^([^=\s]+)\s*=\s*(\S*)$/;

function input(customId: string, style: TextInputStyle, extra: Partial<APITextInputComponent> = {}): APITextInputComponent {
  return { type: ComponentType.TextInput, custom_id: customId, style, required: false, ...extra };
}

export function settingsModal(v: SettingsView): APIModalInteractionResponseCallbackData {
  const savedLines = v.models.filter((m) => m.saved).map((m) => `${m.agent}=${m.saved}`).join("\n");
  const example = v.models[0] ? `${v.models[0].agent}=${v.models[0].defaultModel}` : "agent=provider/model";
  return {
    custom_id: SETTINGS_MODAL_ID,
    title: "spawnbot settings",
    components: [
      { type: ComponentType.TextDisplay, content: `Your OpenRouter key: ${settingsSummary(v)}. It is stored encrypted and never shown again; only its last four characters are. SSH keys on file: ${v.keys.length}.` },
      {
        type: ComponentType.Label, label: "New OpenRouter API key", description: `Leave empty to keep the current one; type ${REMOVE_WORD} to delete yours.`,
        component: input(SETTINGS_FIELDS.apiKey, TextInputStyle.Short, { placeholder: "sk-or-v1-…", max_length: 300 }),
      },
      {
        type: ComponentType.Label, label: "New Cursor API key (Cursor spawns only)",
        description: `${v.cursorKey ? `Yours ends in ${v.cursorKey.last4}` : "None set"}; Cursor never gets the OpenRouter key. Type ${REMOVE_WORD} to delete yours.`,
        component: input(SETTINGS_FIELDS.cursorKey, TextInputStyle.Short, { placeholder: "from cursor.com → Dashboard → Integrations", max_length: 300 }),
      },
      {
        type: ComponentType.Label, label: "Add an SSH public key", description: "The one line of your ~/.ssh/id_ed25519.pub; remove keys with /spawn keys remove.",
        component: input(SETTINGS_FIELDS.addKey, TextInputStyle.Paragraph, { placeholder: "ssh-ed25519 AAAA… you@laptop" }),
      },
      {
        type: ComponentType.Label, label: "Default models, one agent=model a line", description: "A line you remove goes back to the agent's default; --model still wins.",
        component: input(SETTINGS_FIELDS.models, TextInputStyle.Paragraph, { placeholder: example, ...(savedLines ? { value: savedLines } : {}) }),
      },
    ],
  };
}

/**
 * The submitted form as the core's input. `saved` is each agent's saved model now: an agent whose
 * line was removed goes back to its default. Lines that are not agent=model are errors here.
 */
export function readSettings(field: (id: string) => string, saved: SettingsView["models"]): { input: SettingsInput; errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  const key = field(SETTINGS_FIELDS.apiKey).trim();
  const cursorKey = field(SETTINGS_FIELDS.cursorKey).trim();
  const models = new Map<string, string>();
  field(SETTINGS_FIELDS.models).split("\n").map((l) => l.trim()).forEach((line, i) => {
    if (line === "") return;
    const m = MODEL_LINE_RE.exec(line);
    if (m) models.set(m[1]!.toLowerCase(), m[2]!);
    else errors[`models:${i + 1}`] = `line ${i + 1} of the default models is not agent=model; write e.g. codex=openai/gpt-5.3-codex`;
  });
  for (const m of saved) if (m.saved && !models.has(m.agent)) models.set(m.agent, "");
  const addKey = field(SETTINGS_FIELDS.addKey).trim();
  return {
    input: {
      ...(key.toLowerCase() === REMOVE_WORD ? { clearApiKey: true } : key ? { apiKey: key } : {}),
      ...(cursorKey.toLowerCase() === REMOVE_WORD ? { clearCursorKey: true } : cursorKey ? { cursorKey } : {}),
      ...(addKey ? { addKey } : {}),
      models: Object.fromEntries(models),
    },
    errors,
  };
}

/** The core's field errors as lines for a private answer (the form cannot show them beside the fields). */
export function errorLines(errors: SettingsErrors): string[] {
  return Object.entries(errors).map(([field, msg]) => {
    if (field === "apiKey") return `OpenRouter key: ${msg}`;
    if (field === "addKey") return `SSH key: ${msg}`;
    if (field === "cursorKey") return `Cursor key: ${msg}`;
    if (field === "gitToken") return `git token: ${msg}`;
    if (field.startsWith("model:")) return `model for ${field.slice("model:".length)}: ${msg}`;
    return msg;
  });
}
