// Discord's HTTP transport for interactions: the app's Interactions Endpoint URL, served on the
// bot's public server at /discord/interactions. Every request is checked against the app's public
// key (401 if unsigned, forged or stale, as Discord's own probes expect), a PING is answered with a
// PONG (how Discord verifies the URL when it is saved), and any other interaction goes to the
// adapter, whose first answer is this request's response. Any replica behind a load balancer can
// serve it: nothing here is held between requests.
import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../log.js";
import { checkSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signature.js";

export const INTERACTIONS_PATH = "/discord/interactions";
const MAX_BODY_BYTES = 1024 * 1024; // an interaction with its resolved users and message is a few kB; far more is not Discord
const PING = 1; // interaction type PING, answered with callback type PONG (also 1)
const SNOWFLAKE_RE = /^\d{15,20}$/;

/** A route of the public server: true if the request was ours (and is being answered). */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What to send back for one interaction: its first answer, or a status when there is none. */
export interface EndpointAnswer {
  status: number;
  body?: unknown;
  /** Called once the response is handed to the connection (or the connection is gone). */
  written?: () => void;
}

export interface InteractionPayload {
  id: string;
  application_id: string;
  type: number;
  token: string;
  [key: string]: unknown;
}

export function interactionsEndpoint(
  publicKey: KeyObject,
  receive: (payload: InteractionPayload) => Promise<EndpointAnswer>,
  logger: Logger,
): Route {
  return (req, res) => {
    if (new URL(req.url ?? "/", "http://endpoint.invalid").pathname !== INTERACTIONS_PATH) return false;
    if (req.method !== "POST") {
      req.resume();
      send(res, { status: 405 }, { allow: "POST" });
      return true;
    }
    void serve(req, res).catch((err: unknown) => {
      logger.error({ err }, "Discord interaction over HTTP failed");
      if (!res.headersSent) send(res, { status: 500 });
    });
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === undefined) return send(res, { status: 413 });
    const check = checkSignature(publicKey, { signature: header(req, SIGNATURE_HEADER), timestamp: header(req, TIMESTAMP_HEADER) }, raw);
    if (!check.ok) {
      logger.warn({ reason: check.reason }, "refused a Discord interaction request: its signature does not hold");
      return send(res, { status: 401, body: { message: "invalid request signature" } });
    }
    const payload = parse(raw);
    if (!payload) return send(res, { status: 400, body: { message: "not an interaction" } });
    if (payload.type === PING) return send(res, { status: 200, body: { type: PING } });
    send(res, await receive(payload));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** The raw body (the signature covers its exact bytes), or undefined when it is too big. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parse(raw: Buffer): InteractionPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const p = value as Record<string, unknown>;
  const ok = typeof p.id === "string" && SNOWFLAKE_RE.test(p.id) && typeof p.application_id === "string" && Number.isInteger(p.type) && typeof p.token === "string";
  return ok ? (p as InteractionPayload) : undefined;
}

function send(res: ServerResponse, answer: EndpointAnswer, headers: Record<string, string> = {}): void {
  const body = answer.body === undefined ? undefined : JSON.stringify(answer.body);
  const written = answer.written ?? (() => undefined);
  res.once("close", written);
  res.writeHead(answer.status, { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }).end(body, written);
}
