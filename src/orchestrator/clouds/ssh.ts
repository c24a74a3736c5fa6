// The `ssh` cloud: adopt an existing host given with --host user@host[:port]. spawnbot never
// deletes such a host; deleting the spawn only stops its session and removes its files.
import { CloudError, type Cloud, type ServerInfo, type ServerSpec } from "./types.js";

export class SshCloud implements Cloud {
  readonly key = "ssh";
  readonly title = "Existing host over SSH";
  readonly description = "a machine you already have: --host user@host[:port]";
  readonly adopted = true;
  readonly access = "ssh" as const;
  /** An existing host is already up: a short retry covers a blip, not a boot. */
  readonly sshWait = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 2000 };

  async checkCredentials(): Promise<void> {}

  checkPlacement(spec: ServerSpec): void {
    if (!spec.host) throw new CloudError("HOST_REQUIRED", "the ssh cloud needs --host user@host[:port]");
    if (spec.size || spec.zone) throw new CloudError("BAD_PLACEMENT", "an existing host has its own size and place: drop --size and --zone");
  }

  async createServer(spec: ServerSpec): Promise<ServerInfo> {
    const h = spec.host!;
    return { serverId: `${h.user}@${h.host}:${h.port}`, address: h.host, sshUser: h.user, sshPort: h.port };
  }

  async deleteServer(): Promise<void> {}

  async getServer(): Promise<ServerInfo | undefined> {
    return undefined;
  }

  async listServers(): Promise<ServerInfo[]> {
    return [];
  }
}
