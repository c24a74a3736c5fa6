// A TCP port on 127.0.0.1 that was free a moment ago, for a server that must be told its port
// before it starts (sshd's config, the bot's public URL, SLACK_PORT of a child bot).
import net from "node:net";

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}
