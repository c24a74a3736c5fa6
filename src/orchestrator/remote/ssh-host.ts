// A RemoteHost over one ssh2 connection: commands, SFTP writes and port forwards share it.
// The host key is pinned on first contact (trust on first use); a changed key is refused.
import { withRetry, type RetryPolicy } from "../retry.js";
import { createHash } from "node:crypto";
import net from "node:net";
import path from "node:path/posix";
import ssh2 from "ssh2";
import type { Client as SshClient, ClientChannel, SFTPWrapper } from "ssh2";
import { shellQuote } from "../shell.js";
import { CommandTimeoutError, HostAuthError, HostKeyChangedError, HostUnreachableError } from "./errors.js";
import { appendCapped, type PortForward, type RemoteHost, type RunOptions, type RunResult } from "./types.js";

const { Client } = ssh2;

/** Seconds between SSH keepalives and how many may go unanswered (OpenSSH's ServerAlive*). */
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;
/** How long one handshake may take (a booting VM can be slow to answer). */
const HANDSHAKE_TIMEOUT_MS = 20_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 300_000;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

export interface ConnectOptions {
  /** How long one handshake may take; HANDSHAKE_TIMEOUT_MS unless the cloud says otherwise. */
  handshakeTimeoutMs?: number;
}

export interface SshAuth {
  /** The bot's private key, OpenSSH format. */
  privateKey: string;
  /** The bot's public key line, shown to the user when a host refuses it. */
  publicKey: string;
  /** "ssh-ed25519 AAAA…" pinned at first contact; absent on first contact. */
  pinnedHostKey?: string;
}

export function describeTarget(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port}`;
}

/** A host key as "type base64", read from the raw key blob the server presented. */
export function hostKeyLine(blob: Buffer): string {
  const typeLen = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLen).toString("ascii");
  return `${type} ${blob.toString("base64")}`;
}

/** SHA256 fingerprint as `ssh-keygen -lf` prints it. */
export function fingerprintOf(keyLine: string): string {
  const b64 = keyLine.split(" ")[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(b64, "base64")).digest("base64").replace(/=+$/, "")}`;
}

export class SshHost implements RemoteHost {
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private open = true;

  private constructor(
    private readonly client: SshClient,
    readonly target: SshTarget,
    /** The host key seen on this connection ("type base64"). */
    readonly hostKey: string,
  ) {
    // A restarted sshd, a dropped network or the keepalive giving up all end here.
    client.once("close", () => { this.open = false; });
  }

  get connected(): boolean {
    return this.open;
  }

  /**
   * One connection attempt. Throws HostKeyChangedError or HostAuthError once an SSH server has
   * answered, and HostUnreachableError (one message for all, the cause in `reason`) otherwise.
   */
  static connect(target: SshTarget, auth: SshAuth, opts: ConnectOptions = {}): Promise<SshHost> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let seenKey = "";
      let keyMismatch = false;
      let settled = false;
      client.once("ready", () => {
        settled = true;
        resolve(new SshHost(client, target, seenKey));
      });
      // Stays attached for the connection's life: ssh2 can emit a second error (a handshake
      // timeout after a refused socket), and an unheard one would crash the bot. Errors after
      // the handshake surface through the calls that hit them.
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (settled) return;
        settled = true;
        client.end();
        if (keyMismatch) reject(new HostKeyChangedError(describeTarget(target), fingerprintOf(auth.pinnedHostKey ?? ""), fingerprintOf(seenKey), seenKey));
        else if (err.level === "client-authentication") reject(new HostAuthError(describeTarget(target), auth.publicKey));
        else reject(new HostUnreachableError(describeTarget(target), [err.level, err.code, err.message].filter(Boolean).join(": ")));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey: auth.privateKey,
        readyTimeout: opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        hostVerifier: (key: Buffer) => {
          seenKey = hostKeyLine(key);
          keyMismatch = auth.pinnedHostKey !== undefined && auth.pinnedHostKey !== seenKey;
          return !keyMismatch;
        },
      });
    });
  }

  run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      // bash, whatever the login shell is: our commands use bash syntax.
      this.client.exec(`bash -c ${shellQuote(command)}`, (err, channel: ClientChannel) => {
        if (err) return reject(new Error(`the SSH connection to the host failed: ${err.message}`));
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          channel.close();
          reject(new CommandTimeoutError("a remote command", timeoutMs));
        }, timeoutMs);
        // The step that ran it timed out or the run was cancelled: stop the command on the host.
        const stop = () => {
          channel.close();
          const reason: unknown = opts.signal?.reason;
          reject(reason instanceof Error ? reason : new Error("the command was stopped"));
        };
        if (opts.signal?.aborted) stop();
        opts.signal?.addEventListener("abort", stop, { once: true });
        channel.on("data", (d: Buffer) => {
          stdout = appendCapped(stdout, d.toString("utf8"));
          opts.onOutput?.(d.toString("utf8"));
        });
        channel.stderr.on("data", (d: Buffer) => {
          stderr = appendCapped(stderr, d.toString("utf8"));
          opts.onOutput?.(d.toString("utf8"));
        });
        channel.on("close", (code: number | null, signal?: string) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", stop);
          // OpenSSH always reports an exec's exit status or signal; a session that ends with
          // neither died with its sshd (restarted, its processes killed) while the connection
          // still looks open. Count the connection as lost, so the next try connects again.
          if ((code === null || code === undefined) && !signal) {
            this.open = false;
            this.client.end();
          }
          resolve({ code: code ?? (signal ? 128 : 255), stdout, stderr });
        });
      });
    });
  }

  async writeFile(file: string, content: string, mode: number): Promise<void> {
    const rel = file.replace(/^~\//, "");
    const dir = path.dirname(rel);
    if (dir !== ".") {
      const made = await this.run(`mkdir -p ${shellQuote(dir)}`);
      if (made.code !== 0) throw new Error(`cannot create ${dir} on the host: ${made.stderr.trim()}`);
    }
    const sftp = await this.sftp();
    // Tighten an existing file's mode before the new (possibly secret) content lands in it:
    // SFTP's open mode applies only to new files.
    await new Promise<void>((res) => sftp.chmod(rel, mode, () => res()));
    await new Promise<void>((res, rej) => sftp.writeFile(rel, content, { mode }, (e) => (e ? rej(e) : res())));
    await new Promise<void>((res, rej) => sftp.chmod(rel, mode, (e) => (e ? rej(e) : res())));
  }

  async forwardPort(remotePort: number): Promise<PortForward> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      this.client.forwardOut("127.0.0.1", 0, "127.0.0.1", remotePort, (err, channel) => {
        if (err) return socket.destroy();
        socket.pipe(channel).pipe(socket);
        socket.on("error", () => channel.close());
        channel.on("error", () => socket.destroy());
      });
    });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const localPort = (server.address() as net.AddressInfo).port;
    return {
      localPort,
      close: () => new Promise((res) => {
        for (const s of sockets) s.destroy(); // kept-alive clients would hold the listener open
        server.close(() => res());
      }),
    };
  }

  async close(): Promise<void> {
    this.client.end();
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((res, rej) => this.client.sftp((e, s) => (e ? rej(e) : res(s))));
    return this.sftpSession;
  }
}

/** How long to keep trying to reach a host: the shared retry policy, and each handshake's limit. */
export interface SshWaitPolicy extends RetryPolicy {
  /** How long each handshake may take (HANDSHAKE_TIMEOUT_MS when unset). */
  handshakeTimeoutMs?: number;
}

/**
 * Handshakes (key exchange, signatures) are the CPU-heavy part of a connection: when hundreds
 * of servers boot together, at most this many run at once, so the event loop stays responsive.
 */
const MAX_CONCURRENT_HANDSHAKES = 16;
let handshakes = 0;
const handshakeQueue: (() => void)[] = [];

async function limitedConnect(target: SshTarget, auth: SshAuth, opts: ConnectOptions): Promise<SshHost> {
  if (handshakes < MAX_CONCURRENT_HANDSHAKES) handshakes++;
  else await new Promise<void>((r) => handshakeQueue.push(r)); // a finishing handshake hands its slot over
  try {
    return await SshHost.connect(target, auth, opts);
  } finally {
    const next = handshakeQueue.shift();
    if (next) next();
    else handshakes--;
  }
}

/** Connect with backoff while the host is unreachable; refusals (key, auth) are final at once. */
export async function connectWithRetry(target: SshTarget, auth: SshAuth, policy: SshWaitPolicy, signal?: AbortSignal): Promise<SshHost> {
  return withRetry(() => limitedConnect(target, auth, { handshakeTimeoutMs: policy.handshakeTimeoutMs }), {
    ...policy, deadlineMs: Number.POSITIVE_INFINITY, signal,
    retryable: (err) => err instanceof HostUnreachableError, // a refused key or a changed host key is final at once
  });
}
