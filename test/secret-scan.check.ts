// After the whole suite: no known secret value (the test OpenRouter key, the fakes' tokens, users'
// keys saved through settings, the AWS secret key, ...) appears in any log line, chat message or
// stored audit row the suite produced. Run by `npm test` through test/secret-scan.config.ts.
import { describe, expect, it } from "vitest";
import { CAPTURE_DIR } from "./support/capture.js";
import { scanCapture } from "./support/secret-scan.js";
import { FAKE_KEY } from "./support/test-agent.js";

describe("the suite's secret scan", () => {
  it("finds no secret in any log line, chat message or audit row the suite produced", async () => {
    const report = await scanCapture(CAPTURE_DIR, [FAKE_KEY]);
    const { findings, ...counts } = report;
    console.log(`secret scan: ${JSON.stringify(counts)}, ${findings.length} finding(s)`);
    expect(findings, "secret values in what the suite logged, sent or audited (secrets masked)").toEqual([]);
    // An empty capture would make a clean result meaningless: the suite must have run first.
    expect(counts.logLines, `nothing captured in ${CAPTURE_DIR}; run the suite first (npm test)`).toBeGreaterThan(0);
    expect(counts.messages).toBeGreaterThan(0);
    expect(counts.auditRows).toBeGreaterThan(0);
  });
});
