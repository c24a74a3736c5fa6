// A git host on 127.0.0.1 for --repo tests: git's own smart-HTTP server (`git http-backend`, a CGI
// program) behind a tiny node http server, serving bare repositories under a temp dir. Repositories
// marked private need HTTP basic auth whose password is `token` (as GitHub takes a token as the
// password); every Authorization header seen is kept so a test can check what was sent.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { requireTool } from "./sshd.js";

const HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

export interface TestGitServer {
  url: string;
  /** The password basic auth needs for a private repository. */
  token: string;
  /** Passwords sent in Authorization headers, in order. */
  passwordsSeen: string[];
  /** Make a bare repository `owner/name.git` with a commit on main (file README.md), a branch and a tag. */
  addRepo(owner: string, name: string, opts?: { private?: boolean }): { mainCommit: string; featureCommit: string };
  stop(): Promise<void>;
}

export async function startGitServer(token: string): Promise<TestGitServer> {
  requireTool(HTTP_BACKEND, "git");
  const root = mkdtempSync(path.join(os.tmpdir(), "spawnbot-git-"));
  const privateRepos = new Set<string>();
  const passwordsSeen: string[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const repo = /^\/([^/]+\/[^/]+\.git)\//.exec(url.pathname)?.[1];
    const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const password = auth ? Buffer.from(auth, "base64").toString("utf8").split(":").slice(1).join(":") : undefined;
    if (password !== undefined) passwordsSeen.push(password);
    if (repo && privateRepos.has(repo) && password !== token) {
      // GitHub answers 401 with a challenge; git then asks its credential helpers.
      res.writeHead(401, { "www-authenticate": 'Basic realm="test git"' }).end("authentication required\n");
      return;
    }
    const cgi = spawn(HTTP_BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: "1", PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET", CONTENT_TYPE: req.headers["content-type"] ?? "", REMOTE_ADDR: "127.0.0.1",
        REMOTE_USER: password === token ? "tester" : "", GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""), PATH: process.env.PATH ?? "/usr/bin:/bin",
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let sent = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (sent) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const i = line.indexOf(":");
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === "status") status = Number(value.split(" ")[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
      sent = true;
    });
    cgi.on("close", () => (sent ? res.end() : res.writeHead(500).end("http-backend gave no answer\n")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();
  return {
    url, token, passwordsSeen,
    addRepo(owner, name, opts = {}) {
      const work = mkdtempSync(path.join(os.tmpdir(), "spawnbot-gitwork-"));
      git(work, "init", "-q");
      writeFileSync(path.join(work, "README.md"), `# ${name}\n`);
      git(work, "add", "README.md");
      git(work, "commit", "-q", "-m", "first");
      const mainCommit = git(work, "rev-parse", "HEAD");
      git(work, "tag", "v1");
      git(work, "checkout", "-q", "-b", "feature");
      writeFileSync(path.join(work, "FEATURE.md"), "on the feature branch\n");
      git(work, "add", "FEATURE.md");
      git(work, "commit", "-q", "-m", "feature");
      const featureCommit = git(work, "rev-parse", "HEAD");
      git(work, "checkout", "-q", "main");
      const bare = path.join(root, owner, `${name}.git`);
      git(os.tmpdir(), "clone", "-q", "--bare", work, bare);
      rmSync(work, { recursive: true, force: true });
      if (opts.private) privateRepos.add(`${owner}/${name}.git`);
      return { mainCommit, featureCommit };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
