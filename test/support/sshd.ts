// A real OpenSSH server on 127.0.0.1 for the tests: its own host key, config and port, and a
// dedicated Unix user per test file (root's slow .bashrc makes every command cost ~1 s).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";

const SSHD = "/usr/sbin/sshd";
const SSHD_READY_TIMEOUT_MS = 10_000;

export interface TestSshd {
  port: number;
  user: string;
  home: string;
  dir: string;
  /** The host key line as a client would see it: "ssh-ed25519 AAAA…". */
  hostKey: string;
  /** Authorize a public key for the test user (through the test-owned authorized_keys file). */
  authorize(publicKey: string): void;
  /** A throwaway client key pair, as a person would have: { privateKeyPath, publicKey }. */
  clientKey(name: string): { privateKeyPath: string; publicKey: string };
  /** Replace the host key and restart (to test pinning). */
  rotateHostKey(): Promise<void>;
  /** Start again after stop(), with the same host key and port (a host whose sshd was restarted). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function requireTool(file: string, pkg: string): void {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: install it with 'apt-get install -y ${pkg}' (scripts/install-system-deps.sh does)`);
  }
}

/** Create (or reset) a dedicated test user with an empty home and no running processes. */
export function prepareUser(user: string): string {
  if (process.getuid?.() !== 0) throw new Error("the real-sshd tests create a test user and must run as root (CI does)");
  try {
    execFileSync("id", [user], { stdio: "ignore" });
    execFileSync("pkill", ["-KILL", "-u", user], { stdio: "ignore" });
  } catch {
    // no such user yet, or no processes to kill
  }
  try {
    execFileSync("id", [user], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["-m", "-s", "/bin/bash", user]);
  }
  // A boot hook (crontab @reboot line) an earlier run left behind goes too.
  if (existsSync("/usr/bin/crontab")) execFileSync("bash", ["-c", `crontab -r -u ${user} 2>/dev/null; true`]);
  // `useradd` leaves the account "locked" (!), which sshd refuses even for key login without PAM.
  execFileSync("usermod", ["-p", "*", user]);
  const home = execFileSync("bash", ["-c", `getent passwd ${user} | cut -d: -f6`]).toString().trim();
  execFileSync("bash", ["-c", `find ${home} -mindepth 1 -delete; cp -a /etc/skel/. ${home}/; chown -R ${user}: ${home}`]);
  return home;
}

function startDaemon(config: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), SSHD_READY_TIMEOUT_MS);
    child.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}: ${log}`));
    });
  });
}

/** maxStartups/maxSessions: sshd's limits, raised for the many-spawns benchmark. */
export async function startSshd(user: string, opts: { maxStartups?: string; maxSessions?: number } = {}): Promise<TestSshd> {
  requireTool(SSHD, "openssh-server");
  requireTool("/usr/bin/tmux", "tmux");
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const home = prepareUser(user);
  const dir = mkdtempSync(path.join(os.tmpdir(), "spawnbot-sshd-"));
  chmodSync(dir, 0o755); // the test user's sshd child must read authorized_keys here
  const port = await freePort();
  const hostKeyFile = path.join(dir, "host_ed25519");
  const authorizedKeys = path.join(dir, "authorized_keys");
  const config = path.join(dir, "sshd_config");
  writeFileSync(authorizedKeys, "", { mode: 0o644 });
  const makeHostKey = () => {
    rmSync(hostKeyFile, { force: true });
    rmSync(`${hostKeyFile}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKeyFile]);
  };
  makeHostKey();
  writeFileSync(
    config,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      `AuthorizedKeysFile ${authorizedKeys} .ssh/authorized_keys`,
      "Subsystem sftp internal-sftp",
      `MaxStartups ${opts.maxStartups ?? "100:30:200"}`,
      `MaxSessions ${opts.maxSessions ?? 100}`,
      "",
    ].join("\n"),
  );
  let daemon = await startDaemon(config);
  const readHostKey = () => readFileSync(`${hostKeyFile}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const sshd: TestSshd = {
    port,
    user,
    home,
    dir,
    hostKey: readHostKey(),
    authorize(publicKey) {
      writeFileSync(authorizedKeys, `${readFileSync(authorizedKeys, "utf8")}${publicKey.trim()}\n`);
    },
    clientKey(name) {
      const file = path.join(dir, `client_${name}`);
      if (!existsSync(file)) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
      return { privateKeyPath: file, publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
    },
    async rotateHostKey() {
      await sshd.stop();
      makeHostKey();
      daemon = await startDaemon(config);
      sshd.hostKey = readHostKey();
    },
    async start() {
      if (daemon.exitCode === null) return;
      daemon = await startDaemon(config);
    },
    async stop() {
      if (daemon.exitCode !== null) return;
      await new Promise<void>((r) => {
        daemon.once("exit", () => r());
        daemon.kill("SIGTERM");
      });
    },
  };
  return sshd;
}

/** Kill everything the test user left running (tmux servers, restart loops). */
export function killUserProcesses(user: string): void {
  try {
    execFileSync("pkill", ["-KILL", "-u", user], { stdio: "ignore" });
  } catch {
    // nothing was running
  }
}
