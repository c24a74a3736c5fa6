// Which clouds this bot offers: local and ssh always, each VM cloud when its settings are there.
import type { Config } from "./config.js";
import { AwsCloud } from "./orchestrator/clouds/aws.js";
import { DigitalOceanCloud } from "./orchestrator/clouds/digitalocean.js";
import { GcpCloud } from "./orchestrator/clouds/gcp.js";
import { HetznerCloud } from "./orchestrator/clouds/hetzner.js";
import { HostPolicy, LocalCloud, SshCloud, type BotKey, type Cloud } from "./orchestrator/index.js";

export function configuredClouds(config: Config, botKey: BotKey): Cloud[] {
  const base = { botPublicKey: botKey.publicKey, cloudInitTimeoutMs: config.cloudInitTimeoutMs };
  const { aws, gcp, hetzner, digitalocean } = config.clouds;
  const clouds: Cloud[] = [new LocalCloud({ enabled: config.enableLocal }), new SshCloud({ policy: new HostPolicy(config.sshNetworks) })];
  if (aws) clouds.push(new AwsCloud({ ...base, region: aws.region, defaultSize: aws.defaultSize, sshCidr: aws.sshCidr }));
  if (gcp) clouds.push(new GcpCloud({ ...base, project: gcp.project, zone: gcp.zone, defaultSize: gcp.defaultSize, apiEndpoint: gcp.apiEndpoint }));
  if (hetzner) clouds.push(new HetznerCloud({ ...base, token: hetzner.token, apiUrl: hetzner.apiUrl, location: hetzner.location, defaultSize: hetzner.defaultSize }));
  if (digitalocean) clouds.push(new DigitalOceanCloud({ ...base, token: digitalocean.token, apiUrl: digitalocean.apiUrl, region: digitalocean.region, defaultSize: digitalocean.defaultSize }));
  return clouds;
}
