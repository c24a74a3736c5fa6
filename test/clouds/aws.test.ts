// AWS EC2 against its wire-level fake: the cloud contract, what EC2 must be told (image, user
// data, idempotency token, tags, size, zone), cleanup of a failed create, the messages for EC2's
// refusals, and one end-to-end spawn whose "VM" is the test sshd.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"; // the SDK's Node 20 notice

import { createHash } from "node:crypto";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AGENTS } from "../../src/orchestrator/index.js";
import { AwsCloud, type AwsCloudOptions } from "../../src/orchestrator/clouds/aws.js";
import { renderUserData } from "../../src/orchestrator/clouds/user-data.js";
import { describeCloudContract, spec } from "../contracts/cloud-contract.js";
import { Ec2Fake, FAKE_ACCESS_KEY_ID, FAKE_REGION, FAKE_SECRET_ACCESS_KEY } from "../fakes/ec2-fake.js";
import { spawnEndToEnd } from "../support/cloud-e2e.js";
import { until } from "../support/until.js";

const BOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFI9w48awYyh1RZHvP9mSE37aa0rYnSH4BWzAh3HXnqN spawnbot";
const OWNER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO7a4Sx1XyQz2JmL8vJk3w0Qy3mJ2bKcU1oTqB9sAe5x alice@laptop";
const SSH_CIDR = "203.0.113.0/24";
/** Canonical's newest available amd64 noble image in the fake (not the pending one, not the look-alike). */
const NEWEST_UBUNTU = "ami-04b70fa74e45c3917";
const ARM_UBUNTU = "ami-05d38da78ce859165";
/** How long the fake keeps the end-to-end server pending, as a VM would while it boots. */
const E2E_BOOT_DELAY_MS = 300;
const openclaw = AGENTS.find((a) => a.key === "openclaw")!;

function settings(fake: Ec2Fake): AwsCloudOptions {
  return {
    botPublicKey: BOT_KEY, region: FAKE_REGION, defaultSize: "t3.small", sshCidr: SSH_CIDR, endpoint: fake.url,
    credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY },
    pollIntervalMs: 20, bootTimeoutMs: 5_000, requestTimeoutMs: 500, retry: { baseDelayMs: 20, maxDelayMs: 200 },
  };
}

function makeAws(fake: Ec2Fake, over: Partial<AwsCloudOptions> = {}): AwsCloud {
  return new AwsCloud({ ...settings(fake), ...over });
}

describeCloudContract("aws", async () => {
  const fake = await Ec2Fake.start();
  return {
    cloud: makeAws(fake), fake, smallSize: "t3.small", badSize: "t3_small!",
    withBadCredentials: () => makeAws(fake, { credentials: { accessKeyId: "AKIAI44QH8DHBEXAMPLE", secretAccessKey: FAKE_SECRET_ACCESS_KEY } }),
    close: () => fake.close(),
  };
});

describe("aws: what EC2 is told", () => {
  let fake: Ec2Fake;
  let aws: AwsCloud;
  beforeEach(async () => {
    fake = await Ec2Fake.start();
    aws = makeAws(fake);
  });
  afterEach(() => fake.close());

  const actions = (from = 0) => fake.calls.slice(from).map((c) => c.action);

  it("boots the newest Ubuntu 24.04 image from Canonical with the bot's user-data, base64-encoded", async () => {
    const sp = spec({ ownerKeys: [OWNER_KEY] });
    const server = await aws.createServer(sp);
    const instance = fake.instances.get(server.serverId)!;
    expect(instance.imageId).toBe(NEWEST_UBUNTU);
    expect(instance.userData).toBe(renderUserData({ tier: "minimal", sshUser: "ubuntu", authorizedKeys: [BOT_KEY, OWNER_KEY] }));
    expect(instance.userData).toContain(BOT_KEY);
    expect(server).toMatchObject({ address: "127.0.0.1", sshUser: "ubuntu", sshPort: 22 });
  });

  it("sends the spawn id as ClientToken, so EC2 answers a repeated launch with the first instance", async () => {
    const sp = spec();
    const server = await aws.createServer(sp);
    expect(fake.instances.get(server.serverId)!.clientToken).toBe(sp.spawnId);
  });

  it("keeps the first instance when a repeated create differs from the first (IdempotentParameterMismatch)", async () => {
    const sp = spec();
    const first = await aws.createServer(sp);
    const again = await aws.createServer({ ...sp, ownerKeys: [OWNER_KEY] });
    expect(again.serverId).toBe(first.serverId);
    expect(fake.servers()).toHaveLength(1);
  });

  it("tags the instance and its root volume with the name, the bot's tag, the spawn id and the owner", async () => {
    const sp = spec();
    const instance = fake.instances.get((await aws.createServer(sp)).serverId)!;
    const expected = { Name: sp.name, "spawnbot-managed": "true", "spawnbot-spawn-id": sp.spawnId, "spawnbot-owner": "u1" };
    expect(instance.tags).toEqual(expected);
    expect(instance.volumeTags).toEqual(expected);
    expect(instance.rootVolume).toEqual({ device: "/dev/sda1", sizeGb: 30, type: "gp3" });
  });

  it("registers the bot's key under a name derived from it and opens SSH to the configured range only", async () => {
    const instance = fake.instances.get((await aws.createServer(spec())).serverId)!;
    expect(instance.keyName).toBe(`spawnbot-${createHash("sha256").update(BOT_KEY).digest("hex").slice(0, 8)}`);
    expect(fake.keyPairs.get(instance.keyName)!.material).toBe(BOT_KEY);
    const group = fake.securityGroups.get(instance.securityGroupIds[0]!)!;
    expect(group.name).toBe("spawnbot-ssh");
    expect(group.ingress).toEqual([{ protocol: "tcp", from: 22, to: 22, cidr: SSH_CIDR }]);
  });

  it("makes the key pair and security group once and looks the image up once per bot run", async () => {
    await aws.createServer(spec());
    const before = fake.calls.length;
    await aws.createServer(spec());
    const second = actions(before);
    expect(second).not.toContain("ImportKeyPair");
    expect(second).not.toContain("CreateSecurityGroup");
    expect(second).not.toContain("AuthorizeSecurityGroupIngress");
    expect(second).not.toContain("DescribeImages");
    expect(second).not.toContain("DescribeVpcs");
    await makeAws(fake).createServer(spec()); // another bot run finds what the first one made
    expect(actions().filter((a) => a === "ImportKeyPair" || a === "CreateSecurityGroup")).toEqual(["ImportKeyPair", "CreateSecurityGroup"]);
  });

  it("gives OpenClaw a 4 GB t3.medium when the default size is the 2 GB t3.small, and keeps an explicit --size", async () => {
    const auto = await aws.createServer(spec({ agent: openclaw }));
    expect(fake.instances.get(auto.serverId)!.instanceType).toBe("t3.medium");
    const chosen = await aws.createServer(spec({ agent: openclaw, size: "t3.large" }));
    expect(fake.instances.get(chosen.serverId)!.instanceType).toBe("t3.large");
  });

  it("names the size that fits when --size is too small for the agent", async () => {
    await expect(aws.checkPlacement(spec({ agent: openclaw, size: "t3.small" }))).rejects.toThrow("OpenClaw needs at least 4 GB of memory; t3.small has 2 GB — use --size t3.medium or larger");
    await expect(aws.checkPlacement(spec({ agent: openclaw, size: "t3.nano" }))).rejects.toThrow("t3.nano has 0.5 GB");
  });

  it("asks EC2 about a type outside its table and boots the arm64 image for a Graviton type", async () => {
    await aws.checkPlacement(spec({ agent: openclaw, size: "m6i.large" }));
    expect(actions()).toEqual(["DescribeInstanceTypes"]);
    await expect(aws.checkPlacement(spec({ size: "x9.huge" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("pick another --size") });
    const arm = await aws.createServer(spec({ size: "c6g.large" }));
    expect(fake.instances.get(arm.serverId)!.imageId).toBe(ARM_UBUNTU);
  });

  it("places a server in a zone of the bot's region and refuses zones elsewhere", async () => {
    const server = await aws.createServer(spec({ zone: "us-east-1b" }));
    expect(fake.instances.get(server.serverId)!.availabilityZone).toBe("us-east-1b");
    await aws.checkPlacement(spec({ zone: "us-east-1" }));
    await expect(aws.checkPlacement(spec({ zone: "eu-west-1a" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("runs AWS in us-east-1") });
    await expect(aws.checkPlacement(spec({ zone: "mars" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT" });
  });

  it("terminates the instance when it is not running within the boot timeout", async () => {
    fake.bootDelayMs = 60_000;
    const slow = makeAws(fake, { bootTimeoutMs: 300 });
    await expect(slow.createServer(spec())).rejects.toMatchObject({ code: "TIMEOUT", message: expect.stringMatching(/not reachable within 0.3 s; it was still pending: spawn again/) });
    expect(fake.instances.size).toBe(1);
    expect(fake.servers()).toEqual([]);
    expect(actions()).toContain("TerminateInstances");
  });

  it("terminates the instance when the spawn is cancelled while it boots", async () => {
    fake.bootDelayMs = 60_000;
    const cancel = new AbortController();
    const creating = aws.createServer(spec(), cancel.signal);
    // Cancelled once the instance exists and boots: a fixed delay raced RunInstances on a loaded machine.
    await until("the instance to be booting (polled after RunInstances)", () => {
      const a = actions();
      return a.includes("RunInstances") && a.indexOf("DescribeInstances", a.indexOf("RunInstances")) >= 0;
    });
    cancel.abort();
    await expect(creating).rejects.toThrow();
    expect(fake.instances.size).toBe(1);
    expect(fake.servers()).toEqual([]);
  });

  it("lists only live servers and reports a deleted one as gone", async () => {
    const a = await aws.createServer(spec());
    const b = await aws.createServer(spec());
    await aws.deleteServer(a.serverId);
    expect((await aws.listServers()).map((s) => s.serverId)).toEqual([b.serverId]);
    expect(await aws.getServer(a.serverId)).toBeUndefined();
    expect(await aws.getServer("i-0123456789abcdef0")).toBeUndefined();
  });

  it("lists every server across DescribeInstances pages, asking for pages of 1000 and following NextToken", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await aws.createServer(spec())).serverId);
    fake.describePageSize = 2; // EC2 may return fewer than MaxResults
    const before = fake.describeInstancesRequests.length;
    const listed = await aws.listServers();
    expect(listed.map((s) => s.serverId).sort()).toEqual([...made].sort());
    const pages = fake.describeInstancesRequests.slice(before);
    expect(pages).toHaveLength(3);
    expect(pages.map((p) => p.MaxResults)).toEqual(["1000", "1000", "1000"]);
    expect(pages[0]!.NextToken).toBeUndefined();
    expect(pages[1]!.NextToken).toEqual(expect.any(String));
  });

  it("pages DescribeInstances as EC2 does: MaxResults in range, not with instance ids, and tokens of its own query only", async () => {
    const ec2 = new EC2Client({ region: FAKE_REGION, endpoint: fake.url, credentials: { accessKeyId: FAKE_ACCESS_KEY_ID, secretAccessKey: FAKE_SECRET_ACCESS_KEY }, maxAttempts: 1 });
    const a = await aws.createServer(spec());
    await aws.createServer(spec());
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 }))).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [a.serverId] }))).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    fake.describePageSize = 1;
    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    expect(first.Reservations).toHaveLength(1);
    const second = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken }));
    expect(second.Reservations).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken, Filters: [{ Name: "instance-state-name", Values: ["running"] }] })))
      .rejects.toMatchObject({ name: "InvalidPaginationToken" });
    ec2.destroy();
  });

  it("uses the SDK's AWS_ENDPOINT_URL_EC2 when no endpoint is configured", async () => {
    process.env.AWS_ENDPOINT_URL_EC2 = fake.url;
    try {
      await makeAws(fake, { endpoint: undefined }).checkCredentials();
      expect(actions()).toEqual(["DescribeRegions"]);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_EC2;
    }
  });
});

describe("aws: EC2's refusals, in one line with what to do", () => {
  let fake: Ec2Fake;
  beforeEach(async () => {
    fake = await Ec2Fake.start();
  });
  afterEach(() => fake.close());

  it("says which credentials to set when AWS refuses them (AuthFailure)", async () => {
    const bad = makeAws(fake, { credentials: { accessKeyId: "AKIAI44QH8DHBEXAMPLE", secretAccessKey: "nope" } });
    await expect(bad.checkCredentials()).rejects.toMatchObject({
      code: "AUTH", message: "AWS refused the bot's credentials (AuthFailure): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the bot and restart it",
    });
    await expect(bad.createServer(spec())).rejects.toMatchObject({ code: "AUTH" });
    expect(fake.calls).toHaveLength(2); // a refusal is not retried
  });

  it("points at Service Quotas when the account's instance limit is reached (InstanceLimitExceeded)", async () => {
    fake.refuseNext("RunInstances", "InstanceLimitExceeded", "You have requested more instances (21) than your current instance limit of 20 allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.");
    await expect(makeAws(fake).createServer(spec())).rejects.toMatchObject({
      code: "QUOTA", message: expect.stringMatching(/^the AWS account reached its instance limit in us-east-1 \(InstanceLimitExceeded\): delete a spawn .* Service Quotas$/),
    });
    expect(fake.calls.filter((c) => c.action === "RunInstances")).toHaveLength(1);
    expect(fake.servers()).toEqual([]);
  });

  it("suggests another zone or size when AWS has no capacity (InsufficientInstanceCapacity)", async () => {
    fake.refuseNext("RunInstances", "InsufficientInstanceCapacity", "We currently do not have sufficient t3.small capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity.", 500);
    await expect(makeAws(fake).createServer(spec({ zone: "us-east-1a" }))).rejects.toMatchObject({
      code: "CAPACITY", message: "AWS has no t3.small capacity in us-east-1a right now (InsufficientInstanceCapacity): try another --zone (e.g. us-east-1b), another --size, or again in a few minutes",
    });
    expect(fake.calls.filter((c) => c.action === "RunInstances")).toHaveLength(1); // EC2 says 500, but a full zone is not retried
  });

  it("sends an account that is not signed up for EC2 to the console (OptInRequired)", async () => {
    fake.refuseNext("DescribeRegions", "OptInRequired", "You are not subscribed to this service. Please go to http://aws.amazon.com to subscribe.", 401);
    await expect(makeAws(fake).checkCredentials()).rejects.toMatchObject({ code: "BILLING", message: expect.stringContaining("finish the sign-up") });
  });

  it("gives up with a TIMEOUT error when EC2 never answers, after its retries", async () => {
    fake.inject({ kind: "timeout", times: 10 });
    const aws = makeAws(fake, { requestTimeoutMs: 200, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 } });
    await expect(aws.checkCredentials()).rejects.toMatchObject({ code: "TIMEOUT", message: expect.stringContaining("did not answer in time") });
    expect(fake.calls).toHaveLength(3);
  });
});

describe("aws: end to end", () => {
  it("spawns the test agent on the server the fake hands out, then deletes it", async () => {
    const fake = await Ec2Fake.start({ bootDelayMs: E2E_BOOT_DELAY_MS });
    try {
      const r = await spawnEndToEnd({
        cloudKey: "aws", unixUser: "sbt-aws", fake,
        makeCloud: (botKey, sshd) => new AwsCloud({
          ...settings(fake), botPublicKey: botKey.publicKey, sshPort: sshd.port, sshUser: sshd.user,
          pollIntervalMs: 50, cloudInitTimeoutMs: 2_000, sshWait: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 },
        }),
      });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain("[e2e-aws] ready");
      expect(r.sessionAliveAfterSpawn).toBe(true);
      expect(r.serversAfterSpawn).toBe(1);
      expect(r.serversAfterDelete).toBe(0);
      console.info(`[aws e2e] API calls per spawn ${r.apiCallsPerSpawn}, per delete ${r.apiCallsPerDelete}; time to ready ${r.timeToReadyMs} ms, of which ${r.timeToReadyMs - E2E_BOOT_DELAY_MS} ms beyond the ${E2E_BOOT_DELAY_MS} ms boot`);
      console.info(`[aws e2e] calls of spawn and delete: ${fake.calls.map((c) => c.action).join(", ")}`);
    } finally {
      await fake.close();
    }
  });
});
