// The Prometheus text parser the /metrics tests rely on refuses what Prometheus would refuse.
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./support/prom-text.js";

describe("the strict Prometheus text parser", () => {
  it("reads families, types, escaped labels and special values", () => {
    const m = parsePrometheusText([
      "# HELP jobs_total Jobs done.", "# TYPE jobs_total counter", 'jobs_total{queue="a\\"b",kind="x\\\\y",} 3', "",
      "# TYPE lag gauge", "lag NaN", "# TYPE d histogram",
      'd_bucket{le="1"} 1', 'd_bucket{le="+Inf"} 2', "d_sum 3.5", "d_count 2",
    ].join("\n"));
    expect(m.get("jobs_total")).toMatchObject({ type: "counter", help: "Jobs done." });
    expect(sampleValue(m, "jobs_total", { queue: 'a"b', kind: "x\\y" })).toBe(3);
    expect(sampleValue(m, "lag")).toBeNaN();
    expect(sampleValue(m, "d_count")).toBe(2);
  });

  it.each([
    ["a bad metric name", "1bad 1"],
    ["an unquoted label", "m{a=b} 1"],
    ["a bad escape", 'm{a="\\t"} 1'],
    ["a bad value", "m 1,5"],
    ["a TYPE after its samples", "m 1\n# TYPE m gauge"],
    ["a duplicate series", 'm{a="1"} 1\nm{a="1"} 2'],
    ["a family split in two", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2"],
    ["buckets that are not cumulative", '# TYPE d histogram\nd_bucket{le="1"} 3\nd_bucket{le="+Inf"} 2\nd_count 2'],
    ["a +Inf bucket unlike _count", '# TYPE d histogram\nd_bucket{le="+Inf"} 2\nd_count 3'],
    ["an unknown type", "# TYPE m thing"],
  ])("refuses %s", (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
