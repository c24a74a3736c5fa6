// OpenRouter's model list (GET /api/v1/models, no key needed), read on first need and again once a
// day, so a mistyped or retired model is refused with the nearest ids when it is asked for instead
// of failing when the agent first calls it. When the list cannot be read, only the id's shape is
// checked (by the grammar) and nothing is refused for it.
import * as v from "valibot";
import type { Logger } from "../../log.js";
import { nearestMany } from "../grammar/suggest.js";

/** OpenRouter adds and retires models every few days; a day-old list is fresh enough to check typos. */
export const MODEL_LIST_REFRESH_MS = 24 * 60 * 60_000;
/** A chat command waits this long at most for the list; after that shape checking alone decides. */
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed read, commands do not wait on OpenRouter again for this long. */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
/** "did you mean a, b or c?": more than three is a list to read, not a suggestion. */
const MAX_SUGGESTIONS = 3;
/** OpenRouter lists some hundreds of models; far more is not a model list. */
const MAX_MODELS = 20_000;

const ModelList = v.object({
  data: v.pipe(v.array(v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) })), v.maxLength(MAX_MODELS)),
});

export type ModelCheck =
  | { kind: "known" }
  /** Not on OpenRouter's list; `suggestions` are the nearest ids (maybe none). */
  | { kind: "unknown"; suggestions: string[] }
  /** The list could not be read: the id is let through on its shape alone. */
  | { kind: "unchecked" };

export class OpenRouterModels {
  private ids = new Set<string>();
  private list: string[] = [];
  private fetchedAt: number | undefined;
  private failedAt: number | undefined;
  private pending: Promise<void> | undefined;
  private readonly url: string;

  constructor(apiUrl: string, private readonly log: Logger, private readonly now: () => number = Date.now) {
    this.url = `${apiUrl.replace(/\/$/, "")}/models`;
  }

  /** Is this id on OpenRouter's list? Reads the list when it is missing or a day old. */
  async check(model: string): Promise<ModelCheck> {
    await this.refreshIfStale();
    if (this.fetchedAt === undefined) return { kind: "unchecked" };
    if (this.ids.has(model)) return { kind: "known" };
    return { kind: "unknown", suggestions: nearestMany(model, this.list, MAX_SUGGESTIONS) };
  }

  /**
   * The ids as last read, at once (autocomplete must answer within Discord's 3 s): empty until the
   * first read has finished; a stale list starts a new read in the background.
   */
  cached(): readonly string[] {
    void this.refreshIfStale().catch(() => undefined);
    return this.list;
  }

  /** Read the list when there is none or it is older than a day; a read in progress is shared. */
  refreshIfStale(): Promise<void> {
    const now = this.now();
    const fresh = this.fetchedAt !== undefined && now - this.fetchedAt < MODEL_LIST_REFRESH_MS;
    const resting = this.failedAt !== undefined && now - this.failedAt < RETRY_AFTER_FAILURE_MS;
    if (fresh || resting) return Promise.resolve();
    this.pending ??= this.fetchList().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchList(): Promise<void> {
    try {
      const res = await fetch(this.url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`OpenRouter answered ${res.status}`);
      const parsed = v.safeParse(ModelList, await res.json());
      if (!parsed.success) throw new Error(`unexpected answer: ${parsed.issues[0]?.message ?? "bad shape"}`);
      this.list = parsed.output.data.map((m) => m.id);
      this.ids = new Set(this.list);
      this.fetchedAt = this.now();
      this.failedAt = undefined;
      this.log.info({ models: this.list.length }, "read OpenRouter's model list");
    } catch (err) {
      // A day-old list is still better than none: keep it, and try again later.
      this.failedAt = this.now();
      this.log.warn({ err: (err as Error).message }, "could not read OpenRouter's model list; model ids are checked for their shape only");
    }
  }
}

/** The one line refusing an unknown model, naming the nearest ids when there are any. */
export function unknownModelMessage(model: string, suggestions: readonly string[]): string {
  if (suggestions.length === 0) return `OpenRouter has no model '${model}'; find the id at openrouter.ai/models`;
  const quoted = suggestions.map((s) => `'${s}'`);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
  return `OpenRouter has no model '${model}' — did you mean ${list}?`;
}

/** Why this model cannot be used (one line), or undefined when it is on the list or the list cannot be read. */
export async function modelProblem(models: OpenRouterModels | undefined, model: string): Promise<string | undefined> {
  if (!models) return undefined;
  const found = await models.check(model);
  return found.kind === "unknown" ? unknownModelMessage(model, found.suggestions) : undefined;
}
