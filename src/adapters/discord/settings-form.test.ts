import { describe, expect, it } from "vitest";
import type { SettingsView } from "../../bot/views/views.js";
import { readSettings, settingsModal } from "./settings-form.js";

const settings: SettingsView = {
  kind: "settings", apiKey: { source: "yours", last4: "c0de" }, keys: [],
  models: [
    { agent: "codex", name: "Codex CLI", saved: "openai/gpt-5", defaultModel: "openai/gpt-5.3-codex" },
    { agent: "claude", name: "Claude Code", defaultModel: "anthropic/claude-sonnet-4.5" },
  ],
};
const form = (fields: Record<string, string>) => (id: string) => fields[id] ?? "";

describe("the settings modal", () => {
  it("fits Discord's five components, never fills in the key, and lists the saved models to edit", () => {
    const modal = settingsModal(settings);
    expect(modal.components.length).toBeLessThanOrEqual(5);
    const body = JSON.stringify(modal);
    expect(body).toContain("ending in c0de");
    expect(body).toContain('"value":"codex=openai/gpt-5"');
    expect(modal.components.filter((c) => "component" in c && c.component.custom_id === "api_key").map((c) => "component" in c && "value" in c.component)).toEqual([false]);
  });

  it("reads the form: a new key, `remove`, and a removed model line going back to the default", () => {
    expect(readSettings(form({ api_key: " sk-or-v1-abc ", models: "claude = anthropic/claude-opus-4" }), settings.models)).toEqual({
      input: { apiKey: "sk-or-v1-abc", models: { claude: "anthropic/claude-opus-4", codex: "" } }, errors: {},
    });
    expect(readSettings(form({ api_key: "Remove", models: "codex=openai/gpt-5" }), settings.models).input).toEqual({ clearApiKey: true, models: { codex: "openai/gpt-5" } });
  });

  it("reads the Cursor key field: a new key, or `remove` to delete it; the field is never filled in", () => {
    expect(readSettings(form({ cursor_key: " key_abc " }), []).input).toEqual({ cursorKey: "key_abc", models: {} });
    expect(readSettings(form({ cursor_key: "REMOVE" }), []).input).toEqual({ clearCursorKey: true, models: {} });
    const modal = JSON.stringify(settingsModal({ ...settings, cursorKey: { last4: "9f9f" } }));
    expect(modal).toContain("Yours ends in 9f9f; Cursor never gets the OpenRouter key");
    expect(modal).toContain('"custom_id":"cursor_key"');
  });

  it("names each line that is not agent=model", () => {
    const { errors } = readSettings(form({ models: "codex=openai/gpt-5\n\njust words here" }), settings.models);
    expect(Object.values(errors)).toEqual(["line 3 of the default models is not agent=model; write e.g. codex=openai/gpt-5.3-codex"]);
  });
});
