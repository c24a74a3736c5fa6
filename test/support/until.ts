// Polls a condition in a test, bounded in time, and says what it waited for when it gives up.
// The condition may be asynchronous (a store read): its answer is awaited before it counts.
export async function until<T>(what: string, check: () => T | undefined | false | PromiseLike<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
