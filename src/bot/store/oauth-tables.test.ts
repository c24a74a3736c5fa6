// Pending Connect OpenRouter sign-ins in the store: used once, never after expiry, one per user.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore as openStore } from "./sqlite-store.js";

const alice = { platform: "test", userId: "U1" };
const bob = { platform: "test", userId: "U2" };
const DAY = 24 * 3_600_000;

function freshStore() {
  return openStore(path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-oauth-")), "s.db"));
}

const pending = (stateHash: string, user = alice, createdAt = 1_000) =>
  ({ stateHash, user, userName: "alice", workspace: "W", channel: "C", sealedVerifier: "v1:sealed", createdAt, expiresAt: createdAt + 600_000 });

describe("OAuth states", () => {
  it("is confirmed once, then consumed exactly once by one code, and not at all once expired", () => {
    const store = freshStore();
    store.oauth.saveOAuthState(pending("a".repeat(64)));
    expect(store.oauth.findOAuthState("a".repeat(64))).toMatchObject({ user: alice, userName: "alice", confirmedAt: null, usedAt: null, expiresAt: 601_000 });
    expect(store.oauth.consumeOAuthState("a".repeat(64), "h1", 1_500)).toBe(false); // not confirmed yet
    expect(store.oauth.confirmOAuthState("a".repeat(64), 1_600)).toBe(true);
    expect(store.oauth.confirmOAuthState("a".repeat(64), 1_700)).toBe(false);
    expect(store.oauth.consumeOAuthState("a".repeat(64), "h1", 2_000)).toBe(true);
    expect(store.oauth.consumeOAuthState("a".repeat(64), "h2", 2_001)).toBe(false);
    store.oauth.markOAuthConnected("a".repeat(64), 2_100);
    expect(store.oauth.findOAuthState("a".repeat(64))).toMatchObject({ confirmedAt: 1_600, usedAt: 2_000, codeHash: "h1", connectedAt: 2_100 });

    store.oauth.saveOAuthState(pending("b".repeat(64), bob));
    expect(store.oauth.confirmOAuthState("b".repeat(64), 601_000)).toBe(false);
    expect(store.oauth.findOAuthState("b".repeat(64))).toMatchObject({ confirmedAt: null, usedAt: null });
    expect(store.oauth.confirmOAuthState("c".repeat(64), 2_000)).toBe(false);
  });

  it("keeps one unused link per user: a new one cancels that user's older one only", () => {
    const store = freshStore();
    store.oauth.saveOAuthState(pending("a".repeat(64), alice));
    store.oauth.saveOAuthState(pending("b".repeat(64), bob));
    store.oauth.saveOAuthState(pending("c".repeat(64), alice, 5_000));
    expect(store.oauth.findOAuthState("a".repeat(64))).toBeUndefined();
    expect(store.oauth.findOAuthState("b".repeat(64))).toBeDefined();
    expect(store.oauth.findOAuthState("c".repeat(64))).toBeDefined();
  });

  it("remembers a used link for a day (so a replay is told it was used), then forgets it", () => {
    const store = freshStore();
    store.oauth.saveOAuthState(pending("a".repeat(64), alice));
    store.oauth.confirmOAuthState("a".repeat(64), 1_500);
    store.oauth.consumeOAuthState("a".repeat(64), "h", 2_000);
    store.oauth.saveOAuthState(pending("b".repeat(64), alice, 5_000));
    expect(store.oauth.findOAuthState("a".repeat(64))?.usedAt).toBe(2_000);
    store.oauth.saveOAuthState(pending("c".repeat(64), bob, 2 * DAY));
    expect(store.oauth.findOAuthState("a".repeat(64))).toBeUndefined();
  });
});
