// A standalone http.Server for the gateway: tunnel hosts and paths to the gateway, then the extra routes, 404 for the rest.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { TunnelGateway } from "./gateway.js";

/** A route of the public server besides the tunnels (the bot's own pages): true if it answered. */
export type ExtraRoute = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Convenience: an http.Server on host:port wired to the gateway and any extra routes (404 for everything else). */
export async function startGatewayServer(
  gateway: TunnelGateway,
  port: number,
  host = "127.0.0.1",
  routes: readonly ExtraRoute[] = [],
): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (gateway.handleRequest(req, res)) return;
    if (routes.some((route) => route(req, res))) return;
    req.resume();
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
  });
  server.on("upgrade", (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  // Upgraded sockets (WebSockets) leave the server's bookkeeping; track them to close them too.
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
