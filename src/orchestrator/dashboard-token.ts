// A spawn's dashboard token (the secret in its dashboard's URL, e.g. OpenClaw's ?token=) as it is
// kept in the spawn's meta: sealed by the bot's SecretBox, bound to the spawn, never in clear.
// Rows from before sealing hold it in clear under the old key; they are read and sealed again.

/** Seals small secrets a run keeps in its journal; the bot's SecretBox is one. */
export interface SecretSealer {
  seal(plaintext: string, context: string): string;
  /** Throws when the value was sealed for another context or with another key. */
  open(sealed: string, context: string): string;
}

/** The meta key of the sealed token. */
export const SEALED_TOKEN_META = "dashboardTokenSealed";
/** The meta key older versions kept the token under, in clear. */
export const PLAIN_TOKEN_META = "dashboardToken";

const context = (spawnId: string) => `spawn:${spawnId}:dashboard-token`;

/** meta with the token sealed in it (and no clear copy). */
export function withSealedToken(sealer: SecretSealer, spawnId: string, meta: Record<string, string>, token: string): Record<string, string> {
  const { [PLAIN_TOKEN_META]: _plain, ...rest } = meta;
  return { ...rest, [SEALED_TOKEN_META]: sealer.seal(token, context(spawnId)) };
}

/**
 * The token in a spawn's meta: opened from its sealed form, or a clear one left by an older
 * version (`legacy`, for the caller to seal). Undefined when there is none or it does not open.
 */
export function readDashboardToken(sealer: SecretSealer, spawnId: string, meta: Record<string, string>): { token: string; legacy: boolean } | undefined {
  const sealed = meta[SEALED_TOKEN_META];
  if (sealed !== undefined) {
    try {
      return { token: sealer.open(sealed, context(spawnId)), legacy: false };
    } catch {
      return undefined; // another secret key (SPAWNBOT_SECRET_KEY rotated): the link cannot be rebuilt
    }
  }
  const plain = meta[PLAIN_TOKEN_META];
  return plain === undefined ? undefined : { token: plain, legacy: true };
}
