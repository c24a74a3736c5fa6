// A wire-level fake of OpenRouter's OAuth PKCE flow on 127.0.0.1, after
// https://openrouter.ai/docs/guides/overview/auth/oauth and the API reference's
// "Exchange authorization code for API key":
//   GET  /auth?callback_url=…&code_challenge=…&code_challenge_method=S256|plain
//        stands for the sign-in and consent page: the signed-in account approves at once and the
//        browser is sent (302) to callback_url with ?code=… added.
//   POST /api/v1/auth/keys  {"code", "code_verifier", "code_challenge_method"}
//        → 200 {"key": "sk-or-v1-…", "user_id": "user_…"}; errors as OpenRouter's usual body
//        {"error": {"code", "message"}}: 400 for a malformed request, 403 for an unknown or used
//        code or a verifier that does not match the challenge. A code works once.
// Faults: failNext(status) makes the next exchange answer that status.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

interface IssuedCode { challenge?: string; method?: "S256" | "plain"; account: string; used: boolean }
export interface ExchangeCall { body: unknown; contentType: string | undefined }

export class OpenRouterFake {
  /** The OpenRouter account that "signs in" on the next /auth visit. */
  account = "user_fake_alice";
  /** Every key handed out, so a test can look for it where it must not be. */
  readonly issuedKeys: string[] = [];
  readonly exchanges: ExchangeCall[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private readonly faults: number[] = [];
  private readonly http: http.Server;

  private constructor() {
    this.http = http.createServer((req, res) => void this.onRequest(req, res));
  }

  static async start(): Promise<OpenRouterFake> {
    const fake = new OpenRouterFake();
    await new Promise<void>((r) => fake.http.listen(0, "127.0.0.1", () => r()));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get authUrl(): string {
    return `${this.url}/auth`;
  }

  get apiUrl(): string {
    return `${this.url}/api/v1`;
  }

  /** The next exchange answers this HTTP status with an error body. */
  failNext(status: number): void {
    this.faults.push(status);
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const raw = await readBody(req);
    if (req.method === "GET" && url.pathname === "/auth") return this.authorize(url, res);
    if (req.method === "POST" && url.pathname === "/api/v1/auth/keys") return this.exchange(req, raw, res);
    sendError(res, 404, "Not Found");
  }

  private authorize(url: URL, res: http.ServerResponse): void {
    const callback = url.searchParams.get("callback_url");
    if (!callback || !/^https?:\/\//.test(callback)) return sendError(res, 400, "callback_url is required");
    const challenge = url.searchParams.get("code_challenge") ?? undefined;
    const method = url.searchParams.get("code_challenge_method") ?? undefined;
    if (challenge && method !== "S256" && method !== "plain") return sendError(res, 400, "code_challenge_method must be S256 or plain");
    const code = randomBytes(18).toString("base64url");
    this.codes.set(code, { challenge, method: method as IssuedCode["method"], account: this.account, used: false });
    const back = new URL(callback);
    back.searchParams.append("code", code);
    res.writeHead(302, { location: back.href }).end();
  }

  private exchange(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    this.exchanges.push({ body, contentType: req.headers["content-type"] });
    const fault = this.faults.shift();
    if (fault !== undefined) return sendError(res, fault, "Internal Server Error");
    if (!req.headers["content-type"]?.startsWith("application/json") || !body || typeof body !== "object") return sendError(res, 400, "Invalid JSON body");
    const { code, code_verifier: verifier, code_challenge_method: method } = body as Record<string, unknown>;
    if (typeof code !== "string" || code === "") return sendError(res, 400, "code is required");
    if (method !== undefined && method !== "S256" && method !== "plain") return sendError(res, 400, "Invalid code_challenge_method");
    const issued = this.codes.get(code);
    if (!issued || issued.used) return sendError(res, 403, "Invalid code");
    if (issued.challenge !== undefined) {
      if (typeof verifier !== "string" || method !== issued.method) return sendError(res, 403, "Invalid code_verifier");
      const derived = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (derived !== issued.challenge) return sendError(res, 403, "Invalid code_verifier");
    }
    issued.used = true;
    const key = `sk-or-v1-${randomBytes(32).toString("hex")}`;
    this.issuedKeys.push(key);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ key, user_id: issued.account }));
  }
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: status, message } }));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
