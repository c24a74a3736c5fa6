// The secret scan: reads what the suite captured (test/support/capture.ts) and reports every log
// line, chat message and stored audit row holding a known secret value, in any of the forms it
// travels in (as is, JSON-escaped, URL-encoded), or anything shaped like a key or token.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { openStore } from "../../src/bot/store/index.js";
import { looksLikeSecret } from "../../src/secrets.js";

/** The redactor ignores shorter values (they would garble text); so does the scan. */
const MIN_SECRET_LENGTH = 8;
/** How much of a finding to show: enough to find it, never the secret itself. */
const EXCERPT_CHARS = 120;

export interface SecretFinding {
  /** "logs-123-1.ndjson:42", "messages-…:7" or "<db file> audit #12". */
  where: string;
  /** The secret, masked to its first four characters, or "a secret-shaped value". */
  secret: string;
  /** The captured text around the hit, with the secret itself masked. */
  excerpt: string;
}

export interface SecretScanReport {
  secrets: number;
  logLines: number;
  messages: number;
  stores: number;
  auditRows: number;
  findings: SecretFinding[];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const mask = (s: string) => `${s.slice(0, 4)}…(${s.length} chars)`;

function readLines(dir: string, kind: string): { file: string; line: string; n: number }[] {
  if (!existsSync(dir)) return [];
  const out: { file: string; line: string; n: number }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${kind}-`)).sort()) {
    readFileSync(path.join(dir, file), "utf8").split("\n").forEach((line, i) => {
      if (line.trim() !== "") out.push({ file, line, n: i + 1 });
    });
  }
  return out;
}

/** Scan a capture directory; `known` adds secrets beyond those the suite registered there. */
export async function scanCapture(dir: string, known: readonly string[] = []): Promise<SecretScanReport> {
  const values = new Set([...readLines(dir, "secrets").map((l) => JSON.parse(l.line) as string), ...known]);
  const secrets = [...values].filter((s) => s.length >= MIN_SECRET_LENGTH);
  // Each secret as it may appear: raw, inside a JSON string, URL-encoded. Longest first.
  const forms = new Map<string, string>();
  for (const s of secrets) for (const f of [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]) forms.set(f, s);
  const sorted = [...forms.keys()].sort((a, b) => b.length - a.length);
  const pattern = sorted.length ? new RegExp(sorted.map(escapeRegExp).join("|"), "g") : undefined;

  const findings: SecretFinding[] = [];
  const check = (where: string, text: string) => {
    const hits = pattern ? [...text.matchAll(pattern)].map((m) => forms.get(m[0])!) : [];
    const shaped = hits.length === 0 && looksLikeSecret(text);
    if (hits.length === 0 && !shaped) return;
    const first = hits[0];
    const at = first ? Math.max(0, text.indexOf(first) - 40) : 0;
    let excerpt = text.slice(at, at + EXCERPT_CHARS);
    if (pattern) excerpt = excerpt.replace(pattern, (m) => mask(m));
    findings.push({ where, secret: first ? mask(first) : "a secret-shaped value", excerpt });
  };

  const logs = readLines(dir, "logs");
  for (const l of logs) check(`${l.file}:${l.n}`, l.line);
  const messages = readLines(dir, "messages");
  for (const l of messages) check(`${l.file}:${l.n}`, l.line);

  const storeFiles = [...new Set(readLines(dir, "stores").map((l) => JSON.parse(l.line) as string))].filter((f) => existsSync(f));
  let auditRows = 0;
  for (const file of storeFiles) {
    const store = openStore(file);
    try {
      for (const row of await store.listAudit({ limit: Number.MAX_SAFE_INTEGER })) {
        auditRows++;
        check(`${file} audit #${row.id}`, JSON.stringify(row));
      }
    } finally {
      await store.close();
    }
  }
  return { secrets: secrets.length, logLines: logs.length, messages: messages.length, stores: storeFiles.length, auditRows, findings };
}
