// How a person types one of the bot's commands on each chat platform: Slack's `/spawn <words>`,
// Discord's slash command with named options, the console's plain words. For hints written
// outside a chat (the Connect OpenRouter pages) and for Discord's own messages.

/** The platforms whose syntax is known; any other (a test harness, say) gets the plain words. */
export const COMMAND_PLATFORMS = ["slack", "discord", "console"] as const;

/** `words` (the core's grammar, e.g. "list --mine --page 2") as typed on `platform`. */
export function commandFor(platform: string, words: string): string {
  switch (platform) {
    case "slack": return `/spawn ${words}`;
    case "discord": return `/spawn ${discordSyntax(words)}`;
    default: return words;
  }
}

/**
 * The core's words as Discord's slash command takes them: `list --mine --page 3 codex` is
 * `list scope:mine page:3 filter:codex`, `settings openrouter` is `settings openrouter:True`.
 */
export function discordSyntax(words: string): string {
  const parts = words.split(" ");
  const out = [parts[0]!];
  if (parts[0] === "settings") return parts[1] === "openrouter" ? "settings openrouter:True" : "settings";
  for (let i = 1; i < parts.length; i++) {
    const word = parts[i]!;
    if (word === "--mine" || word === "--all") out.push(`scope:${word.slice(2)}`);
    else if (word === "--page") out.push(`page:${parts[++i] ?? ""}`);
    else out.push(`filter:${word}`);
  }
  return out.join(" ");
}
