// The bot's public HTTP server, on when SPAWNBOT_PUBLIC_URL is set: agents' dashboards at
// <token>.<SPAWNBOT_TUNNEL_DOMAIN> (or, without one, under /t/<token>/) through the orchestrator's
// tunnel gateway, and the Connect OpenRouter pages under /oauth/openrouter/ (answered by
// the bot core) on the bot's own host only, and the routes a chat adapter serves there (Discord's
// interactions endpoint). Anything else is a 404.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BotCore } from "./bot/index.js";
import type { Logger } from "./log.js";
import { openRouterCallbackRoute } from "./openrouter-callback.js";
import { TunnelGateway, startGatewayServer } from "./orchestrator/index.js";

export async function startPublicServer(
  core: BotCore,
  cfg: { port: number; host: string; tunnelDomain?: string; publicUrl?: string },
  logger: Logger,
  /** More routes on the bot's own host, each answering true for a request it took. */
  routes: readonly ((req: IncomingMessage, res: ServerResponse) => boolean)[] = [],
): Promise<{ port: number; close(): Promise<void> }> {
  // The gateway claims every request to a tunnel host, so the routes below only ever answer on the bot's own host.
  const gateway = new TunnelGateway({ resolve: (hash) => core.resolveTunnel(hash), tunnelDomain: cfg.tunnelDomain, logger: logger.child({ part: "gateway" }) });
  core.attachGateway(gateway);
  const connect = openRouterCallbackRoute({
    page: (state) => core.connectOpenRouterPage(state),
    confirm: (state) => core.confirmConnectOpenRouter(state),
    callback: (state, code) => core.connectOpenRouterCallback(state, code),
  }, { secureCookies: cfg.publicUrl?.startsWith("https:") ?? false }, logger.child({ part: "openrouter-connect" }));
  const server = await startGatewayServer(gateway, cfg.port, cfg.host, [connect, ...routes]);
  return { port: server.port, close: async () => { await gateway.close(); await server.close(); } };
}
