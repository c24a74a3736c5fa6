// The dashboard link a user gets in the path form (no tunnel domain), end to end: spawn → private
// gateway URL → the bot's gateway → one SSH connection → the dashboard on the host's loopback;
// deleting the spawn kills the link. The subdomain form is proven in test/tunnel-browser.test.ts.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TunnelGateway, startGatewayServer } from "../src/orchestrator/index.js";
import type { ConnectView } from "../src/bot/views/views.js";
import { makeBot, RecordingConversation, request, type TestBot, authorizeUsers } from "./support/bot.js";
import { killUserProcesses, startSshd, type TestSshd } from "./support/sshd.js";
import { TEST_AGENT } from "./support/test-agent.js";

const USER = "sbt-gateway";
let sshd: TestSshd;
let bot: TestBot;
let upstream: http.Server;
let upstreamHits = 0;
let gateway: TunnelGateway;
let gatewayServer: { port: number; close(): Promise<void> };
let link: string;
const conv = new RecordingConversation();

beforeAll(async () => {
  sshd = await startSshd(USER);
  // The agent's dashboard, listening only on the host's loopback.
  upstream = http.createServer((req, res) => {
    upstreamHits++;
    res.end(`dashboard at ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  const port = (upstream.address() as { port: number }).port;
  const dashAgent = { ...TEST_AGENT, key: "dashagent", name: "Dashboard Agent", dashboard: { port, path: "/#token={token}" } };
  gateway = new TunnelGateway({ resolve: (hash) => bot.core.resolveTunnel(hash) });
  gatewayServer = await startGatewayServer(gateway, 0);
  bot = makeBot({ agents: [dashAgent], publicUrl: `http://127.0.0.1:${gatewayServer.port}` });
  bot.core.attachGateway(gateway);
  await authorizeUsers(sshd, bot.core, "test", ["U1"]);
  await bot.core.handle(request(`spawn dashagent ssh --host ${USER}@127.0.0.1:${sshd.port} --name dash`), conv);
  await bot.core.idle();
  link = (conv.private.find((v) => v.kind === "connect") as ConnectView).gatewayUrl!;
});
afterAll(async () => {
  await gateway?.close();
  await gatewayServer?.close();
  upstream?.close();
  killUserProcesses(USER);
  await sshd?.stop();
});

describe("the dashboard link through the bot's gateway", () => {
  it("is sent privately with the spawn's connect details, never publicly", () => {
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gatewayServer.port}/t/[a-z2-7]{26}/#token=[0-9a-f]{32}$`));
    expect(JSON.stringify([conv.public, conv.statuses])).not.toContain("/t/");
  });

  it("serves the dashboard from the host's loopback", async () => {
    const res = await fetch(link.replace(/#.*$/, "") + "status?x=1");
    expect(await res.text()).toBe("dashboard at /status?x=1");
  });

  it("stores only the token's hash", async () => {
    const token = link.split("/t/")[1]!.split("/")[0]!;
    expect(await bot.store.findTunnelToken(token)).toBeUndefined();
  });

  it("gives the owner a fresh working link with connect", async () => {
    const c = new RecordingConversation();
    await bot.core.handle(request("connect dash"), c);
    const again = (c.private.at(-1) as ConnectView).gatewayUrl!;
    expect(again).not.toBe(link);
    expect(await (await fetch(again.replace(/#.*$/, ""))).text()).toBe("dashboard at /");
  });

  it("stops working when the spawn is deleted, without reaching the host", async () => {
    await bot.core.handle(request("delete dash"), new RecordingConversation());
    const hits = upstreamHits;
    const res = await fetch(link.replace(/#.*$/, ""));
    expect(res.status).toBe(404);
    expect(upstreamHits).toBe(hits);
    expect(gateway.openConnections()).toBe(0);
  });
});
