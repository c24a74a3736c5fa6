import { describe, expect, it } from "vitest";
import { Outbox } from "./outbox.js";

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
