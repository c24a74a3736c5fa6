// What start-up needs of every chat adapter — the console, Slack and Discord alike: main.ts starts
// one, runs it until it ends or a stop signal comes, and stops it the same way for all three.

export interface ChatAdapter {
  /** Matches SpawnRecord.platform ("console", "slack", "discord"). */
  readonly platform: string;
  /** Take requests. When it resolves the adapter has attached its outlet to the bot core. */
  start(): Promise<void>;
  /** Stop taking requests; what was accepted is finished first. */
  stop(): Promise<void>;
  /** The platform connection is up (for /readyz); the console always is. */
  readonly connected: boolean;
  /**
   * Resolves with the process exit code when the adapter ends on its own — the console at the end
   * of its input, once the runs it started ended; chat adapters run until they are stopped.
   */
  readonly ended: Promise<number>;
}

/** For adapters that run until stopped: never resolves. */
export const NEVER_ENDS: Promise<number> = new Promise<number>(() => undefined);
