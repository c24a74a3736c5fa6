// AWS EC2: one Ubuntu 24.04 instance per spawn in the default VPC of the bot's region, reached over
// SSH with the bot's key pair through a shared security group. spawn uses Lightsail; the mapping to
// EC2 is spawn-spec §3.5. Retries are the SDK's, with our policy (aws-retry.ts); refusals are
// translated in one place (aws-errors.ts); sizes the bot knows are in aws-sizes.ts.
import { createHash } from "node:crypto";
import {
  AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeImagesCommand, DescribeInstancesCommand,
  DescribeInstanceTypesCommand, DescribeKeyPairsCommand, DescribeRegionsCommand, DescribeSecurityGroupsCommand,
  DescribeVpcsCommand, EC2Client, ImportKeyPairCommand, RunInstancesCommand, TerminateInstancesCommand,
  type _InstanceType, type Instance, type SecurityGroup, type Tag,
} from "@aws-sdk/client-ec2";
import { awsErrorCode, noDefaultVpc, translateAwsError, type AwsErrorContext } from "./aws-errors.js";
import { EC2_RETRY, ec2RetryStrategy, type AwsRetryPolicy } from "./aws-retry.js";
import { AWS_PRICES } from "./price-table.js";
import { priceFromTable, priceUnknownBecause, type PriceAnswer, type PricedPlacement } from "./prices.js";
import { formatGb, INSTANCE_TYPE_RE, KNOWN_TYPES, regionOfZone, smallestWithMemory, ZONE_RE, type Architecture, type InstanceTypeFacts } from "./aws-sizes.js";
import { pollUntil } from "../retry.js";
import {
  BOOT_TIMEOUT_MS, BOT_TAG, CLOUD_INIT_TIMEOUT_MS, CloudError, POLL_INTERVAL_MS, SPAWN_ID_TAG,
  type Cloud, type ProviderBase, type ServerInfo, type ServerSpec,
} from "./types.js";
import { renderUserData } from "./user-data.js";

export { translateAwsError } from "./aws-errors.js";

export interface AwsCloudOptions extends ProviderBase {
  region: string;
  /** --size when none is given; grown to the agent's minimum memory (OpenClaw: t3.small → t3.medium). */
  defaultSize: string;
  /** Who may reach port 22 of the servers (the bot's egress range, or 0.0.0.0/0). */
  sshCidr: string;
  /** API endpoint; without it the SDK's AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL apply. */
  endpoint?: string;
  /** Static credentials; without them the SDK's standard chain (env, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  sshWait?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** The API retry policy (tests shorten it). */
  retry?: Partial<AwsRetryPolicy>;
}

/** Canonical's AWS account: the only owner whose Ubuntu images we boot. */
const CANONICAL_OWNER_ID = "099720109477";
const ubuntuImageName = (arch: Architecture) => `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch === "arm64" ? "arm64" : "amd64"}-server-*`;
const SECURITY_GROUP_NAME = "spawnbot-ssh";
/** Lightsail's small bundle has 60 GB; an agent, its runtime and a repository fit in 30. */
const ROOT_VOLUME_GB = 30;
/** The login user of Canonical's images. */
const UBUNTU_USER = "ubuntu";
const DEFAULT_SSH_PORT = 22;
/** A new VM needs a minute or two before sshd answers: about 3 minutes of attempts. */
const VM_SSH_WAIT = { attempts: 30, baseDelayMs: 2_000, maxDelayMs: 10_000 };
/** spawn's request timeout; a hung connection is abandoned and retried. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** States of an instance that still exists (and may cost money). */
const LIVE_STATES = ["pending", "running", "stopping", "stopped"];
const GONE_STATES = new Set(["shutting-down", "terminated"]);
/** DescribeInstances' largest page (MaxResults 5 to 1000), the size AWS's pagination guide uses. */
const DESCRIBE_PAGE_SIZE = 1000;
const NOT_FOUND = ["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"];

export class AwsCloud implements Cloud {
  readonly key = "aws";
  readonly title = "AWS EC2";
  readonly description = "a new Ubuntu VM on AWS EC2 (--size t3.medium, --zone us-east-1a)";
  readonly access = "ssh" as const;
  readonly sshWait: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  readonly cloudInit: { timeoutMs: number };
  private readonly ec2: EC2Client;
  private readonly sshUser: string;
  private readonly sshPort: number;
  private readonly typeFacts = new Map<string, InstanceTypeFacts>(KNOWN_TYPES);
  /** Canonical publishes new images every few weeks; one lookup per arch per bot run is enough. */
  private readonly images = new Map<Architecture, { imageId: string; rootDevice: string }>();
  private defaultVpcId: string | undefined;

  constructor(private readonly opts: AwsCloudOptions) {
    this.sshWait = opts.sshWait ?? VM_SSH_WAIT;
    this.cloudInit = { timeoutMs: opts.cloudInitTimeoutMs ?? CLOUD_INIT_TIMEOUT_MS };
    this.sshUser = opts.sshUser ?? UBUNTU_USER;
    this.sshPort = opts.sshPort ?? DEFAULT_SSH_PORT;
    const retry = { ...EC2_RETRY, ...opts.retry };
    const requestTimeout = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.ec2 = new EC2Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: retry.attempts,
      retryStrategy: ec2RetryStrategy(retry),
      requestHandler: { requestTimeout, connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, requestTimeout), throwOnRequestTimeout: true },
    });
  }

  async checkCredentials(): Promise<void> {
    await this.translated({}, () => this.ec2.send(new DescribeRegionsCommand({ RegionNames: [this.opts.region] })));
  }

  async checkPlacement(spec: ServerSpec): Promise<void> {
    if (spec.size !== undefined && !INSTANCE_TYPE_RE.test(spec.size)) {
      throw new CloudError("BAD_PLACEMENT", `'${spec.size}' is not an EC2 instance type: use e.g. --size t3.medium`);
    }
    if (spec.zone !== undefined) {
      const region = this.opts.region;
      if (!ZONE_RE.test(spec.zone)) throw new CloudError("BAD_PLACEMENT", `'${spec.zone}' is not an AWS region or zone: use e.g. --zone ${region}a`);
      if (regionOfZone(spec.zone) !== region) {
        throw new CloudError("BAD_PLACEMENT", `this bot runs AWS in ${region}: use --zone ${region} or one of its zones such as ${region}a, or drop --zone`);
      }
    }
    if (spec.size === undefined) return; // the default size grows to fit the agent (serverSize)
    const { memoryGb } = await this.translated({ instanceType: spec.size }, () => this.facts(spec.size!));
    const min = spec.agent.minMemoryGb;
    if (memoryGb < min) {
      throw new CloudError("BAD_PLACEMENT", `${spec.agent.name} needs at least ${min} GB of memory; ${spec.size} has ${formatGb(memoryGb)} — use --size ${smallestWithMemory(spec.size, min)} or larger`);
    }
  }

  async createServer(spec: ServerSpec, signal?: AbortSignal): Promise<ServerInfo> {
    const ctx: Partial<AwsErrorContext> = { zone: spec.zone };
    return this.translated(ctx, async () => {
      // 1. The size: --size, or the default grown to the agent's minimum memory.
      const instanceType = (ctx.instanceType = await this.serverSize(spec));
      const { arch } = await this.facts(instanceType);
      // 2. The bot's key pair, 3. the SSH security group, 4. the newest Ubuntu 24.04 image.
      const keyName = await this.ensureKeyPair(signal);
      const groupId = await this.ensureSecurityGroup(signal);
      const image = await this.ubuntuImage(arch, signal);
      // 5. The instance. ClientToken = spawn id: a retry (the SDK's or a repeated create) gets the same one.
      const instanceId = await this.runInstance(spec, { instanceType, keyName, groupId, ...image }, signal);
      // 6. Wait until it runs with a public address; a create that fails here removes its instance.
      try {
        return await this.waitForAddress(instanceId, signal);
      } catch (err) {
        throw await this.terminateAfterFailure(instanceId, translateAwsError(err, { region: this.opts.region, ...ctx }));
      }
    });
  }

  async getServer(serverId: string): Promise<ServerInfo | undefined> {
    const instance = await this.translated({}, () => this.describeInstance(serverId));
    if (!instance || GONE_STATES.has(instance.State?.Name ?? "")) return undefined;
    return this.serverInfo(instance);
  }

  async deleteServer(serverId: string): Promise<void> {
    await this.translated({}, () => orUndefined(NOT_FOUND, this.ec2.send(new TerminateInstancesCommand({ InstanceIds: [serverId] }))));
  }

  async listServers(): Promise<(ServerInfo & { spawnId?: string })[]> {
    return this.translated({}, async () => {
      const found: (ServerInfo & { spawnId?: string })[] = [];
      const seen = new Set<string>();
      let NextToken: string | undefined;
      do {
        // EC2 recommends paginated describes (an unpaginated one can be throttled or time out);
        // a page may still hold fewer than MaxResults, so follow NextToken to its end.
        const page = await this.ec2.send(new DescribeInstancesCommand({
          Filters: [{ Name: `tag:${BOT_TAG.key}`, Values: [BOT_TAG.value] }, { Name: "instance-state-name", Values: LIVE_STATES }],
          MaxResults: DESCRIBE_PAGE_SIZE,
          NextToken,
        }));
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          const spawnId = tagValue(instance.Tags, SPAWN_ID_TAG);
          found.push({ ...this.serverInfo(instance), ...(spawnId ? { spawnId } : {}) });
        }
        // A token handed back twice would loop forever: stop there.
        NextToken = page.NextToken && !seen.has(page.NextToken) ? page.NextToken : undefined;
        if (NextToken) seen.add(NextToken);
      } while (NextToken);
      return found;
    });
  }

  /** Run fn, turning what EC2 (or the network) said into a CloudError with what to do. */
  private async translated<T>(ctx: Partial<AwsErrorContext>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateAwsError(err, { region: this.opts.region, ...ctx });
    }
  }

  /** From the dated price table (the Price List API needs pricing:GetProducts, which the bot's credentials need not have). */
  async priceOf(placement: PricedPlacement): Promise<PriceAnswer> {
    try {
      return priceFromTable(AWS_PRICES, this.opts.region, await this.serverSize(placement as ServerSpec));
    } catch (err) {
      return priceUnknownBecause(err);
    }
  }

  private async serverSize(spec: ServerSpec): Promise<string> {
    if (spec.size) return spec.size;
    const fallback = this.opts.defaultSize;
    const { memoryGb } = await this.facts(fallback);
    return memoryGb >= spec.agent.minMemoryGb ? fallback : smallestWithMemory(fallback, spec.agent.minMemoryGb);
  }

  /** Memory and architecture of a type: from the table, else asked of EC2 once. */
  private async facts(instanceType: string): Promise<InstanceTypeFacts> {
    const known = this.typeFacts.get(instanceType);
    if (known) return known;
    const res = await this.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }));
    const info = res.InstanceTypes?.[0];
    const archs = info?.ProcessorInfo?.SupportedArchitectures ?? [];
    const arch: Architecture | undefined = archs.includes("x86_64") ? "x86_64" : archs.includes("arm64") ? "arm64" : undefined;
    if (!info?.MemoryInfo?.SizeInMiB || !arch) {
      throw new CloudError("BAD_PLACEMENT", `${instanceType} cannot run Ubuntu 24.04 from spawnbot in ${this.opts.region}: pick another --size, e.g. t3.medium`);
    }
    const facts = { memoryGb: info.MemoryInfo.SizeInMiB / 1024, arch };
    this.typeFacts.set(instanceType, facts);
    return facts;
  }

  /** The key pair is named after a hash of the key, so an existing name always holds this key. */
  private async ensureKeyPair(signal?: AbortSignal): Promise<string> {
    const material = this.opts.botPublicKey.trim();
    const name = `spawnbot-${createHash("sha256").update(material).digest("hex").slice(0, 8)}`;
    const found = await orUndefined(["InvalidKeyPair.NotFound"], this.ec2.send(new DescribeKeyPairsCommand({ KeyNames: [name] }), { abortSignal: signal }));
    if (found?.KeyPairs?.length) return name;
    await orUndefined(["InvalidKeyPair.Duplicate"], this.ec2.send(new ImportKeyPairCommand({
      KeyName: name, PublicKeyMaterial: Buffer.from(material), TagSpecifications: [{ ResourceType: "key-pair", Tags: [botTag()] }],
    }), { abortSignal: signal }));
    return name;
  }

  /** Shared by every spawn: inbound SSH from opts.sshCidr in the default VPC. */
  private async ensureSecurityGroup(signal?: AbortSignal): Promise<string> {
    const vpcId = await this.defaultVpc(signal);
    const describe = async () => (await this.ec2.send(new DescribeSecurityGroupsCommand({
      Filters: [{ Name: "group-name", Values: [SECURITY_GROUP_NAME] }, { Name: "vpc-id", Values: [vpcId] }],
    }), { abortSignal: signal })).SecurityGroups?.[0];
    let group: SecurityGroup | undefined = await describe();
    let groupId = group?.GroupId;
    if (!groupId) {
      const made = await orUndefined(["InvalidGroup.Duplicate"], this.ec2.send(new CreateSecurityGroupCommand({
        GroupName: SECURITY_GROUP_NAME, Description: "SSH to spawnbot servers", VpcId: vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: [botTag()] }],
      }), { abortSignal: signal }));
      // Duplicate: another spawn made it in the meantime.
      group = made ? undefined : await describe();
      groupId = made?.GroupId ?? group?.GroupId;
      if (!groupId) throw new CloudError("API", `the ${SECURITY_GROUP_NAME} security group could not be made or found: spawn again`);
    }
    if (!allowsSsh(group, this.sshPort, this.opts.sshCidr)) {
      await orUndefined(["InvalidPermission.Duplicate"], this.ec2.send(new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: this.sshPort, ToPort: this.sshPort, IpRanges: [{ CidrIp: this.opts.sshCidr, Description: "spawnbot SSH" }] }],
      }), { abortSignal: signal }));
    }
    return groupId;
  }

  private async defaultVpc(signal?: AbortSignal): Promise<string> {
    if (this.defaultVpcId) return this.defaultVpcId;
    const res = await this.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }), { abortSignal: signal });
    const vpcId = res.Vpcs?.[0]?.VpcId;
    if (!vpcId) throw noDefaultVpc(this.opts.region);
    return (this.defaultVpcId = vpcId);
  }

  private async ubuntuImage(arch: Architecture, signal?: AbortSignal): Promise<{ imageId: string; rootDevice: string }> {
    const cached = this.images.get(arch);
    if (cached) return cached;
    const res = await this.ec2.send(new DescribeImagesCommand({
      Owners: [CANONICAL_OWNER_ID],
      Filters: [{ Name: "name", Values: [ubuntuImageName(arch)] }, { Name: "state", Values: ["available"] }],
    }), { abortSignal: signal });
    // CreationDate is ISO 8601, so text order is time order.
    const newest = (res.Images ?? []).filter((i) => i.ImageId && i.CreationDate).sort((a, b) => b.CreationDate!.localeCompare(a.CreationDate!))[0];
    if (!newest) throw new CloudError("API", `no Ubuntu 24.04 ${arch} image from Canonical in ${this.opts.region}: try another region, or report it to the bot's admin`);
    const image = { imageId: newest.ImageId!, rootDevice: newest.RootDeviceName ?? "/dev/sda1" };
    this.images.set(arch, image);
    return image;
  }

  private async runInstance(spec: ServerSpec, p: { instanceType: string; keyName: string; groupId: string; imageId: string; rootDevice: string }, signal?: AbortSignal): Promise<string> {
    const userData = renderUserData({
      tier: spec.agent.tier, sshUser: this.sshUser, authorizedKeys: [this.opts.botPublicKey, ...(spec.ownerKeys ?? [])], nodeMajor: spec.agent.nodeMajor,
    });
    const tags: Tag[] = Object.entries({ ...spec.tags, Name: spec.name, [BOT_TAG.key]: BOT_TAG.value, [SPAWN_ID_TAG]: spec.spawnId }).map(([Key, Value]) => ({ Key, Value }));
    const az = spec.zone && spec.zone !== this.opts.region ? spec.zone : undefined;
    const launch = this.ec2.send(new RunInstancesCommand({
      MinCount: 1, MaxCount: 1,
      InstanceType: p.instanceType as _InstanceType, ImageId: p.imageId, KeyName: p.keyName, SecurityGroupIds: [p.groupId],
      UserData: Buffer.from(userData).toString("base64"),
      ClientToken: spec.spawnId, // a UUID: within EC2's 64 ASCII characters
      TagSpecifications: [{ ResourceType: "instance", Tags: tags }, { ResourceType: "volume", Tags: tags }],
      BlockDeviceMappings: [{ DeviceName: p.rootDevice, Ebs: { VolumeSize: ROOT_VOLUME_GB, VolumeType: "gp3", DeleteOnTermination: true } }],
      MetadataOptions: { HttpTokens: "required" }, // IMDSv2 only: no credentials leak through a proxied GET
      ...(az ? { Placement: { AvailabilityZone: az } } : {}),
    }), { abortSignal: signal });
    // A repeat whose details differ (new owner keys, a newer image after a bot restart) is refused
    // with IdempotentParameterMismatch: the spawn's first instance is the one to use.
    const res = (await orUndefined(["IdempotentParameterMismatch"], launch)) ?? (await this.ec2.send(new DescribeInstancesCommand({
      Filters: [{ Name: "client-token", Values: [spec.spawnId] }],
    }), { abortSignal: signal })).Reservations?.[0];
    const instanceId = res?.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new CloudError("API", "AWS EC2 accepted the launch but named no instance: check the EC2 console for a spawnbot instance, then spawn again");
    return instanceId;
  }

  private async waitForAddress(instanceId: string, signal?: AbortSignal): Promise<ServerInfo> {
    const timeoutMs = this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
    let lastState = "unknown";
    try {
      return await pollUntil(async () => {
        // Right after RunInstances, DescribeInstances may not know the id yet (eventual consistency).
        const instance = await orUndefined(["InvalidInstanceID.NotFound"], this.describeInstance(instanceId, signal));
        lastState = instance?.State?.Name ?? "unknown";
        if (GONE_STATES.has(lastState)) {
          throw new CloudError("API", `EC2 instance ${instanceId} stopped while starting (${instance?.StateReason?.Message ?? lastState}): spawn again, or try another --zone or --size`);
        }
        return lastState === "running" && instance?.PublicIpAddress ? this.serverInfo(instance) : undefined;
      }, { timeoutMs, intervalMs: this.opts.pollIntervalMs ?? POLL_INTERVAL_MS, what: `EC2 instance ${instanceId} starting`, signal });
    } catch (err) {
      if (!(err instanceof CloudError && err.code === "TIMEOUT")) throw err;
      const why = lastState === "running" ? "it runs but has no public IP: enable auto-assign public IPv4 on the default VPC's subnets" : `it was still ${lastState}: spawn again, or try another --zone`;
      const seconds = timeoutMs < 10_000 ? (timeoutMs / 1000).toFixed(1) : String(Math.round(timeoutMs / 1000));
      throw new CloudError("TIMEOUT", `EC2 instance ${instanceId} was not reachable within ${seconds} s; ${why}`);
    }
  }

  /** Terminate what a failed create made; the user hears about both if that fails too. */
  private async terminateAfterFailure(instanceId: string, err: unknown): Promise<unknown> {
    try {
      await this.deleteServer(instanceId);
      return err;
    } catch (cleanup) {
      const first = err instanceof Error ? err.message : String(err);
      return new CloudError(err instanceof CloudError ? err.code : "API", `${first} (terminating ${instanceId} failed too: ${(cleanup as Error).message}; terminate it in the EC2 console)`);
    }
  }

  private async describeInstance(instanceId: string, signal?: AbortSignal): Promise<Instance | undefined> {
    const res = await orUndefined(NOT_FOUND, this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: signal }));
    return res?.Reservations?.[0]?.Instances?.[0];
  }

  private serverInfo(instance: Instance): ServerInfo {
    return { serverId: instance.InstanceId ?? "", address: instance.PublicIpAddress ?? "", sshUser: this.sshUser, sshPort: this.sshPort };
  }
}

/** The answer, or undefined when EC2 answers one of these codes (a thing that does not exist, or already does). */
async function orUndefined<T>(codes: string[], answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (codes.includes(awsErrorCode(err) ?? "")) return undefined;
    throw err;
  }
}

function botTag(): Tag {
  return { Key: BOT_TAG.key, Value: BOT_TAG.value };
}

function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

function allowsSsh(group: SecurityGroup | undefined, port: number, cidr: string): boolean {
  return (group?.IpPermissions ?? []).some((p) => p.IpProtocol === "tcp" && (p.FromPort ?? -1) <= port && (p.ToPort ?? -1) >= port && (p.IpRanges ?? []).some((r) => r.CidrIp === cidr));
}
