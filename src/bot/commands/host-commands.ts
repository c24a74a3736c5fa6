// `hosts`: existing hosts an admin shares with channels (spawns there reach them with the bot's own
// key), and `hosts trust`, which accepts the new host key of an adopted host. Every change is audited.
import { fingerprintOf } from "../../orchestrator/index.js";
import { auditAction } from "../access/audit-trail.js";
import type { HostSpec } from "../grammar/commands.js";
import type { CoreContext, Invocation } from "../context.js";
import { hostEndpoint, hostTarget } from "../access/host-access.js";
import { decideHosts, refuse } from "../access/policy.js";
import { error, text } from "../views/views.js";

export async function handleHostsList(ctx: CoreContext, inv: Invocation): Promise<void> {
  const all = await ctx.store.hosts.listSharedHosts(inv.req.platform, inv.req.workspace);
  const visible = inv.isAdmin ? all : all.filter((h) => h.channels.includes(inv.req.channel));
  const lines = visible.length
    ? visible.map((h) => `${h.target}${inv.isAdmin ? `  channels: ${h.channels.join(", ")}` : ""}`)
    : [inv.isAdmin ? "no shared hosts in this workspace; add one with `hosts add user@host[:port] --channel C…`" : "no host is shared with this channel"];
  lines.push("", "Spawn on a shared host here with `spawn <agent> ssh --host <host above>`; on your own machines with your spawnbot key (see `keys`).");
  return inv.conv.whisper(text(lines, inv.isAdmin ? "Shared hosts in this workspace" : "Hosts shared with this channel"));
}

export async function handleHostsAdd(ctx: CoreContext, inv: Invocation, host: HostSpec, channels: string[] | undefined, botPublicKey: string): Promise<void> {
  const refusal = decideHosts(inv, "add");
  if (refusal) return refuse(ctx, inv, refusal, { action: "hosts-add" });
  const target = hostTarget(host);
  const where = channels ?? [inv.req.channel];
  await ctx.store.hosts.saveSharedHost({ platform: inv.req.platform, workspace: inv.req.workspace, target, channels: where, addedBy: inv.user.userId, addedAt: Date.now() });
  await auditAction(ctx, inv, "hosts-add", { detail: { target, channels: where } });
  return inv.conv.whisper(text([
    `${target} is shared with ${where.join(", ")}: spawns there with \`--host ${target}\` reach it with spawnbot's own key.`,
    `Authorize that key for ${host.user} on the host (~/.ssh/authorized_keys):`, botPublicKey,
  ]));
}

export async function handleHostsRemove(ctx: CoreContext, inv: Invocation, host: HostSpec): Promise<void> {
  const refusal = decideHosts(inv, "remove");
  if (refusal) return refuse(ctx, inv, refusal, { action: "hosts-remove" });
  const target = hostTarget(host);
  if (!(await ctx.store.hosts.removeSharedHost(inv.req.platform, inv.req.workspace, target))) return inv.conv.whisper(error(`${target} is not a shared host here; \`hosts\` lists them`));
  await auditAction(ctx, inv, "hosts-remove", { detail: { target } });
  return inv.conv.whisper(text(`${target} is no longer shared; new spawns there need the spawner's own key. Remove spawnbot's key from the host if nothing else uses it`));
}

export async function handleHostsTrust(ctx: CoreContext, inv: Invocation, host: HostSpec): Promise<void> {
  const endpoint = hostEndpoint(host.host, host.port);
  const pin = await ctx.store.hosts.getPin(endpoint);
  if (!pin) return inv.conv.whisper(error(`no host key is pinned for ${endpoint}; the first spawn there pins it`));
  const refusal = decideHosts(inv, "trust", pin.owner);
  if (refusal) return refuse(ctx, inv, refusal, { action: "hosts-trust", detail: { endpoint } });
  if (!pin.seenKey) return inv.conv.whisper(text(`${endpoint} has presented no other key than its pinned ${fingerprintOf(pin.hostKey)}; nothing to accept`));
  const [was, now] = [fingerprintOf(pin.hostKey), fingerprintOf(pin.seenKey)];
  await ctx.store.hosts.acceptSeenKey(endpoint);
  await auditAction(ctx, inv, "hosts-trust", { detail: { endpoint, was, now } });
  return inv.conv.whisper(text(`${endpoint} is now trusted with host key ${now} (was ${was}); spawn there again`));
}
