// The orchestrator's door: start runs, cancel them, tear down and probe spawns. The bot core
// talks to nothing else in this folder.
import type { AgentSpec } from "./agents/types.js";
import type { Cloud, ServerInfo } from "./clouds/types.js";
import { buildConnectInfoFor } from "./connect-info.js";
import { readDashboardToken, withSealedToken } from "./dashboard-token.js";
export { readDashboardToken } from "./dashboard-token.js";
import { spawnKeyMark } from "./authorized-keys.js";
import { cleanUpAdoptedHost } from "./host-cleanup.js";
import { sessionCountCommand, sessionDir, tmuxKillCommand } from "./launch.js";
import { DASHBOARD_WAIT_S, installBootHookCommand, parseProbe, parseStartOutput, probeCommand, renderStartScript, startScriptPath, type Health, type RestartReport } from "./revival.js";
export type { Health, RestartReport } from "./revival.js";
import { SshHost } from "./remote/ssh-host.js";
import { updateAuthorizedKeys } from "./remote/update-keys.js";
import type { RemoteHost } from "./remote/types.js";
import { removeLeftovers, suspendRuns, type LeftoverRecord, type SuspendReport } from "./leftovers.js";
import { RunMetrics } from "./metrics.js";
import { startRun, type Run } from "./run.js";
import type { ConnectInfo, RunDeps, RunPlan, StepEvent } from "./run-types.js";
import type { BotKey } from "./remote/bot-key.js";
import type { TunnelTarget } from "./tunnels/index.js";

export { AGENTS } from "./agents/catalog.js";
export type { AgentSpec } from "./agents/types.js";
export type { Cloud } from "./clouds/types.js";
export { CloudError } from "./clouds/types.js";
export { formatMoney, formatPrice, type HourlyPrice, type PriceAnswer } from "./clouds/prices.js";
export { LocalCloud } from "./clouds/local.js";
export { SshCloud, type SshCloudSettings } from "./clouds/ssh.js";
export { HostPolicy, parseNetworks, type LookupAll, type Network } from "./remote/host-policy.js";
export { BOT_KEY_FILE, generateSshIdentity, identityOf, loadOrCreateBotKey, type BotKey } from "./remote/bot-key.js";
export { fingerprintOf } from "./remote/ssh-host.js";
export { backoffMs, type RetryPolicy } from "./retry.js";
export { STEPS, STEP_NAMES } from "./steps.js";
export { RunMetrics, STEP_BUCKETS_S } from "./metrics.js";
export type { Run } from "./run.js";
export type { LeftoverRecord, SuspendReport } from "./leftovers.js";
export { CLEANUP_PENDING, RECOVERY_META } from "./leftovers.js";
export type { SecretSealer } from "./dashboard-token.js";
export type { ConnectInfo, HostPins, PromptResult, ResumePoint, RunDeps, RunJournal, RunPlan, RunResult, StepEvent, StepState } from "./run-types.js";
export { TunnelGateway, startGatewayServer, hashTunnelToken, newTunnelToken, parseTunnelDomain, tunnelOrigin, type TunnelTarget } from "./tunnels/index.js";

/** `status` waits this long for the host to answer the probe. */
const PROBE_TIMEOUT_MS = 15_000;

/** The mark of the lines a spawn adds to authorized_keys; none for spawns recorded before marking. */
function keyMarkOf(rec: HostRecord): string | undefined {
  return rec.spawnId && rec.markedHost !== false ? spawnKeyMark(rec.spawnId) : undefined;
}

/** What the orchestrator needs to reach a spawn's host after its run (from the stored record). */
export interface HostRecord {
  /** The spawn's id: what marks its processes and authorized_keys lines on an adopted host. */
  spawnId?: string;
  /** False for spawns recorded before the bot marked its authorized_keys lines (see SpawnRecord.markedHost). */
  markedHost?: boolean;
  cloud: string;
  agent: string;
  serverId: string | null;
  address: string | null;
  sshUser: string | null;
  sshPort: number | null;
  hostKey: string | null;
  session: string;
  meta: Record<string, string>;
  /** The key that reaches the host; the bot's own key when absent. */
  sshAuth?: BotKey;
}

export interface OrchestratorDeps extends RunDeps {
  clouds: readonly Cloud[];
  agents: readonly AgentSpec[];
}

export class Orchestrator {
  private readonly runs = new Map<string, Run>();
  /** The steps each run in flight is in now (they overlap), for the shutdown log. */
  private readonly steps = new Map<string, Set<string>>();
  /** Step durations and cloud calls since the process started, for /metrics. */
  readonly metrics = new RunMetrics();
  private readonly deps: OrchestratorDeps;

  constructor(deps: OrchestratorDeps) {
    // Every cloud call of runs, tear-downs and sweeps goes through the counting wrapper.
    this.deps = { ...deps, clouds: deps.clouds.map((c) => this.metrics.instrument(c)), metrics: this.metrics };
  }

  get agents(): readonly AgentSpec[] {
    return this.deps.agents;
  }

  get clouds(): readonly Cloud[] {
    return this.deps.clouds;
  }

  agent(key: string): AgentSpec | undefined {
    return this.deps.agents.find((a) => a.key === key);
  }

  cloud(key: string): Cloud | undefined {
    return this.deps.clouds.find((c) => c.key === key);
  }

  start(plan: RunPlan): Run {
    const run = startRun(plan, this.deps);
    this.runs.set(plan.spawnId, run);
    // Steps overlap: the shutdown log names those running at the time, not the last one to start.
    const running = new Set<string>();
    this.steps.set(plan.spawnId, running);
    run.events.on("step", (ev: StepEvent) => (ev.state === "running" ? running.add(ev.step) : running.delete(ev.step)));
    void run.done.finally(() => {
      this.runs.delete(plan.spawnId);
      this.steps.delete(plan.spawnId);
    });
    return run;
  }

  /** Shutdown: every run stops at its next step boundary; waits at most graceMs. */
  suspendAll(graceMs: number): Promise<SuspendReport> {
    return suspendRuns(this.inFlight(), graceMs, (id) => [...(this.steps.get(id) ?? [])].join(", ") || undefined);
  }

  /** Remove what an interrupted run made: its server (by id or spawn-id tag), or its session on an adopted host. */
  async recoverServer(rec: LeftoverRecord & HostRecord, neighbours: readonly { agent: string }[] = []): Promise<{ removed: string[] }> {
    // A session of this name that the spawn never started belongs to someone else: only its marked processes go.
    const cleanUp = (host: RemoteHost) => this.cleanUpAdopted(host, rec, neighbours, rec.sessionMayExist);
    return removeLeftovers(this.requireCloud(rec.cloud), rec, () => this.openHost(rec), cleanUp);
  }

  /** Runs still going on. */
  inFlight(): Run[] {
    return [...this.runs.values()];
  }

  /** Ask a run in flight to stop at its next safe point; false when no such run is going on. */
  cancel(spawnId: string): boolean {
    const run = this.runs.get(spawnId);
    run?.cancel();
    return Boolean(run);
  }

  connectInfo(rec: HostRecord): ConnectInfo {
    const agent = this.agent(rec.agent);
    const cloud = this.cloud(rec.cloud);
    return buildConnectInfoFor({
      access: cloud?.access ?? "ssh", session: rec.session, address: rec.address, sshUser: rec.sshUser, sshPort: rec.sshPort,
      hostKey: rec.hostKey, dashboard: agent?.dashboard, dashboardToken: this.dashboardToken(rec),
    });
  }

  /** The spawn's dashboard token, opened from its sealed form; a clear one left by an older version is sealed now. */
  dashboardToken(rec: HostRecord): string | undefined {
    const { spawnId } = rec;
    if (spawnId === undefined) return undefined; // every stored spawn's record carries its id (spawn-access.ts)
    const found = readDashboardToken(this.deps.sealer, spawnId, rec.meta);
    if (found?.legacy) {
      // Sealing the old clear token can wait; the token itself is known now.
      this.deps.journal.updateSpawn(spawnId, { meta: withSealedToken(this.deps.sealer, spawnId, rec.meta, found.token) })
        .catch((err: unknown) => this.deps.logger.warn({ err, spawnId }, "could not seal a dashboard token left in clear"));
    }
    return found?.token;
  }

  /** Is the agent's tmux session alive, and does its dashboard answer? Connects with the pinned host key (a changed one throws). */
  async probe(rec: HostRecord): Promise<Health> {
    const port = this.agent(rec.agent)?.dashboard?.port;
    const host = await this.openHost(rec);
    try {
      return parseProbe((await host.run(probeCommand(rec.session, port), { timeoutMs: PROBE_TIMEOUT_MS })).stdout, port);
    } finally {
      await host.close();
    }
  }

  /**
   * Bring back the agent's tmux session and its services (dashboard) where they are gone, with the
   * start script the launch wrote (written again first: spawns launched before it existed get one),
   * and make sure the boot hook is in place on hosts reached over SSH.
   */
  async restart(rec: HostRecord): Promise<RestartReport> {
    const agent = this.agent(rec.agent);
    if (!agent || !rec.spawnId) throw new Error(`the ${rec.agent} agent is not configured on this bot`);
    const host = await this.openHost(rec);
    try {
      const dir = `"$HOME/${sessionDir(rec.session)}"`;
      const launched = await host.run(`[ -f ${dir}/launch.sh ] || [ -f ${dir}/prompt.sh ]`);
      if (launched.code !== 0) return { session: "gone" };
      await host.writeFile(startScriptPath(rec.session), renderStartScript({ spawnId: rec.spawnId, session: rec.session, agent }), 0o700);
      const r = await host.run(`bash "$HOME/${startScriptPath(rec.session)}"`, { timeoutMs: (DASHBOARD_WAIT_S + 30) * 1000 });
      if (this.requireCloud(rec.cloud).access === "ssh") {
        const hook = await host.run(installBootHookCommand(rec.session, rec.spawnId));
        if (hook.code !== 0) this.deps.logger.warn({ spawnId: rec.spawnId, code: hook.code }, "restart could not install the boot hook");
      }
      return parseStartOutput(r.stdout);
    } finally {
      await host.close();
    }
  }

  /** How many people use the spawn's host now (attached to its session, or logged in with a terminal). */
  async sessionsOn(rec: HostRecord): Promise<number> {
    const host = await this.openHost(rec);
    try {
      const out = await host.run(sessionCountCommand(rec.session));
      const n = Number(out.stdout.trim());
      if (out.code !== 0 || !Number.isInteger(n)) throw new Error(`could not count the sessions on the host (exit ${out.code})`);
      return n;
    } finally {
      await host.close();
    }
  }

  /**
   * Delete the server on VM clouds (nothing on it needs stopping first: an unreachable VM must
   * still be deletable); on adopted hosts take back what the spawn put there and keep the host.
   * neighbours: the other live spawns on the same host user (the bot core knows them): files
   * they share with this one (~/.spawnrc, config files of their agents) stay while they live.
   */
  async teardown(rec: HostRecord, neighbours: readonly { agent: string }[]): Promise<void> {
    const cloud = this.requireCloud(rec.cloud);
    if (!cloud.adopted) {
      if (rec.serverId) await cloud.deleteServer(rec.serverId);
      return;
    }
    if (!rec.address) return;
    const host = await this.openHost(rec);
    try {
      await this.cleanUpAdopted(host, rec, neighbours, true);
    } finally {
      await host.close();
    }
  }

  /** Everything a spawn put on an adopted host, gone (see host-cleanup.ts). */
  private async cleanUpAdopted(host: RemoteHost, rec: HostRecord, neighbours: readonly { agent: string }[], killSession: boolean): Promise<void> {
    if (!rec.spawnId) {
      await host.run(tmuxKillCommand(rec.session)); // a record without its id: all we can find is the session
      return;
    }
    await cleanUpAdoptedHost(host, {
      spawnId: rec.spawnId, session: rec.session, agent: this.agent(rec.agent), killSession,
      keys: this.requireCloud(rec.cloud).access === "ssh", marked: rec.markedHost !== false,
      otherAgents: neighbours.map((n) => this.agent(n.agent) ?? { configFiles: [] }),
    });
  }

  /** Where the tunnel gateway reaches a spawn's dashboard: over SSH to its loopback port. */
  tunnelTarget(spawnId: string, rec: HostRecord): TunnelTarget | undefined {
    const port = this.agent(rec.agent)?.dashboard?.port;
    if (!port || this.cloud(rec.cloud)?.access !== "ssh" || !rec.address || !rec.sshUser) return undefined;
    const { privateKey, publicKey } = rec.sshAuth ?? this.deps.botKey;
    return {
      spawnId, remotePort: port,
      ssh: { host: rec.address, port: rec.sshPort ?? 22, user: rec.sshUser, privateKey, publicKey, pinnedHostKey: rec.hostKey ?? undefined },
    };
  }

  /** Install and remove users' keys on a running spawn's host (no-op for the local cloud). */
  async updateKeys(rec: HostRecord, change: { add?: string[]; remove?: string[] }): Promise<{ added: number; removed: number }> {
    if (this.requireCloud(rec.cloud).access !== "ssh") return { added: 0, removed: 0 };
    const host = await this.openHost(rec);
    try {
      return await updateAuthorizedKeys(host, change, keyMarkOf(rec));
    } finally {
      await host.close();
    }
  }

  private requireCloud(key: string): Cloud {
    const cloud = this.cloud(key);
    if (!cloud) throw new Error(`cloud ${key} is not configured on this bot`);
    return cloud;
  }

  private async openHost(rec: HostRecord): Promise<RemoteHost> {
    const cloud = this.requireCloud(rec.cloud);
    const server: ServerInfo = { serverId: rec.serverId ?? "", address: rec.address ?? "", sshUser: rec.sshUser ?? "", sshPort: rec.sshPort ?? 22 };
    if (cloud.openHost) return cloud.openHost(server);
    return SshHost.connect(
      { host: server.address, port: server.sshPort, user: server.sshUser },
      { ...(rec.sshAuth ?? this.deps.botKey), pinnedHostKey: rec.hostKey ?? undefined },
    );
  }
}
