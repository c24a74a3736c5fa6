// Expected failures of reaching a host, with what the user should do about them.

export class HostKeyChangedError extends Error {
  readonly code = "HOST_KEY_CHANGED";
  constructor(readonly host: string, readonly expected: string, readonly got: string) {
    super(
      `the host key of ${host} changed (pinned ${expected}, now ${got}); refusing to connect. ` +
        `If the server was rebuilt on purpose, delete this spawn and spawn again`,
    );
  }
}

export class HostAuthError extends Error {
  readonly code = "HOST_AUTH_REFUSED";
  constructor(readonly target: string, readonly botPublicKey: string) {
    super(
      `${target} does not accept spawnbot's SSH key. Authorize it on that host with: ` +
        `echo '${botPublicKey}' >> ~/.ssh/authorized_keys`,
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
