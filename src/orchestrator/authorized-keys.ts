// Edits an authorized_keys file's text: keys are matched by "type base64", so a comment change
// or a duplicate never adds a second line, and lines we do not manage are kept as they are.
// With a spawn's mark, every line the bot adds ends with that mark, so the spawn's clean-up can
// find exactly its own lines again and never touches a line the user had (even the same key).

function keyId(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** The trailing comment word on every line added for a spawn: `spawnbot-spawn=<spawn id>`. */
export function spawnKeyMark(spawnId: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(spawnId)) throw new Error(`refusing to mark keys with an unsafe spawn id ${JSON.stringify(spawnId)}`);
  return `spawnbot-spawn=${spawnId}`;
}

function hasMark(line: string, mark: string): boolean {
  return line.trimEnd().endsWith(` ${mark}`);
}

/** Any spawn's mark: such a line belongs to the bot, not to the user. */
function hasAnyMark(line: string): boolean {
  return /\sspawnbot-spawn=[A-Za-z0-9-]+$/.test(line.trimEnd());
}

export interface KeyChange {
  add?: string[];
  remove?: string[];
  /** Remove every line carrying the mark (a spawn's clean-up). */
  removeMarked?: boolean;
}

/**
 * Without a mark (spawns recorded before marking): add missing keys, remove keys wherever they are.
 * With a mark: a key counts as present if a user's own line or this spawn's line has it (lines of
 * other spawns do not count: they go when those spawns go); added lines carry the mark; only
 * lines with the mark are removed. Lines are kept byte for byte, so removing what was added gives
 * back the file as it was.
 */
export function editAuthorizedKeys(current: string, change: KeyChange, mark?: string): { text: string; added: number; removed: number } {
  if (!mark) return editUnmarked(current, change);
  const removeIds = new Set((change.remove ?? []).map(keyId));
  const lines = splitLines(current);
  const drop = (l: string) => hasMark(l, mark) && (change.removeMarked || removeIds.has(keyId(l)));
  const kept = lines.filter((l) => !drop(l));
  const present = new Set(kept.filter((l) => hasMark(l, mark) || !hasAnyMark(l)).map(keyId));
  const added = (change.add ?? []).filter((k) => {
    const id = keyId(k);
    if (present.has(id)) return false;
    present.add(id);
    return true;
  });
  const all = [...kept, ...added.map((k) => `${k.trim()} ${mark}`)];
  const removed = lines.length - kept.length;
  if (added.length === 0 && removed === 0) return { text: current, added: 0, removed: 0 };
  return { text: all.length ? `${all.join("\n")}\n` : "", added: added.length, removed };
}

function editUnmarked(current: string, change: KeyChange): { text: string; added: number; removed: number } {
  const removeIds = new Set((change.remove ?? []).map(keyId));
  const lines = current.split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => !removeIds.has(keyId(l)));
  const present = new Set(kept.map(keyId));
  const added = (change.add ?? []).filter((k) => {
    const id = keyId(k);
    if (present.has(id)) return false;
    present.add(id);
    return true;
  });
  const all = [...kept, ...added.map((k) => k.trim())];
  return { text: all.length ? `${all.join("\n")}\n` : "", added: added.length, removed: lines.length - kept.length };
}

/** Every line as it is (blank lines and comments too), so a newline-terminated file round-trips byte for byte. */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
