// Booking send slots on a real SQLite file: spaced slots per lane, no credit for a quiet spell,
// two connections to one file never given the same slot, stale rows removed, bad input refused.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SyncStore } from "./index.js";
import { openSqliteStore } from "./sqlite-store.js";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const SECOND = 1000; // chat.postMessage: one message per second per channel

let dir: string;
let file: string;
let store: SyncStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spawnbot-slots-"));
  file = join(dir, "spawnbot.db");
  store = openSqliteStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => {
  const raw = new Database(file, { readonly: true });
  try {
    return raw.prepare<[], { lane: string; next_at: number }>("SELECT lane, next_at FROM send_slots ORDER BY lane").all();
  } finally {
    raw.close();
  }
};

describe("booking send slots", () => {
  it("gives a quiet lane's first call now and spaces the next ones by the lane's spacing", () => {
    const slots = [0, 1, 2, 3].map(() => store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0));
    expect(slots).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
  });

  it("gives no credit for a quiet spell: after one, the next call goes now and the one after waits again", () => {
    store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0);
    expect(store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0 + 10_000)).toBe(T0 + 10_000);
    expect(store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0 + 10_001)).toBe(T0 + 11_000);
  });

  it("keeps lanes apart: another channel or another workspace has its own slots", () => {
    store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0);
    expect(store.sendSlots.reserve("slack:T1:post:C2", SECOND, 1, T0)).toBe(T0);
    expect(store.sendSlots.reserve("slack:T2:post:C1", SECOND, 1, T0)).toBe(T0);
    expect(store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0)).toBe(T0 + 1000);
  });

  it("never gives two connections to one file the same slot", () => {
    const other = openSqliteStore(file);
    try {
      const slots = Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).sendSlots.reserve("slack:T1:chat.update", 1200, 1, T0 + i));
      expect(slots).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * 1200));
    } finally {
      other.close();
    }
  });

  it("keeps one row per lane and removes lanes idle for over a minute", () => {
    for (let i = 0; i < 5; i++) store.sendSlots.reserve("slack:T1:post:C1", SECOND, 1, T0);
    store.sendSlots.reserve("slack:T1:post:C2", SECOND, 1, T0);
    expect(rows()).toEqual([{ lane: "slack:T1:post:C1", next_at: T0 + 5000 }, { lane: "slack:T1:post:C2", next_at: T0 + 1000 }]);
    store.sendSlots.reserve("slack:T1:post:C3", SECOND, 1, T0 + 2 * 60_000);
    expect(rows().map((r) => r.lane)).toEqual(["slack:T1:post:C3"]);
  });

  it("lets a burst go at once and then spaces the rest, as a token bucket of that size would", () => {
    const slots = Array.from({ length: 6 }, () => store.sendSlots.reserve("slack:T1:tier4", SECOND, 3, T0));
    expect(slots).toEqual([T0, T0, T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    // A quiet spell refills the bucket: three seconds after the last booked slot, three go at once again.
    const later = T0 + 7000;
    expect([0, 1, 2, 3].map(() => store.sendSlots.reserve("slack:T1:tier4", SECOND, 3, later))).toEqual([later, later, later, later + 1000]);
    expect(() => store.sendSlots.reserve("slack:T1:tier4", SECOND, 0, T0)).toThrow("burst must be 1 or more");
  });

  it("refuses a negative spacing and books nothing", () => {
    expect(() => store.sendSlots.reserve("slack:T1:post:C1", -1, 1, T0)).toThrow("spacing must be 0 ms or more");
    expect(() => store.sendSlots.reserve("slack:T1:post:C1", Number.NaN, 1, T0)).toThrow("spacing must be 0 ms or more");
    expect(rows()).toEqual([]);
  });

  it("keeps the write-ahead log small under many bookings", () => {
    for (let i = 0; i < 20_000; i++) store.sendSlots.reserve(`slack:T1:post:C${i % 50}`, SECOND, 1, T0 + i);
    // SQLite's auto-checkpoint resets the log every 1000 pages (~4 MB); an unfinished RETURNING read does not let it.
    expect(statSync(`${file}-wal`).size).toBeLessThan(16 * 1024 * 1024);
  });
});
