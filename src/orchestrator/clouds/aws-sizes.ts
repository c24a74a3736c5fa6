// EC2 instance types the bot knows without asking AWS: memory and CPU architecture of the common
// burstable and general-purpose types, the --size/--zone patterns, and the pick of a default size
// big enough for the agent. Types outside the table are looked up with DescribeInstanceTypes.

/** The shape of an EC2 instance type: family (letters, generation, attributes), a dot, a size. */
export const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** A region (us-east-1) or an availability zone in it (us-east-1a). */
export const ZONE_RE = /^[a-z]{2}(-[a-z]+)+-\d[a-z]?$/;

export type Architecture = "x86_64" | "arm64";

export interface InstanceTypeFacts {
  memoryGb: number;
  arch: Architecture;
}

const BURSTABLE_SIZES = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"] as const;
const BURSTABLE_GB = [0.5, 1, 2, 4, 8, 16, 32];
const LARGE_SIZES = ["large", "xlarge", "2xlarge"] as const;

function family(name: string, arch: Architecture, sizes: readonly string[], gb: readonly number[]): [string, InstanceTypeFacts][] {
  return sizes.map((size, i) => [`${name}.${size}`, { memoryGb: gb[i]!, arch }]);
}

/** Published memory of common types (aws.amazon.com/ec2/instance-types), in GiB. */
export const KNOWN_TYPES: ReadonlyMap<string, InstanceTypeFacts> = new Map([
  ...family("t3", "x86_64", BURSTABLE_SIZES, BURSTABLE_GB),
  ...family("t3a", "x86_64", BURSTABLE_SIZES, BURSTABLE_GB),
  ...family("t4g", "arm64", BURSTABLE_SIZES, BURSTABLE_GB),
  ...family("m7i", "x86_64", LARGE_SIZES, [8, 16, 32]),
  ...family("c7i", "x86_64", LARGE_SIZES, [4, 8, 16]),
]);

/** The family part of a type: "t3" of "t3.small". */
export function familyOf(instanceType: string): string {
  return instanceType.slice(0, instanceType.indexOf("."));
}

/**
 * The smallest known type of the same family with at least minGb of memory; t3 for families the
 * table does not hold (spawn moves OpenClaw from its 2 GB default to the 4 GB bundle the same way).
 */
export function smallestWithMemory(instanceType: string, minGb: number): string {
  const fam = KNOWN_TYPES.has(instanceType) ? familyOf(instanceType) : "t3";
  const fits = [...KNOWN_TYPES].filter(([t, f]) => familyOf(t) === fam && f.memoryGb >= minGb).sort((a, b) => a[1].memoryGb - b[1].memoryGb);
  return fits[0]?.[0] ?? "t3.2xlarge";
}

/** "2 GB", "0.5 GB": how the user sees memory. */
export function formatGb(gb: number): string {
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}

/** The region part of a zone: us-east-1 of us-east-1a (a region stays as it is). */
export function regionOfZone(zone: string): string {
  return /\d[a-z]$/.test(zone) ? zone.slice(0, -1) : zone;
}
