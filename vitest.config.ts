import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: real sshd, tmux and npm installs compete; two files at a time is the sweet spot.
    maxWorkers: 2,
    // The secret scan (npm test's last step) reads what the suite captured: see test/support/capture.ts.
    globalSetup: ["test/support/capture-reset.ts"],
    setupFiles: ["test/support/capture-setup.ts"],
  },
});
