// The fake's Management API answers as OpenRouter documents it, and the bot's client reads those
// answers: auth, status codes, error bodies, key fields and usage, list, patch and delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManagementApiError, OpenRouterManagement } from "../../src/bot/spawns/openrouter-management.js";
import { OpenRouterFake } from "./openrouter-fake.js";

let fake: OpenRouterFake;
beforeAll(async () => void (fake = await OpenRouterFake.start()));
afterAll(() => fake.close());

const call = async (method: string, path: string, body?: unknown, auth: string | null = fake.managementKey) => {
  const res = await fetch(`${fake.apiUrl}${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
  });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get("retry-after") };
};
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe("the fake Management API", () => {
  it("creates a key with its limit and expiry and shows it once; lists, reads, patches and deletes it by hash", async () => {
    const expires = inAnHour();
    const created = await call("POST", "/keys", { name: "spawnbot t1 alice 12345678", limit: 5, expires_at: expires });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk-or-v1-[0-9a-f]{64}$/);
    const { hash } = created.body.data;
    expect(created.body.data).toMatchObject({ name: "spawnbot t1 alice 12345678", limit: 5, limit_remaining: 5, usage: 0, disabled: false, expires_at: expires, updated_at: null });
    expect(created.body.data.label).not.toContain(created.body.key.slice(12, -4)); // the label shows only the ends

    fake.spend(hash, 1.5);
    const read = await call("GET", `/keys/${hash}`);
    expect(read.body.data).toMatchObject({ usage: 1.5, usage_daily: 1.5, limit_remaining: 3.5 });
    expect(read.body.data).not.toHaveProperty("key");
    expect((await call("GET", "/keys")).body.data.map((k: { hash: string }) => k.hash)).toContain(hash);

    const patched = await call("PATCH", `/keys/${hash}`, { disabled: true, limit: 2 });
    expect(patched.body.data).toMatchObject({ disabled: true, limit: 2, limit_remaining: 0.5 });
    expect((await call("GET", "/keys")).body.data.map((k: { hash: string }) => k.hash)).not.toContain(hash); // disabled ones only on request
    expect((await call("GET", "/keys?include_disabled=true")).body.data.map((k: { hash: string }) => k.hash)).toContain(hash);

    expect(await call("DELETE", `/keys/${hash}`)).toMatchObject({ status: 200, body: { deleted: true } });
    expect(await call("DELETE", `/keys/${hash}`)).toMatchObject({ status: 404, body: { error: { code: 404, message: "Resource not found" } } });
    expect((await call("GET", `/keys/${hash}`)).status).toBe(404);
  });

  it("refuses without the management key: 401 for none or an unknown one, 403 for a completion key", async () => {
    expect(await call("GET", "/keys", undefined, null)).toMatchObject({ status: 401, body: { error: { code: 401, message: "Missing Authentication header" } } });
    expect((await call("GET", "/keys", undefined, `sk-or-v1-${"1".repeat(64)}`)).status).toBe(401);
    const { body } = await call("POST", "/keys", { name: "x" });
    expect(await call("GET", "/keys", undefined, body.key)).toMatchObject({ status: 403, body: { error: { message: "Only management keys can perform this operation" } } });
  });

  it("answers 400 for a missing name, a negative limit or an expiry that is not UTC or is past", async () => {
    for (const bad of [{}, { name: "" }, { name: "x", limit: -1 }, { name: "x", expires_at: "2030-01-01T00:00:00+02:00" }, { name: "x", expires_at: "2001-01-01T00:00:00Z" }]) {
      expect((await call("POST", "/keys", bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });

  it("injects faults: a 429 with Retry-After, then answers normally", async () => {
    fake.failManagement(429);
    expect(await call("GET", "/keys")).toMatchObject({ status: 429, retryAfter: "1", body: { error: { code: 429 } } });
    expect((await call("GET", "/keys")).status).toBe(200);
  });
});

describe("the bot's Management API client", () => {
  it("creates, reads, moves and deletes a key, and calls a key OpenRouter no longer knows gone", async () => {
    const api = new OpenRouterManagement(fake.apiUrl, fake.managementKey);
    const expiresAt = Date.now() + 7_200_000;
    const { key, data } = await api.createKey({ name: "spawnbot c1 bob abcdef12", limitUsd: 4, expiresAt });
    expect(fake.managed.get(data.hash)?.key).toBe(key);
    expect(data).toMatchObject({ limit: 4, usage: 0, expiresAt: new Date(expiresAt).toISOString() });
    expect(await api.updateKey(data.hash, { expiresAt: expiresAt + 3_600_000 })).toMatchObject({ expiresAt: new Date(expiresAt + 3_600_000).toISOString() });
    expect(await api.getKey(data.hash)).toMatchObject({ hash: data.hash, limitRemaining: 4 });
    expect(await api.deleteKey(data.hash)).toBe("deleted");
    expect(await api.deleteKey(data.hash)).toBe("gone");
  });

  it("lists every key across pages of 100, disabled ones included", async () => {
    const api = new OpenRouterManagement(fake.apiUrl, fake.managementKey);
    for (let i = 0; i < 101; i++) await api.createKey({ name: `bulk ${i}`, limitUsd: 1, expiresAt: null });
    const { data } = await api.createKey({ name: "bulk disabled", limitUsd: 1, expiresAt: null });
    await api.updateKey(data.hash, { disabled: true });
    const names = (await api.listKeys()).map((k) => k.name);
    expect(names.filter((n) => n.startsWith("bulk "))).toHaveLength(102);
    expect(fake.managementCalls.filter((c) => c.method === "GET" && c.path === "/api/v1/keys").length).toBeGreaterThanOrEqual(2);
  });

  it("reports OpenRouter's refusal with its status and message, never the management key", async () => {
    const wrong = `sk-or-v1-${"7".repeat(64)}`;
    const err = await new OpenRouterManagement(fake.apiUrl, wrong).getKey("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagementApiError);
    expect(err).toMatchObject({ status: 401, message: "OpenRouter's key API answered HTTP 401: Invalid credentials" });
    const down = await new OpenRouterManagement("http://127.0.0.1:9/api/v1", wrong).getKey("nope").catch((e: unknown) => e);
    expect(down).toMatchObject({ status: 0, message: "OpenRouter could not be reached" });
    expect(`${(err as Error).message}${(down as Error).message}`).not.toContain("7777777");
  });
});
