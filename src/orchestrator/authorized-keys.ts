// Edits an authorized_keys file's text: keys are matched by "type base64", so a comment change
// or a duplicate never adds a second line, and lines we do not manage are kept as they are.

function keyId(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

export function editAuthorizedKeys(current: string, change: { add?: string[]; remove?: string[] }): { text: string; added: number; removed: number } {
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
