// DigitalOcean against its wire-level fake: the cloud contract, bot-key registration, what a
// droplet is created with, lost answers and throttling, DO's refusals, and one spawn end to end.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { translateDoError } from "../../src/orchestrator/clouds/digitalocean-api.js";
import { DigitalOceanCloud, type DigitalOceanOptions } from "../../src/orchestrator/clouds/digitalocean.js";
import { HttpError } from "../../src/orchestrator/clouds/rest-client.js";
import { renderUserData } from "../../src/orchestrator/clouds/user-data.js";
import { AGENTS, loadOrCreateBotKey } from "../../src/orchestrator/index.js";
import { describeCloudContract, spec } from "../contracts/cloud-contract.js";
import { DigitalOceanFake, type DigitalOceanFakeOptions } from "../fakes/digitalocean-fake.js";
import { spawnEndToEnd } from "../support/cloud-e2e.js";
import { TEST_AGENT } from "../support/test-agent.js";

const botKey = loadOrCreateBotKey(mkdtempSync(path.join(os.tmpdir(), "spawnbot-do-key-")));
const openclaw = AGENTS.find((a) => a.key === "openclaw")!;
/** The e2e fake's boot time, subtracted from time-to-ready to get the bot's own overhead. */
const E2E_BOOT_DELAY_MS = 300;

function makeCloud(fake: DigitalOceanFake, over: Partial<DigitalOceanOptions> = {}): DigitalOceanCloud {
  return new DigitalOceanCloud({
    token: fake.validToken, apiUrl: fake.url, region: "nyc3", defaultSize: "s-2vcpu-2gb", botPublicKey: botKey.publicKey,
    pollIntervalMs: 50, bootTimeoutMs: 5_000, requestTimeoutMs: 500, retryBaseDelayMs: 100, ...over,
  });
}

async function withFake(opts: DigitalOceanFakeOptions, fn: (fake: DigitalOceanFake) => Promise<void>): Promise<void> {
  const fake = await DigitalOceanFake.start(opts);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

const count = (fake: DigitalOceanFake, action: string) => fake.calls.filter((c) => c.action === action).length;

/** The fingerprint as OpenSSH prints it, to check ours and the fake's against a third party. */
function sshKeygenMd5(publicKey: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-do-fp-")), "key.pub");
  writeFileSync(file, `${publicKey}\n`);
  return execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", file]).toString().split(" ")[1]!.replace(/^MD5:/, "");
}

describeCloudContract("digitalocean", async () => {
  const fake = await DigitalOceanFake.start({ bootDelayMs: 100 });
  return {
    cloud: makeCloud(fake), fake, withBadCredentials: () => makeCloud(fake, { token: "dop_v1_wrong" }),
    smallSize: "s-2vcpu-2gb", badSize: "S_2VCPU!", close: () => fake.close(),
  };
});

describe("digitalocean: the bot key and what a droplet is made with", () => {
  it("registers the bot key once and finds it again by its MD5 fingerprint", () => withFake({}, async (fake) => {
    await makeCloud(fake).createServer(spec());
    await makeCloud(fake).createServer(spec()); // a restarted bot: nothing cached
    const fingerprint = sshKeygenMd5(botKey.publicKey);
    expect(count(fake, "POST /account/keys")).toBe(1);
    expect(fake.keys).toEqual([expect.objectContaining({ fingerprint, name: `spawnbot-${fingerprint.replace(/:/g, "").slice(0, 8)}` })]);
    expect(fake.createRequests.map((r) => r.ssh_keys)).toEqual([[fingerprint], [fingerprint]]);
  }));

  it("uses a bot key someone already registered under another name", () => withFake({}, async (fake) => {
    const res = await fetch(`${fake.url}/account/keys`, {
      method: "POST", headers: { authorization: `Bearer ${fake.validToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "added-by-hand", public_key: botKey.publicKey }),
    });
    expect(res.status).toBe(201);
    await makeCloud(fake).createServer(spec());
    expect(count(fake, "POST /account/keys")).toBe(1); // only the one above
  }));

  it("boots the droplet with renderUserData's script for the bot and owner keys, and tags it", () => withFake({}, async (fake) => {
    const ownerKey = loadOrCreateBotKey(mkdtempSync(path.join(os.tmpdir(), "spawnbot-do-owner-"))).publicKey.replace(/spawnbot$/, "alice");
    const sp = spec({ ownerKeys: [ownerKey], tags: { "spawnbot-spawn-id": "", "spawnbot-owner": "alice@example.com" } });
    sp.tags["spawnbot-spawn-id"] = sp.spawnId;
    const server = await makeCloud(fake).createServer(sp);
    const body = fake.createRequests[0]!;
    expect(body).toMatchObject({
      name: sp.name, region: "nyc3", size: "s-2vcpu-2gb", image: "ubuntu-24-04-x64", backups: false, monitoring: false, ipv6: false,
      user_data: renderUserData({ tier: TEST_AGENT.tier, sshUser: "root", authorizedKeys: [botKey.publicKey, ownerKey] }),
    });
    expect(body.user_data).toContain(botKey.publicKey);
    expect([...fake.tagsOf(server.serverId)!].sort()).toEqual(["spawnbot-managed", "spawnbot-owner:alice_example_com", `spawnbot-spawn-id:${sp.spawnId}`]);
    expect(server).toEqual({ serverId: server.serverId, address: "127.0.0.1", sshUser: "root", sshPort: 22 });
  }));

  it("gives OpenClaw s-2vcpu-4gb when no size is asked for, in the zone asked for", () => withFake({}, async (fake) => {
    await makeCloud(fake).createServer(spec({ agent: openclaw, zone: "ams3" }));
    expect(fake.createRequests[0]).toMatchObject({ size: "s-2vcpu-4gb", region: "ams3" });
  }));

  it("looks up the memory of sizes whose slug does not say it", () => withFake({}, async (fake) => {
    const cloud = makeCloud(fake);
    await cloud.checkPlacement(spec({ agent: openclaw, size: "c-2" }));
    expect(count(fake, "GET /sizes")).toBe(1);
    await expect(cloud.checkPlacement(spec({ size: "c-99" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("c-99") });
    await expect(cloud.checkPlacement(spec({ size: "s-1vcpu-512mb-10gb" }))).rejects.toThrow(/needs 1 GB of memory and s-1vcpu-512mb-10gb has 0\.5 GB/);
  }));

  it("refuses a zone that is not a DigitalOcean region, and one DO does not know", () => withFake({}, async (fake) => {
    const cloud = makeCloud(fake);
    await expect(cloud.checkPlacement(spec({ zone: "NYC-3" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("NYC-3") });
    await expect(cloud.createServer(spec({ zone: "xyz9" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("--zone") });
    expect(fake.servers()).toEqual([]);
  }));
});

describe("digitalocean: lost answers, throttling and slow boots", () => {
  it("looks for the droplet by its spawn tag after a lost create answer instead of posting again", () => withFake({}, async (fake) => {
    fake.inject({ kind: "lose-create-response", times: 1 });
    const sp = spec();
    const server = await makeCloud(fake).createServer(sp);
    expect(count(fake, "POST /droplets")).toBe(1);
    const post = fake.calls.findIndex((c) => c.action === "POST /droplets");
    expect(fake.calls.slice(post + 1)[0]?.path).toContain(`tag_name=spawnbot-spawn-id%3A${sp.spawnId}`);
    expect(fake.servers().map((s) => s.id)).toEqual([server.serverId]);
  }));

  it("creates again after a 503 on create only once the tag shows nothing was made", () => withFake({}, async (fake) => {
    fake.inject({ kind: "server-error", times: 1, match: "POST /droplets" });
    await makeCloud(fake).createServer(spec());
    expect(count(fake, "POST /droplets")).toBe(2);
    expect(fake.servers()).toHaveLength(1);
  }));

  it("waits out a burst-limit 429 for as long as its retry-after says", () => withFake({}, async (fake) => {
    fake.inject({ kind: "throttle", times: 1, match: "GET /account" });
    const started = Date.now();
    await makeCloud(fake).checkCredentials();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(count(fake, "GET /account")).toBe(2);
  }));

  it("goes on once the burst window lets it, when its own calls reach the burst limit", () => withFake({ burstLimit: 2, burstWindowMs: 1_000 }, async (fake) => {
    const cloud = makeCloud(fake);
    const started = Date.now();
    for (let i = 0; i < 3; i++) await cloud.checkCredentials();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(count(fake, "GET /account")).toBe(4); // the third was refused once
  }));

  it("sends retry-after only on burst-limit 429s; an hourly-limit 429 has ratelimit-reset alone", async () => {
    const answer = async (fake: DigitalOceanFake) => {
      const res = await fetch(`${fake.url}/account`, { headers: { authorization: `Bearer ${fake.validToken}` } });
      return { status: res.status, retryAfter: res.headers.get("retry-after"), remaining: res.headers.get("ratelimit-remaining"), reset: Number(res.headers.get("ratelimit-reset")) };
    };
    await withFake({ burstLimit: 1, burstWindowMs: 30_000 }, async (fake) => {
      expect(await answer(fake)).toMatchObject({ status: 200, retryAfter: null, remaining: "4999" });
      expect(await answer(fake)).toMatchObject({ status: 429, retryAfter: expect.stringMatching(/^(29|30)$/), remaining: "0" });
    });
    await withFake({ hourlyLimit: 3 }, async (fake) => {
      fake.spendRequests(3);
      const hourly = await answer(fake);
      expect(hourly).toMatchObject({ status: 429, retryAfter: null, remaining: "0" });
      expect(hourly.reset - Date.now() / 1000).toBeGreaterThan(3590); // when the oldest request's hour is up
    });
  });

  it("says when the hourly limit frees a request instead of retrying against it", () => withFake({ hourlyLimit: 3 }, async (fake) => {
    fake.spendRequests(3);
    await expect(makeCloud(fake).checkCredentials()).rejects.toMatchObject({ code: "API", message: expect.stringMatching(/last hour.*in about (60|61) min/) });
    await expect(makeCloud(fake).createServer(spec())).rejects.toMatchObject({ code: "API", message: expect.stringMatching(/hour/) });
    expect(count(fake, "GET /account")).toBe(1);
    expect(fake.calls.length).toBe(2);
    expect(fake.servers()).toEqual([]);
  }));

  it("tolerates a 404 for a droplet DO has only just created", () => withFake({ notFoundReadsAfterCreate: 2 }, async (fake) => {
    const server = await makeCloud(fake).createServer(spec());
    expect(server.address).toBe("127.0.0.1");
  }));

  it("deletes a droplet that does not become active in time", () => withFake({ bootDelayMs: 60_000 }, async (fake) => {
    await expect(makeCloud(fake, { bootTimeoutMs: 300 }).createServer(spec())).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(fake.calls.some((c) => /^DELETE \/droplets\/\d+$/.test(c.action))).toBe(true);
    expect(fake.servers()).toEqual([]);
  }));

  it("lists every managed droplet across pages with its spawn id", () => withFake({ maxPerPage: 2 }, async (fake) => {
    const cloud = makeCloud(fake);
    const specs = [spec(), spec(), spec()];
    for (const sp of specs) await cloud.createServer(sp);
    const listed = await cloud.listServers();
    expect(listed.map((s) => s.spawnId).sort()).toEqual(specs.map((s) => s.spawnId).sort());
    expect(fake.calls.some((c) => c.path.startsWith("/droplets?") && c.path.includes("page=2"))).toBe(true);
  }));
});

describe("digitalocean: what DO refuses, in the user's words", () => {
  it("says the token was refused when DO answers unauthorized", () => withFake({}, async (fake) => {
    await expect(makeCloud(fake, { token: "dop_v1_revoked" }).createServer(spec())).rejects.toMatchObject({
      code: "AUTH", message: "the DigitalOcean token was refused: set DIGITALOCEAN_ACCESS_TOKEN to a read/write token",
    });
  }));

  it("reports the droplet limit as a quota to free up", () => withFake({}, async (fake) => {
    fake.account.droplet_limit = 0;
    await expect(makeCloud(fake).createServer(spec())).rejects.toMatchObject({ code: "QUOTA", message: expect.stringMatching(/droplet limit.*delete a spawn/) });
    expect(fake.servers()).toEqual([]);
  }));

  it("turns DO's other refusals into codes that say what to do", () => {
    const said = (status: number, id: string, message: string) => translateDoError(new HttpError(status, { id, message }, undefined, "POST", "/droplets"), "creating the droplet");
    expect(said(422, "unprocessable_entity", "Size is not available in this region.")).toMatchObject({ code: "CAPACITY", message: expect.stringContaining("try another --zone") });
    expect(said(422, "unprocessable_entity", "You specified an invalid region for Droplet creation.")).toMatchObject({ code: "BAD_PLACEMENT" });
    expect(said(422, "unprocessable_entity", "A valid payment method is required to create droplets.")).toMatchObject({ code: "BILLING" });
    expect(said(403, "forbidden", "You are not authorized to perform this operation")).toMatchObject({ code: "AUTH", message: expect.stringContaining("read/write") });
    expect(said(422, "unprocessable_entity", "Name is invalid")).toMatchObject({ code: "API", message: expect.stringContaining("Name is invalid") });
  });

  it("reports a locked account as a billing problem before anything is made", () => withFake({}, async (fake) => {
    Object.assign(fake.account, { status: "locked", status_message: "Your account is locked: payment overdue." });
    await expect(makeCloud(fake).checkCredentials()).rejects.toMatchObject({ code: "BILLING", message: expect.stringMatching(/locked.*billing/) });
  }));
});

describe("digitalocean: end to end", () => {
  it("spawns the test agent on a droplet, reaches it over SSH and deletes the droplet", async () => {
    const fake = await DigitalOceanFake.start({ bootDelayMs: E2E_BOOT_DELAY_MS });
    try {
      const r = await spawnEndToEnd({
        cloudKey: "digitalocean", unixUser: "sbt-do", fake,
        makeCloud: (key, sshd) => new DigitalOceanCloud({
          token: fake.validToken, apiUrl: fake.url, region: "nyc3", defaultSize: "s-2vcpu-2gb", botPublicKey: key.publicKey,
          sshPort: sshd.port, sshUser: sshd.user, pollIntervalMs: 50, cloudInitTimeoutMs: 2_000,
          sshWait: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 },
        }),
      });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain("[e2e-digitalocean] ready");
      expect(r.sessionAliveAfterSpawn).toBe(true);
      expect(r.serversAfterSpawn).toBe(1);
      expect(r.serversAfterDelete).toBe(0);
      console.info(`[do-e2e] calls/spawn=${r.apiCallsPerSpawn} calls/delete=${r.apiCallsPerDelete} ready=${r.timeToReadyMs}ms overhead=${r.timeToReadyMs - E2E_BOOT_DELAY_MS}ms`);
    } finally {
      await fake.close();
    }
  });
});
