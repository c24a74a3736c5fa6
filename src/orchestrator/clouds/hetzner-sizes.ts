// Hetzner server types and locations the bot knows without asking the API: the --size/--zone
// patterns and the memory of the current shared-vCPU types. Other names are asked of
// GET /server_types, which also catches types that Hetzner retired.

/** A server type: family letters, a generation digit pair, an optional suffix (cx23, cpx31, cax11). */
export const SERVER_TYPE_RE = /^[a-z]+[0-9]+[a-z]*$/;
/** A location: letters and an optional number (nbg1, fsn1, hel1, ash, hil, sin). */
export const LOCATION_RE = /^[a-z]+[0-9]*$/;

/** Locations a user can try when one is full (GET /locations, recorded 2026-02). */
export const KNOWN_LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"] as const;

/** Memory in GB of the types spawn users pick (GET /server_types, recorded 2026-02). */
export const KNOWN_SERVER_TYPES: ReadonlyMap<string, number> = new Map([
  ["cx22", 2], ["cx23", 4], ["cx33", 8], ["cx43", 16], ["cx53", 32],
  ["cpx11", 2], ["cpx21", 4], ["cpx31", 8], ["cpx41", 16], ["cpx51", 32],
  ["cax11", 4], ["cax21", 8], ["cax31", 16], ["cax41", 32],
]);

/** The family of a type: "cpx" of "cpx31". */
function familyOf(serverType: string): string {
  return /^[a-z]+/.exec(serverType)?.[0] ?? serverType;
}

/** The smallest known type of the same family (cx when unknown) with at least minGb of memory. */
export function smallestWithMemory(serverType: string, minGb: number): string | undefined {
  const known = [...KNOWN_SERVER_TYPES];
  const fam = known.some(([t]) => familyOf(t) === familyOf(serverType)) ? familyOf(serverType) : "cx";
  return known.filter(([t, gb]) => familyOf(t) === fam && gb >= minGb).sort((a, b) => a[1] - b[1])[0]?.[0];
}

/**
 * Hetzner's label rules: a value is empty or at most 63 characters of [A-Za-z0-9._-], starting
 * and ending with a letter or digit. Anything else (an owner id like "slack:T1:U1") is mapped in.
 */
export function labelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}
