// The one logger: pino, pretty on a console, JSON otherwise; every line passes the secret
// redactor (by value) and pino's redact paths (by field) before it is written.
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import { secrets, type SecretRedactor } from "./secrets.js";

export type { Logger };

/** Field names whose values are secrets wherever they appear in a log object. */
const SECRET_FIELDS = [
  "apiKey", "openrouterApiKey", "openrouterManagementKey", "managementKey", "token", "botToken", "appToken", "signingSecret", "secret",
  "password", "privateKey", "authorization", "OPENROUTER_API_KEY",
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export interface LogOptions {
  level: string;
  format: "pretty" | "json";
  /** Where lines go; stderr by default so stdout stays for the console adapter's output. */
  destination?: NodeJS.WritableStream;
  redactor?: SecretRedactor;
}

export function createLogger(opts: LogOptions): Logger {
  const out = opts.destination ?? process.stderr;
  const redactor = opts.redactor ?? secrets;
  const sanitized = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.write(redactor.redact(chunk.toString("utf8")));
      done();
    },
  });
  const stream =
    opts.format === "pretty"
      ? pretty({ destination: sanitized, colorize: false, sync: true, ignore: "pid,hostname" })
      : sanitized;
  return pino({ level: opts.level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, stream);
}
