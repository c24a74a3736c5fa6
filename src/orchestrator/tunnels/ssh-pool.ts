// One SSH connection per spawn, shared by every tunnelled request to it: opened by the first
// request (concurrent first requests share the same attempt), reused, reopened after it drops.
import ssh2 from "ssh2";
import type { Client as SshClient, ClientChannel } from "ssh2";
import { TunnelError, type TunnelLogger, type TunnelTarget } from "./types.js";

const { Client } = ssh2;

/** OpenSSH's ServerAliveInterval/CountMax: a vanished VM is noticed within ~45 s. */
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;
/** A person is waiting on the page; a healthy VM finishes the handshake well under a second. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long closeSpawn waits for a polite SSH disconnect before cutting the socket. */
const CLOSE_TIMEOUT_MS = 2_000;

interface Link {
  client: SshClient;
  closed: Promise<void>;
}

interface Entry {
  /** Which host and key this connection was made for; a changed target gets a new connection. */
  identity: string;
  /** Held from the start, so closing does not wait for a slow handshake to finish. */
  client: SshClient;
  link: Promise<Link>;
  /** Set once the handshake finished, so a dead link can be dropped without waiting. */
  current?: Link;
}

/** The channel as http.request's createConnection wants a socket: these are called on it. */
export type SocketLikeChannel = ClientChannel & {
  setKeepAlive(): SocketLikeChannel;
  setNoDelay(): SocketLikeChannel;
  setTimeout(): SocketLikeChannel;
  ref(): SocketLikeChannel;
  unref(): SocketLikeChannel;
};

function identityOf(t: TunnelTarget): string {
  return [t.ssh.user, t.ssh.host, t.ssh.port, t.ssh.pinnedHostKey ?? ""].join("\n");
}

/** A pinned "type base64" line matches when the server's raw key blob is the same bytes. */
function hostKeyMatches(pinned: string | undefined, blob: Buffer): boolean {
  if (pinned === undefined) return true; // pinned at first contact by the pipeline, not here
  return blob.toString("base64") === pinned.trim().split(/\s+/)[1];
}

export class SshPool {
  private readonly entries = new Map<string, Entry>();
  private readonly open = new Set<Link>();

  constructor(private readonly logger?: TunnelLogger) {}

  /** Connections that finished the handshake and have not closed. */
  size(): number {
    return this.open.size;
  }

  /** A direct-tcpip channel to 127.0.0.1:remotePort on the spawn's host. */
  async forward(target: TunnelTarget): Promise<SocketLikeChannel> {
    for (let attempt = 1; ; attempt++) {
      const link = await this.linkFor(target);
      try {
        return asSocket(await openChannel(link.client, target.remotePort));
      } catch (err) {
        // The VM refusing the channel (nothing listens on the port) is final; a connection
        // that died under us is replaced once.
        const refusedByHost = (err as { reason?: unknown }).reason !== undefined;
        if (refusedByHost || attempt >= 2) {
          throw new TunnelError("DASHBOARD_DOWN", (err as Error).message, { cause: err });
        }
        this.forget(target.spawnId, link);
      }
    }
  }

  async closeSpawn(spawnId: string): Promise<void> {
    const entry = this.entries.get(spawnId);
    if (!entry) return;
    this.entries.delete(spawnId);
    await endEntry(entry);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.closeSpawn(id)));
  }

  private linkFor(target: TunnelTarget): Promise<Link> {
    const identity = identityOf(target);
    const entry = this.entries.get(target.spawnId);
    if (entry?.identity === identity) return entry.link;
    if (entry) void endEntry(entry); // the spawn's host or key changed: the old link is stale
    const client = new Client();
    const fresh: Entry = { identity, client, link: this.connect(client, target) };
    this.entries.set(target.spawnId, fresh);
    fresh.link.then(
      (link) => (fresh.current = link),
      // A failed attempt is not cached: the next request tries again.
      () => this.entries.get(target.spawnId) === fresh && this.entries.delete(target.spawnId),
    );
    return fresh.link;
  }

  /** Drop a spawn's entry if it still holds this (dead) link, so the next lookup reconnects. */
  private forget(spawnId: string, link: Link): void {
    const entry = this.entries.get(spawnId);
    if (entry?.current === link) this.entries.delete(spawnId);
    link.client.end();
  }

  private connect(client: SshClient, target: TunnelTarget): Promise<Link> {
    const { spawnId, ssh } = target;
    return new Promise((resolve, reject) => {
      let ready = false;
      let keyMismatch = false;
      const link: Link = { client, closed: new Promise((r) => client.once("close", () => r())) };
      client.once("ready", () => {
        ready = true;
        this.open.add(link);
        this.logger?.info({ spawnId }, "tunnel SSH connection opened");
        resolve(link);
      });
      client.on("error", (err: Error & { level?: string }) => {
        if (ready) {
          this.logger?.warn({ spawnId, err: err.message }, "tunnel SSH connection failed");
          return;
        }
        client.end();
        if (keyMismatch) {
          this.logger?.warn({ spawnId }, "tunnel refused: the spawn's host presented a different host key");
          reject(new TunnelError("HOST_KEY_CHANGED", "the host key changed", { cause: err }));
        } else {
          this.logger?.warn({ spawnId, err: err.message, level: err.level }, "tunnel cannot reach the spawn's host");
          reject(new TunnelError("HOST_UNREACHABLE", err.message, { cause: err }));
        }
      });
      client.once("close", () => {
        this.open.delete(link);
        if (this.entries.get(spawnId)?.current === link) this.entries.delete(spawnId);
        if (ready) this.logger?.info({ spawnId }, "tunnel SSH connection closed");
        else reject(new TunnelError("HOST_UNREACHABLE", "the connection closed during the handshake"));
      });
      client.connect({
        host: ssh.host,
        port: ssh.port,
        username: ssh.user,
        privateKey: ssh.privateKey,
        readyTimeout: HANDSHAKE_TIMEOUT_MS,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        hostVerifier: (key: Buffer) => {
          keyMismatch = !hostKeyMatches(ssh.pinnedHostKey, key);
          return !keyMismatch;
        },
      });
    });
  }
}

function openChannel(client: SshClient, remotePort: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.forwardOut("127.0.0.1", 0, "127.0.0.1", remotePort, (err, channel) => (err ? reject(err) : resolve(channel)));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err))); // "Not connected": the link died between lookup and use
    }
  });
}

function asSocket(channel: ClientChannel): SocketLikeChannel {
  const c = channel as SocketLikeChannel;
  const self = () => c;
  Object.assign(c, { setKeepAlive: self, setNoDelay: self, setTimeout: self, ref: self, unref: self });
  return c;
}

async function endEntry(entry: Entry): Promise<void> {
  // Mid-handshake, cut the socket (end() would wait for a slow TCP connect to finish first);
  // the pending attempt then fails and nobody waits out the handshake timeout.
  if (entry.current) entry.client.end();
  else entry.client.destroy();
  let link: Link;
  try {
    link = await entry.link;
  } catch {
    return; // never connected: nothing more to close
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), CLOSE_TIMEOUT_MS)));
  const late = await Promise.race([link.closed.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) link.client.destroy();
}
