// Small formatting for views: times ("2h", "1d 3h", "45s") and counted nouns ("1 spawn", "3 spawns").

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** "1 spawn", "2 spawns": a count with its noun in the right number (regular plurals only). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** A spawn's --repo as the status view and the plan show it: "acme/webapp@main". */
export function repoLabel(repo: { display: string; ref?: string }): string {
  return `${repo.display}${repo.ref ? `@${repo.ref}` : ""}`;
}
