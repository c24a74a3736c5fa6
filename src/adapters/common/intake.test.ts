import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { Intake } from "./intake.js";

/** Burns the CPU for ms, like a handler's synchronous part (parse, policy, SQLite). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin */ }
}

describe("the intake", () => {
  it("answers a request that arrives during a backlog after a few jobs, not after all of them", async () => {
    const started: number[] = [];
    const intake = new Intake((err) => { throw err; });
    const server = http.createServer((_req, res) => res.end(String(started.length))).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      for (let i = 0; i < 200; i++) intake.add(async () => { started.push(i); busy(2); });
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const jobsBeforeAnswer = Number(await res.text());
      await intake.idle();
      expect(started).toEqual(Array.from({ length: 200 }, (_, i) => i)); // all ran, in arrival order
      expect(jobsBeforeAnswer).toBeLessThan(50); // one job per turn: the I/O phase came round
    } finally {
      server.close();
    }
  });

  it("reports a failed job and goes on with the rest", async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const intake = new Intake((err) => errors.push(err));
    intake.add(async () => { throw new Error("boom"); });
    intake.add(async () => void ran.push("second"));
    await intake.idle();
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom"]);
    expect(ran).toEqual(["second"]);
    expect(intake.size).toBe(0);
  });

  it("waits in idle() for jobs that queued more jobs", async () => {
    const ran: string[] = [];
    const intake = new Intake((err) => { throw err; });
    intake.add(async () => {
      await new Promise((r) => setTimeout(r, 20));
      intake.add(async () => void ran.push("follow-up"));
    });
    await intake.idle();
    expect(ran).toEqual(["follow-up"]);
  });

  it("starts work with a deadline of its own ahead of the queue", async () => {
    const order: string[] = [];
    const intake = new Intake((err) => { throw err; });
    for (let i = 0; i < 3; i++) intake.add(async () => void order.push(`queued ${i}`));
    intake.startNow(async () => void order.push("now"));
    await intake.idle();
    expect(order[0]).toBe("now");
    expect(order).toHaveLength(4);
  });
});
