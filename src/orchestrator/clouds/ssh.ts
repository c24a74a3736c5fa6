// The `ssh` cloud: adopt an existing host given with --host user@host[:port]. spawnbot never
// deletes such a host; deleting the spawn only stops its session and removes its files.
// Where --host may point is the network policy's call (remote/host-policy.ts).
import { HostPolicy, resolveHostAddress, systemLookup, type LookupAll } from "../remote/host-policy.js";
import { CloudError, type Cloud, type ServerInfo, type ServerSpec } from "./types.js";
import type { PriceAnswer } from "./prices.js";

export interface SshCloudSettings {
  /** SPAWNBOT_SSH_ALLOW_NETWORKS / SPAWNBOT_SSH_DENY_NETWORKS; the default policy refuses loopback and the bot's own addresses. */
  policy?: HostPolicy;
  /** Name resolution (tests give a fake resolver). */
  lookup?: LookupAll;
  /** How long to keep trying SSH (tests shorten the handshake timeout to test a silent port). */
  sshWait?: Cloud["sshWait"];
}

export class SshCloud implements Cloud {
  readonly key = "ssh";
  readonly title = "Existing host over SSH";
  readonly description = "a machine you already have: --host user@host[:port]";
  readonly adopted = true;
  readonly access = "ssh" as const;
  /** An existing host is already up: a short retry covers a blip, not a boot. */
  readonly sshWait: Cloud["sshWait"];
  private readonly policy: HostPolicy;
  private readonly lookup: LookupAll;

  constructor(settings: SshCloudSettings = {}) {
    this.policy = settings.policy ?? new HostPolicy();
    this.lookup = settings.lookup ?? systemLookup;
    this.sshWait = settings.sshWait ?? { attempts: 3, baseDelayMs: 1000, maxDelayMs: 2000 };
  }

  async checkCredentials(): Promise<void> {}

  /** The bot pays nothing for a host it does not make. */
  async priceOf(): Promise<PriceAnswer> {
    return { kind: "free" };
  }

  checkPlacement(spec: ServerSpec): void {
    if (!spec.host) throw new CloudError("HOST_REQUIRED", "the ssh cloud needs --host user@host[:port]");
    if (spec.size || spec.zone) throw new CloudError("BAD_PLACEMENT", "an existing host has its own size and place: drop --size and --zone");
  }

  /** The host as the person named it; wait-ssh resolves it (resolveAddress), so every failure to reach it reads the same. */
  async createServer(spec: ServerSpec): Promise<ServerInfo> {
    const h = spec.host!;
    return { serverId: `${h.user}@${h.host}:${h.port}`, address: h.host, sshUser: h.user, sshPort: h.port };
  }

  resolveAddress(server: ServerInfo): Promise<string> {
    return resolveHostAddress({ host: server.address, port: server.sshPort, user: server.sshUser }, this.policy, this.lookup);
  }

  async deleteServer(): Promise<void> {}

  async getServer(): Promise<ServerInfo | undefined> {
    return undefined;
  }

  async listServers(): Promise<ServerInfo[]> {
    return [];
  }
}
