// Expected failures of reaching a host, with what the user should do about them. The messages
// never name the host: status messages are public, and the address of someone's server is theirs.

const REBUILT_SERVER = "If the server was rebuilt on purpose, delete this spawn and spawn again";
/** For hosts pinned per host (adopted ones): the pin's owner or an admin decides. */
export const REBUILT_HOST = "If the host was rebuilt on purpose, its owner or an admin accepts the new key with `hosts trust user@host[:port]`; otherwise do not use it";

export class HostKeyChangedError extends Error {
  readonly code = "HOST_KEY_CHANGED";
  readonly retryable = false;
  constructor(
    readonly host: string, readonly expected: string, readonly got: string,
    /** The key the host presented ("type base64"). */
    readonly seenKey = "", whatToDo = REBUILT_SERVER,
  ) {
    // The fingerprints stay out of the message (a host key finds its server in internet-wide
    // scans); they are on the error for the log and for the owner's private `hosts trust`.
    super(`the host's key changed since it was pinned; refusing to connect. ${whatToDo}`);
  }
}

export class HostAuthError extends Error {
  readonly code = "HOST_AUTH_REFUSED";
  readonly retryable = false;
  constructor(readonly target: string, readonly publicKey: string) {
    super(
      `this host does not accept your spawnbot key. Authorize it on that host with: ` +
        `echo '${publicKey}' >> ~/.ssh/authorized_keys`,
    );
  }
}

/**
 * The one message for every failure short of an SSH server answering: the name did not resolve,
 * the network policy refuses the address, the port is closed, nothing answers, or something other
 * than sshd answers. The same words for all, so `--host` cannot map a network; which one it was
 * (`reason`) and where (`target`) go to the log only.
 */
export const NO_SSH_SERVER_MESSAGE = "no SSH server answered at that address; check the host and port, and that sshd is running there";

export class HostUnreachableError extends Error {
  readonly code = "HOST_UNREACHABLE";
  /** The host may come back (an sshd restarting, a network blip): worth another try. */
  readonly retryable = true;
  constructor(readonly target: string, readonly reason: string) {
    super(NO_SSH_SERVER_MESSAGE);
  }
}

export class CommandTimeoutError extends Error {
  readonly code = "COMMAND_TIMEOUT";
  readonly retryable = true;
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`);
  }
}
