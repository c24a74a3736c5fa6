// The Connect OpenRouter pages suggest the next command in the syntax of the chat the link came from.
import { describe, expect, it } from "vitest";
import { newLinkHint } from "./bot/index.js";
import { renderPage } from "./openrouter-pages.js";

const expired = (platform?: string) => renderPage({ status: 410, title: "Connect OpenRouter failed", message: "this sign-in link has expired", hint: newLinkHint(platform) });

describe("the Connect OpenRouter pages' hint", () => {
  it("is Slack's slash command for a link asked for in Slack", () => {
    expect(expired("slack")).toContain("this sign-in link has expired; ask the bot for a new link with <code>/spawn settings openrouter</code></p>");
  });

  it("is Discord's slash command with its option for a link asked for in Discord", () => {
    expect(expired("discord")).toContain("ask the bot for a new link with <code>/spawn settings openrouter:True</code></p>");
  });

  it("is the plain command for a link asked for at the console", () => {
    expect(expired("console")).toContain("ask the bot for a new link with <code>settings openrouter</code></p>");
  });

  it("names each chat's form when the link is unknown", () => {
    expect(expired()).toContain("ask the bot for a new link with <code>/spawn settings openrouter</code> in Slack, "
      + "<code>/spawn settings openrouter:True</code> in Discord or <code>settings openrouter</code> in the console</p>");
  });

  it("has a viewport and a style for the command", () => {
    const page = expired("slack");
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toMatch(/<style>[^<]*code\{[^}]*monospace/);
  });
});
