// Expected failures of reaching a host, with what the user should do about them.

const REBUILT_SERVER = "If the server was rebuilt on purpose, delete this spawn and spawn again";
/** For hosts pinned per host (adopted ones): the pin's owner or an admin decides. */
export const REBUILT_HOST = "If the host was rebuilt on purpose, its owner or an admin accepts the new key with `hosts trust user@host[:port]`; otherwise do not use it";

export class HostKeyChangedError extends Error {
  readonly code = "HOST_KEY_CHANGED";
  constructor(
    readonly host: string, readonly expected: string, readonly got: string,
    /** The key the host presented ("type base64"). */
    readonly seenKey = "", whatToDo = REBUILT_SERVER,
  ) {
    super(`the host key of ${host} changed (pinned ${expected}, now ${got}); refusing to connect. ${whatToDo}`);
  }
}

export class HostAuthError extends Error {
  readonly code = "HOST_AUTH_REFUSED";
  constructor(readonly target: string, readonly publicKey: string) {
    super(
      `${target} does not accept your spawnbot key. Authorize it on that host with: ` +
        `echo '${publicKey}' >> ~/.ssh/authorized_keys`,
    );
  }
}

export class HostUnreachableError extends Error {
  readonly code = "HOST_UNREACHABLE";
  constructor(readonly target: string, reason: string) {
    super(`cannot reach ${target}: ${reason}. Check the address and that sshd is running`);
  }
}

export class CommandTimeoutError extends Error {
  readonly code = "COMMAND_TIMEOUT";
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`);
  }
}
