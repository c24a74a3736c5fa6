// SQLite answers in-process and at once; the bot speaks to every store asynchronously so that a
// shared database can stand behind the same calls. This lifts a synchronous store into the
// asynchronous Store: each method runs at once, as before, and its result (or its throw) comes
// back as a settled Promise. Atomic check-then-writes are single store methods either way.
import type { Promised } from "./types.js";

export function promised<T extends object>(target: T): Promised<T> {
  const lifted = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, key) {
      if (lifted.has(key)) return lifted.get(key);
      const value: unknown = Reflect.get(obj, key, obj);
      let out: unknown;
      if (typeof value === "function") {
        out = (...args: unknown[]) => {
          try {
            return Promise.resolve(value.apply(obj, args));
          } catch (err) {
            return Promise.reject(err instanceof Error ? err : new Error(String(err)));
          }
        };
      } else if (typeof value === "object" && value !== null) {
        out = promised(value); // a part of the store (store.chat, store.hosts, …)
      } else {
        return value;
      }
      lifted.set(key, out);
      return out;
    },
  }) as unknown as Promised<T>;
}
