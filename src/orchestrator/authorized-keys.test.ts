// Editing authorized_keys with a spawn's mark: the bot finds its own lines again and never
// touches the user's, even when they hold the same key.
import { describe, expect, it } from "vitest";
import { editAuthorizedKeys, spawnKeyMark } from "./authorized-keys.js";

const A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@laptop";
const B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBob bob@desk";
const mark1 = spawnKeyMark("3f2c9a4e-0000-4000-8000-000000000001");
const mark2 = spawnKeyMark("3f2c9a4e-0000-4000-8000-000000000002");

describe("authorized_keys lines marked per spawn", () => {
  it("gives back the file byte for byte once the spawn's lines are removed", () => {
    const before = `# my keys\n${A}\n\ncommand="uptime" ${B}\n`;
    const added = editAuthorizedKeys(before, { add: [B] }, mark1);
    expect(added).toMatchObject({ added: 1 });
    expect(added.text).toBe(`${before}${B} ${mark1}\n`);
    const removed = editAuthorizedKeys(added.text, { removeMarked: true }, mark1);
    expect(removed).toMatchObject({ removed: 1, text: before });
  });

  it("adds nothing for a key the user already authorized, and never removes the user's line", () => {
    const before = `${A}\n`;
    expect(editAuthorizedKeys(before, { add: [A] }, mark1)).toEqual({ text: before, added: 0, removed: 0 });
    expect(editAuthorizedKeys(before, { remove: [A] }, mark1)).toEqual({ text: before, added: 0, removed: 0 });
    expect(editAuthorizedKeys(before, { removeMarked: true }, mark1).text).toBe(before);
  });

  it("keeps one line per spawn, so deleting one spawn leaves the other's access", () => {
    const one = editAuthorizedKeys("", { add: [A] }, mark1).text;
    const both = editAuthorizedKeys(one, { add: [A] }, mark2);
    expect(both.added).toBe(1);
    const afterFirstGoes = editAuthorizedKeys(both.text, { removeMarked: true }, mark1).text;
    expect(afterFirstGoes).toBe(`${A} ${mark2}\n`);
  });

  it("removes a named key only from this spawn's lines (unshare)", () => {
    const text = editAuthorizedKeys(editAuthorizedKeys(`${A}\n`, { add: [A, B] }, mark1).text, { add: [B] }, mark2).text;
    expect(text).toBe(`${A}\n${B} ${mark1}\n${B} ${mark2}\n`);
    const r = editAuthorizedKeys(text, { remove: [A, B] }, mark1);
    expect(r.removed).toBe(1);
    expect(r.text).toBe(`${A}\n${B} ${mark2}\n`);
  });

  it("refuses a spawn id that could not be a mark", () => {
    expect(() => spawnKeyMark("x y")).toThrow(/unsafe spawn id/);
    expect(() => spawnKeyMark("a\nb")).toThrow(/unsafe spawn id/);
  });

  it("without a mark (spawns from before marking), edits by key as it always did", () => {
    expect(editAuthorizedKeys(`${A}\n${B}\n`, { remove: [B] })).toEqual({ text: `${A}\n`, added: 0, removed: 1 });
  });
});
