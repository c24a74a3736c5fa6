// The `local` cloud: the bot's own host. Enabled by default only in console mode.
import os from "node:os";
import { LocalHost } from "../remote/local-host.js";
import { CloudError, type Cloud, type ServerInfo, type ServerSpec } from "./types.js";
import type { PriceAnswer } from "./prices.js";

export class LocalCloud implements Cloud {
  readonly key = "local";
  readonly title = "Local machine";
  readonly description = "the bot's own host (console use; an admin setting elsewhere)";
  readonly adopted = true;
  readonly access = "local" as const;
  readonly sshWait = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

  constructor(private readonly opts: { enabled: boolean; home?: string }) {}

  async checkCredentials(): Promise<void> {
    if (!this.opts.enabled) {
      throw new CloudError("LOCAL_DISABLED", "the local cloud is disabled on this bot; an admin can enable it with SPAWNBOT_ENABLE_LOCAL=true");
    }
  }

  /** The bot pays nothing for a host it does not make. */
  async priceOf(): Promise<PriceAnswer> {
    return { kind: "free" };
  }

  checkPlacement(spec: ServerSpec): void {
    if (spec.size || spec.zone) throw new CloudError("BAD_PLACEMENT", "the local cloud runs on the bot's own host: drop --size and --zone");
  }

  async createServer(): Promise<ServerInfo> {
    return { serverId: "local", address: "localhost", sshUser: os.userInfo().username, sshPort: 0 };
  }

  async deleteServer(): Promise<void> {}

  async getServer(): Promise<ServerInfo | undefined> {
    return undefined;
  }

  async listServers(): Promise<ServerInfo[]> {
    return [];
  }

  async openHost(): Promise<LocalHost> {
    return new LocalHost(this.opts.home ?? os.homedir());
  }
}
