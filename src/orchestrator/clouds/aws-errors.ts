// EC2's refusals turned into CloudErrors with one line saying what happened and what to do: the
// one table of AWS messages. Anything that is not an AWS or network error passes through as is.
import { CloudError } from "./types.js";

export interface AwsErrorContext {
  region: string;
  /** The instance type of a create, for capacity and placement messages. */
  instanceType?: string;
  /** The zone of a create, when the user gave one. */
  zone?: string;
}

const CREDENTIALS_HINT = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the bot and restart it";
const AUTH_CODES = new Set(["AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature", "ExpiredToken", "InvalidAccessKeyId"]);
const QUOTA_CODES = new Set(["InstanceLimitExceeded", "VcpuLimitExceeded", "ResourceLimitExceeded"]);
const THROTTLE_CODES = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException"]);
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const MAX_QUOTED_CHARS = 160;

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
}

/** The service's error code of an EC2 answer (AuthFailure, InvalidInstanceID.NotFound, …). */
export function awsErrorCode(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as AwsLikeError;
  return e.$fault ? e.name : undefined;
}

function quote(message: string | undefined): string {
  const line = (message ?? "").replace(/\s+/g, " ").trim();
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 1)}…` : line;
}

/**
 * Translate an error from the EC2 client into a CloudError with a stable code and a one-line
 * message; errors that are neither AWS's nor the network's (bugs) are returned unchanged.
 */
export function translateAwsError(err: unknown, ctx: AwsErrorContext): unknown {
  if (err instanceof CloudError || !err || typeof err !== "object") return err;
  const e = err as AwsLikeError;
  const code = e.name ?? "Error";
  if (code === "AbortError") return err; // the run was cancelled; the runner says so
  const where = ctx.zone ?? ctx.region;
  const size = ctx.instanceType ?? "that size";

  if (code === "CredentialsProviderError") return new CloudError("AUTH", `no AWS credentials found: ${CREDENTIALS_HINT}`);
  if (AUTH_CODES.has(code)) return new CloudError("AUTH", `AWS refused the bot's credentials (${code}): ${CREDENTIALS_HINT}`);
  if (code === "UnauthorizedOperation") {
    return new CloudError("AUTH", "the bot's AWS credentials lack an EC2 permission (UnauthorizedOperation): allow ec2:Describe*, ec2:RunInstances, ec2:CreateTags, ec2:TerminateInstances, ec2:ImportKeyPair, ec2:CreateSecurityGroup and ec2:AuthorizeSecurityGroupIngress in its IAM policy");
  }
  if (QUOTA_CODES.has(code)) {
    return new CloudError("QUOTA", `the AWS account reached its instance limit in ${ctx.region} (${code}): delete a spawn you no longer need, or raise "Running On-Demand Standard instances" in Service Quotas`);
  }
  if (code === "InsufficientInstanceCapacity") {
    return new CloudError("CAPACITY", `AWS has no ${size} capacity in ${where} right now (${code}): try another --zone (e.g. ${ctx.region}b), another --size, or again in a few minutes`);
  }
  if (code === "Unsupported") {
    return new CloudError("CAPACITY", `AWS does not offer ${size} in ${where} (Unsupported): try another --zone in ${ctx.region} or another --size`);
  }
  if (code === "InvalidInstanceType" || (code === "InvalidParameterValue" && /for InstanceType/i.test(e.message ?? ""))) {
    return new CloudError("BAD_PLACEMENT", `AWS EC2 in ${ctx.region} has no instance type ${size}: pick another --size, e.g. t3.medium`);
  }
  if (code === "OptInRequired") {
    return new CloudError("BILLING", `the AWS account is not signed up for EC2 in ${ctx.region} (OptInRequired): finish the sign-up or enable the region in the AWS console, then spawn again`);
  }
  if (code === "PendingVerification") {
    return new CloudError("BILLING", "AWS is still verifying the account (PendingVerification): wait for AWS's confirmation e-mail (minutes, at most 4 hours), then spawn again");
  }
  if (code === "Blocked") return new CloudError("BILLING", "AWS has blocked the account (Blocked): contact AWS Support about the account, then spawn again");
  if (code === "VPCIdNotSpecified" || code === "MissingDefaultVpc") return noDefaultVpc(ctx.region);
  if (THROTTLE_CODES.has(code)) {
    return new CloudError("API", `AWS kept throttling the account's EC2 calls (${code}): wait a minute, then spawn again`);
  }
  if (code === "TimeoutError" || e.code === "ETIMEDOUT") {
    return new CloudError("TIMEOUT", "AWS EC2 did not answer in time, even after retries: check the bot's network and health.aws.amazon.com, then spawn again");
  }
  if (e.code && NETWORK_CODES.has(e.code)) {
    return new CloudError("API", `could not reach AWS EC2 (${e.code}): check the bot's network and its AWS endpoint setting, then spawn again`);
  }
  if (e.$fault === "server" || (e.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new CloudError("API", `AWS EC2 had an internal error (${code}), even after retries: try again in a few minutes`);
  }
  if (e.$fault === "client" || e.$metadata) {
    return new CloudError("API", `AWS EC2 refused the request (${code}: ${quote(e.message)}): fix what it names, or ask the bot's admin`);
  }
  return err;
}

export function noDefaultVpc(region: string): CloudError {
  return new CloudError("NOT_CONFIGURED", `the AWS region ${region} has no default VPC: create one with "aws ec2 create-default-vpc --region ${region}", then spawn again`);
}
