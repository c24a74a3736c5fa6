// The contract every VM cloud provider runs against its wire-level fake: a new cloud is done
// when this suite is green. Each provider's test file calls describeCloudContract once.
import { describe, expect, it } from "vitest";
import { AGENTS } from "../../src/orchestrator/index.js";
import type { Cloud, ServerSpec } from "../../src/orchestrator/clouds/types.js";
import type { CloudFake } from "../fakes/cloud-fake.js";
import { TEST_AGENT } from "../support/test-agent.js";

export interface ContractSubject {
  cloud: Cloud;
  fake: CloudFake;
  /** The same provider built with a wrong token / credentials. */
  withBadCredentials(): Cloud;
  /** A --size that is valid for the provider but smaller than 4 GB (OpenClaw's minimum). */
  smallSize: string;
  /** A --size that breaks the provider's size pattern. */
  badSize: string;
  close(): Promise<void>;
}

const openclaw = AGENTS.find((a) => a.key === "openclaw")!;

export function spec(over: Partial<ServerSpec> = {}): ServerSpec {
  const spawnId = crypto.randomUUID();
  return {
    spawnId, name: `c-${spawnId.slice(0, 8)}`, agent: TEST_AGENT, ownerKeys: [],
    tags: { "spawnbot-spawn-id": spawnId, "spawnbot-owner": "u1" }, ...over,
  };
}

export function describeCloudContract(name: string, setup: () => Promise<ContractSubject>): void {
  describe(`${name}: the cloud contract`, () => {
    const withSubject = (fn: (s: ContractSubject) => Promise<void>) => async () => {
      const s = await setup();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it("prices its default size by the hour, with a currency and where the price comes from", withSubject(async (s) => {
      const answer = await s.cloud.priceOf({ agent: TEST_AGENT });
      expect(answer).toMatchObject({ kind: "priced", price: { currency: expect.stringMatching(/^[A-Z]{3}$/), source: expect.any(String) } });
      expect(answer.kind === "priced" && answer.price.perHour).toBeGreaterThan(0);
    }));

    it("accepts good credentials and refuses bad ones with an AUTH error", withSubject(async (s) => {
      await s.cloud.checkCredentials();
      await expect(s.withBadCredentials().checkCredentials()).rejects.toMatchObject({ code: "AUTH" });
    }));

    it("creates a tagged server, finds it by id and by tag, and deletes it", withSubject(async (s) => {
      const sp = spec();
      const server = await s.cloud.createServer(sp);
      expect(server.address).toBe("127.0.0.1");
      const held = s.fake.servers();
      expect(held).toHaveLength(1);
      expect(Object.entries(held[0]!.tags)).toEqual(expect.arrayContaining([[expect.stringMatching(/spawn-?id/i), sp.spawnId]]));
      expect(await s.cloud.getServer(server.serverId)).toMatchObject({ serverId: server.serverId, address: "127.0.0.1" });
      expect(await s.cloud.listServers()).toEqual([expect.objectContaining({ serverId: server.serverId, spawnId: sp.spawnId })]);
      await s.cloud.deleteServer(server.serverId);
      expect(s.fake.servers()).toEqual([]);
      expect(await s.cloud.getServer(server.serverId)).toBeUndefined();
      await s.cloud.deleteServer(server.serverId); // already gone counts as deleted
    }));

    it("makes one server when the same spawn is created twice", withSubject(async (s) => {
      const sp = spec();
      const a = await s.cloud.createServer(sp);
      const b = await s.cloud.createServer(sp);
      expect(b.serverId).toBe(a.serverId);
      expect(s.fake.servers()).toHaveLength(1);
    }));

    it("makes exactly one server when the create response is lost", withSubject(async (s) => {
      s.fake.inject({ kind: "lose-create-response", times: 1 });
      await s.cloud.createServer(spec());
      expect(s.fake.servers()).toHaveLength(1);
    }));

    it("retries throttling, server errors and a request that times out", withSubject(async (s) => {
      s.fake.inject({ kind: "throttle", times: 2 });
      s.fake.inject({ kind: "server-error", times: 1 });
      s.fake.inject({ kind: "timeout", times: 1 });
      const before = s.fake.calls.length;
      await s.cloud.createServer(spec());
      expect(s.fake.servers()).toHaveLength(1);
      expect(s.fake.calls.length - before).toBeGreaterThanOrEqual(4);
    }));

    it("refuses a malformed size, and a size below the agent's minimum memory naming the size", withSubject(async (s) => {
      await expect(Promise.resolve().then(() => s.cloud.checkPlacement(spec({ size: s.badSize })))).rejects.toMatchObject({ code: "BAD_PLACEMENT" });
      await expect(Promise.resolve().then(() => s.cloud.checkPlacement(spec({ size: s.smallSize, agent: openclaw })))).rejects.toThrow(s.smallSize);
      await s.cloud.checkPlacement(spec());
      expect(s.fake.servers()).toEqual([]);
    }));
  });
}
