// The steps of a run, in order, as data: each is fatal or warn-and-continue, with its own
// retry policy and timeout, and the steps it needs. The runner (run.ts) starts a step once those
// have ended, so independent steps overlap; read the list top to bottom for the order of a run.
import { randomBytes } from "node:crypto";
import { CloudError, type ServerSpec } from "./clouds/types.js";
import { CLOUD_INIT_MARKER } from "./clouds/user-data.js";
import { withSealedToken } from "./dashboard-token.js";
import { keepCleanEnvironmentLines } from "./remote/clean-env.js";
import { renderPromptRunner, renderRestartLoop, sessionDir, sessionDirCommand, SPAWN_ENV, tmuxHasSessionCommand, tmuxStartCommand } from "./launch.js";
import { REBUILT_HOST, HostKeyChangedError, HostUnreachableError } from "./remote/errors.js";
import { connectWithRetry, fingerprintOf, type SshHost } from "./remote/ssh-host.js";
import { shellQuote } from "./shell.js";
import { HOOK_RC_FILES_COMMAND, renderSpawnrc, SPAWNRC_PATH } from "./spawnrc.js";
import { buildConnectInfoFor } from "./connect-info.js";
import { updateAuthorizedKeys } from "./remote/update-keys.js";
import { spawnKeyMark } from "./authorized-keys.js";
import { keepOriginalsCommand } from "./host-cleanup.js";
import { agentValues, fillTemplate, installScript, prepareHostScript, SHARED_STEPS, sessionCommand, workdirValue } from "./host-scripts.js";
import { DEFAULT_INSTALL_STALL_MS, formatElapsed, runInstall } from "./install-run.js";
import type { RunContext } from "./run-types.js";
import { CLONE_EXIT, cloneScript, credentialLine, credentialPath } from "./repo-clone.js";
import { installBootHookCommand, NO_CRONTAB_EXIT, renderStartScript, servicesStartCommand, startScriptPath } from "./revival.js";

export type StepOutcome = void | string | { warn: string };

export interface StepDef {
  name: string;
  title: string;
  /** A fatal step's failure ends the run; any other only warns. */
  fatal: boolean;
  attempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  /** Steps that must have ended (succeeded, warned or skipped) first; absent: the step before. */
  needs?: readonly string[];
  applies?(ctx: RunContext): boolean;
  run(ctx: RunContext): Promise<StepOutcome>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How long the agent has to answer a --prompt before the run stops waiting. */
export const PROMPT_TIMEOUT_MS = 60 * MINUTE;
const PROMPT_POLL_MS = 2 * SECOND;
const DASHBOARD_WAIT_S = 60;
const PROMPT_TAIL_LINES = 20;
const CLOUD_INIT_POLL_MS = 2 * SECOND;
const AGENT_PRESENT = "spawnbot:agent-present";

function serverSpec(plan: RunContext["plan"]): ServerSpec {
  return { spawnId: plan.spawnId, name: plan.name, agent: plan.agent, size: plan.size, zone: plan.zone, host: plan.host, tags: plan.tags, ownerKeys: plan.ownerKeys };
}

/** What the public checklist calls a host the bot did not make (never its address), or undefined for a VM. */
function placeOf(cloud: RunContext["plan"]["cloud"]): string | undefined {
  if (cloud.access === "local") return "the bot's own host";
  return cloud.adopted ? "existing host" : undefined;
}

/** One reconnect per run at a time: overlapping steps that find the connection gone share it. */
const reconnecting = new WeakMap<RunContext["plan"], Promise<void>>();

/**
 * A step that works on the host first checks the connection: if sshd restarted or the network
 * dropped (say, during a retried install), it connects again, requiring the pinned host key.
 */
async function reconnectIfLost(ctx: RunContext): Promise<void> {
  const { plan, server } = ctx;
  // No connection yet with a server known: a resumed run, whose connection died with the old process.
  if (ctx.host?.connected || !server) return;
  if (plan.cloud.openHost) {
    ctx.host ??= await plan.cloud.openHost(server);
    return;
  }
  let pending = reconnecting.get(plan);
  if (!pending) {
    const target = { host: server.address, port: server.sshPort, user: server.sshUser };
    pending = connectWithRetry(target, { ...identity(ctx), pinnedHostKey: ctx.hostKey }, plan.cloud.sshWait, ctx.signal)
      .then((ssh) => {
        ctx.host = ssh;
        ctx.log.info("the SSH connection was lost; connected again");
      }, (err: unknown) => logUnreachable(ctx, err))
      .finally(() => reconnecting.delete(plan));
    reconnecting.set(plan, pending);
  }
  await pending;
}

/** The key that reaches this run's host: the plan's (an adopted host's owner) or the bot's own. */
function identity(ctx: RunContext) {
  return ctx.plan.sshAuth ?? ctx.deps.botKey;
}

/**
 * First contact. A VM the bot just made has a new key, pinned for this spawn. An adopted host's
 * key is pinned per host across spawns: a different one is refused and kept for its owner to review.
 */
async function connectFirst(ctx: RunContext, target: { host: string; port: number; user: string }): Promise<SshHost> {
  const { plan } = ctx;
  const pins = plan.hostPins;
  // A resumed run that had pinned its server's key already holds it to that key.
  if (!pins) return connectWithRetry(target, { ...identity(ctx), pinnedHostKey: ctx.hostKey }, plan.cloud.sshWait, ctx.signal);
  const endpoint = `${target.host}:${target.port}`;
  const pinned = await pins.pinned(endpoint);
  let ssh: SshHost;
  try {
    ssh = await connectWithRetry(target, { ...identity(ctx), pinnedHostKey: pinned }, plan.cloud.sshWait, ctx.signal);
  } catch (err) {
    if (!(err instanceof HostKeyChangedError)) throw err;
    await pins.refused(endpoint, err.seenKey);
    throw new HostKeyChangedError(err.host, err.expected, err.got, err.seenKey, REBUILT_HOST);
  }
  const inForce = await pins.pin(endpoint, ssh.hostKey);
  if (inForce !== ssh.hostKey) { // another spawn pinned a different key in the meantime
    await ssh.close();
    await pins.refused(endpoint, ssh.hostKey);
    throw new HostKeyChangedError(endpoint, fingerprintOf(inForce), fingerprintOf(ssh.hostKey), ssh.hostKey, REBUILT_HOST);
  }
  return ssh;
}

/** The user sees one message for every way of not reaching sshd; which way it was, only the log says. */
function logUnreachable(ctx: RunContext, err: unknown): never {
  if (err instanceof HostUnreachableError) ctx.log.warn({ target: err.target, reason: err.reason }, "no SSH server answered");
  throw err;
}

function host(ctx: RunContext) {
  if (!ctx.host) throw new Error("no host connection (wait-ssh did not run)");
  return ctx.host;
}

async function mustRun(ctx: RunContext, command: string, what: string, timeoutMs?: number): Promise<string> {
  const r = await host(ctx).run(command, { timeoutMs, signal: ctx.signal, onOutput: (chunk) => ctx.log.debug({ chunk }, what) });
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" / ");
    throw new Error(`${what} failed (exit ${r.code})${tail ? `: ${tail}` : ""}`);
  }
  return r.stdout;
}

/** The login's home folder on the host, where the agent's session starts (launch.ts). */
async function homeOf(ctx: RunContext): Promise<string> {
  const home = (await mustRun(ctx, 'printf %s "$HOME"', "reading the home folder")).trim();
  if (!home.startsWith("/")) throw new Error("the host did not say where its home folder is");
  return home;
}

export const STEPS: readonly StepDef[] = [
  {
    name: "validate", title: "Check the request", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: 5 * SECOND,
    needs: [],
    async run({ plan }) {
      await plan.cloud.checkPlacement(serverSpec(plan));
      if (plan.prompt !== undefined && !plan.agent.promptCommand) {
        throw new CloudError("NO_PROMPT_MODE", `${plan.agent.name} has no non-interactive mode; spawn it without --prompt`);
      }
      return `${plan.agent.name} on ${plan.cloud.title}`;
    },
  },
  {
    name: "credentials", title: "Check credentials", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: 30 * SECOND,
    needs: [],
    async run({ plan }) {
      if (!plan.apiKey && !plan.agent.ownKey) throw new CloudError("NO_API_KEY", "no OpenRouter API key: set OPENROUTER_API_KEY for the bot, then spawn again");
      await plan.cloud.checkCredentials();
    },
  },
  {
    name: "provision", title: "Provision the server", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: 10 * MINUTE,
    needs: ["validate", "credentials"],
    async run(ctx) {
      const { plan } = ctx;
      ctx.server = await plan.cloud.createServer(serverSpec(plan), ctx.signal);
      const s = ctx.server;
      await ctx.deps.journal.updateSpawn(plan.spawnId, { serverId: s.serverId, address: s.address, sshUser: s.sshUser, sshPort: s.sshPort });
      return placeOf(plan.cloud) ?? `${s.sshUser}@${s.address}:${s.sshPort}`;
    },
  },
  {
    name: "wait-ssh", title: "Wait for SSH", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: 5 * MINUTE,
    needs: ["provision"],
    async run(ctx) {
      const { plan, server } = ctx;
      if (!server) throw new Error("no server");
      if (plan.cloud.openHost) {
        ctx.host = await plan.cloud.openHost(server);
        return "local shell";
      }
      let ssh: SshHost;
      try {
        // A named host is resolved once, here; the address it resolved to is the one recorded and used from now on.
        const address = plan.cloud.resolveAddress ? await plan.cloud.resolveAddress(server) : server.address;
        if (address !== server.address) {
          ctx.server = { ...server, address };
          await ctx.deps.journal.updateSpawn(plan.spawnId, { address });
        }
        ssh = await connectFirst(ctx, { host: address, port: server.sshPort, user: server.sshUser });
      } catch (err) {
        logUnreachable(ctx, err);
      }
      ctx.host = ssh;
      ctx.hostKey = ssh.hostKey;
      await ctx.deps.journal.updateSpawn(plan.spawnId, { hostKey: ssh.hostKey });
      // A host key fingerprint finds a server in internet-wide scans: an existing host's stays private.
      return placeOf(plan.cloud) ? "existing host answered; its host key is pinned" : `host key ${fingerprintOf(ssh.hostKey)} pinned`;
    },
  },
  {
    name: "cloud-init", title: "Wait for first-boot setup", fatal: false, attempts: 1, retryDelayMs: 0, timeoutMs: 30 * MINUTE,
    needs: ["wait-ssh"],
    applies: (ctx) => Boolean(ctx.plan.cloud.cloudInit),
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { timeoutMs } = ctx.plan.cloud.cloudInit!;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if ((await host(ctx).run(`test -f ${CLOUD_INIT_MARKER}`)).code === 0) return "done";
        if (Date.now() > deadline || ctx.signal.aborted) {
          return { warn: `first-boot setup did not finish within ${Math.round(timeoutMs / 1000)} s; installing over SSH instead` };
        }
        await new Promise((res) => setTimeout(res, CLOUD_INIT_POLL_MS));
      }
    },
  },
  {
    name: "install", title: "Install the agent", fatal: true, attempts: 3, retryDelayMs: 5 * SECOND, timeoutMs: 15 * MINUTE,
    needs: ["cloud-init"], // first-boot setup runs apt; preparing the host must not race it
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { agent } = ctx.plan;
      ctx.progress("preparing the host (tmux, runtime)");
      // One round trip: prepare the host, then say whether the agent is already installed.
      const prepared = await mustRun(ctx, `${prepareHostScript(agent)}\n${installScript.pathPrefix}; command -v ${shellQuote(agent.binary)} >/dev/null 2>&1 && echo ${AGENT_PRESENT}; true`, "preparing the host", 10 * MINUTE);
      if (prepared.split("\n").includes(AGENT_PRESENT)) return `${agent.binary} already installed`;
      ctx.progress(`installing ${agent.name}`);
      const started = Date.now();
      await runInstall(host(ctx), {
        // Marked like the session: a failed or cancelled run's clean-up stops an install left running.
        script: `export ${SPAWN_ENV}=${shellQuote(ctx.plan.spawnId)}\n${installScript(agent)}`, name: agent.name, timeoutMs: agent.installTimeoutMs,
        stallMs: ctx.deps.installStallMs ?? DEFAULT_INSTALL_STALL_MS, progressEveryMs: ctx.deps.installProgressEveryMs, signal: ctx.signal, progress: (message: string) => ctx.progress(message), log: ctx.log,
      });
      return `${agent.binary} installed in ${formatElapsed(Date.now() - started)}`;
    },
  },
  {
    name: "env", title: "Write the environment", fatal: true, attempts: 2, retryDelayMs: 5 * SECOND, timeoutMs: MINUTE,
    needs: ["install"], // installers may create rc files (.zshrc) that the hook must see
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { plan } = ctx;
      // An agent with its own vendor key never sees the OpenRouter key, not even as {apiKey}.
      const { ownKey } = plan.agent;
      const apiKey = ownKey ? "" : plan.apiKey ?? "";
      const vars: Record<string, string> = ownKey ? {} : { OPENROUTER_API_KEY: apiKey };
      for (const [name, value] of Object.entries(plan.agent.env)) vars[name] = fillTemplate(value, { ...agentValues(plan.agent, plan.model), apiKey });
      if (ownKey && plan.agentKey) vars[ownKey.env] = plan.agentKey;
      await host(ctx).writeFile(SPAWNRC_PATH, renderSpawnrc(vars), 0o600);
      await mustRun(ctx, HOOK_RC_FILES_COMMAND, "hooking ~/.spawnrc into the shell rc files");
      return "~/.spawnrc (600)";
    },
  },
  {
    name: "keys", title: "Install your SSH keys", fatal: false, attempts: 2, retryDelayMs: 2 * SECOND, timeoutMs: MINUTE,
    needs: ["cloud-init"], // first-boot setup appends to authorized_keys too
    applies: (ctx) => ctx.plan.cloud.access === "ssh",
    async run(ctx) {
      await reconnectIfLost(ctx);
      // The owner is told privately how to add a key; the public checklist only says none were on file.
      if (ctx.plan.ownerKeys.length === 0) return "no personal keys on file";
      // Marked with the spawn, so its clean-up removes exactly these lines and none of the user's own.
      const added = await updateAuthorizedKeys(host(ctx), { add: ctx.plan.ownerKeys }, spawnKeyMark(ctx.plan.spawnId));
      return added.added === 0 ? "already authorized" : `${added.added} ${added.added === 1 ? "key" : "keys"} added`;
    },
  },
  {
    name: "configure", title: "Configure the agent", fatal: false, attempts: 2, retryDelayMs: 5 * SECOND, timeoutMs: 2 * MINUTE,
    needs: ["install"], // an installer may write the agent's default config; ours goes on top
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { agent, model } = ctx.plan;
      const token = ctx.plan.agent.dashboard ? await dashboardToken(ctx) : "";
      // On a host the user keeps, their own versions of these files come back when the spawn goes.
      if (ctx.plan.cloud.adopted && agent.configFiles.length) {
        await mustRun(ctx, keepOriginalsCommand(agent.configFiles.map((f) => f.path)), "keeping the host's own config files");
      }
      // Trust entries name the folder the agent starts in: the session runs in the login's home.
      // The folder the agent starts in (its trust entry): the clone of --repo, else the login's home.
      const workdir = agent.configFiles.some((f) => f.content.includes("{workdir}"))
        ? workdirValue(ctx.plan.repo ? `${await homeOf(ctx)}/${ctx.plan.repo.dir}` : await homeOf(ctx)) : "";
      for (const file of agent.configFiles) {
        await host(ctx).writeFile(file.path, fillTemplate(file.content, { ...agentValues(agent, model), token, workdir }), file.mode);
      }
      return agent.configFiles.length ? agent.configFiles.map((f) => `~/${f.path}`).join(", ") : "nothing to configure";
    },
  },
  {
    name: "optional-steps", title: "Optional setup", fatal: false, attempts: 1, retryDelayMs: 0, timeoutMs: 10 * MINUTE,
    needs: ["validate"],
    applies: (ctx) => ctx.plan.steps.length > 0,
    async run({ plan }) {
      const known = new Set([...SHARED_STEPS, ...(plan.agent.steps ?? [])]);
      const unknown = plan.steps.filter((s) => !known.has(s));
      const asked = plan.steps.filter((s) => known.has(s));
      const notes: string[] = [];
      if (unknown.length) notes.push(`unknown ${unknown.length === 1 ? "step" : "steps"} ${unknown.join(", ")} ignored; ${plan.agent.name} knows ${[...known].join(", ")}`);
      if (asked.length) notes.push(`${asked.length === 1 ? "step" : "steps"} ${asked.join(", ")} ${asked.length === 1 ? "is" : "are"} not supported by spawnbot yet and ${asked.length === 1 ? "was" : "were"} skipped`);
      return { warn: notes.join("; ") };
    },
  },
  {
    name: "pre-launch", title: "Start the agent's services", fatal: false, attempts: 1, retryDelayMs: 0, timeoutMs: 2 * MINUTE,
    needs: ["install", "env", "configure"],
    applies: (ctx) => Boolean(ctx.plan.agent.preLaunch),
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { agent, session } = ctx.plan;
      // SPAWN_ENV marks the daemons and everything they fork, so the spawn's clean-up stops them all;
      // their pid is kept so `restart` and the boot hook can tell whether they still run.
      await mustRun(ctx, `${sessionDirCommand(session)} && ${servicesStartCommand(session, ctx.plan.spawnId, agent.preLaunch!)}`, "starting the agent's services");
      if (!agent.dashboard) return "started";
      const port = agent.dashboard.port;
      const up = await host(ctx).run(`for i in $(seq ${DASHBOARD_WAIT_S}); do (echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && exit 0; sleep 1; done; exit 1`, { timeoutMs: (DASHBOARD_WAIT_S + 10) * SECOND });
      return up.code === 0 ? `dashboard listening on port ${port}` : { warn: `the dashboard did not open port ${port} within ${DASHBOARD_WAIT_S} s; use the terminal session instead` };
    },
  },
  {
    name: "repo", title: "Clone the repository", fatal: true, attempts: 2, retryDelayMs: 5 * SECOND, timeoutMs: 10 * MINUTE,
    needs: ["install"], // the host is prepared (and git installed where it can be) first
    applies: (ctx) => Boolean(ctx.plan.repo),
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { spawnId } = ctx.plan;
      const repo = ctx.plan.repo!;
      const shown = `${repo.display}${repo.ref ? `@${repo.ref}` : ""}`;
      ctx.progress(`cloning ${shown}`);
      await mustRun(ctx, `mkdir -p "$HOME/.spawnbot" && chmod 700 "$HOME/.spawnbot"`, "making ~/.spawnbot");
      if (repo.token) await host(ctx).writeFile(credentialPath(spawnId), credentialLine(repo.url, repo.token), 0o600);
      const r = await host(ctx).run(cloneScript(spawnId, repo, Boolean(repo.token)), { timeoutMs: 9 * MINUTE, signal: ctx.signal, onOutput: (chunk) => ctx.log.debug({ chunk }, "cloning") });
      if (r.code === 0) return `${shown} in ~/${repo.dir}${r.stdout.includes("already cloned") ? " (already cloned)" : ""}`;
      const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-2).join(" / ");
      if (r.code === CLONE_EXIT.NO_GIT || r.code === CLONE_EXIT.TAKEN) throw new CloudError("REPO", tail);
      const hint = repo.token ? "check that the git token in your `settings` can read it" : "for a private repository, save a git token in your `settings`";
      if (r.code === CLONE_EXIT.CHECKOUT) throw new CloudError("REPO", `${repo.ref} was not found in ${repo.display} (${tail})`);
      // A clone that failed may be a network hiccup: the step tries again before it fails the run.
      throw new Error(`cloning ${repo.display} failed: ${tail || `exit ${r.code}`}; ${hint}`);
    },
  },
  {
    name: "launch", title: "Launch in tmux", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: MINUTE,
    needs: ["install", "env", "keys", "configure", "optional-steps", "pre-launch", "repo"],
    async run(ctx) {
      await reconnectIfLost(ctx);
      const { agent, session, prompt, model } = ctx.plan;
      if ((await host(ctx).run(tmuxHasSessionCommand(session))).code === 0) {
        // A resumed run whose launch had begun started this session itself before the restart.
        if (ctx.plan.resume?.sessionMayExist) return `tmux session ${session} (already running)`;
        throw new CloudError("SESSION_EXISTS", `a tmux session named ${session} already runs on that host; spawn again with another --name`);
      }
      const dir = sessionDir(session);
      await mustRun(ctx, sessionDirCommand(session), "making the session's folder");
      // On the bot's own machine the agent must not inherit a running tmux server's environment.
      const preamble = ctx.plan.cloud.access === "local" ? keepCleanEnvironmentLines([SPAWN_ENV]) : "";
      let script: string;
      if (prompt !== undefined) {
        await host(ctx).writeFile(`${dir}/prompt.txt`, prompt, 0o600);
        script = `${dir}/prompt.sh`;
        await host(ctx).writeFile(script, renderPromptRunner(session, sessionCommand(agent, fillTemplate(agent.promptCommand!, agentValues(agent, model))), preamble, ctx.plan.repo?.dir), 0o700);
      } else {
        script = `${dir}/launch.sh`;
        await host(ctx).writeFile(script, renderRestartLoop(sessionCommand(agent, fillTemplate(agent.launch, agentValues(agent, model))), preamble, ctx.plan.repo?.dir), 0o700);
      }
      // What `restart` and the boot hook run to bring the session (and the agent's services) back.
      await host(ctx).writeFile(startScriptPath(session), renderStartScript({ spawnId: ctx.plan.spawnId, session, agent }), 0o700);
      await mustRun(ctx, tmuxStartCommand(session, script, ctx.plan.spawnId), "starting the tmux session");
      ctx.sessionStarted = true;
      return `tmux session ${session}`;
    },
  },
  {
    name: "boot-hook", title: "Start again after a reboot", fatal: false, attempts: 2, retryDelayMs: 2 * SECOND, timeoutMs: 30 * SECOND,
    needs: ["launch"],
    // Not on the bot's own host: its crontab is the bot's, and the bot's own start-up is what follows a reboot there.
    applies: (ctx) => ctx.plan.cloud.access === "ssh",
    async run(ctx) {
      await reconnectIfLost(ctx);
      const r = await host(ctx).run(installBootHookCommand(ctx.plan.session, ctx.plan.spawnId), { timeoutMs: 20 * SECOND, signal: ctx.signal });
      if (r.code === NO_CRONTAB_EXIT) return { warn: "the host has no cron (crontab), so the agent will not come back by itself after a reboot; `restart` brings it back" };
      if (r.code !== 0) return { warn: `the boot hook could not be installed (exit ${r.code}); after a reboot, \`restart\` brings the agent back` };
      return "a crontab @reboot entry starts the agent and its dashboard when the host boots";
    },
  },
  {
    name: "prompt", title: "Run the prompt", fatal: false, attempts: 1, retryDelayMs: 0, timeoutMs: PROMPT_TIMEOUT_MS + MINUTE,
    needs: ["launch"],
    applies: (ctx) => ctx.plan.prompt !== undefined,
    async run(ctx) {
      await reconnectIfLost(ctx);
      const dir = `$HOME/${sessionDir(ctx.plan.session)}`;
      const deadline = Date.now() + PROMPT_TIMEOUT_MS;
      for (;;) {
        const r = await host(ctx).run(`cat "${dir}/exit-code" 2>/dev/null`);
        if (r.code === 0 && r.stdout.trim() !== "") {
          const exitCode = Number(r.stdout.trim());
          const tail = (await host(ctx).run(`tail -n ${PROMPT_TAIL_LINES} "${dir}/output.log" 2>/dev/null`)).stdout;
          ctx.prompt = { exitCode, tail };
          return exitCode === 0 ? "the agent finished" : { warn: `the agent exited with code ${exitCode}` };
        }
        if (Date.now() > deadline || ctx.signal.aborted) return { warn: "the agent is still working; attach to its session to follow it" };
        await new Promise((res) => setTimeout(res, PROMPT_POLL_MS));
      }
    },
  },
  {
    name: "connect-info", title: "Prepare connect details", fatal: true, attempts: 1, retryDelayMs: 0, timeoutMs: 10 * SECOND,
    needs: ["launch", "prompt", "boot-hook"],
    async run(ctx) {
      const { plan, server } = ctx;
      const token = plan.agent.dashboard ? await dashboardToken(ctx) : undefined;
      ctx.connect = buildConnectInfoFor({
        access: plan.cloud.access, session: plan.session, address: server?.address ?? null, sshUser: server?.sshUser ?? null,
        sshPort: server?.sshPort ?? null, hostKey: ctx.hostKey ?? null, dashboard: plan.agent.dashboard, dashboardToken: token,
      });
      if (token) await ctx.deps.journal.updateSpawn(plan.spawnId, { meta: withSealedToken(ctx.deps.sealer, plan.spawnId, {}, token) });
      return "sent privately to the requester";
    },
  },
];

/**
 * The dashboard token is made once per spawn and shared by the config and the connect URL: kept
 * per run (keyed by its plan, which every step's context shares) and journaled sealed as soon as it
 * is made, so a run resumed after a restart writes the same token its config file already holds.
 */
const tokens = new WeakMap<RunContext["plan"], string>();
async function dashboardToken(ctx: RunContext): Promise<string> {
  let t = tokens.get(ctx.plan) ?? ctx.plan.resume?.dashboardToken;
  if (!t) {
    t = randomBytes(16).toString("hex");
    tokens.set(ctx.plan, t); // before the write: the two steps that need it may ask at once
    await ctx.deps.journal.updateSpawn(ctx.plan.spawnId, { meta: withSealedToken(ctx.deps.sealer, ctx.plan.spawnId, {}, t) });
  }
  tokens.set(ctx.plan, t);
  return t;
}

export const STEP_NAMES = STEPS.map((s) => s.name);
