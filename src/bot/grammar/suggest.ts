// "Did you mean …?" for mistyped agents, clouds, commands and flags: the closest candidate by
// Damerau–Levenshtein distance (optimal string alignment), only when it is close enough.

/**
 * The candidate closest to `input` (case-insensitive), or undefined when none is within
 * max(1, floor(len/3)) edits — so "codx" finds "codex" but "foo" finds nothing.
 * Ties go to the earlier candidate.
 */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  const word = input.toLowerCase();
  if (word.length === 0) return undefined;
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    // The length difference is a lower bound on the distance: skip hopeless (or huge) pairs cheaply.
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Up to `max` candidates within the same edit limit as nearest(), closest first (ties keep the
 * candidates' order): for "did you mean a, b or c?" over long lists such as model ids.
 */
export function nearestMany(input: string, candidates: readonly string[], max: number): string[] {
  const word = input.toLowerCase();
  if (word.length === 0 || max <= 0) return [];
  const limit = Math.max(1, Math.floor(word.length / 3));
  const found: { candidate: string; distance: number }[] = [];
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance <= limit) found.push({ candidate, distance });
  }
  return found.sort((a, b) => a.distance - b.distance).slice(0, max).map((f) => f.candidate);
}

/** Insertions, deletions, substitutions and swaps of two neighbours, each costing 1. */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the swap rule looks two rows back.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, beforePrevious[j - 2]! + 1);
      }
      current.push(value);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}
