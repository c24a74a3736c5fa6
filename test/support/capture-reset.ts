// vitest globalSetup: start every run with an empty capture, so the secret scan afterwards
// reads only what this run produced.
import { mkdirSync, rmSync } from "node:fs";
import { CAPTURE_DIR } from "./capture.js";

export default function resetCapture(): void {
  rmSync(CAPTURE_DIR, { recursive: true, force: true });
  mkdirSync(CAPTURE_DIR, { recursive: true });
}
