// A wire-level fake of AWS EC2 for the tests: a node:http server speaking EC2's Query protocol
// (POST / with a form body, Version 2016-11-15, indexed parameters such as Filter.1.Value.1) and
// answering in the service's XML, including its error envelope. It checks the access key id of
// the SigV4 Authorization header (not the signature), validates inputs the way EC2 does for the
// calls the bot makes, keeps RunInstances idempotent on ClientToken, and injects faults.
// Servers it starts are "pending" for bootDelayMs, then "running" at 127.0.0.1 (the test sshd).
// DescribeInstances pages as EC2 does: MaxResults (5 to 1000, not with InstanceId) bounds a page,
// NextToken (opaque, from the last page) asks for the next, and a page may hold fewer instances
// than MaxResults (describePageSize forces that), so a client must follow NextToken to its end.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFake, Fault, FakeCall, FakeServer } from "./cloud-fake.js";
import { captureSecret } from "../support/capture.js";

const XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";
export const FAKE_REGION = "us-east-1";
export const FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"; // AWS's documented example key id
export const FAKE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const CANONICAL = "099720109477";
const DEFAULT_VPC = "vpc-0a1b2c3d4e5f60718";
const STATE_CODES: Record<string, number> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48, stopping: 64, stopped: 80 };
/** EC2's limit on user data before base64 (docs: "limited to 16 KB"). */
const USER_DATA_MAX_BYTES = 16_384;
const CLIENT_TOKEN_MAX = 64;
const TAGGABLE_AT_LAUNCH = new Set(["instance", "volume", "network-interface", "spot-instances-request"]);
/** DescribeInstances' MaxResults range (API reference: "between 5 and 1000"). */
const MAX_RESULTS_MIN = 5;
const MAX_RESULTS_MAX = 1000;

/** Published memory (MiB) and architecture of the types the fake offers. */
export const FAKE_INSTANCE_TYPES: Record<string, { mib: number; arch: string }> = {
  "t3.nano": { mib: 512, arch: "x86_64" }, "t3.micro": { mib: 1024, arch: "x86_64" }, "t3.small": { mib: 2048, arch: "x86_64" },
  "t3.medium": { mib: 4096, arch: "x86_64" }, "t3.large": { mib: 8192, arch: "x86_64" }, "t4g.small": { mib: 2048, arch: "arm64" },
  "t4g.medium": { mib: 4096, arch: "arm64" }, "m6i.large": { mib: 8192, arch: "x86_64" }, "c6g.large": { mib: 4096, arch: "arm64" },
};

export interface FakeImage { id: string; name: string; owner: string; created: string; arch: string; state: string }

/** Canonical's noble images over a few releases, one arm64, and a look-alike from another owner. */
export const FAKE_IMAGES: FakeImage[] = [
  { id: "ami-0a0e5d9c7acc336f1", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423", owner: CANONICAL, created: "2024-04-23T10:11:12.000Z", arch: "x86_64", state: "available" },
  { id: "ami-04b70fa74e45c3917", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610", owner: CANONICAL, created: "2025-06-10T08:01:02.000Z", arch: "x86_64", state: "available" },
  { id: "ami-0e86e20dae9224db8", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241109", owner: CANONICAL, created: "2024-11-09T01:02:03.000Z", arch: "x86_64", state: "available" },
  { id: "ami-0f4f4482537714bd9", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250801", owner: CANONICAL, created: "2025-08-01T00:00:00.000Z", arch: "x86_64", state: "pending" },
  { id: "ami-05d38da78ce859165", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250610", owner: CANONICAL, created: "2025-06-10T08:01:02.000Z", arch: "arm64", state: "available" },
  { id: "ami-0badc0ffee0ddf00d", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-29991231", owner: "123456789012", created: "2026-01-01T00:00:00.000Z", arch: "x86_64", state: "available" },
];

export interface FakeInstance {
  id: string;
  clientToken: string;
  /** Every launch parameter but the token, to spot an inconsistent repeat (IdempotentParameterMismatch). */
  fingerprint: string;
  imageId: string;
  instanceType: string;
  keyName: string;
  securityGroupIds: string[];
  /** User data as the instance sees it (base64-decoded). */
  userData: string;
  tags: Record<string, string>;
  volumeTags: Record<string, string>;
  rootVolume: { device: string; sizeGb: number; type: string };
  availabilityZone: string;
  launchedAt: Date;
  readyAt: number;
  terminated: boolean;
}

interface SecurityGroupRecord { id: string; name: string; description: string; vpcId: string; ingress: { protocol: string; from: number; to: number; cidr: string }[] }
type Params = Record<string, string>;

class Ec2Error extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

export class Ec2Fake implements CloudFake {
  readonly calls: FakeCall[] = [];
  readonly validToken = FAKE_ACCESS_KEY_ID;
  readonly instances = new Map<string, FakeInstance>();
  readonly keyPairs = new Map<string, { id: string; material: string; fingerprint: string }>();
  readonly securityGroups = new Map<string, SecurityGroupRecord>();
  /** How long a new instance stays pending. */
  bootDelayMs: number;
  /** Most instances one DescribeInstances page holds, whatever MaxResults asks (EC2 may return fewer). */
  describePageSize = Infinity;
  /** The parameters of every DescribeInstances call, as sent. */
  readonly describeInstancesRequests: Params[] = [];
  /** NextTokens handed out: the token → where the next page starts and the filters it belongs to. */
  private readonly pageTokens = new Map<string, { offset: number; query: string }>();
  url = "";
  private readonly faults: Fault[] = [];
  private readonly refusals: { action: string; code: string; message: string; status: number }[] = [];
  private readonly server: http.Server;

  private constructor(opts: { bootDelayMs?: number }) {
    captureSecret(FAKE_SECRET_ACCESS_KEY); // the suite's secret scan looks for it in everything the bot logged or sent
    this.bootDelayMs = opts.bootDelayMs ?? 0;
    this.securityGroups.set("sg-0d0e0f1a2b3c4d5e6", { id: "sg-0d0e0f1a2b3c4d5e6", name: "default", description: "default VPC security group", vpcId: DEFAULT_VPC, ingress: [] });
    this.server = http.createServer((req, res) => this.receive(req, res));
  }

  static async start(opts: { bootDelayMs?: number } = {}): Promise<Ec2Fake> {
    const fake = new Ec2Fake(opts);
    await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  servers(): FakeServer[] {
    return [...this.instances.values()].filter((i) => !i.terminated).map((i) => ({ id: i.id, name: i.tags.Name ?? "", tags: { ...i.tags }, state: this.state(i) }));
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** The next call of `action` gets this service error (for refusals no input can provoke: limits, capacity). */
  refuseNext(action: string, code: string, message: string, status = 400): void {
    this.refusals.push({ action, code, message, status });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private state(i: FakeInstance): string {
    return i.terminated ? "terminated" : Date.now() >= i.readyAt ? "running" : "pending";
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const params: Params = Object.fromEntries(new URLSearchParams(body));
      const action = params.Action ?? "";
      this.calls.push({ method: req.method ?? "", path: req.url ?? "", action });
      const requestId = crypto.randomUUID();
      const fail = (e: Ec2Error) => send(res, e.status, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
      const credential = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? "")?.[1];
      if (credential !== FAKE_ACCESS_KEY_ID) return fail(new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401));
      const fault = this.takeFault(action);
      if (fault === "timeout") return; // never answer; the client's request timeout must fire
      if (fault === "throttle") return fail(new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503));
      if (fault === "server-error") return fail(new Ec2Error("InternalError", "An internal error has occurred", 500));
      const refusal = this.refusals.findIndex((r) => r.action === action);
      if (refusal >= 0) {
        const r = this.refusals.splice(refusal, 1)[0]!;
        return fail(new Ec2Error(r.code, r.message, r.status));
      }
      try {
        if (req.method !== "POST" || params.Version !== "2016-11-15") throw new Ec2Error("InvalidAction", `The action ${action} is not valid for this web service.`);
        const inner = this.answer(action, params);
        if (fault === "lose-create-response") return void req.socket.destroy(); // done, but the answer is lost
        send(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`);
      } catch (err) {
        if (!(err instanceof Ec2Error)) throw err;
        fail(err);
      }
    });
  }

  private takeFault(action: string): Fault["kind"] | undefined {
    const fault = this.faults.find((f) => f.times > 0 && (f.match ? action.includes(f.match) : f.kind !== "lose-create-response" || action === "RunInstances"));
    if (!fault) return undefined;
    fault.times--;
    return fault.kind;
  }

  private answer(action: string, p: Params): string {
    switch (action) {
      case "DescribeRegions": {
        const regions = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"];
        const wanted = list(p, "RegionName");
        for (const r of wanted) if (!regions.includes(r)) throw new Ec2Error("InvalidParameterValue", `Invalid region: ${r}`);
        return `<regionInfo>${(wanted.length ? wanted : regions).map((r) => `<item><regionName>${r}</regionName><regionEndpoint>ec2.${r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>`).join("")}</regionInfo>`;
      }
      case "DescribeInstanceTypes": {
        const wanted = list(p, "InstanceType");
        const unknown = wanted.filter((t) => !FAKE_INSTANCE_TYPES[t]);
        if (unknown.length) throw new Ec2Error("InvalidInstanceType", `The following supplied instance types do not exist: [${unknown.join(", ")}]`);
        return `<instanceTypeSet>${wanted.map((t) => `<item><instanceType>${t}</instanceType><memoryInfo><sizeInMiB>${FAKE_INSTANCE_TYPES[t]!.mib}</sizeInMiB></memoryInfo><processorInfo><supportedArchitectures><item>${FAKE_INSTANCE_TYPES[t]!.arch}</item></supportedArchitectures></processorInfo></item>`).join("")}</instanceTypeSet>`;
      }
      case "DescribeKeyPairs": {
        const names = list(p, "KeyName");
        for (const n of names) if (!this.keyPairs.has(n)) throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${n}' does not exist`);
        const shown = names.length ? names : [...this.keyPairs.keys()];
        return `<keySet>${shown.map((n) => { const k = this.keyPairs.get(n)!; return `<item><keyPairId>${k.id}</keyPairId><keyName>${esc(n)}</keyName><keyFingerprint>${k.fingerprint}</keyFingerprint><keyType>ed25519</keyType><tagSet/></item>`; }).join("")}</keySet>`;
      }
      case "ImportKeyPair": {
        const name = need(p, "KeyName");
        const material = Buffer.from(need(p, "PublicKeyMaterial"), "base64").toString();
        if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( \S.*)?$/.test(material.trim())) throw new Ec2Error("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
        if (this.keyPairs.has(name)) throw new Ec2Error("InvalidKeyPair.Duplicate", `The keypair already exists`);
        const fingerprint = createHash("sha256").update(Buffer.from(material.split(" ")[1]!, "base64")).digest("base64").replace(/=+$/, "");
        const id = `key-${randomBytes(8).toString("hex")}`;
        this.keyPairs.set(name, { id, material, fingerprint });
        return `<keyFingerprint>${fingerprint}</keyFingerprint><keyName>${esc(name)}</keyName><keyPairId>${id}</keyPairId>`;
      }
      case "DescribeVpcs": {
        const isDefault = filters(p).find((f) => f.name === "is-default");
        if (isDefault && !isDefault.values.includes("true")) return "<vpcSet/>";
        return `<vpcSet><item><vpcId>${DEFAULT_VPC}</vpcId><state>available</state><cidrBlock>172.31.0.0/16</cidrBlock><isDefault>true</isDefault></item></vpcSet>`;
      }
      case "DescribeSecurityGroups": {
        const ids = list(p, "GroupId");
        const groups = [...this.securityGroups.values()].filter((g) => (!ids.length || ids.includes(g.id)) && filters(p).every((f) => {
          if (f.name === "group-name") return f.values.includes(g.name);
          if (f.name === "vpc-id") return f.values.includes(g.vpcId);
          throw new Ec2Error("InvalidParameterValue", `The filter '${f.name}' is invalid`);
        }));
        return `<securityGroupInfo>${groups.map(groupXml).join("")}</securityGroupInfo>`;
      }
      case "CreateSecurityGroup": {
        const name = need(p, "GroupName");
        const description = need(p, "GroupDescription");
        const vpcId = p.VpcId ?? DEFAULT_VPC;
        if (vpcId !== DEFAULT_VPC) throw new Ec2Error("InvalidVpcID.NotFound", `The vpc ID '${vpcId}' does not exist`);
        if ([...this.securityGroups.values()].some((g) => g.name === name && g.vpcId === vpcId)) throw new Ec2Error("InvalidGroup.Duplicate", `The security group '${name}' already exists for VPC '${vpcId}'`);
        const id = `sg-${randomBytes(8).toString("hex")}`;
        this.securityGroups.set(id, { id, name, description, vpcId, ingress: [] });
        return `<return>true</return><groupId>${id}</groupId>`;
      }
      case "AuthorizeSecurityGroupIngress": {
        const group = this.securityGroups.get(need(p, "GroupId"));
        if (!group) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${p.GroupId}' does not exist`);
        for (let n = 1; p[`IpPermissions.${n}.IpProtocol`]; n++) {
          const rule = { protocol: p[`IpPermissions.${n}.IpProtocol`]!, from: Number(p[`IpPermissions.${n}.FromPort`]), to: Number(p[`IpPermissions.${n}.ToPort`]) };
          for (const cidr of list(p, `IpPermissions.${n}.IpRanges`, "CidrIp")) {
            if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) throw new Ec2Error("InvalidParameterValue", `CIDR block ${cidr} is malformed`);
            if (group.ingress.some((r) => r.protocol === rule.protocol && r.from === rule.from && r.to === rule.to && r.cidr === cidr)) {
              throw new Ec2Error("InvalidPermission.Duplicate", `the specified rule "peer: ${cidr}, ${rule.protocol.toUpperCase()}, from port: ${rule.from}, to port: ${rule.to}, ALLOW" already exists`);
            }
            group.ingress.push({ ...rule, cidr });
          }
        }
        return "<return>true</return>";
      }
      case "DescribeImages": {
        const owners = list(p, "Owner");
        const images = FAKE_IMAGES.filter((i) => (!owners.length || owners.includes(i.owner)) && filters(p).every((f) => {
          if (f.name === "name") return f.values.some((v) => glob(v).test(i.name));
          if (f.name === "state") return f.values.includes(i.state);
          if (f.name === "architecture") return f.values.includes(i.arch);
          throw new Ec2Error("InvalidParameterValue", `The filter '${f.name}' is invalid`);
        }));
        return `<imagesSet>${images.map((i) => `<item><imageId>${i.id}</imageId><imageLocation>amazon/${i.name}</imageLocation><imageState>${i.state}</imageState><imageOwnerId>${i.owner}</imageOwnerId><creationDate>${i.created}</creationDate><isPublic>true</isPublic><architecture>${i.arch}</architecture><imageType>machine</imageType><name>${i.name}</name><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName><virtualizationType>hvm</virtualizationType></item>`).join("")}</imagesSet>`;
      }
      case "RunInstances":
        return this.runInstances(p);
      case "DescribeInstances":
        return this.describeInstances(p);
      case "TerminateInstances": {
        const ids = list(p, "InstanceId");
        if (!ids.length) throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
        const items = ids.map((id) => {
          const i = this.known(id);
          const before = this.state(i);
          i.terminated = true;
          return `<item><instanceId>${id}</instanceId><currentState><code>32</code><name>shutting-down</name></currentState><previousState><code>${STATE_CODES[before]}</code><name>${before}</name></previousState></item>`;
        });
        return `<instancesSet>${items.join("")}</instancesSet>`;
      }
      default:
        throw new Ec2Error("InvalidAction", `The action ${action} is not valid for this web service.`);
    }
  }

  private describeInstances(p: Params): string {
    this.describeInstancesRequests.push({ ...p });
    const ids = list(p, "InstanceId");
    const maxResults = p.MaxResults === undefined ? undefined : Number(p.MaxResults);
    if (maxResults !== undefined && ids.length) {
      throw new Ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
    }
    if (maxResults !== undefined && !(Number.isInteger(maxResults) && maxResults >= MAX_RESULTS_MIN && maxResults <= MAX_RESULTS_MAX)) {
      throw new Ec2Error("InvalidParameterValue", `Value ( ${p.MaxResults} ) for parameter maxResults is invalid. Expecting a value greater than ${MAX_RESULTS_MIN - 1} and less than or equal to ${MAX_RESULTS_MAX}.`);
    }
    // A token belongs to the query that made it: the same filters, in the same order.
    const query = JSON.stringify(Object.entries(p).filter(([k]) => k !== "NextToken" && k !== "MaxResults").sort());
    let offset = 0;
    if (p.NextToken !== undefined) {
      const token = this.pageTokens.get(p.NextToken);
      if (!token || token.query !== query) throw new Ec2Error("InvalidPaginationToken", `The specified pagination token is not valid or is expired.`);
      offset = token.offset;
    }
    for (const id of ids) this.known(id);
    const found = [...this.instances.values()].filter((i) => (!ids.length || ids.includes(i.id)) && filters(p).every((f) => this.matches(i, f)));
    const size = Math.min(maxResults ?? Infinity, this.describePageSize);
    const page = found.slice(offset, offset + size);
    let next = "";
    if (offset + size < found.length) {
      const token = randomBytes(24).toString("base64");
      this.pageTokens.set(token, { offset: offset + size, query });
      next = `<nextToken>${esc(token)}</nextToken>`;
    }
    return `<reservationSet>${page.map((i) => `<item><reservationId>r-${i.id.slice(2)}</reservationId><ownerId>111122223333</ownerId><groupSet/><instancesSet>${this.instanceXml(i)}</instancesSet></item>`).join("")}</reservationSet>${next}`;
  }

  private runInstances(p: Params): string {
    const imageId = need(p, "ImageId");
    need(p, "MinCount");
    need(p, "MaxCount");
    if (p.MinCount !== "1" || p.MaxCount !== "1") throw new Ec2Error("InvalidParameterValue", "The fake launches one instance at a time (MinCount = MaxCount = 1)");
    const clientToken = p.ClientToken ?? "";
    if (clientToken.length > CLIENT_TOKEN_MAX) throw new Ec2Error("InvalidParameterValue", `Value (${clientToken}) for parameter clientToken is invalid. Length exceeds maximum of ${CLIENT_TOKEN_MAX}`);
    const fingerprint = createHash("sha256").update(JSON.stringify(Object.entries(p).filter(([k]) => k !== "ClientToken").sort())).digest("hex");
    const earlier = clientToken ? [...this.instances.values()].find((i) => i.clientToken === clientToken) : undefined;
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) throw new Ec2Error("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).");
      return this.reservationXml(earlier);
    }
    const image = FAKE_IMAGES.find((i) => i.id === imageId);
    if (!image) throw new Ec2Error(/^ami-[0-9a-f]{8,17}$/.test(imageId) ? "InvalidAMIID.NotFound" : "InvalidAMIID.Malformed", `The image id '[${imageId}]' does not exist`);
    const instanceType = p.InstanceType ?? "m1.small";
    const type = FAKE_INSTANCE_TYPES[instanceType];
    if (!type) throw new Ec2Error("InvalidParameterValue", `Invalid value '${instanceType}' for InstanceType.`);
    if (type.arch !== image.arch) throw new Ec2Error("InvalidParameterValue", `The architecture '${type.arch}' of the specified instance type does not match the architecture '${image.arch}' of the specified AMI.`);
    const keyName = p.KeyName ?? "";
    if (keyName && !this.keyPairs.has(keyName)) throw new Ec2Error("InvalidKeyPair.NotFound", `The key pair '${keyName}' does not exist`);
    const securityGroupIds = list(p, "SecurityGroupId");
    for (const g of securityGroupIds) if (!this.securityGroups.has(g)) throw new Ec2Error("InvalidGroup.NotFound", `The security group '${g}' does not exist`);
    const raw = p.UserData ?? "";
    if (raw && !/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw new Ec2Error("InvalidParameterValue", "Invalid BASE64 encoding of user data.");
    const userData = Buffer.from(raw, "base64");
    if (userData.length > USER_DATA_MAX_BYTES) throw new Ec2Error("InvalidParameterValue", `User data is limited to ${USER_DATA_MAX_BYTES} bytes`);
    const az = p["Placement.AvailabilityZone"] ?? `${FAKE_REGION}a`;
    if (!az.startsWith(FAKE_REGION)) throw new Ec2Error("InvalidParameterValue", `Invalid availability zone: [${az}]`);
    const tagsBy: Record<string, Record<string, string>> = {};
    for (let n = 1; p[`TagSpecification.${n}.ResourceType`]; n++) {
      const kind = p[`TagSpecification.${n}.ResourceType`]!;
      if (!TAGGABLE_AT_LAUNCH.has(kind)) throw new Ec2Error("InvalidParameterValue", `'${kind}' is not a valid taggable resource type for this operation.`);
      const tags: Record<string, string> = (tagsBy[kind] = {});
      for (let m = 1; p[`TagSpecification.${n}.Tag.${m}.Key`] !== undefined; m++) {
        const key = p[`TagSpecification.${n}.Tag.${m}.Key`]!;
        if (key.startsWith("aws:")) throw new Ec2Error("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
        tags[key] = p[`TagSpecification.${n}.Tag.${m}.Value`] ?? "";
      }
    }
    const root = { device: p["BlockDeviceMapping.1.DeviceName"] ?? "/dev/sda1", sizeGb: Number(p["BlockDeviceMapping.1.Ebs.VolumeSize"] ?? 8), type: p["BlockDeviceMapping.1.Ebs.VolumeType"] ?? "gp2" };
    const id = `i-${randomBytes(9).toString("hex").slice(0, 17)}`;
    const instance: FakeInstance = {
      id, clientToken, fingerprint, imageId, instanceType, keyName, securityGroupIds, userData: userData.toString(), tags: tagsBy.instance ?? {},
      volumeTags: tagsBy.volume ?? {}, rootVolume: root, availabilityZone: az, launchedAt: new Date(), readyAt: Date.now() + this.bootDelayMs, terminated: false,
    };
    this.instances.set(id, instance);
    return this.reservationXml(instance);
  }

  private known(id: string): FakeInstance {
    if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new Ec2Error("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
    const i = this.instances.get(id);
    if (!i) throw new Ec2Error("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return i;
  }

  private matches(i: FakeInstance, f: { name: string; values: string[] }): boolean {
    if (f.name.startsWith("tag:")) return f.values.includes(i.tags[f.name.slice(4)] ?? "\0");
    if (f.name === "tag-key") return f.values.some((v) => v in i.tags);
    if (f.name === "instance-state-name") return f.values.includes(this.state(i));
    if (f.name === "client-token") return f.values.includes(i.clientToken);
    throw new Ec2Error("InvalidParameterValue", `The filter '${f.name}' is invalid`);
  }

  private reservationXml(i: FakeInstance): string {
    return `<reservationId>r-${i.id.slice(2)}</reservationId><ownerId>111122223333</ownerId><groupSet/><instancesSet>${this.instanceXml(i)}</instancesSet>`;
  }

  private instanceXml(i: FakeInstance): string {
    const state = this.state(i);
    const up = state === "running";
    const tags = Object.entries(i.tags).map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`).join("");
    return `<item><instanceId>${i.id}</instanceId><imageId>${i.imageId}</imageId><instanceState><code>${STATE_CODES[state]}</code><name>${state}</name></instanceState>`
      + `<privateDnsName>ip-172-31-0-10.ec2.internal</privateDnsName><dnsName>${up ? "ec2-127-0-0-1.compute-1.amazonaws.com" : ""}</dnsName><keyName>${esc(i.keyName)}</keyName>`
      + `<amiLaunchIndex>0</amiLaunchIndex><instanceType>${i.instanceType}</instanceType><launchTime>${i.launchedAt.toISOString()}</launchTime>`
      + `<placement><availabilityZone>${i.availabilityZone}</availabilityZone><tenancy>default</tenancy></placement><monitoring><state>disabled</state></monitoring>`
      + `<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>${DEFAULT_VPC}</vpcId><privateIpAddress>172.31.0.10</privateIpAddress>${up ? "<ipAddress>127.0.0.1</ipAddress>" : ""}`
      + `<groupSet>${i.securityGroupIds.map((g) => `<item><groupId>${g}</groupId><groupName>${esc(this.securityGroups.get(g)?.name ?? "")}</groupName></item>`).join("")}</groupSet>`
      + `<architecture>${FAKE_INSTANCE_TYPES[i.instanceType]?.arch ?? "x86_64"}</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>${i.rootVolume.device}</rootDeviceName>`
      + `<clientToken>${esc(i.clientToken)}</clientToken><tagSet>${tags}</tagSet>`
      + (i.terminated ? "<stateReason><code>Client.UserInitiatedShutdown</code><message>Client.UserInitiatedShutdown: User initiated shutdown</message></stateReason>" : "")
      + `</item>`;
  }
}

function send(res: http.ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": crypto.randomUUID() });
  res.end(xml);
}

function groupXml(g: SecurityGroupRecord): string {
  const perms = g.ingress.map((r) => `<item><ipProtocol>${r.protocol}</ipProtocol><fromPort>${r.from}</fromPort><toPort>${r.to}</toPort><groups/><ipRanges><item><cidrIp>${r.cidr}</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item>`).join("");
  return `<item><ownerId>111122223333</ownerId><groupId>${g.id}</groupId><groupName>${esc(g.name)}</groupName><groupDescription>${esc(g.description)}</groupDescription><vpcId>${g.vpcId}</vpcId><ipPermissions>${perms}</ipPermissions><ipPermissionsEgress/></item>`;
}

/** Values of an indexed list: Prefix.1, Prefix.2, … (or Prefix.1.Member, … with a member name). */
function list(p: Params, prefix: string, member?: string): string[] {
  const out: string[] = [];
  for (let n = 1; p[`${prefix}.${n}${member ? `.${member}` : ""}`] !== undefined; n++) out.push(p[`${prefix}.${n}${member ? `.${member}` : ""}`]!);
  return out;
}

function filters(p: Params): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let n = 1; p[`Filter.${n}.Name`] !== undefined; n++) out.push({ name: p[`Filter.${n}.Name`]!, values: list(p, `Filter.${n}.Value`) });
  return out;
}

function need(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === "") throw new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`);
  return v;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
