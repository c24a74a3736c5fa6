// One sanitizer for every outbound message and log line: it redacts the exact value of every
// secret the bot holds (prefix patterns alone miss keys echoed back by a remote command).

const REDACTED = "[redacted]";

/** Shapes of secrets we may not have registered (a user pasting a key, a remote echo). */
const SECRET_PATTERNS: readonly RegExp[] = [
  /sk-or-v1-[A-Za-z0-9]{16,}/g, // OpenRouter keys
  /sk-ant-[A-Za-z0-9_-]{16,}/g, // Anthropic keys
  /xox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack tokens
  /xapp-[A-Za-z0-9-]{10,}/g, // Slack app-level tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** Values shorter than this are not registered: redacting "1" everywhere would garble text. */
const MIN_SECRET_LENGTH = 8;

export class SecretRedactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  /** Remember a secret's exact value so every later redact() removes it. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    // Longest first, so a secret that contains another is removed whole.
    const sorted = [...this.values].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "g");
  }

  redact(text: string): string {
    let out = this.pattern ? text.replace(this.pattern, REDACTED) : text;
    for (const p of SECRET_PATTERNS) out = out.replace(p, REDACTED);
    return out;
  }

  /** Redact every string inside a JSON-like value (for structured views). */
  redactDeep<T>(value: T): T {
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}

/** True when text holds something shaped like a secret (an API key, a token, a private key). */
export function looksLikeSecret(text: string): boolean {
  return SECRET_PATTERNS.some((p) => {
    p.lastIndex = 0;
    return p.test(text);
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The process-wide redactor: config, the key store and the pipeline register secrets here. */
export const secrets = new SecretRedactor();
