import { describe, expect, it } from "vitest";
import { MAX_DURATION_MS, parseDuration } from "./duration.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe("parseDuration", () => {
  it("reads minutes, hours, days and seconds", () => {
    expect(parseDuration("90m")).toBe(90 * MINUTE);
    expect(parseDuration("2h")).toBe(2 * HOUR);
    expect(parseDuration("1d")).toBe(DAY);
    expect(parseDuration("45s")).toBe(45_000);
  });

  it("adds up combined parts such as 1h30m and 1d12h", () => {
    expect(parseDuration("1h30m")).toBe(90 * MINUTE);
    expect(parseDuration("1d12h")).toBe(36 * HOUR);
    expect(parseDuration("1h0m30s")).toBe(HOUR + 30_000);
  });

  it("ignores case and surrounding spaces", () => {
    expect(parseDuration(" 2H ")).toBe(2 * HOUR);
  });

  it("accepts exactly 30 days and refuses more", () => {
    expect(parseDuration("30d")).toBe(MAX_DURATION_MS);
    expect(parseDuration("29d24h")).toBe(MAX_DURATION_MS);
    expect(parseDuration("30d1s")).toBeUndefined();
    expect(parseDuration("999999d")).toBeUndefined();
  });

  it("refuses bare numbers, since the unit would be a guess", () => {
    expect(parseDuration("90")).toBeUndefined();
    expect(parseDuration("0")).toBeUndefined();
  });

  it("refuses zero, negative and fractional durations", () => {
    expect(parseDuration("0m")).toBeUndefined();
    expect(parseDuration("0h0m")).toBeUndefined();
    expect(parseDuration("-1h")).toBeUndefined();
    expect(parseDuration("1.5h")).toBeUndefined();
  });

  it("refuses units out of order, repeated or unknown, and empty text", () => {
    expect(parseDuration("30m1h")).toBeUndefined();
    expect(parseDuration("1h1h")).toBeUndefined();
    expect(parseDuration("1w")).toBeUndefined();
    expect(parseDuration("2 h")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
    expect(parseDuration("h")).toBeUndefined();
  });
});
