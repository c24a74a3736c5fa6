// Hostile settings forms through the bot core: every field of a submitted form (OpenRouter key,
// SSH key line, per-agent models, including made-up agent names) filled with generated hostile
// values. The core checks and saves each without an exception; a refused form changes nothing
// and explains each bad field in one short printable line.
import { describe, expect, it } from "vitest";
import type { SettingsInput } from "../src/bot/commands/user-settings.js";
import { HOSTILE_KEY_BLOBS, pick, prng, valuePool } from "./support/hostile-input.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const FORMS = 2_000;
/** Slack shows a field error under the field: one short line. */
const MAX_FIELD_ERROR = 300;
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u;

function hostileForm(random: () => number, pool: readonly string[]): SettingsInput {
  const value = () => (random() < 0.05 ? pick(random, pool).repeat(2_000) : pick(random, pool));
  const form: SettingsInput = {};
  if (random() < 0.5) form.apiKey = random() < 0.3 ? `sk-or-v1-${value()}` : value();
  if (random() < 0.2) form.clearApiKey = true;
  if (random() < 0.5) form.addKey = `${pick(random, ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", value()])} ${pick(random, HOSTILE_KEY_BLOBS)} ${value()}`;
  if (random() < 0.5) form.models = { [pick(random, ["codex", "testagent", value()])]: value(), ...(random() < 0.3 ? { [value()]: "openai/gpt-5" } : {}) };
  return form;
}

describe(`${FORMS} generated hostile settings forms`, () => {
  it("are checked and saved without an exception; a refused form changes nothing and says why in one printable line per field", async () => {
    const bot = makeBot();
    const random = prng(SEED);
    const pool = valuePool("/tmp/sbfuz-settings-canary");
    let refused = 0;
    for (let i = 0; i < FORMS; i++) {
      const form = hostileForm(random, pool);
      const context = `seed ${SEED}, form #${i}: ${JSON.stringify(form).slice(0, 300)}`;
      const conv = new RecordingConversation();
      const lastAudit = (await bot.store.listAudit({ limit: 1 }))[0]?.id;
      const checked = bot.core.checkSettings(form);
      const errors = await bot.core.saveSettings(request("settings", { id: `U${i % 3}`, name: "alice" }), conv, form);
      expect(errors, context).toEqual(checked);
      expect(errors.form, context).toBeUndefined(); // the internal-error answer
      for (const message of Object.values(errors)) {
        expect(message.length, context).toBeLessThanOrEqual(MAX_FIELD_ERROR);
        expect(UNPRINTABLE.test(message), `${context}: ${JSON.stringify(message)}`).toBe(false);
      }
      if (Object.keys(errors).length > 0) {
        refused++;
        expect([...conv.public, ...conv.private], context).toEqual([]);
        expect((await bot.store.listAudit({ limit: 1 }))[0]?.id, context).toBe(lastAudit);
      } else {
        expect(conv.private.length, context).toBeGreaterThanOrEqual(1);
        expect(JSON.stringify(conv.private), context).not.toMatch(/internal error/);
      }
    }
    expect(refused).toBeGreaterThan(FORMS / 2);
    expect(refused).toBeLessThan(FORMS);
  });
});
