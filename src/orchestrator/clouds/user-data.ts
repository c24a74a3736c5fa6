// cloud-init user-data for VM clouds: one bash script per agent tier that installs what the
// agent needs, puts the owner's SSH keys beside the bot's, and always writes a completion marker
// from an EXIT trap (spawn #2739: under `set -e` a failed step meant no marker at all).
import type { AgentTier } from "../agents/types.js";
import { shellQuote } from "../shell.js";

/** Where every VM writes its marker; the pipeline waits for it after SSH answers. */
export const CLOUD_INIT_MARKER = "/var/lib/spawnbot/cloud-init-complete";

const PACKAGES: Record<AgentTier, string[]> = {
  minimal: ["curl", "unzip", "git", "ca-certificates", "tmux"],
  node: ["curl", "unzip", "git", "ca-certificates", "tmux", "zsh", "build-essential"],
  bun: ["curl", "unzip", "git", "ca-certificates", "tmux", "zsh"],
  full: ["curl", "unzip", "git", "ca-certificates", "tmux", "zsh", "build-essential"],
};

export interface UserDataOptions {
  tier: AgentTier;
  /** The login user the bot and the owner use (root, ubuntu, spawnbot). */
  sshUser: string;
  /** Keys to authorize for sshUser: the bot's first, then the owner's. */
  authorizedKeys: string[];
  /** Node.js major version for node/full tiers. */
  nodeMajor?: number;
}

export function renderUserData(opts: UserDataOptions): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(opts.sshUser)) throw new Error(`unsafe ssh user ${JSON.stringify(opts.sshUser)}`);
  const keys = opts.authorizedKeys.map((k) => k.trim()).filter((k) => /^[a-z0-9-]+ [A-Za-z0-9+/=]+( [^\n'\\]*)?$/.test(k));
  const home = opts.sshUser === "root" ? "/root" : `/home/${opts.sshUser}`;
  const lines = [
    "#!/bin/bash",
    "# spawnbot user-data: runs once at first boot as root.",
    `trap 'mkdir -p ${dirname(CLOUD_INIT_MARKER)}; date -u +%FT%TZ > ${CLOUD_INIT_MARKER}' EXIT`,
    "export DEBIAN_FRONTEND=noninteractive HOME=/root",
    // A 1 GB swap file keeps small instances from being killed mid-install (spawn: AWS nano OOM).
    "if [ ! -f /swapfile ]; then fallocate -l 1G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile || true; fi",
    `id ${opts.sshUser} >/dev/null 2>&1 || useradd -m -s /bin/bash ${opts.sshUser} || true`,
    opts.sshUser === "root" ? "true" : `echo '${opts.sshUser} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-spawnbot && chmod 440 /etc/sudoers.d/90-spawnbot || true`,
    `install -d -m 700 -o ${opts.sshUser} -g ${opts.sshUser} ${home}/.ssh || true`,
    ...keys.map((k) => `grep -qF ${shellQuote(k.split(" ").slice(0, 2).join(" "))} ${home}/.ssh/authorized_keys 2>/dev/null || echo ${shellQuote(k)} >> ${home}/.ssh/authorized_keys`),
    `chown ${opts.sshUser}: ${home}/.ssh/authorized_keys 2>/dev/null; chmod 600 ${home}/.ssh/authorized_keys 2>/dev/null || true`,
    `apt-get update -qq || true`,
    `apt-get install -y -qq --no-install-recommends ${PACKAGES[opts.tier].join(" ")} || true`,
  ];
  if (opts.tier === "node" || opts.tier === "full") {
    lines.push(`command -v node >/dev/null || curl -fsSL https://raw.githubusercontent.com/tj/n/master/bin/n | bash -s install ${opts.nodeMajor ?? 22} || true`);
  }
  if (opts.tier === "bun" || opts.tier === "full") {
    lines.push(`command -v bun >/dev/null || (curl -fsSL https://bun.sh/install | bash && ln -sf /root/.bun/bin/bun /usr/local/bin/bun) || true`);
  }
  return `${lines.join("\n")}\n`;
}

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}
