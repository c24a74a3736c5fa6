// The tunnel gateway's inputs: where a token leads, and how the gateway is configured.

export interface TunnelTarget {
  spawnId: string;
  /** SSH to the VM, with the pinned host key. */
  ssh: { host: string; port: number; user: string; privateKey: string; publicKey: string; pinnedHostKey?: string };
  /** The dashboard's port on the VM's loopback. */
  remotePort: number;
}

export interface TunnelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TunnelGatewayOptions {
  /** The only way the gateway learns about tokens: hash in, target out; undefined = unknown, expired or revoked. Never called with the raw token. */
  resolve(tokenHash: string): Promise<TunnelTarget | undefined>;
  /**
   * `tunnels.example.com` when `*.tunnels.example.com` points at the gateway: each tunnel is then
   * served at `<token>.<domain>` on its own origin, and `/t/<token>/` is refused. Without it, the
   * path form `/t/<token>/` is the fallback, with all dashboards on one origin.
   */
  tunnelDomain?: string;
  /** Requests per token per minute before 429 (with Retry-After). Default 600. */
  rateLimitPerMinute?: number;
  logger?: TunnelLogger;
}

/** Expected failures of a tunnelled request; each maps to one user-facing message. */
export type TunnelFailureCode = "NOT_FOUND" | "RATE_LIMITED" | "HOST_UNREACHABLE" | "HOST_KEY_CHANGED" | "DASHBOARD_DOWN" | "SHUTTING_DOWN";

export class TunnelError extends Error {
  constructor(
    readonly code: TunnelFailureCode,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}
