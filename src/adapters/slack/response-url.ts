// POSTs a JSON answer to a slash command's or button's response_url (hooks.slack.com).
// node:http(s) with one keep-alive agent per scheme rather than fetch: in the ack benchmark
// fetch's per-call cost (streams, AbortSignal, WHATWG objects) was the bot's largest share of
// CPU after Bolt, and every /spawn answers through here.
import http from "node:http";
import https from "node:https";

// Idle keep-alive sockets are unref'd by the agent, so they never hold the process open. At most
// MAX_SOCKETS answers are on the wire at once; after a burst the rest wait in the agent's queue
// rather than each opening a connection of its own.
const MAX_SOCKETS = 32;
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
};

/** The HTTP status Slack answered with; rejects on a network error or after timeoutMs. */
export function postResponseUrl(url: string, body: unknown, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const scheme = target.protocol === "https:" ? https : target.protocol === "http:" ? http : undefined;
    if (!scheme) return reject(new Error(`response_url must be http(s), not ${target.protocol}`));
    const payload = JSON.stringify(body);
    const req = scheme.request(target, {
      method: "POST", agent: agents[target.protocol as keyof typeof agents], timeout: timeoutMs,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
    }, (res) => {
      res.resume(); // the body ("ok" or an error word) is not needed, only the status
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
