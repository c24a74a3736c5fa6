// The contract every Store implementation keeps: what the bot relies on being atomic (a live name
// per owner, a delivery acted on once, one lease holder, the first host-key pin) and what it reads
// back. SQLite runs it today (test/store-contract.test.ts); a shared database's store is done when
// it passes too. Every call is awaited, so an asynchronous store runs the same suite unchanged.
import { describe, expect, it } from "vitest";
import { StoreConflictError, StoreLimitError, StoreNotFoundError, type IntentLimits, type NewSpawn, type Store } from "../../src/bot/store/index.js";

export interface StoreSubject {
  /** The synchronous SQLite store today, or a store whose every method returns a Promise (PostgreSQL). */
  open(): Promise<Store> | Store;
  /** Two handles on one new database, as two processes (replicas) would hold. */
  openPair(): Promise<[Store, Store]> | [Store, Store];
}

const ALICE = { platform: "test", userId: "U1" };
const BOB = { platform: "test", userId: "U2" };

function intent(over: Partial<NewSpawn> = {}): NewSpawn {
  const id = crypto.randomUUID();
  return {
    id, name: `s-${id.slice(0, 8)}`, platform: "test", workspace: "W1", channel: "C1", ownerId: ALICE.userId, ownerName: "alice",
    agent: "codex", cloud: "hetzner", model: "openai/gpt-5", size: null, zone: null, session: `s-${id.slice(0, 8)}`, prompt: null,
    createdAt: Date.now(), expiresAt: null, ...over,
  };
}

export function describeStoreContract(name: string, subject: StoreSubject): void {
  describe(`the store contract: ${name}`, () => {
    it("keeps a live name unique per owner, and frees it once the spawn has ended", async () => {
      const store = await subject.open();
      const first = await store.recordIntent(intent({ name: "fix-login" }));
      await expect(Promise.resolve().then(() => store.recordIntent(intent({ name: "fix-login" })))).rejects.toBeInstanceOf(StoreConflictError);
      await store.recordIntent(intent({ name: "fix-login", ownerId: BOB.userId, ownerName: "bob" })); // another owner's
      await store.updateSpawn(first.id, { status: "deleted", deletedAt: Date.now() });
      expect((await store.recordIntent(intent({ name: "fix-login" }))).status).toBe("pending");
    });

    it("admits a spawn within its limits only, counting and inserting at once: of 8 racing for the last place, one gets it", async () => {
      const store = await subject.open();
      const workspace = `W-${crypto.randomUUID()}`;
      const none: IntentLimits = { livePerOwner: 0, livePerWorkspace: 0, startsPerOwner: 0, startsPerWorkspace: 0, startsSince: 0 };
      const limits = { ...none, livePerWorkspace: 3 };
      await store.recordIntent(intent({ workspace }), limits);
      await store.recordIntent(intent({ workspace, ownerId: BOB.userId }), limits);
      const raced = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.recordIntent(intent({ workspace, ownerId: `U${10 + i}` }), limits)));
      expect(raced.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refusals = raced.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(refusals.every((e) => e instanceof StoreLimitError && e.limit === "live-workspace")).toBe(true);
      expect(await store.countLive({ platform: "test", workspace })).toBe(3);
      // Starts in the window: the oldest one's time comes back, so the user hears when one more fits.
      const t0 = Date.now() - 30 * 60_000;
      const other = `W-${crypto.randomUUID()}`;
      await store.recordIntent(intent({ workspace: other, ownerId: "U99", createdAt: t0 }), none);
      await store.recordIntent(intent({ workspace: other, ownerId: "U99", createdAt: t0 + 1000 }), none);
      const hourly = { ...none, startsPerOwner: 2, startsSince: t0 - 1 };
      const refused = await store.recordIntent(intent({ workspace: other, ownerId: "U99" }), hourly).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(StoreLimitError);
      expect(refused).toMatchObject({ limit: "starts-owner", oldest: t0 });
      expect(await store.countStartedSince({ platform: "test", ownerId: "U99" }, t0 - 1)).toEqual({ count: 2, oldest: t0 });
    });

    it("refuses to update a spawn it does not know", async () => {
      const store = await subject.open();
      await expect(Promise.resolve().then(() => store.updateSpawn(crypto.randomUUID(), { status: "ready" }))).rejects.toBeInstanceOf(StoreNotFoundError);
    });

    it("reads back what a run needs to continue: its options and how its host is reached", async () => {
      const store = await subject.open();
      const made = await store.recordIntent(intent({ cloud: "ssh", sshIdentity: "owner", options: { host: { user: "me", host: "203.0.113.7", port: 22 }, steps: ["github"] } }));
      expect(await store.getSpawn(made.id)).toMatchObject({ sshIdentity: "owner", options: { host: { user: "me", host: "203.0.113.7", port: 22 }, steps: ["github"] } });
    });

    it("acts on a platform delivery once while it is remembered", async () => {
      const store = await subject.open();
      const key = `slack:${crypto.randomUUID()}`;
      const now = Date.now();
      expect(await store.chat.claimDelivery(key, 60_000, now)).toBe(true);
      expect(await store.chat.claimDelivery(key, 60_000, now + 1)).toBe(false);
    });

    it("gives a lease to one holder at a time, and to another only once it expired", async () => {
      const store = await subject.open();
      const lease = `contract-${crypto.randomUUID()}`;
      const now = Date.now();
      expect((await store.leases.acquire(lease, "a", 1000, now)).ok).toBe(true);
      const refused = await store.leases.acquire(lease, "b", 1000, now + 10);
      expect(refused).toMatchObject({ ok: false, lease: { holder: "a" } });
      expect(await store.leases.renew(lease, "b", 1000, now + 20)).toBe(false);
      expect(await store.leases.renew(lease, "a", 1000, now + 500)).toBe(true); // now expires at now + 1500
      expect((await store.leases.acquire(lease, "b", 1000, now + 1400)).ok).toBe(false);
      const taken = await store.leases.acquire(lease, "b", 1000, now + 1600);
      expect(taken).toMatchObject({ ok: true, lease: { holder: "b" }, tookOver: { holder: "a" } });
      expect(await store.leases.renew(lease, "a", 1000, now + 1700)).toBe(false);
      expect(await store.leases.release(lease, "b")).toBe(true);
      expect(await store.leases.get(lease)).toBeUndefined();
    });

    it("books send slots from two handles on one database at once: every slot distinct and spaced", async () => {
      const [a, b] = await subject.openPair();
      const lane = `slack:T1:post:C-${crypto.randomUUID()}`;
      const now = Date.now();
      const booked = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).sendSlots.reserve(lane, 1000, 1, now)));
      expect(booked.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => now + i * 1000));
      // Another lane is not held back by this one's bookings.
      expect(await b.sendSlots.reserve(`${lane}-other`, 1000, 1, now)).toBe(now);
    });

    it("keeps the first host-key pin of an endpoint, remembers a different key, and accepts it only on request", async () => {
      const store = await subject.open();
      const endpoint = `198.51.100.${Math.floor(Math.random() * 250)}:${20_000 + Math.floor(Math.random() * 10_000)}`;
      expect((await store.hosts.pinHostKey(endpoint, "ssh-ed25519 AAAAfirst", ALICE)).hostKey).toBe("ssh-ed25519 AAAAfirst");
      expect((await store.hosts.pinHostKey(endpoint, "ssh-ed25519 AAAAsecond", BOB))).toMatchObject({ hostKey: "ssh-ed25519 AAAAfirst", owner: ALICE });
      await store.hosts.noteSeenKey(endpoint, "ssh-ed25519 AAAAsecond");
      expect((await store.hosts.getPin(endpoint))?.seenKey).toBe("ssh-ed25519 AAAAsecond");
      expect(await store.hosts.acceptSeenKey(endpoint)).toBe(true);
      expect(await store.hosts.getPin(endpoint)).toMatchObject({ hostKey: "ssh-ed25519 AAAAsecond", seenKey: null });
      expect(await store.hosts.acceptSeenKey(endpoint)).toBe(false);
    });

    it("counts live spawns and recent starts per owner and per workspace", async () => {
      const store = await subject.open();
      const workspace = `W-${crypto.randomUUID().slice(0, 6)}`;
      const now = Date.now();
      const a = await store.recordIntent(intent({ workspace, createdAt: now - 2 * 60 * 60_000 }));
      await store.recordIntent(intent({ workspace, createdAt: now - 60_000 }));
      await store.recordIntent(intent({ workspace, ownerId: BOB.userId, createdAt: now - 30_000 }));
      await store.updateSpawn(a.id, { status: "failed" });
      expect(await store.countLive({ platform: "test", workspace })).toBe(2);
      expect(await store.countStartedSince({ platform: "test", workspace }, now - 60 * 60_000)).toMatchObject({ count: 2 });
    });

    it("revokes every tunnel link of a spawn at once", async () => {
      const store = await subject.open();
      const spawn = await store.recordIntent(intent());
      for (const hash of ["a", "b"].map((x) => `${x}${crypto.randomUUID().replaceAll("-", "")}`)) {
        await store.saveTunnelToken({ tokenHash: hash, spawnId: spawn.id, user: BOB, createdAt: Date.now(), expiresAt: null, revokedAt: null });
      }
      expect(await store.revokeTunnelTokens(spawn.id)).toBe(2);
      expect(await store.revokeTunnelTokens(spawn.id)).toBe(0);
    });

    it("shares a spawn with a user once, and takes it back", async () => {
      const store = await subject.open();
      const spawn = await store.recordIntent(intent());
      expect(await store.addShare(spawn.id, BOB)).toBe(true);
      expect(await store.addShare(spawn.id, BOB)).toBe(false);
      expect(await store.listSharedWith(BOB)).toContain(spawn.id);
      expect(await store.removeShare(spawn.id, BOB)).toBe(true);
      expect(await store.listShares(spawn.id)).toEqual([]);
    });
  });
}
