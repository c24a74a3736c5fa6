// What is open through each link right now (a streaming response, a WebSocket), so a revoked
// link is cut at once instead of living on until the browser lets go. A new request through a
// revoked link is refused by the lookup anyway; this covers the ones already going.

export class OpenStreams {
  private readonly byToken = new Map<string, Set<() => void>>();

  /** Register how to cut one stream of a link; call the returned function when it ends by itself. */
  track(tokenHash: string, cut: () => void): () => void {
    let set = this.byToken.get(tokenHash);
    if (!set) this.byToken.set(tokenHash, (set = new Set()));
    set.add(cut);
    return () => {
      set.delete(cut);
      if (set.size === 0 && this.byToken.get(tokenHash) === set) this.byToken.delete(tokenHash);
    };
  }

  /** Cut every stream open through these links; returns how many were cut. */
  cut(tokenHashes: readonly string[]): number {
    let n = 0;
    for (const hash of tokenHashes) {
      const set = this.byToken.get(hash);
      if (!set) continue;
      this.byToken.delete(hash);
      for (const cut of set) {
        cut();
        n++;
      }
    }
    return n;
  }

  /** Streams open now, over all links (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const set of this.byToken.values()) n += set.size;
    return n;
  }
}
