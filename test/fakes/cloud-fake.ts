// What every wire-level cloud fake offers its tests: a base URL for the real client, the
// servers it holds, every call it received, and faults to inject on the next calls.

export type FaultKind =
  | "throttle" // the service's rate-limit answer (EC2 RequestLimitExceeded; Hetzner 429 with RateLimit-* headers only; DO's burst-limit 429 with retry-after: 1)
  | "server-error" // HTTP 500/503 with the service's error body (Hetzner: 503 unavailable)
  | "timeout" // accept the request and never answer (the client's timeout must fire)
  | "lose-create-response"; // perform the create, then drop the connection without answering

export interface Fault {
  kind: FaultKind;
  /** How many of the matching calls get the fault. */
  times: number;
  /** Only calls whose method+path (or EC2 Action) contain this; all calls when absent. */
  match?: string;
}

export interface FakeServer {
  id: string;
  name: string;
  /** Tags or labels as the service stores them. */
  tags: Record<string, string>;
  /** The service's own state word (running, active, RUNNING, …). */
  state: string;
}

export interface FakeCall {
  method: string;
  path: string;
  /** EC2's Action, or "METHOD /path" for REST services. */
  action: string;
}

export interface CloudFake {
  /** Base URL to give the real client (endpoint option or *_API_URL). */
  readonly url: string;
  /** Servers that exist (not deleted). */
  servers(): FakeServer[];
  readonly calls: FakeCall[];
  inject(fault: Fault): void;
  /** The token/credentials the fake accepts; anything else gets the service's auth error. */
  readonly validToken: string;
  close(): Promise<void>;
}
