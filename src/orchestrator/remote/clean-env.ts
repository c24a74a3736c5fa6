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
