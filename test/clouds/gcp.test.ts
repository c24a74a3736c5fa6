// The GCP Compute Engine provider against the wire-level GCE fake: the cloud contract, what GCE
// needs beyond it (ssh-keys metadata, labels, requestId, the SSH firewall rule, operations that
// fail), the error table for both error shapes, and one spawn end to end over the real test sshd.
import { describe, expect, it } from "vitest";
import { GcpCloud, requestIdFor, translateGcpError, type GcpCloudOptions } from "../../src/orchestrator/clouds/gcp.js";
import { GceOperationError } from "../../src/orchestrator/clouds/gcp-errors.js";
import { CloudError } from "../../src/orchestrator/clouds/types.js";
import { describeCloudContract, spec } from "../contracts/cloud-contract.js";
import { GceFake, serviceDisabledError } from "../fakes/gce-fake.js";
import { spawnEndToEnd } from "../support/cloud-e2e.js";

const BOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl spawnbot";
const OWNER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn4Jq2Yx0X8cG0wq9YQm1r5Kd3eXb8Qm7rWfZ2pL0aB alice@laptop";

/** A credential that never calls Google: it signs every request with a fixed access token. */
function bearer(token: string) {
  return { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${token}` }) };
}

/** The provider pointed at the fake, with test-short waits and retries. */
function settings(fake: GceFake, token = fake.validToken): GcpCloudOptions {
  return {
    botPublicKey: BOT_KEY, project: fake.project, zone: fake.zone, defaultSize: "e2-medium",
    apiEndpoint: fake.url, authClient: bearer(token),
    pollIntervalMs: 20, requestTimeoutMs: 500, bootTimeoutMs: 10_000, retry: { baseDelayMs: 50, maxDelayMs: 400 },
  };
}

async function withFake(fn: (fake: GceFake, cloud: GcpCloud) => Promise<void>, opts: { bootDelayMs?: number } = {}): Promise<void> {
  const fake = await GceFake.start({ bootDelayMs: opts.bootDelayMs ?? 60 });
  try {
    await fn(fake, new GcpCloud(settings(fake)));
  } finally {
    await fake.close();
  }
}

function metadataOf(fake: GceFake, name: string): Record<string, string> {
  const instance = [...fake.instances.values()].find((i) => i.name === name)!;
  const items = (instance.resource.metadata as { items: { key: string; value: string }[] }).items;
  return Object.fromEntries(items.map((i) => [i.key, i.value]));
}

describeCloudContract("gcp", async () => {
  const fake = await GceFake.start({ bootDelayMs: 60 });
  return {
    cloud: new GcpCloud(settings(fake)),
    fake,
    withBadCredentials: () => new GcpCloud(settings(fake, "ya29.expired-or-revoked")),
    smallSize: "e2-small",
    badSize: "E2 Medium",
    close: () => fake.close(),
  };
});

describe("gcp: what Compute Engine needs beyond the contract", () => {
  it("puts the bot's key for user spawnbot in ssh-keys, turns OS Login off and runs the first-boot script once", () => withFake(async (fake, cloud) => {
    const sp = spec({ ownerKeys: [OWNER_KEY] });
    const server = await cloud.createServer(sp);
    expect(server).toMatchObject({ sshUser: "spawnbot", sshPort: 22, address: "127.0.0.1" });
    const md = metadataOf(fake, sp.name);
    expect(md["ssh-keys"]!.split("\n")).toEqual([`spawnbot:${BOT_KEY}`, `spawnbot:${OWNER_KEY}`]);
    expect(md["enable-oslogin"]).toBe("FALSE");
    const script = md["startup-script"]!.split("\n");
    expect(script[0]).toBe("#!/bin/bash");
    expect(script[1]).toMatch(/^\[ -f \/var\/lib\/spawnbot\/cloud-init-complete \] && exit 0/);
    expect(md["startup-script"]).toContain("useradd -m -s /bin/bash spawnbot");
  }));

  it("boots Ubuntu 24.04 on a 40 GB disk with an external address, labelled with the spawn and its sanitised owner", () => withFake(async (fake, cloud) => {
    const sp = spec({ size: "e2-standard-2", tags: { "spawnbot-owner": "U024BE7LH", "spawnbot-spawn-id": "" } });
    await cloud.createServer(sp);
    const instance = [...fake.instances.values()][0]!;
    expect(instance.labels).toEqual({ "spawnbot-managed": "true", "spawnbot-spawn-id": sp.spawnId, "spawnbot-owner": "u024be7lh" });
    expect(instance.resource).toMatchObject({
      machineType: "zones/us-central1-a/machineTypes/e2-standard-2",
      disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64", diskSizeGb: "40" } }],
      networkInterfaces: [{ network: "global/networks/default", accessConfigs: [{ type: "ONE_TO_ONE_NAT" }] }],
      tags: { items: ["spawnbot-ssh"] },
    });
  }));

  it("sends the spawn id as requestId, and a UUID made from it when it is no UUID", () => withFake(async (fake, cloud) => {
    const sp = spec();
    await cloud.createServer(sp);
    expect(fake.inserts.map((i) => i.requestId)).toEqual([sp.spawnId]);
    const derived = requestIdFor("spawn-42");
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdFor("spawn-42")).toBe(derived);
    expect(requestIdFor("spawn-43")).not.toBe(derived);
  }));

  it("creates the spawnbot-allow-ssh firewall rule once when it is missing", () => withFake(async (fake, cloud) => {
    expect(fake.firewalls.has("spawnbot-allow-ssh")).toBe(false);
    await cloud.createServer(spec());
    await cloud.createServer(spec());
    expect(fake.firewalls.get("spawnbot-allow-ssh")).toMatchObject({
      network: "global/networks/default", direction: "INGRESS", sourceRanges: ["0.0.0.0/0"], targetTags: ["spawnbot-ssh"],
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    });
    expect(fake.calls.filter((c) => c.action.endsWith("/global/firewalls"))).toHaveLength(1);
    // A second bot process finds the rule and makes none.
    await new GcpCloud(settings(fake)).createServer(spec());
    expect(fake.calls.filter((c) => c.action.endsWith("/global/firewalls"))).toHaveLength(1);
  }));

  it("deletes the instance of a create whose operation fails, and says to try another zone", () => withFake(async (fake, cloud) => {
    fake.failNextInsert([{ code: "ZONE_RESOURCE_POOL_EXHAUSTED", message: "The zone 'projects/spawnbot-test-4821/zones/us-central1-a' does not have enough resources available to fulfill the request.  Try a different zone, or try again later." }], { leaveInstance: true });
    const err = await cloud.createServer(spec()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CAPACITY", message: expect.stringContaining("try another --zone (e.g. us-central1-b)") });
    expect(fake.servers()).toEqual([]);
    expect(fake.calls.some((c) => c.method === "DELETE")).toBe(true);
  }));

  it("reports an exceeded quota as QUOTA and leaves no instance", () => withFake(async (fake, cloud) => {
    fake.failNextInsert([{ code: "QUOTA_EXCEEDED", message: "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1." }]);
    await expect(cloud.createServer(spec())).rejects.toMatchObject({ code: "QUOTA", message: expect.stringContaining("Quota 'CPUS' exceeded") });
    expect(fake.servers()).toEqual([]);
  }));

  it("says to enable the Compute Engine API when the project has it off", () => withFake(async (fake, cloud) => {
    fake.refuseNext(`GET /compute/v1/projects/${fake.project}/zones/${fake.zone}`, serviceDisabledError(fake.project));
    await expect(cloud.checkCredentials()).rejects.toMatchObject({
      code: "NOT_CONFIGURED", message: expect.stringContaining(`enable the Compute Engine API for project ${fake.project}`),
    });
  }));

  it("retries an HTML error page from Google's front end like any 5xx", () => withFake(async (fake, cloud) => {
    fake.errorPageNext(`GET /compute/v1/projects/${fake.project}/zones/`);
    await cloud.checkCredentials();
    expect(fake.calls.filter((c) => c.action.includes("/zones/"))).toHaveLength(2);
  }));

  it("refuses a machine type GCE does not have, and a malformed zone", () => withFake(async (fake, cloud) => {
    await expect(cloud.createServer(spec({ size: "e2-enormous" }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("no machine type e2-enormous") });
    expect(() => cloud.checkPlacement(spec({ zone: "us-central1" }))).toThrow(expect.objectContaining({ code: "BAD_PLACEMENT" }));
    expect(fake.servers()).toEqual([]);
  }));

  it("finds, lists and deletes a server made in another --zone", () => withFake(async (fake, cloud) => {
    const sp = spec({ zone: "europe-west1-b" });
    const server = await cloud.createServer(sp);
    expect(server.serverId).toBe(`europe-west1-b/${sp.name}`);
    expect(await cloud.listServers()).toEqual([expect.objectContaining({ serverId: server.serverId, spawnId: sp.spawnId })]);
    await cloud.deleteServer(server.serverId);
    expect(await cloud.getServer(server.serverId)).toBeUndefined();
  }));

  it("refuses a name another spawn's instance has, without touching that instance", () => withFake(async (fake, cloud) => {
    const first = spec();
    await cloud.createServer(first);
    await expect(cloud.createServer(spec({ name: first.name }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("another --name") });
    // The race: the name is free when looked up, taken when inserted (GCE answers 409 alreadyExists).
    const path = `GET /compute/v1/projects/${fake.project}/zones/${fake.zone}/instances/${first.name}`;
    fake.refuseNext(path, { code: 404, message: "The resource was not found", errors: [{ message: "not found", domain: "global", reason: "notFound" }], status: "NOT_FOUND" });
    await expect(cloud.createServer(spec({ name: first.name }))).rejects.toMatchObject({ code: "BAD_PLACEMENT", message: expect.stringContaining("another --name") });
    expect(fake.servers()).toHaveLength(1);
    expect(fake.inserts).toHaveLength(2);
    expect(fake.calls.some((c) => c.method === "DELETE")).toBe(false);
  }));
});

describe("gcp: one table of messages for both error shapes", () => {
  const ctx = { project: "p-1", zone: "us-central1-a", machineType: "e2-medium" };
  // google-auth-library's GaxiosError: HTTP status as code, Google's raw JSON body as the message.
  const gaxios = (status: number, error: object) => Object.assign(new Error(JSON.stringify({ error: { code: status, ...error } })), { code: status });
  // google-gax's GoogleError: gRPC code, the ErrorInfo reason promoted, Google's message.
  const grpc = (code: number, message: string, reason?: string) => Object.assign(new Error(message), { code, reason });
  const cases: [string, unknown, string, string][] = [
    ["403 SERVICE_DISABLED (HTTP)", gaxios(403, serviceDisabledError("p-1")), "NOT_CONFIGURED", "enable the Compute Engine API for project p-1"],
    ["403 SERVICE_DISABLED (gRPC)", grpc(7, serviceDisabledError("p-1").message, "SERVICE_DISABLED"), "NOT_CONFIGURED", "enable the Compute Engine API for project p-1"],
    ["QUOTA_EXCEEDED (HTTP)", gaxios(403, { message: "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.", errors: [{ reason: "quotaExceeded" }] }), "QUOTA", "Quota 'CPUS' exceeded"],
    ["QUOTA_EXCEEDED (operation)", new GceOperationError([{ code: "QUOTA_EXCEEDED", message: "Quota 'IN_USE_ADDRESSES' exceeded.  Limit: 4.0 in region us-central1." }], "insert"), "QUOTA", "IN_USE_ADDRESSES"],
    ["ZONE_RESOURCE_POOL_EXHAUSTED (gRPC)", grpc(8, "The zone 'projects/p-1/zones/us-central1-a' does not have enough resources available to fulfill the request.", "ZONE_RESOURCE_POOL_EXHAUSTED"), "CAPACITY", "try another --zone"],
    ["ZONE_RESOURCE_POOL_EXHAUSTED (operation)", new GceOperationError([{ code: "ZONE_RESOURCE_POOL_EXHAUSTED", message: "not enough resources" }], "insert"), "CAPACITY", "no e2-medium capacity in us-central1-a"],
    ["billing off (HTTP)", gaxios(403, { message: "This API method requires billing to be enabled. Please enable billing on project #123 then retry.", errors: [{ reason: "billingNotEnabled" }] }), "BILLING", "billing/linkedaccount?project=p-1"],
    ["bad token (HTTP)", gaxios(401, { message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" }), "AUTH", "GOOGLE_APPLICATION_CREDENTIALS"],
    ["bad token (gRPC)", grpc(16, "Request had invalid authentication credentials."), "AUTH", "GOOGLE_APPLICATION_CREDENTIALS"],
    ["missing permission (gRPC)", grpc(7, "Required 'compute.instances.create' permission for 'projects/p-1/zones/us-central1-a/instances/x'"), "AUTH", "Compute Instance Admin"],
    ["no such machine type (HTTP)", gaxios(400, { message: "Invalid value for field 'resource.machineType': 'zones/us-central1-a/machineTypes/e2-medium'. Machine type with name 'e2-medium' does not exist in zone 'us-central1-a'." }), "BAD_PLACEMENT", "pick another --size"],
    ["no such zone (gRPC)", grpc(5, "The resource 'projects/p-1/zones/us-central1-a' was not found"), "BAD_PLACEMENT", "--zone"],
    ["no default credentials", new Error("Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information."), "AUTH", "no GCP credentials found"],
    ["no answer in time", Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), "TIMEOUT", "did not answer in time"],
  ];
  it.each(cases)("translates %s", (_, err, code, text) => {
    const out = translateGcpError(err, ctx);
    expect(out).toBeInstanceOf(CloudError);
    expect(out).toMatchObject({ code, message: expect.stringContaining(text) });
    expect((out as Error).message).not.toContain("\n");
  });

  it("passes a bug (no Google or network error) through unchanged", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'labels')");
    expect(translateGcpError(bug, ctx)).toBe(bug);
  });
});

describe("gcp: end to end", () => {
  it("spawns the test agent on a fake GCE instance that is the real test sshd, then deletes it", async () => {
    const bootDelayMs = 300;
    const fake = await GceFake.start({ bootDelayMs });
    try {
      const r = await spawnEndToEnd({
        cloudKey: "gcp", unixUser: "sbt-gcp", fake,
        makeCloud: (botKey, sshd) => new GcpCloud({
          ...settings(fake), botPublicKey: botKey.publicKey, sshPort: sshd.port, sshUser: sshd.user,
          pollIntervalMs: 50, cloudInitTimeoutMs: 2000, sshWait: { attempts: 3, baseDelayMs: 200, maxDelayMs: 500 },
        }),
      });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain("[e2e-gcp] ready");
      expect(r.sessionAliveAfterSpawn).toBe(true);
      expect(r.serversAfterSpawn).toBe(1);
      expect(r.serversAfterDelete).toBe(0);
      // Per spawn: zones.get, a lookup by name, the firewall rule (get, insert, wait), insert, wait,
      // then one instances.get per poll until RUNNING (bootDelayMs / pollIntervalMs of them).
      expect(r.apiCallsPerSpawn).toBeLessThanOrEqual(7 + Math.ceil(bootDelayMs / 50) + 3);
      // delete, then operations.wait until DONE: one wait normally, another when the fake's
      // operation is still running under load.
      expect(r.apiCallsPerDelete).toBeGreaterThanOrEqual(2);
      expect(r.apiCallsPerDelete).toBeLessThanOrEqual(4);
    } finally {
      await fake.close();
    }
  });
});
