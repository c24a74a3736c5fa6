// Connect details for a spawn: the attach command, a known_hosts line with the pinned key,
// and the dashboard tunnel. Private to the requester; built from the stored record.
import type { ConnectInfo } from "./run-types.js";
import { fingerprintOf } from "./remote/ssh-host.js";
import { shellQuote } from "./shell.js";

export interface ConnectTarget {
  access: "ssh" | "local";
  session: string;
  address: string | null;
  sshUser: string | null;
  sshPort: number | null;
  hostKey: string | null;
  dashboard?: { port: number; path: string };
  dashboardToken?: string;
}

export function buildConnectInfoFor(t: ConnectTarget): ConnectInfo {
  const attach = `tmux attach -t ${shellQuote(t.session)}`;
  const url = t.dashboard ? `http://localhost:${t.dashboard.port}${t.dashboard.path.replace("{token}", t.dashboardToken ?? "")}` : undefined;
  if (t.access === "local" || !t.address || !t.sshUser) {
    return { attachCommand: attach, session: t.session, dashboard: url ? { localUrl: url } : undefined };
  }
  const port = t.sshPort ?? 22;
  const portFlag = port === 22 ? "" : ` -p ${port}`;
  const dest = `${t.sshUser}@${t.address.includes(":") ? `[${t.address}]` : t.address}`;
  const hostField = port === 22 ? t.address : `[${t.address}]:${port}`;
  return {
    attachCommand: `ssh -t ${dest}${portFlag} ${attach}`,
    session: t.session,
    knownHostsLine: t.hostKey ? `${hostField} ${t.hostKey}` : undefined,
    hostKeyFingerprint: t.hostKey ? fingerprintOf(t.hostKey) : undefined,
    dashboard: t.dashboard && url
      ? { tunnelCommand: `ssh -N -L ${t.dashboard.port}:127.0.0.1:${t.dashboard.port} ${dest}${portFlag}`, localUrl: url }
      : undefined,
  };
}
