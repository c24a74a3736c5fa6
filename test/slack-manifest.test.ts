// The app manifest a team creates the Slack app from: it must ask for what the adapter uses.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const manifest = readFileSync(path.resolve(import.meta.dirname, "..", "slack-manifest.yml"), "utf8");

describe("slack-manifest.yml", () => {
  it("declares /spawn, the bot scopes the adapter calls need, interactivity, the Home tab and its event", () => {
    expect(manifest).toMatch(/- command: \/spawn\n/);
    for (const scope of ["commands", "chat:write", "chat:write.public", "im:write"]) expect(manifest).toMatch(new RegExp(`^\\s+- ${scope}( |$)`, "m"));
    expect(manifest).toMatch(/interactivity:\n\s+is_enabled: true/);
    expect(manifest).toMatch(/home_tab_enabled: true/);
    expect(manifest).toMatch(/- app_home_opened/);
    expect(manifest).toMatch(/socket_mode_enabled: true/);
    // Every request URL points at the one path Bolt serves.
    for (const url of manifest.match(/url: https:\/\/\S+/g)!) expect(url).toMatch(/\/slack\/events$/);
  });

  it("has no tabs and consistent two-space indentation (YAML)", () => {
    expect(manifest).not.toContain("\t");
    for (const line of manifest.split("\n")) expect((line.match(/^ */)![0].length) % 2).toBe(0);
  });
});
