// The names of every cloud spawnbot knows, configured or not: what SPAWNBOT_ALLOW_CLOUDS may name.
// Each cloud class's `key` is one of these (a test in config.test.ts holds them together); kept
// apart from src/clouds.ts so reading the configuration does not load the cloud SDKs.
export const CLOUD_NAMES = ["local", "ssh", "aws", "gcp", "hetzner", "digitalocean"] as const;
