// A spawn's public status thread on a chat platform: one root message edited in place as the
// run moves, and notes in the thread under it for warnings and the result (each posted once,
// also across restarts: what was posted is kept with the message reference in the store).
// The platform part (post, edit, reply; its rate limits and coalescing) is the adapter's.
import { createHash } from "node:crypto";
import type { StatusView } from "../../bot/index.js";

/** Where a root message lives, as the platform names it (Slack: channel + ts). */
export type MessageRef = Record<string, string>;

export interface StatusPlatform {
  /**
   * Post the root message where the run was asked for (target: the platform's channel fields);
   * resolves with its reference. `latest` gives the newest view when the post is actually sent:
   * a platform that posts an ended view with its result note in the same message adds
   * `resultCarried(view)` to the reference, and the note is not posted again.
   */
  post(view: StatusView, target: MessageRef, latest?: () => StatusView): Promise<MessageRef>;
  /** Edit the root message; `latest` is read when the edit is actually sent, so it is always the newest view. */
  edit(ref: MessageRef, latest: () => StatusView): Promise<void>;
  /** Post a note in the thread under the root message. */
  reply(ref: MessageRef, note: ThreadNote, view: StatusView): Promise<void>;
}

export interface ThreadNote {
  kind: "warning" | "result";
  text: string;
}

export interface MessageRefStore {
  get(spawnId: string): Promise<MessageRef | undefined>;
  save(spawnId: string, ref: MessageRef): Promise<void>;
}

interface Entry {
  ref: Promise<MessageRef>;
  latest: StatusView;
  /** Serialises the thread notes of one spawn so they keep their order. */
  notes: Promise<void>;
}

const NOTES_FIELD = "notes"; // in the stored ref: short hashes of the notes already posted

export class StatusThreads {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly platform: StatusPlatform, private readonly refs: MessageRefStore) {}

  /** Show a view: post the root message (at target) the first time, edit it afterwards, and add new notes. */
  async show(view: StatusView, target: MessageRef): Promise<void> {
    let entry = this.entries.get(view.spawnId);
    if (!entry) {
      // eslint-disable-next-line prefer-const -- read by the post's callback, assigned once the entry exists below
      let made: Entry | undefined; // set below; the post reads its newest view when it is sent
      // The entry is made before the first await, so a second view of the spawn waits on this
      // lookup-or-post instead of posting a second root message.
      const found = (async () => {
        const stored = await this.refs.get(view.spawnId);
        if (stored) return { ref: stored, posted: false };
        const r = await this.platform.post(view, target, () => made?.latest ?? view);
        await this.refs.save(view.spawnId, r);
        return { ref: r, posted: true };
      })();
      const ref = found.then((f) => f.ref);
      entry = { ref, latest: view, notes: Promise.resolve() };
      made = entry;
      this.entries.set(view.spawnId, entry);
      ref.catch(() => this.entries.delete(view.spawnId)); // a failed post may be tried again by the next view
      if ((await found).posted) return this.addNotes(entry, view);
    }
    entry.latest = view;
    const ref = await entry.ref;
    if (entry.latest !== view) return this.addNotes(entry, view); // a newer view is on its way; it edits
    const current = entry;
    await this.platform.edit(ref, () => current.latest);
    await this.addNotes(entry, view);
    if (view.result && view.result.outcome !== "ready") this.entries.delete(view.spawnId); // ended for good: keep memory bounded
  }

  private addNotes(entry: Entry, view: StatusView): Promise<void> {
    const run = entry.notes.then(async () => {
      const ref = await entry.ref;
      const stored = (await this.refs.get(view.spawnId)) ?? ref;
      const posted = new Set((stored[NOTES_FIELD] ?? "").split(",").filter(Boolean));
      for (const note of threadNotes(view)) {
        const id = noteId(note);
        if (posted.has(id)) continue;
        await this.platform.reply(ref, note, view);
        posted.add(id);
        await this.refs.save(view.spawnId, { ...stored, [NOTES_FIELD]: [...posted].join(",") });
      }
    });
    entry.notes = run.catch(() => undefined);
    return run;
  }
}

/** What goes in the thread: each warning, then the result. */
export function threadNotes(v: StatusView): ThreadNote[] {
  const notes: ThreadNote[] = v.warnings.map((w) => ({ kind: "warning", text: w }));
  if (v.result) notes.push({ kind: "result", text: v.result.message });
  return notes;
}

/** The reference fields saying a root message already carries the view's result note. */
export function resultCarried(view: StatusView): MessageRef {
  const result = threadNotes(view).find((n) => n.kind === "result");
  return result ? { [NOTES_FIELD]: noteId(result) } : {};
}

function noteId(note: ThreadNote): string {
  return createHash("sha256").update(`${note.kind}:${note.text}`).digest("hex").slice(0, 10);
}
