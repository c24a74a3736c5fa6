// The suite-wide secret scan, run by `npm test` after every other test file has finished
// (it reads what they captured in .test-capture; see test/support/capture.ts).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/secret-scan.check.ts"],
    testTimeout: 120_000,
  },
});
