// The Hetzner Cloud provider against its wire-level fake: the cloud contract, key registration,
// user-data and labels, throttling, Primary-IP clean-up, error messages, and one real spawn.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HetznerCloud, type HetznerOptions } from "../../src/orchestrator/clouds/hetzner.js";
import { renderUserData } from "../../src/orchestrator/clouds/user-data.js";
import { AGENTS } from "../../src/orchestrator/index.js";
import { describeCloudContract, spec } from "../contracts/cloud-contract.js";
import { HetznerFake } from "../fakes/hetzner-fake.js";
import { spawnEndToEnd } from "../support/cloud-e2e.js";
import { requireTool } from "../support/sshd.js";

const BOOT_DELAY_MS = 300;
const openclaw = AGENTS.find((a) => a.key === "openclaw")!;

/** A fresh ed25519 key and its MD5 fingerprint as OpenSSH computes it (Hetzner shows the same). */
function keyWithFingerprint(): { publicKey: string; md5: string } {
  requireTool("/usr/bin/ssh-keygen", "openssh-client");
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "hetzner-key-")), "id");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "spawnbot", "-f", file]);
  const md5 = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", `${file}.pub`]).toString().split(" ")[1]!.replace(/^MD5:/, "");
  return { publicKey: readFileSync(`${file}.pub`, "utf8").trim(), md5 };
}

const botKey = keyWithFingerprint();

function cloudFor(fake: HetznerFake, over: Partial<HetznerOptions> = {}): HetznerCloud {
  return new HetznerCloud({
    botPublicKey: botKey.publicKey, token: fake.validToken, apiUrl: fake.url, location: "nbg1", defaultSize: "cx23",
    pollIntervalMs: 20, requestTimeoutMs: 500, apiRetry: { baseDelayMs: 50, maxDelayMs: 200 }, ...over,
  });
}

async function withFake(fn: (fake: HetznerFake) => Promise<void>, bootDelayMs = 50): Promise<void> {
  const fake = await HetznerFake.start({ bootDelayMs });
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

const count = (fake: HetznerFake, action: string) => fake.calls.filter((c) => c.action === action).length;

describeCloudContract("hetzner", async () => {
  const fake = await HetznerFake.start({ bootDelayMs: 50 });
  return {
    cloud: cloudFor(fake), fake, smallSize: "cpx11", badSize: "CX-23!",
    withBadCredentials: () => cloudFor(fake, { token: "wrong-token" }),
    close: () => fake.close(),
  };
});

describe("hetzner: keys, user-data and labels", () => {
  it("registers the bot key once under its MD5 fingerprint and reuses it for every server", () => withFake(async (fake) => {
    await cloudFor(fake).createServer(spec());
    await cloudFor(fake).createServer(spec()); // a restarted bot finds the key by fingerprint
    expect(fake.sshKeys()).toEqual([expect.objectContaining({ fingerprint: botKey.md5, publicKey: botKey.publicKey, name: expect.stringMatching(/^spawnbot-[0-9a-f]{8}$/) })]);
    expect(count(fake, "POST /ssh_keys")).toBe(1);
    expect(fake.createBodies.map((b) => b.ssh_keys)).toEqual([[fake.sshKeys()[0]!.id], [fake.sshKeys()[0]!.id]]);
  }));

  it("boots Ubuntu 24.04 with the user-data script that authorizes the bot's and the owner's keys", () => withFake(async (fake) => {
    const owner = keyWithFingerprint().publicKey;
    const sp = spec({ ownerKeys: [owner], size: "cpx21", zone: "fsn1" });
    await cloudFor(fake).createServer(sp);
    expect(fake.createBodies[0]).toMatchObject({
      name: sp.name, server_type: "cpx21", location: "fsn1", image: "ubuntu-24.04", start_after_create: true,
      public_net: { enable_ipv4: true, enable_ipv6: false },
      user_data: renderUserData({ tier: sp.agent.tier, sshUser: "root", authorizedKeys: [botKey.publicKey, owner] }),
    });
  }));

  it("labels the server with the bot's label, the spawn id and the owner, fitted to Hetzner's label rules", () => withFake(async (fake) => {
    const sp = spec();
    sp.tags["spawnbot-owner"] = "slack:T1/U 1!";
    await cloudFor(fake).createServer(sp);
    expect(fake.servers()[0]!.tags).toEqual({ "spawnbot-managed": "true", "spawnbot-spawn-id": sp.spawnId, "spawnbot-owner": "slack_T1_U_1" });
  }));

  it("lists every labelled server across pages of 50 and leaves out servers that are not the bot's", () => withFake(async (fake) => {
    for (let i = 0; i < 55; i++) fake.addServer(`bot-${i}`, { "spawnbot-managed": "true", "spawnbot-spawn-id": `s${i}` });
    fake.addServer("someone-elses", { team: "web" });
    const listed = await cloudFor(fake).listServers();
    expect(listed).toHaveLength(55);
    expect(listed[54]).toMatchObject({ spawnId: "s54", address: "127.0.0.1", sshUser: "root", sshPort: 22 });
    expect(count(fake, "GET /servers")).toBe(2);
  }));

  it.each(["repeat-next-page", "no-meta"] as const)("stops listing when the answer's pagination is broken (%s)", (fault) => withFake(async (fake) => {
    for (let i = 0; i < 55; i++) fake.addServer(`bot-${i}`, { "spawnbot-managed": "true", "spawnbot-spawn-id": `s${i}` });
    fake.pagingFault = fault;
    expect(await cloudFor(fake).listServers()).toHaveLength(50); // the first page, read once
    expect(count(fake, "GET /servers")).toBe(1);
  }));
});

describe("hetzner: placement", () => {
  it("asks the API about a type it does not know, and refuses one Hetzner does not have, naming it", () => withFake(async (fake) => {
    const cloud = cloudFor(fake);
    await cloud.checkPlacement(spec({ size: "ccx13", agent: openclaw })); // 8 GB, only the API knows it
    await expect(cloud.checkPlacement(spec({ size: "cx99" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("cx99") });
  }));

  it("suggests a bigger type of the same family when the agent needs more memory", () => withFake(async (fake) => {
    await expect(cloudFor(fake).checkPlacement(spec({ size: "cpx11", agent: openclaw }))).rejects.toThrow(/cpx11 has 2 GB .* --size cpx21/);
  }));

  it("refuses a malformed location before calling the API", () => withFake(async (fake) => {
    await expect(cloudFor(fake).checkPlacement(spec({ zone: "NBG-1" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT" });
    expect(fake.calls).toEqual([]);
  }));
});

describe("hetzner: throttling and failures", () => {
  it("takes the name clash after a lost create answer as its own server instead of making a second", () => withFake(async (fake) => {
    fake.inject({ kind: "lose-create-response", times: 1 });
    const sp = spec();
    const server = await cloudFor(fake).createServer(sp);
    expect(count(fake, "POST /servers")).toBe(2); // the retry met uniqueness_error
    expect(fake.servers()).toEqual([expect.objectContaining({ id: server.serverId, name: sp.name })]);
  }));

  it("waits out a 429 until RateLimit-Reset's refill gives a request back, as Hetzner sends no Retry-After", () => withFake(async (fake) => {
    fake.inject({ kind: "throttle", times: 1, match: "GET /servers" });
    const started = Date.now();
    await cloudFor(fake).checkCredentials();
    // 3600 an hour refill one a second: the budget is full an hour on, the next request in ~1 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(count(fake, "GET /servers")).toBe(2);
  }));

  it("answers a spent budget with 429 rate_limit_exceeded and the RateLimit headers only", () => withFake(async (fake) => {
    fake.inject({ kind: "throttle", times: 1 });
    const res = await fetch(`${fake.url}/servers`, { headers: { authorization: `Bearer ${fake.validToken}` } });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    expect(res.headers.get("retry-after")).toBeNull();
    expect(res.headers.get("ratelimit-limit")).toBe("3600");
    expect(res.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(res.headers.get("ratelimit-reset")) - Date.now() / 1000).toBeGreaterThan(3590);
  }));

  it("keeps to an enforced budget: calls past it wait for the refill instead of failing", async () => {
    const fake = await HetznerFake.start({ bootDelayMs: 0, rateLimitPerHour: 7200 }); // two a second
    try {
      const cloud = cloudFor(fake);
      const started = Date.now();
      fake.exhaustRateLimit(); // spent by someone else in the project
      await cloud.checkCredentials();
      await cloud.checkCredentials();
      expect(Date.now() - started).toBeGreaterThanOrEqual(900); // two refills of 0.5 s
      expect(count(fake, "GET /servers")).toBeGreaterThanOrEqual(3);
    } finally {
      await fake.close();
    }
  });

  it.each([
    [500, "server_error"], [503, "unavailable"], [504, "timeout"], [423, "locked"], [409, "conflict"],
  ])("tries again after a %i %s and then succeeds", (status, code) => withFake(async (fake) => {
    fake.rejectNext({ match: "GET /servers", status, code, message: `${code} happened` });
    await cloudFor(fake).checkCredentials();
    expect(count(fake, "GET /servers")).toBe(2);
  }));

  it("does not repeat a request that failed with 422 service_error, and says what Hetzner said", () => withFake(async (fake) => {
    fake.rejectNext({ match: "POST /servers", status: 422, code: "service_error", message: "image could not be prepared" });
    await expect(cloudFor(fake).createServer(spec())).rejects.toMatchObject({ code: "API", message: expect.stringMatching(/image could not be prepared.*service_error/) });
    expect(count(fake, "POST /servers")).toBe(1);
    expect(fake.servers()).toEqual([]);
  }));

  it("tells a read-only token apart from a wrong one, and makes nothing with it", () => withFake(async (fake) => {
    const cloud = cloudFor(fake, { token: fake.readOnlyToken });
    await cloud.checkCredentials(); // reading works with it
    await expect(cloud.createServer(spec())).rejects.toMatchObject({ code: "AUTH", message: expect.stringMatching(/read-only.*Read & Write token/) });
    await expect(cloudFor(fake, { token: "wrong" }).createServer(spec())).rejects.toMatchObject({ code: "AUTH", message: expect.not.stringMatching(/read-only/) });
    expect(fake.servers()).toEqual([]);
  }));

  it("frees the bot's unattached Primary IPs and retries once when the project is out of them", () => withFake(async (fake) => {
    const orphan = fake.addPrimaryIp({ labels: { "spawnbot-managed": "true" } });
    const notOurs = fake.addPrimaryIp({ labels: {} });
    fake.primaryIpLimit = 2;
    await cloudFor(fake).createServer(spec());
    expect(fake.servers()).toHaveLength(1);
    expect(count(fake, "POST /servers")).toBe(2);
    expect(fake.primaryIps().map((p) => p.id)).not.toContain(orphan);
    expect(fake.primaryIps().map((p) => p.id)).toContain(notOurs);
  }));

  it("reports the limit when none of the bot's Primary IPs can be freed", () => withFake(async (fake) => {
    fake.addPrimaryIp({ labels: {} });
    fake.primaryIpLimit = 1;
    await expect(cloudFor(fake).createServer(spec())).rejects.toMatchObject({ code: "QUOTA", message: expect.stringMatching(/limit.*Primary IPs/) });
    expect(count(fake, "POST /servers")).toBe(1);
    expect(fake.servers()).toEqual([]);
  }));

  it("deletes the spawn's Primary IP that Hetzner would keep, and no one else's", () => withFake(async (fake) => {
    const sp = spec();
    const cloud = cloudFor(fake);
    const server = await cloud.createServer(sp);
    fake.updatePrimaryIp(fake.primaryIpOf(server.serverId), { autoDelete: false, labels: { "spawnbot-spawn-id": sp.spawnId } });
    const otherSpawn = fake.addPrimaryIp({ labels: { "spawnbot-spawn-id": "another-spawn" } });
    await cloud.deleteServer(server.serverId);
    expect(fake.servers()).toEqual([]);
    expect(fake.primaryIps().map((p) => p.id)).toEqual([otherSpawn]);
  }));

  it("removes a server that does not come up in time", () => withFake(async (fake) => {
    await expect(cloudFor(fake, { bootTimeoutMs: 200 }).createServer(spec())).rejects.toMatchObject({ code: "TIMEOUT", message: expect.stringContaining("was removed") });
    expect(count(fake, "POST /servers")).toBe(1);
    expect(fake.servers()).toEqual([]);
  }, 60_000));

  it.each([
    [401, "unauthorized", "unable to authenticate", "AUTH", /HCLOUD_TOKEN/],
    [403, "resource_limit_exceeded", "project limit exceeded", "QUOTA", /server_limit: project limit exceeded.*raise the limit/],
    [403, "forbidden", "insufficient permissions", "AUTH", /may not do this/],
    [403, "resource_locked", "resource is locked", "BILLING", /locked this project.*billing.*support/],
    [403, "maintenance", "cannot perform operation due to maintenance", "API", /maintenance.*later/],
    [412, "resource_unavailable", "server type cx23 unavailable in nbg1", "CAPACITY", /try another --zone/],
    [422, "invalid_input", "invalid input in field 'server_type'", "BAD_PLACEMENT", /cx23 in nbg1/],
  ])("turns a %i %s on create into %s with what to do", (status, code, message, expected, says) => withFake(async (fake) => {
    fake.rejectNext({ match: "POST /servers", status, code, message, details: code === "resource_limit_exceeded" ? { limits: [{ name: "server_limit" }] } : {} });
    await expect(cloudFor(fake).createServer(spec())).rejects.toMatchObject({ code: expected, message: expect.stringMatching(says) });
    expect(fake.servers()).toEqual([]);
  }));
});

describe("hetzner: a spawn end to end", () => {
  it("spawns the test agent on a fake Hetzner server that is the real sshd, and deletes it", async () => {
    const fake = await HetznerFake.start({ bootDelayMs: BOOT_DELAY_MS });
    try {
      const r = await spawnEndToEnd({
        cloudKey: "hetzner", unixUser: "sbt-hetzner", fake,
        makeCloud: (key, sshd) => new HetznerCloud({
          botPublicKey: key.publicKey, token: fake.validToken, apiUrl: fake.url, location: "nbg1", defaultSize: "cx23",
          sshPort: sshd.port, sshUser: sshd.user, pollIntervalMs: 50, cloudInitTimeoutMs: 2000,
          sshWait: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 },
        }),
      });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain("[e2e-hetzner] ready");
      expect(r.sessionAliveAfterSpawn).toBe(true);
      expect(r.serversAfterSpawn).toBe(1);
      expect(r.serversAfterDelete).toBe(0);
      console.log(`hetzner e2e: ${r.apiCallsPerSpawn} API calls per spawn, ${r.apiCallsPerDelete} per delete, ready in ${r.timeToReadyMs} ms (boot delay ${BOOT_DELAY_MS} ms)`);
    } finally {
      await fake.close();
    }
  });
});
