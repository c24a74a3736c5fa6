// The logger never writes a secret: by field name and by exact value, in JSON and pretty form.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.js";
import { SecretRedactor } from "./secrets.js";

const KEY = `sk-or-v1-${"ab".repeat(32)}`;
const ODD_SECRET = "hunter2-is-not-a-pattern-we-know";

function capture(format: "json" | "pretty") {
  const out = new PassThrough();
  let text = "";
  out.on("data", (d: Buffer) => (text += d.toString()));
  const redactor = new SecretRedactor();
  redactor.add(ODD_SECRET);
  const log = createLogger({ level: "info", format, destination: out, redactor });
  return { log, read: () => text };
}

describe("the logger", () => {
  it.each(["json", "pretty"] as const)("redacts secrets by field and by value (%s)", (format) => {
    const { log, read } = capture(format);
    log.child({ spawnId: "s-1" }).info({ apiKey: "field-secret-value", nested: { token: "nested-token-value" } }, `remote said ${ODD_SECRET} and ${KEY}`);
    const text = read();
    expect(text).toContain("s-1");
    expect(text).toContain("remote said [redacted] and [redacted]");
    for (const secret of ["field-secret-value", "nested-token-value", ODD_SECRET, KEY]) expect(text).not.toContain(secret);
  });

  it("writes one JSON object per line carrying the spawn id", () => {
    const { log, read } = capture("json");
    log.child({ spawnId: "s-2" }).info({ step: "install" }, "step started");
    const line = JSON.parse(read().trim());
    expect(line).toMatchObject({ spawnId: "s-2", step: "install", msg: "step started" });
  });

  it("redacts a private key pasted anywhere", () => {
    const { log, read } = capture("json");
    log.info("key: -----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----");
    expect(read()).not.toContain("abc");
  });
});
