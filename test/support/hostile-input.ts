// A seeded generator of hostile chat commands for the handler fuzz test: every command of the
// grammar (src/bot/grammar/usage.ts) with shell, quoting, control-character, look-alike, over-long,
// flag-injection and path-traversal values in every argument and flag position. Values that
// would run a command if they ever reached a shell unquoted touch a canary file instead.
import { COMMANDS, SPAWN_FLAGS } from "../../src/bot/grammar/usage.js";

/** mulberry32: small, seeded, reproducible (print the seed to replay a failure). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Shell payloads that create `canary` (an absolute path, or a bare name relative to $HOME/cwd). */
export function shellPayloads(canary: string): string[] {
  const bare = canary.split("/").at(-1)!;
  return [
    `$(touch ${canary})`, `\`touch ${canary}\``, `;touch ${canary}`, `; touch ${canary};`, `| touch ${canary}`,
    `&& touch ${canary}`, `|| touch ${canary}`, `> ${canary}`, `>>${canary}`, `\ntouch ${canary}\n`, `'; touch ${canary}; '`,
    `"; touch ${canary}; "`, `$(touch ${bare})`, `\`touch ${bare}\``, `;touch ${bare}`, `\${IFS}touch\${IFS}${canary}`,
    `$'\\x74ouch' ${canary}`, `<(touch ${canary})`, `$(printf x > ${canary})`, `\\$(touch ${canary})`, `'$(touch ${canary})'`,
    `\u201C$(touch ${canary})\u201D`, `\u2018;touch ${canary}\u2019`, `%0atouch ${canary}`, `-oProxyCommand=touch ${canary}`,
    `-oProxyCommand="touch ${canary}"`, `--host=-oProxyCommand=touch@${bare}`,
  ];
}

const QUOTES = ['"', "'", "`", "\u201C", "\u201D", "\u2018", "\u2019", "\u00AB", "\u00BB", "\\", '\\"', "\\'", '""', "''", '"\'"', "'\"'"];
const CONTROLS = [
  "\0", "a\0b", "\x01", "\x07", "\b", "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\r", "\r\n", "\n", "\t", "\v", "\f", "\x7f",
  "\u0080", "\u0085", "\u009b31m", "\u009f", "\u2028", "\u2029",
];
const UNICODE = [
  "\u0441odex", "g\u0441p", "\u0455sh", "c\u03BFdex", "\u0430ws", "\u0440i", "l\u043Ecal", "--m\u043Edel", "\uFF0D\uFF0Dmodel",
  "\uFF43\uFF4F\uFF44\uFF45\uFF58", "\u2014model", "\u2013n", "\u202Eedoc", "a\u202Eb\u202C", "\u2066x\u2069", "\u200Bcodex", "co\u200Ddex",
  "\uFEFFcodex", "\u00A0", "\uD800", "\uDC00x", "e\u0301", "🚀", "👨‍💻", "日本語", "\u0000\uFFFF", "\uFFFD", "ǅ", "İ", "ß",
];
const FLAG_INJECTION = [
  "--", "-", "---", "--=", "-n", "-nn", "--dry-run", "--dry-run=false", "--help", "-h", "--host", "--host=", "-oProxyCommand",
  "-o", "-oStrictHostKeyChecking=no", "--model=--x", "--prompt=--", "-p=-p", "--name=-rf", "-rf", "--mine", "--all", "--clear",
  "--clear=1", "-m", "-mopenai/x", "--ttl=-1h", "--steps=--", "--zone=-x", "--size=-x", "--region", "--machine-type",
  "--host=-oProxyCommand=sh@x", "--host=root@-oProxyCommand", "--host=root@127.0.0.1:-1", "--host=root@127.0.0.1:99999",
];
const TRAVERSAL = [
  "..", "../..", "../../etc/passwd", "/etc/shadow", "~root", "~/.ssh/authorized_keys", "%2e%2e%2f", "..%2f..%2f", "....//",
  "C:\\Windows", "\\\\host\\share", "/dev/zero", "/proc/self/environ", "file:///etc/passwd", "$HOME", "${HOME}", "*", "?", "[a-z]",
];
const PLAUSIBLE = [
  "codex", "claude", "testagent", "pi", "opencode", "local", "ssh", "gcp", "aws", "hetzner", "digitalocean", "codex/gcp",
  "openai/gpt-5", "a:b/c.d-e_f", "fuzz-box", "demo", "2h", "90m", "31d", "0m", "1h30m", "@bob", "<@U123|bob>", "U9",
  "root@127.0.0.1", "root@[::1]:22", "x@999.1.1.1", "github,auto-update", "model", "add", "remove",
  "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
];

/** Everything a fuzzed value may be: plausible words mixed with each hostile family. */
export function valuePool(canary: string): string[] {
  return [...shellPayloads(canary), ...QUOTES, ...CONTROLS, ...UNICODE, ...FLAG_INJECTION, ...TRAVERSAL, ...PLAUSIBLE];
}

const ED25519_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIGr8P8m8Q9vJ1l6w8bqQ5m3b7xk1H2T0o9K8x3Yc4Z5a";

/** A key blob in SSH wire format whose fields are the given strings (any bytes, any length). */
function keyBlob(...fields: string[]): string {
  return Buffer.concat(fields.flatMap((f) => {
    const bytes = Buffer.from(f, "latin1");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    return [len, bytes];
  })).toString("base64");
}

/** Base64 key data that decodes to hostile bytes: a control-character key type, a shell payload, a huge field. */
export const HOSTILE_KEY_BLOBS = [
  keyBlob("\x1b[31mssh-ed25519\x00\u0085", "x"), keyBlob("$(touch /tmp/x)", "y"), keyBlob("ssh-ed25519", "short"),
  keyBlob("ssh-rsa", "\x01\x00\x01", "\x00\xff"), keyBlob("ecdsa-sha2-nistp256", "nistp256"), keyBlob("A".repeat(5000)),
  keyBlob("ssh-ed25519\n\rinjected", "z".repeat(32)), "AAAA", "AAAAB3NzaC1yc2E=", "////", "AAAAC3NzaC1lZDI1NTE5",
];

/** One argument: a pool value, sometimes quoted, doubled up, or stretched past 10,000 characters. */
function hostileValue(random: () => number, pool: readonly string[]): string {
  // A third of the values are plausible, so many commands parse and reach their handlers.
  if (random() < 0.35) return pick(random, PLAUSIBLE);
  const roll = random();
  const v = pick(random, pool);
  if (roll < 0.03) return v.repeat(Math.ceil(10_001 / Math.max(1, v.length)) + Math.floor(random() * 50));
  if (roll < 0.2) return `"${v}${pick(random, pool)}"`;
  if (roll < 0.3) return `'${v}'`;
  if (roll < 0.38) return `\u201C${v} ${pick(random, pool)}\u201D`;
  if (roll < 0.5) return `${v}${pick(random, pool)}`;
  return v;
}

/** Every command's shape with `V` where a hostile value goes (aliases used as often as names). */
function templates(): Record<string, string[]> {
  const flags = SPAWN_FLAGS.flatMap((f) => [f.long, ...f.aliases].map((name) => (f.value ? `${name} V` : name)));
  const eqFlags = SPAWN_FLAGS.filter((f) => f.value).map((f) => `${f.long}=V`);
  return {
    spawn: ["spawn V V", "V V", "V/V", "/spawn V V", ...flags.map((f) => `spawn testagent local ${f}`), ...flags.map((f) => `V V ${f}`),
      ...eqFlags.map((f) => `codex ssh --host V ${f}`), "spawn V", "V"],
    list: ["list V", "list --mine V", "list --all V", "list V V", "ls V"],
    status: ["status V", "ps V", "status V V"],
    delete: ["delete V", "rm V", "kill V V"],
    connect: ["connect V", "connect V V"],
    extend: ["extend V", "extend V V", "renew V 2h"],
    budget: ["budget V V", "budget demo V", "budget V 5"],
    costs: ["costs V", "costs --month V", "spend --mine --month V", "costs --all V"],
    share: ["share V V", "share demo V", "share V @bob"],
    unshare: ["unshare V V", "unshare demo V"],
    prefs: ["prefs V", "prefs model V V", "prefs model codex V", "prefs model V --clear", "prefs model codex V V"],
    keys: ["keys V", `keys add ssh-ed25519 ${ED25519_BLOB} V`, "keys add ssh-ed25519 B V", "keys add ssh-rsa B", "keys add ecdsa-sha2-nistp256 B V", "keys add V V", "keys add ssh-ed25519 V", "keys remove V", "keys V V"],
    settings: ["settings V", "settings"],
    agents: ["agents V", "agents"],
    clouds: ["clouds V", "clouds"],
    help: ["help V", "help V V", "help spawn V"],
  };
}

/** A reproducible stream of hostile commands, cycling through every command of the grammar. */
export function hostileCommands(seed: number, count: number, canary: string): { command: string; kind: string }[] {
  const random = prng(seed);
  const pool = valuePool(canary);
  const byCommand = templates();
  const names = COMMANDS.map((c) => c.name);
  const out: { command: string; kind: string }[] = [];
  for (let i = 0; i < count; i++) {
    const kind = names[i % names.length]!;
    const template = pick(random, byCommand[kind] ?? ["V"]);
    // V first: key blobs are base64 and may hold a V; no pool value is a lone B.
    let command = template.replace(/V/g, () => hostileValue(random, pool)).replace(/\bB\b/g, () => pick(random, HOSTILE_KEY_BLOBS));
    // Now and then a whole-line mutation: a fragment spliced between words, or a leading one.
    if (random() < 0.1) command = `${hostileValue(random, pool)} ${command}`;
    if (random() < 0.1) command += ` ${hostileValue(random, pool)}`;
    out.push({ command, kind });
  }
  return out;
}
