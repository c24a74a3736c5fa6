// Who reaches which host with which key. Each chat user has their own spawnbot key for the hosts
// they adopt with --host (made on first need, sealed at rest like other secrets), so a host that
// trusts Alice's key refuses Mallory's spawn. The bot's own key reaches only the servers it
// created and the hosts an admin shared with a channel (`hosts add`). Adopted hosts' host keys
// are pinned per host, across spawns.
import { generateSshIdentity, identityOf, type BotKey, type HostPins } from "../../orchestrator/index.js";
import type { HostSpec } from "../grammar/commands.js";
import type { CoreContext, Invocation } from "../context.js";
import type { SharedHost, SpawnRecord, UserRef } from "../store/index.js";

const HOST_KEY_SECRET = "ssh-host-key";
const sealContext = (user: UserRef) => `${user.platform}:${user.userId}:${HOST_KEY_SECRET}`;
/** Ends the public key line, so a host's owner can tell whose key an authorized_keys line is. */
const keyComment = (user: UserRef) => `spawnbot-${user.platform}-${user.userId}`;

/** "user@host:port": how a host is named in the registry and in messages to its owner. */
export function hostTarget(h: HostSpec): string {
  return `${h.user}@${h.host}:${h.port}`;
}

/** "host:port": the SSH endpoint a host key is pinned for (the same for every login user). */
export function hostEndpoint(address: string, port: number): string {
  return `${address}:${port}`;
}

/** Opened keys by their sealed text: the tunnel gateway asks for a spawn's key on every request. */
const opened = new Map<string, BotKey>();
const MAX_OPENED = 1000; // one entry per user with adopted hosts; cleared when full rather than grown

/** The user's own spawnbot key for hosts they adopt; made and sealed on first need. */
export async function userHostKey(ctx: CoreContext, user: UserRef): Promise<BotKey> {
  const stored = await ctx.store.chat.getUserSecret(user, HOST_KEY_SECRET);
  if (stored) {
    const cached = opened.get(stored.sealed);
    if (cached) return cached;
    try {
      const key = identityOf(ctx.secretBox.open(stored.sealed, sealContext(user)), keyComment(user));
      if (opened.size >= MAX_OPENED) opened.clear();
      opened.set(stored.sealed, key);
      return key;
    } catch (err) {
      // A rotated SPAWNBOT_SECRET_KEY: the old key is lost; the user authorizes the new one.
      ctx.log.warn({ err: (err as Error).message, userId: user.userId }, "a stored host key could not be opened; making a new one");
    }
  }
  const made = generateSshIdentity(keyComment(user));
  await ctx.store.chat.saveUserSecret(user, HOST_KEY_SECRET, { sealed: ctx.secretBox.seal(made.privateKey, sealContext(user)), last4: "", updatedAt: Date.now() });
  return made;
}

/** A host an admin shared with the channel this request came from, if --host names one. */
export async function sharedHostHere(ctx: CoreContext, inv: Invocation, host: HostSpec): Promise<SharedHost | undefined> {
  const target = hostTarget(host);
  return (await ctx.store.hosts.listSharedHosts(inv.req.platform, inv.req.workspace)).find((h) => h.target === target && h.channels.includes(inv.req.channel));
}

/** Which key a new spawn on an adopted host uses: the bot's for a shared host, else the requester's own. */
export async function adoptionOf(ctx: CoreContext, inv: Invocation, host: HostSpec): Promise<{ sshIdentity: SpawnRecord["sshIdentity"] }> {
  return { sshIdentity: (await sharedHostHere(ctx, inv, host)) ? "bot" : "owner" };
}

/** The key that reaches a spawn's host, from its record (undefined: the bot's own). */
export async function hostAuthOf(ctx: CoreContext, rec: SpawnRecord): Promise<BotKey | undefined> {
  return rec.sshIdentity === "owner" ? userHostKey(ctx, { platform: rec.platform, userId: rec.ownerId }) : undefined;
}

/** The run's view of the per-host pins; a first pin belongs to the spawn's owner. */
export function hostPinsFor(ctx: CoreContext, owner: UserRef): HostPins {
  const hosts = ctx.store.hosts;
  return {
    pinned: async (endpoint) => (await hosts.getPin(endpoint))?.hostKey,
    pin: async (endpoint, hostKey) => (await hosts.pinHostKey(endpoint, hostKey, owner)).hostKey,
    refused: (endpoint, seenKey) => hosts.noteSeenKey(endpoint, seenKey),
  };
}
