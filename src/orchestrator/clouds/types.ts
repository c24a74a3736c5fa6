// The cloud interface every provider implements: local and ssh now, AWS, GCP, Hetzner and
// DigitalOcean next. A cloud makes and removes servers; the pipeline does the rest over SSH.
import type { AgentSpec } from "../agents/types.js";
import type { RemoteHost } from "../remote/types.js";

export interface ServerSpec {
  spawnId: string;
  name: string;
  agent: AgentSpec;
  size?: string;
  zone?: string;
  /** For the ssh cloud: the host to adopt. */
  host?: { user: string; host: string; port: number };
  /** cloud-init user-data for VM clouds. */
  userData?: string;
  /** Tags every resource carries before it can cost money (spawn id, owner). */
  tags: Record<string, string>;
}

export interface ServerInfo {
  serverId: string;
  address: string;
  sshUser: string;
  sshPort: number;
}

export interface Cloud {
  readonly key: string;
  readonly title: string;
  readonly description: string;
  /** Check that the cloud can be used (credentials, settings); throws CloudError with what to do. */
  checkCredentials(): Promise<void>;
  /** Check a --size/--zone against the cloud's rules and the agent's minimum memory. */
  checkPlacement(spec: ServerSpec): void;
  createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo>;
  deleteServer(serverId: string): Promise<void>;
  listServers(): Promise<ServerInfo[]>;
  /** Clouds that are not reached over SSH (local) open the host themselves. */
  openHost?(server: ServerInfo): Promise<RemoteHost>;
  /** How long to keep trying SSH: a new VM needs minutes to boot, an adopted host is up or not. */
  readonly sshWait: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** How a person reaches the agent: "ssh" for hosts, "local" for the bot's own machine. */
  readonly access: "ssh" | "local";
}

/** An expected refusal by a cloud, with the message the user sees. */
export class CloudError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
