// The clone script takes only values that are safe on a shell line, and the token never goes into it.
import { describe, expect, it } from "vitest";
import { cloneScript, credentialLine, credentialPath, repoDir } from "./repo-clone.js";

const ID = "2495198d-8720-4a6d-8aea-808f557a2e61";
const REPO = { url: "https://github.com/acme/webapp.git", dir: "webapp", display: "acme/webapp" };

describe("the clone script", () => {
  it("refuses a URL, folder or ref that could reach the shell", () => {
    expect(() => cloneScript(ID, { ...REPO, url: "https://github.com/acme/$(id).git" }, false)).toThrow(/unsafe repository URL/);
    expect(() => cloneScript(ID, { ...REPO, url: "ext::sh -c id" }, false)).toThrow(/unsafe repository URL/);
    expect(() => cloneScript(ID, { ...REPO, dir: "../etc" }, false)).toThrow(/unsafe folder name/);
    expect(() => cloneScript(ID, { ...REPO, ref: "--upload-pack=id" }, false)).toThrow(/unsafe ref/);
    expect(() => cloneScript(ID, { ...REPO, ref: "a/../../b" }, false)).toThrow(/unsafe ref/);
    expect(() => cloneScript("not-an-id; rm -rf ~", REPO, false)).toThrow();
  });

  it("never holds the token: git reads it from the credential file", () => {
    const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    const script = cloneScript(ID, { ...REPO, token }, true);
    expect(script).not.toContain(token);
    expect(script).toContain(`store --file=$HOME/${credentialPath(ID)}`);
    expect(credentialLine(REPO.url, "to/k@en")).toBe("https://x-access-token:to%2Fk%40en@github.com\n");
  });

  it("names the folder after the repository", () => {
    expect(repoDir("https://git.example.com/team/sub/app.git")).toBe("app");
    expect(repoDir("https://github.com/acme/webapp")).toBe("webapp");
  });
});
