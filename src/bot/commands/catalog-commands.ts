// `agents`, `clouds` and `help`: what the bot offers, marked with what policy allows where the
// user asks (a channel's allowlist, the local cloud, the spawn limits).
import type { CoreContext, Invocation } from "../context.js";
import { allowedHere } from "../access/policy.js";
import { helpText } from "../grammar/usage.js";
import { text } from "../views/views.js";

const NOT_HERE = " (not allowed here)";

export async function handleAgents(ctx: CoreContext, inv: Invocation): Promise<void> {
  const here = allowedHere(ctx, inv);
  return inv.conv.whisper(text(
    ctx.orchestrator.agents.map((a) => `${a.key.padEnd(9)} ${a.name} — default model ${a.defaultModel}; model via ${a.modelWiring}${here.agent(a.key) ? "" : NOT_HERE}`),
    "Agents",
  ));
}

export async function handleClouds(ctx: CoreContext, inv: Invocation): Promise<void> {
  const here = allowedHere(ctx, inv);
  return inv.conv.whisper(text(
    ctx.catalog.clouds.map((key) => {
      const c = ctx.orchestrator.cloud(key);
      if (!c) return `${key.padEnd(13)} not set up on this bot: ${ctx.cloudSetup[key]}`;
      return `${key.padEnd(13)} ${c.title} — ${c.description}${here.cloud(key) ? "" : NOT_HERE}`;
    }),
    "Clouds",
  ));
}

export async function handleHelp(ctx: CoreContext, inv: Invocation, topic?: string): Promise<void> {
  const lines = helpText(topic).split("\n");
  if (!topic || topic === "spawn") lines.push("", ...allowedHere(ctx, inv).summary);
  return inv.conv.whisper(text(lines));
}
