// The environment commands on the `local` cloud start with. The bot's own environment holds its
// chat tokens, cloud credentials, the workspace OpenRouter key and the secret-box key; an agent
// on the same machine must see none of them, so only what a login shell would also have passes:
// where things are (PATH, HOME, locale, terminal, temp dirs) and how this machine reaches the
// network for installs (CA bundles, proxies). Everything else the agent needs is in ~/.spawnrc.

/** Names passed through as they are. */
const PASSED = new Set([
  "PATH", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "COLORTERM", "TZ", "TMPDIR", "TMUX_TMPDIR",
  // Installers fetch over TLS, on some machines through a proxy with its own CA.
  "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
]);
const PASSED_PREFIXES = ["LC_"]; // the locale categories

/** Set by tmux itself in every pane; the agent's terminal needs them. */
const TMUX_OWN = ["TMUX", "TMUX_PANE"];

/**
 * Bash lines for the top of a local agent's launch script: run the script again under `env -i`
 * with only the variables above. A tmux server that was already running (started by an older
 * version, or from a shell holding the bot's tokens) hands its own global environment to new
 * sessions; re-executing replaces the process's environment, so not even /proc/<pid>/environ of
 * the pane's shell keeps it. `alsoKept`: the session's own variables (its SPAWN_ENV mark, which the
 * clean-up finds its processes by).
 */
export function keepCleanEnvironmentLines(alsoKept: readonly string[] = []): string {
  const kept = [...PASSED, "HOME", ...TMUX_OWN, ...alsoKept, ...PASSED_PREFIXES.map((p) => `${p}*`)].join("|");
  return `# spawnbot (local cloud): start again with none of the bot's environment, whatever tmux server runs this
if [ "\${SPAWNBOT_CLEAN_ENV:-}" != 1 ]; then
  keep=(SPAWNBOT_CLEAN_ENV=1)
  while read -r name; do case "$name" in ${kept}) keep+=("$name=\${!name}") ;; esac; done < <(compgen -e)
  exec env -i "\${keep[@]}" bash "$0" "$@"
fi
`;
}

/** A clean environment for a command run as the agent's user with this home. */
export function agentEnvironment(source: NodeJS.ProcessEnv, home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (PASSED.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  env.HOME = home;
  return env;
}
