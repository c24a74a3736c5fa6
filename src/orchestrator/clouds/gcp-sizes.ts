// GCE machine types and names the bot knows without asking Google: the --size/--zone/name patterns,
// the memory of the shared-core types and of the predefined families (vCPUs × GB per vCPU), and the
// pick of a size big enough for the agent. A well-formed type outside these rules is left to GCE.

/** A machine type: a family, a dash, the rest (e2-medium, n2-standard-4, c3d-highcpu-8). */
export const MACHINE_TYPE_RE = /^[a-z][a-z0-9]*-[a-z0-9-]+$/;
/** A zone: region (continent-area + digit), dash, one letter (us-central1-a, europe-west4-b). */
export const ZONE_RE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
/** GCE resource names (RFC 1035): a lowercase letter, then up to 62 of [-a-z0-9], not ending in a dash. */
export const INSTANCE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Shared-core types, in GB (cloud.google.com/compute/docs/general-purpose-machines). */
const SHARED_CORE_GB: Record<string, number> = {
  "e2-micro": 1, "e2-small": 2, "e2-medium": 4, "f1-micro": 0.6, "g1-small": 1.7,
};

/** GB per vCPU of the predefined shapes; n1 is the older, odd one out. */
const GB_PER_VCPU: Record<string, Record<string, number>> = {
  standard: { default: 4, n1: 3.75 },
  highmem: { default: 8, n1: 6.5 },
  highcpu: { default: 1, n1: 0.9 },
};
const PREDEFINED_RE = /^(e2|n1|n2|n2d|n4|c3|c3d|c4|t2d)-(standard|highmem|highcpu)-(\d+)$/;

/** Memory of a machine type in GB, or undefined for types the bot does not know (custom, GPU, …). */
export function memoryGbOf(machineType: string): number | undefined {
  const shared = SHARED_CORE_GB[machineType];
  if (shared !== undefined) return shared;
  const m = PREDEFINED_RE.exec(machineType);
  if (!m) return undefined;
  const perVcpu = GB_PER_VCPU[m[2]!]!;
  return Number(m[3]) * (perVcpu[m[1]!] ?? perVcpu.default!);
}

/** Smallest first: what spawnbot suggests or grows a default size to. */
const LADDER = ["e2-micro", "e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "e2-standard-8"];

/** The smallest e2 type with at least minGb of memory (OpenClaw on an e2-small default gets e2-medium). */
export function smallestWithMemory(minGb: number): string {
  return LADDER.find((t) => (memoryGbOf(t) ?? 0) >= minGb) ?? LADDER[LADDER.length - 1]!;
}

/** "2 GB", "0.6 GB", "3.75 GB": how the user sees memory. */
export function formatGb(gb: number): string {
  return `${Number.isInteger(gb) ? gb : Number(gb.toFixed(2))} GB`;
}

/**
 * A label value as GCE accepts it: lowercase letters, digits, _ and -, at most 63 characters.
 * Anything else (Slack's "U024BE7LH", an e-mail) is lowercased and the rest replaced by "_".
 */
export function labelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63);
}

/** A label key: as a value, but it must start with a lowercase letter and may not be empty. */
export function labelKey(key: string): string {
  const v = labelValue(key);
  return /^[a-z]/.test(v) ? v : `k${v}`.slice(0, 63);
}
