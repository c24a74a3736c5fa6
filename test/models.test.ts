// Models that exist: the bot reads OpenRouter's model list (the fake's, on 127.0.0.1), refuses an
// unknown id with the nearest ones, lets ids through on their shape when the list cannot be read,
// reads the list once a day, and Discord's autocomplete offers ids from it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { suggest } from "../src/adapters/discord/autocomplete.js";
import { AGENTS } from "../src/orchestrator/index.js";
import { MODEL_LIST_REFRESH_MS, OpenRouterModels } from "../src/bot/spawns/openrouter-models.js";
import { captureLogger } from "./support/capture.js";
import { FAKE_MODEL_IDS, OpenRouterFake } from "./fakes/openrouter-fake.js";
import { makeBot, RecordingConversation, request } from "./support/bot.js";

let fake: OpenRouterFake;
beforeAll(async () => void (fake = await OpenRouterFake.start()));
afterAll(() => fake.close());

const botOnFake = () => makeBot({ settings: { openrouter: { api: fake.apiUrl } } });
const last = (conv: RecordingConversation) => conv.lastPrivate() as { kind: string; message?: string; model?: string };

describe("models checked against OpenRouter's list", () => {
  it("refuses an unknown --model with the nearest ids and starts nothing", async () => {
    const bot = botOnFake();
    const conv = new RecordingConversation();
    await bot.core.handle(request("spawn codex local --model anthropic/claude-sonet-4.6"), conv);
    expect(last(conv)).toMatchObject({ kind: "error" });
    expect(last(conv).message).toContain("OpenRouter has no model 'anthropic/claude-sonet-4.6' — did you mean 'anthropic/claude-sonnet-4.6'");
    expect(await bot.store.listForOwner({ platform: "test", userId: "U1" }, { limit: 10 })).toEqual([]);
  });

  it("refuses an unknown model in a dry run and in prefs, and keeps no preference", async () => {
    const bot = botOnFake();
    const conv = new RecordingConversation();
    await bot.core.handle(request("spawn codex local --dry-run --model openai/gpt-5.3-codx"), conv);
    expect(last(conv).message).toContain("did you mean 'openai/gpt-5.3-codex',");
    await bot.core.handle(request("prefs model codex openai/gtp-5"), conv);
    expect(last(conv)).toMatchObject({ kind: "error" });
    expect(last(conv).message).toContain("'openai/gpt-5'");
    expect(await bot.store.getModelPreference({ platform: "test", userId: "U1" }, "codex")).toBeUndefined();
    await bot.core.handle(request("prefs model codex totally/unheard-of-model-name"), conv);
    expect(last(conv).message).toBe("OpenRouter has no model 'totally/unheard-of-model-name'; find the id at openrouter.ai/models");
  });

  it("takes a model that is on the list", async () => {
    const bot = botOnFake();
    const conv = new RecordingConversation();
    await bot.core.handle(request("prefs model codex openai/gpt-5"), conv);
    expect(await bot.store.getModelPreference({ platform: "test", userId: "U1" }, "codex")).toBe("openai/gpt-5");
    await bot.core.handle(request("spawn pi local --dry-run --model deepseek/deepseek-v3.2"), conv);
    expect(last(conv)).toMatchObject({ kind: "plan", model: "deepseek/deepseek-v3.2", modelSource: "flag" });
  });

  it("refuses an unknown model in the settings form beside its field and saves nothing", async () => {
    const bot = botOnFake();
    const conv = new RecordingConversation();
    const errors = await bot.core.saveSettings(request(""), conv, { models: { codex: "openai/gpt-5", pi: "anthropic/claude-sonnet-9" } });
    expect(errors["model:pi"]).toContain("OpenRouter has no model 'anthropic/claude-sonnet-9'");
    expect(errors["model:pi"]).toContain("'anthropic/claude-sonnet-4.6'");
    expect(await bot.store.getModelPreference({ platform: "test", userId: "U1" }, "codex")).toBeUndefined();
  });

  it("checks only the shape when the list cannot be read, and does not refuse the spawn", async () => {
    fake.failModels(503, 1);
    const bot = botOnFake();
    const conv = new RecordingConversation();
    await bot.core.handle(request("spawn codex local --dry-run --model acme/brand-new-model"), conv);
    expect(last(conv)).toMatchObject({ kind: "plan", model: "acme/brand-new-model" });
    await bot.core.handle(request("spawn codex local --dry-run --model not-a-model-id"), conv);
    expect(last(conv)).toMatchObject({ kind: "error" }); // the shape rule still holds
  });

  it("lets ids through when OpenRouter is not reachable at all", async () => {
    const bot = makeBot({ settings: { openrouter: { api: "http://127.0.0.1:9/api/v1" } } });
    const conv = new RecordingConversation();
    await bot.core.handle(request("spawn codex local --dry-run --model acme/brand-new-model"), conv);
    expect(last(conv)).toMatchObject({ kind: "plan", model: "acme/brand-new-model" });
  });
});

describe("the model list cache", () => {
  it("reads the list once and again only after a day", async () => {
    let now = 1_000_000;
    const models = new OpenRouterModels(fake.apiUrl, captureLogger(), () => now);
    const before = fake.modelListCalls;
    expect(await models.check("openai/gpt-5")).toEqual({ kind: "known" });
    expect(await models.check("openai/gpt-5-mini")).toEqual({ kind: "known" });
    expect(fake.modelListCalls).toBe(before + 1);

    fake.models = [...FAKE_MODEL_IDS, "openai/gpt-6"];
    expect((await models.check("openai/gpt-6")).kind).toBe("unknown"); // not yet: the list is an hour old at most
    now += MODEL_LIST_REFRESH_MS;
    expect(await models.check("openai/gpt-6")).toEqual({ kind: "known" });
    expect(fake.modelListCalls).toBe(before + 2);
    fake.models = [...FAKE_MODEL_IDS];
  });

  it("keeps the last list when a refresh fails", async () => {
    let now = 5_000_000;
    const models = new OpenRouterModels(fake.apiUrl, captureLogger(), () => now);
    expect((await models.check("openai/gpt-5")).kind).toBe("known");
    now += MODEL_LIST_REFRESH_MS;
    fake.failModels(500, 1);
    expect((await models.check("openai/gpt-5")).kind).toBe("known");
    expect((await models.check("openai/gpt-5x-typo")).kind).toBe("unknown");
  });
});

describe("current default models", () => {
  it.each(AGENTS.map((a) => [a.key, a.defaultModel]))("%s defaults to %s, a model on OpenRouter's current list", (_key, model) => {
    expect(FAKE_MODEL_IDS).toContain(model);
    expect(model).not.toBe("anthropic/claude-sonnet-4.5"); // Claude Code warns that it is retiring
  });
});

describe("Discord's model autocomplete", () => {
  it("offers OpenRouter's ids matching what is typed, after the saved and default models", async () => {
    const bot = botOnFake();
    const conv = new RecordingConversation();
    await bot.core.handle(request("prefs model codex openai/gpt-5"), conv); // reads the list
    const home = await bot.core.homeView({ platform: "test", user: { id: "U1", name: "alice" } });
    const typedAnthropic = suggest("model", "anthropic/", { agent: "claude" }, home).map((c) => c.value);
    expect(typedAnthropic).toEqual(FAKE_MODEL_IDS.filter((id) => id.startsWith("anthropic/")));
    const typedGemini = suggest("model", "gemini", { agent: "codex" }, home).map((c) => c.value);
    expect(typedGemini).toEqual(["google/gemini-3-pro-preview", "google/gemini-2.5-pro", "google/gemini-2.5-flash"]);
    const typedNothing = suggest("model", "", { agent: "codex" }, home).map((c) => c.value);
    expect(typedNothing).toEqual(["openai/gpt-5", "openai/gpt-5.3-codex"]); // saved, then default
  });
});
