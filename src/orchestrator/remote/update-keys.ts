// Adds and removes public keys in a host's ~/.ssh/authorized_keys (mode 600, dir 700).
import { editAuthorizedKeys, type KeyChange } from "../authorized-keys.js";
import type { RemoteHost } from "./types.js";

/** mark: the spawn's mark (spawnKeyMark); added lines carry it and only lines with it are removed. */
export async function updateAuthorizedKeys(host: RemoteHost, change: KeyChange, mark?: string): Promise<{ added: number; removed: number }> {
  const current = (await host.run("cat ~/.ssh/authorized_keys 2>/dev/null")).stdout;
  const next = editAuthorizedKeys(current, change, mark);
  if (next.added === 0 && next.removed === 0) return next;
  const made = await host.run("mkdir -p ~/.ssh && chmod 700 ~/.ssh");
  if (made.code !== 0) throw new Error(`cannot create ~/.ssh: ${made.stderr.trim()}`);
  await host.writeFile(".ssh/authorized_keys", next.text, 0o600);
  return next;
}
