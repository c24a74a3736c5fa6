// The agent's environment file, ~/.spawnrc: written over SFTP with mode 600 (never on a
// command line, where the key would show in process listings) and sourced from the rc files.
import { ENV_NAME, shellQuote } from "./shell.js";

export const SPAWNRC_PATH = ".spawnrc";
/** The first line of every ~/.spawnrc the bot writes: the clean-up removes only a file that has it. */
export const SPAWNRC_MARKER = "# [spawn:env] written by spawnbot; sourced from your shell rc files";

/** Directories where agent installers put their binaries (spawn's list). */
const AGENT_PATH_DIRS = ["$HOME/.npm-global/bin", "$HOME/.bun/bin", "$HOME/.local/bin", "$HOME/.cargo/bin", "$HOME/.claude/local/bin", "$HOME/.opencode/bin", "/usr/local/bin"];

export function renderSpawnrc(vars: Record<string, string>): string {
  const lines = ["", SPAWNRC_MARKER, "export IS_SANDBOX='1'", "export LANG='C.UTF-8'", "export LC_ALL='C.UTF-8'"];
  lines.push(`export PATH="${AGENT_PATH_DIRS.join(":")}:$PATH"`);
  for (const [name, value] of Object.entries(vars)) {
    if (!ENV_NAME.test(name)) throw new Error(`refusing to write environment variable with unsafe name ${JSON.stringify(name)}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The line that sources ~/.spawnrc; its trailing comment lets the clean-up find exactly it. */
export const SOURCE_LINE = `[ -f "$HOME/.spawnrc" ] && . "$HOME/.spawnrc" # added by spawnbot`;
/** The rc files the hook edits, relative to home. */
export const RC_FILES = [".bashrc", ".profile", ".bash_profile", ".zshrc"] as const;
/** Where the hook lists the rc files it had to create (so the clean-up removes them, and only them). */
export const RC_CREATED_LIST = ".spawnbot/rc-created";

/**
 * Make login and interactive shells source ~/.spawnrc: append one line to .bashrc and .profile
 * (created if missing) and to .bash_profile/.zshrc only when they exist (creating .bash_profile
 * would stop bash from reading .profile). Idempotent.
 */
export const HOOK_RC_FILES_COMMAND = [
  `line=${shellQuote(SOURCE_LINE)}`,
  `for f in ${RC_FILES.map((f) => `"$HOME/${f}"`).join(" ")}; do`,
  `  case "$f" in *.bashrc|*.profile) [ -e "$f" ] || { mkdir -p "$HOME/.spawnbot" && : > "$f" && echo "$f" >> "$HOME/${RC_CREATED_LIST}"; } ;; esac`,
  `  [ -f "$f" ] || continue`,
  `  grep -qF '.spawnrc' "$f" || printf '\\n%s\\n' "$line" >> "$f"`,
  `done`,
].join("\n");
