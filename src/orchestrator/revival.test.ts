// What `restart` reads back from the start script and the health probe.
import { describe, expect, it } from "vitest";
import { installBootHookCommand, parseProbe, parseStartOutput, renderStartScript } from "./revival.js";

const ID = "2495198d-8720-4a6d-8aea-808f557a2e61";

describe("the start script and its report", () => {
  it("reads what was found and done, and counts a session it could not start as failed", () => {
    expect(parseStartOutput("dashboard: started\nsession: running\n")).toEqual({ session: "running", dashboard: "started" });
    expect(parseStartOutput("services: running\nsession: started\n")).toEqual({ session: "started", services: "running" });
    expect(parseStartOutput("bash: tmux: command not found\n")).toEqual({ session: "failed" });
  });

  it("checks the dashboard only for agents that have one", () => {
    expect(renderStartScript({ spawnId: ID, session: "box", agent: {} })).not.toMatch(/dashboard|pre-launch/);
    expect(renderStartScript({ spawnId: ID, session: "box", agent: { preLaunch: "serve", dashboard: { port: 9119, path: "/" } } })).toContain("/dev/tcp/127.0.0.1/9119");
    expect(parseProbe("session=down\ndashboard=up\n", 9119)).toEqual({ sessionAlive: false, dashboard: { port: 9119, answering: true } });
    expect(parseProbe("session=up\n", undefined)).toEqual({ sessionAlive: true });
  });

  it("marks its crontab line with the spawn, so delete removes exactly that line", () => {
    expect(installBootHookCommand("box", ID)).toContain(`# spawnbot:${ID}`);
    expect(() => installBootHookCommand("box", "x; crontab -r")).toThrow();
  });
});
