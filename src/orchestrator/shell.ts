// Quoting for the few values that reach a remote shell. Values are validated before they get
// here; quoting is the second line of defence, never the first.

/** POSIX single-quote a value: wrap in '…' and turn each ' into '\''. NUL cannot be quoted. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("a NUL byte cannot be passed to a shell");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Environment variable names we are willing to write (spawn's rule). */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** A remote path relative to the login user's home: no `..`, no leading `-`, safe characters only. */
export function checkRemotePath(p: string): string {
  if (!/^[A-Za-z0-9/_.~-]+$/.test(p) || p.split("/").some((seg) => seg === ".." || seg.startsWith("-"))) {
    throw new Error(`unsafe remote path ${JSON.stringify(p)}`);
  }
  return p;
}
