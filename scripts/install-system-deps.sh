#!/usr/bin/env bash
# Installs the Debian packages the tests need: a real OpenSSH server and tmux (plus the ssh
# client and procps that come with them), cron (crontab, for the boot hook), Chromium for the real-browser tunnel test
# (driven by playwright-core; never `npx playwright install`), and PostgreSQL for the PostgreSQL store's
# tests (they start private servers from /usr/lib/postgresql/*/bin on their own ports; the cluster the
# package starts on 5432 is never used). Needs root, or passwordless sudo. Safe to re-run.
set -euo pipefail
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v crontab >/dev/null 2>&1 || need+=(cron) # the boot hook's crontab (test/restart.test.ts)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: openssh-server, tmux, procps, cron, chromium and postgresql are installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo -n true 2>/dev/null || { echo "installing ${need[*]} needs root: run this script with sudo" >&2; exit 1; }
  sudo="sudo -n"
fi
echo "system packages: installing ${need[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
