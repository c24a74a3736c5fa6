// The contract every chat adapter keeps, as a person sees it: a spawn's progress shows where its
// status lives, its connect details reach only the requester, `list` answers, `delete` ends it (and
// says so once), and a
// refusal is a private one-line error that changes nothing. Console, Slack and Discord each run it
// through their real transport (test/adapter-contract.test.ts); a new adapter is done when it passes.
import { describe, expect, it } from "vitest";
import type { TestBot } from "../support/bot.js";

export interface AdapterDriver {
  readonly platform: string;
  readonly bot: TestBot;
  /** Whether others can see anything (a chat channel); the console has one reader. */
  readonly shared: boolean;
  spawn(name: string): Promise<void>;
  list(): Promise<void>;
  connect(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** A command that is refused: `connect` of a spawn that does not exist. */
  refused(): Promise<void>;
  /** Everything anyone in the place of the request can read. */
  publicText(): string;
  /** Everything only the requester can read. */
  privateText(): string;
  /** Every message anyone can read, public or private, each once by a stable id (editing it keeps its id), with its text. */
  posts(): { id: string; text: string }[];
  /** Every answer sent (the bot's runs ended, the adapter's queue drained). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function describeAdapterContract(name: string, open: () => Promise<AdapterDriver>): void {
  describe(`the adapter contract: ${name}`, () => {
    it("spawns, lists, connects privately, deletes, and refuses a bad request with a private error", async () => {
      const d = await open();
      try {
        // Unique per run: local spawns share the machine's tmux server.
        const spawn = `ct-${d.platform.slice(0, 3)}-${Math.random().toString(36).slice(2, 6)}`;
        await d.spawn(spawn);
        await d.settle();
        const rec = (await d.bot.store.listAll(d.platform)).find((r) => r.name === spawn);
        expect(rec?.status, rec?.error ?? "").toBe("ready");
        // The status shows where the request was made; the attach command only to the requester.
        expect(d.publicText()).toContain(spawn);
        expect(d.privateText()).toContain(`tmux attach -t '${spawn}'`);
        if (d.shared) expect(d.publicText()).not.toContain("tmux attach");

        const before = d.privateText().length;
        await d.list();
        await d.settle();
        expect(d.privateText().length).toBeGreaterThan(before);
        expect(d.privateText().slice(before)).toContain(spawn);

        const beforeConnect = d.privateText().length;
        await d.connect(spawn);
        await d.settle();
        expect(d.privateText().slice(beforeConnect)).toContain(`tmux attach -t '${spawn}'`);
        if (d.shared) expect(d.publicText()).not.toContain("tmux attach");

        const audits = (await d.bot.store.listAudit({ limit: 1000 })).length;
        const beforeRefusal = d.privateText().length;
        await d.refused();
        await d.settle();
        expect(d.privateText().slice(beforeRefusal)).toContain("no spawn called nosuch-spawn here");
        if (d.shared) expect(d.publicText()).not.toContain("nosuch-spawn");
        expect((await d.bot.store.listAudit({ limit: 1000 })).length).toBe(audits); // nothing happened

        const postedBefore = new Set(d.posts().map((p) => p.id));
        await d.delete(spawn);
        await d.settle();
        expect((await d.bot.store.getSpawn(rec!.id))?.status).toBe("deleted");
        // Said once, with who did it: the status message (edited in place) and one new message.
        const said = d.posts().filter((p) => !postedBefore.has(p.id) && /was deleted/.test(p.text)).map((p) => p.text);
        expect(said).toHaveLength(1);
        expect(said[0]).toContain(`${spawn} was deleted by alice`);
      } finally {
        await d.close();
      }
    }, 90_000);
  });
}
