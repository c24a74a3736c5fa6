import { describe, expect, it } from "vitest";
import { Outbox, SLOT_TIMEOUT_MS, type SendSlotBooking } from "./outbox.js";

const rateLimited = (seconds: number) => Object.assign(new Error("ratelimited"), { retryAfter: seconds });

function outbox(perSecond = 1000, burst = 1000) {
  return new Outbox({ limitFor: () => ({ perSecond, burst }), retryAfter: (err) => (err as { retryAfter?: number }).retryAfter });
}

describe("the outbox", () => {
  it("sends only the newest of the calls with the same key that waited, and tells every caller", async () => {
    const box = outbox(20, 1);
    const sent: number[] = [];
    const send = (n: number) => () => Promise.resolve(sent.push(n)).then(() => n);
    const results = await Promise.all([1, 2, 3, 4].map((n) => box.call({ lane: "edit", coalesceKey: "msg-1", send: send(n) })));
    expect(sent).toEqual([1, 4]); // the first went at once; 2 and 3 were replaced while waiting
    expect(results).toEqual([1, 4, 4, 4]);
    expect(box.counts).toMatchObject({ sent: 2, coalesced: 2 });
  });

  it("keeps a lane to its rate: calls beyond the burst wait for tokens", async () => {
    const box = outbox(10, 2);
    const times: number[] = [];
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => box.call({ lane: "post:C1", send: async () => void times.push(Date.now() - started) })));
    expect(times.slice(0, 2).every((t) => t < 50)).toBe(true);
    expect(times[4]).toBeGreaterThanOrEqual(250); // 3 more tokens at 10/s
  });

  it("waits out Retry-After on a rate-limited answer, sends the call again, and keeps order", async () => {
    const box = outbox();
    const order: string[] = [];
    let first = true;
    const started = Date.now();
    const a = box.call({ lane: "x", send: async () => { if (first) { first = false; throw rateLimited(0.2); } order.push("a"); } });
    const b = box.call({ lane: "x", send: async () => void order.push("b") });
    await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(box.counts.rateLimited).toBe(1);
  });

  it("sends a call that became urgent while it waited before the calls queued ahead of it", async () => {
    const box = outbox(20, 1);
    const sent: string[] = [];
    let ended = false; // a run's end makes its waiting status post urgent
    const post = (name: string, urgent?: () => boolean) => box.call({ lane: "post:C1", urgent, send: async () => void sent.push(name) });
    const all = [post("root-1"), post("root-2"), post("root-3"), post("root-4", () => ended)];
    ended = true;
    await Promise.all(all);
    expect(sent).toEqual(["root-1", "root-4", "root-2", "root-3"]); // root-1 went at once, before the run ended
  });

  it("returns other errors to the caller at once, and lanes do not block each other", async () => {
    const box = outbox(0.5, 1);
    await box.call({ lane: "slow", send: async () => undefined });
    const slow = box.call({ lane: "slow", send: async () => "late" }); // waits ~2 s for a token
    await expect(box.call({ lane: "other", send: async () => { throw new Error("channel_not_found"); } })).rejects.toThrow("channel_not_found");
    box.close();
    await expect(slow).rejects.toThrow("closed");
  });
});

/** A booking of send slots in memory with the store's rule for a burst of 1 (these tests look at spacing): slot = max(next free, now); next free = slot + spacing. */
function memorySlots(): SendSlotBooking & { lanes: string[] } {
  const next = new Map<string, number>();
  const lanes: string[] = [];
  return {
    lanes,
    async reserve(lane, spacingMs) {
      const slot = Math.max(next.get(lane) ?? 0, Date.now());
      next.set(lane, slot + spacingMs);
      lanes.push(lane);
      return slot;
    },
  };
}

function sharedOutbox(slots: SendSlotBooking, perSecond: number, more: Partial<ConstructorParameters<typeof Outbox>[0]> = {}) {
  return new Outbox({ limitFor: () => ({ perSecond, burst: 10 }), retryAfter: () => undefined, slots, slotScope: "slack:T1", ...more });
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("the outbox with send slots shared by replicas", () => {
  it("keeps two replicas' calls into one lane to the lane's rate together, with no burst", async () => {
    const slots = memorySlots();
    const [a, b] = [sharedOutbox(slots, 20), sharedOutbox(slots, 20)];
    const times: number[] = [];
    const post = (box: Outbox) => box.call({ lane: "post:C1", send: async () => void times.push(Date.now()) });
    await Promise.all([...Array.from({ length: 5 }, () => post(a)), ...Array.from({ length: 5 }, () => post(b))]);
    const gaps = times.sort((x, y) => x - y).slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45); // 20 per second: 50 ms apart (timers may fire a few ms early)
    expect(slots.lanes.every((l) => l === "slack:T1:post:C1")).toBe(true);
    expect(a.counts.slotted + b.counts.slotted).toBe(10);
  });

  it("sends only the newest state of a call replaced while its slot was being booked", async () => {
    let release!: () => void;
    const slow: SendSlotBooking = { reserve: () => new Promise<number>((r) => (release = () => r(Date.now()))) };
    const box = sharedOutbox(slow, 10);
    const sent: number[] = [];
    const edit = (n: number) => box.call({ lane: "chat.update", coalesceKey: "C1/1.0", send: async () => (sent.push(n), n) });
    const first = edit(1);
    await tick();
    const second = edit(2); // the booking for the first is still out
    release();
    expect(await Promise.all([first, second])).toEqual([2, 2]);
    expect(sent).toEqual([2]);
  });

  it("sends a call that became urgent while waiting for the slot before the calls ahead of it", async () => {
    const slots = memorySlots();
    await slots.reserve("slack:T1:post:C1", 100, 1); // another replica holds the next 100 ms
    const box = sharedOutbox(slots, 10);
    const sent: string[] = [];
    let ended = false;
    const post = (name: string, urgent?: () => boolean) => box.call({ lane: "post:C1", urgent, send: async () => void sent.push(name) });
    const all = [post("progress-1"), post("progress-2"), post("final", () => ended)];
    await tick();
    ended = true;
    await Promise.all(all);
    expect(sent).toEqual(["final", "progress-1", "progress-2"]);
  });

  it("paces locally when the store cannot book, says so once, and loses no call", async () => {
    let asked = 0;
    const down: SendSlotBooking = { reserve: () => (asked++, Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"))) };
    const told: unknown[] = [];
    const box = sharedOutbox(down, 1000, { onSlotsUnavailable: (err) => told.push(err) });
    const sent: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => box.call({ lane: "post:C1", send: async () => void sent.push(n) })));
    expect(sent).toEqual([1, 2, 3, 4]);
    expect(told).toHaveLength(1);
    expect(asked).toBe(1); // then local pacing, without asking the store again for a while
    expect(box.counts.slotted).toBe(0);
  });

  it("does not wait past a few seconds for a store that does not answer", async () => {
    const hung: SendSlotBooking = { reserve: () => new Promise<number>(() => undefined) };
    let told = 0;
    const box = sharedOutbox(hung, 1, { onSlotsUnavailable: () => told++ });
    const started = Date.now();
    await box.call({ lane: "post:C1", send: async () => undefined });
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOT_TIMEOUT_MS - 10);
    expect(Date.now() - started).toBeLessThan(SLOT_TIMEOUT_MS + 500);
    expect(told).toBe(1);
  });

  it("drops calls waiting for their slot when closed", async () => {
    const slots = memorySlots();
    await slots.reserve("slack:T1:post:C1", 10_000, 1);
    const box = sharedOutbox(slots, 1);
    const waiting = box.call({ lane: "post:C1", send: async () => "sent" });
    await tick();
    box.close();
    await expect(waiting).rejects.toThrow("closed");
  });
});
