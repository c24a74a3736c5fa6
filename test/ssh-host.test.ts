// The ssh2 RemoteHost against a real OpenSSH server: commands, SFTP modes, pinning, refusals.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostAuthError, HostKeyChangedError } from "../src/orchestrator/remote/errors.js";
import { loadOrCreateBotKey, type BotKey } from "../src/orchestrator/remote/bot-key.js";
import { SshHost } from "../src/orchestrator/remote/ssh-host.js";
import { startSshd, killUserProcesses, type TestSshd } from "./support/sshd.js";
import { mkdtempSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

let sshd: TestSshd;
let key: BotKey;

beforeAll(async () => {
  sshd = await startSshd("sbt-sshhost");
  key = loadOrCreateBotKey(mkdtempSync(path.join(os.tmpdir(), "spawnbot-key-")));
  sshd.authorize(key.publicKey);
});
afterAll(async () => {
  killUserProcesses("sbt-sshhost");
  await sshd?.stop();
});

describe("SshHost against a real sshd", () => {
  it("runs a command and reports its output and exit code", async () => {
    const host = await SshHost.connect({ host: "127.0.0.1", port: sshd.port, user: sshd.user }, key);
    const r = await host.run("echo hello; echo oops >&2; exit 3");
    expect(r).toEqual({ code: 3, stdout: "hello\n", stderr: "oops\n" });
    expect(host.hostKey).toBe(sshd.hostKey);
    await host.close();
  });

  it("writes a file with mode 600 even over an existing 644 file", async () => {
    const host = await SshHost.connect({ host: "127.0.0.1", port: sshd.port, user: sshd.user }, key);
    await host.run("mkdir -p sub && echo old > sub/f && chmod 644 sub/f");
    await host.writeFile("sub/f", "secret\n", 0o600);
    expect(statSync(path.join(sshd.home, "sub/f")).mode & 0o777).toBe(0o600);
    expect((await host.run("cat sub/f")).stdout).toBe("secret\n");
    await host.close();
  });

  it("refuses to connect when the pinned host key changed", async () => {
    const pinned = sshd.hostKey;
    await sshd.rotateHostKey();
    await expect(
      SshHost.connect({ host: "127.0.0.1", port: sshd.port, user: sshd.user }, { ...key, pinnedHostKey: pinned }),
    ).rejects.toBeInstanceOf(HostKeyChangedError);
  });

  it("tells the user how to authorize the bot's key when the host refuses it", async () => {
    const other = loadOrCreateBotKey(mkdtempSync(path.join(os.tmpdir(), "spawnbot-key-")));
    const err = await SshHost.connect({ host: "127.0.0.1", port: sshd.port, user: sshd.user }, other).catch((e) => e);
    expect(err).toBeInstanceOf(HostAuthError);
    expect(err.message).toContain(other.publicKey);
    expect(err.message).toContain("authorized_keys");
  });
});

describe("port forwarding over the SSH connection", () => {
  it("carries HTTP to a server listening only on the host's loopback", async () => {
    const http = await import("node:http");
    const server = http.createServer((req, res) => res.end(`hello from ${req.url}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const host = await SshHost.connect({ host: "127.0.0.1", port: sshd.port, user: sshd.user }, { ...key, pinnedHostKey: sshd.hostKey });
    const fwd = await host.forwardPort(port);
    const body = await (await fetch(`http://127.0.0.1:${fwd.localPort}/dashboard`)).text();
    expect(body).toBe("hello from /dashboard");
    await fwd.close();
    await host.close();
    server.close();
  });
});

describe("the bot's key", () => {
  it("is always one ssh2 can read back (a generated key sometimes is not)", () => {
    // 400 fresh keys: at the measured 1-in-200 rate an unchecked generator fails here 87 % of runs.
    for (let i = 0; i < 400; i++) {
      const key = loadOrCreateBotKey(mkdtempSync(path.join(os.tmpdir(), "spawnbot-keygen-")));
      expect(key.publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ spawnbot$/);
    }
  });
});
