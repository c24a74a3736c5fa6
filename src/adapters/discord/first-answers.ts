// The first answer to an interaction received over HTTP travels in the HTTP response, as Discord
// expects; later answers (edits, follow-ups) go by REST as over the gateway. The adapter's handlers
// stay the same: discord.js sends each first answer (defer, reply, update, modal, autocomplete
// choices) as a POST to /interactions/{id}/{token}/callback, and the REST client's request
// function (discord.js's documented `makeRequest` option) hands that body to the waiting HTTP
// response instead of sending it. Only then, once the response is written, does the handler go on,
// so no edit of the answer can reach Discord before the answer itself.
import type { RESTOptions } from "discord.js";

type MakeRequest = RESTOptions["makeRequest"];
type ResponseLike = Awaited<ReturnType<MakeRequest>>;

const CALLBACK_PATH_RE = /\/interactions\/(\d{1,20})\/[^/]+\/callback$/;

export interface FirstAnswer {
  /** The interaction callback's body (type and data), once the handler sends it. */
  readonly answer: Promise<unknown>;
  /** The HTTP response is written: the handler's callback call returns and its work goes on. */
  written(): void;
  /** No answer is wanted any more (the deadline passed): a later callback goes by REST. */
  cancel(): void;
}

interface Waiting {
  resolve(body: unknown): void;
  written: Promise<void>;
}

export class FirstAnswers {
  private readonly waiting = new Map<string, Waiting>();

  /** Wait for the first callback of this interaction. */
  expect(interactionId: string): FirstAnswer {
    let resolve!: (body: unknown) => void;
    let markWritten!: () => void;
    const answer = new Promise<unknown>((r) => (resolve = r));
    const written = new Promise<void>((r) => (markWritten = r));
    this.waiting.set(interactionId, { resolve, written });
    return {
      answer,
      written: markWritten,
      cancel: () => {
        this.waiting.delete(interactionId);
        markWritten();
      },
    };
  }

  /** A request function for discord.js's REST client that takes the callbacks someone waits for. */
  requestFunction(next: MakeRequest): MakeRequest {
    return async (url, init) => {
      const id = CALLBACK_PATH_RE.exec(new URL(url).pathname)?.[1];
      const waiting = id === undefined ? undefined : this.waiting.get(id);
      // A callback with files (multipart) is not one this bot sends; it would go by REST.
      if (!waiting || typeof init.body !== "string") return next(url, init);
      this.waiting.delete(id!);
      waiting.resolve(JSON.parse(init.body));
      await waiting.written;
      return noContent();
    };
  }
}

/** What Discord answers a callback sent without ?with_response=true (the adapter never asks for the response): 204, no body. */
function noContent(): ResponseLike {
  const empty = new Response(null, { status: 204 });
  return { body: null, bodyUsed: false, headers: empty.headers, ok: true, status: 204, statusText: "No Content", arrayBuffer: () => empty.arrayBuffer(), json: () => empty.json(), text: () => empty.text() };
}
