// The asynchronous face of Store that a store over the network speaks: every method of Store and of
// its parts returns a Promise of what it returns today. The bot's own Store is becoming this shape
// on main; once it has, this file's Promised<Store> and Store are the same type and it can go.
import type { ChatState } from "../chat-tables.js";
import type { HostState } from "../host-tables.js";
import type { LeaseState } from "../lease-tables.js";
import type { OAuthState } from "../oauth-tables.js";
import type { SpawnKeyState } from "../spawn-key-tables.js";
import type { Store } from "../types.js";
import type { UpkeepState } from "../upkeep-tables.js";

/** Every method of T returns a Promise of its value; other members stay as they are. */
export type PromisedMethods<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

/** The parts of Store, each a group of methods of its own (store.chat.claimDelivery, …). */
interface StoreParts {
  chat: ChatState;
  upkeep: UpkeepState;
  oauth: OAuthState;
  hosts: HostState;
  leases: LeaseState;
  spawnKeys: SpawnKeyState;
}

/** Store with every method, its parts' included, returning a Promise of the same value. */
export type Promised<S extends Store> = PromisedMethods<Omit<S, keyof StoreParts>> & {
  readonly [K in keyof StoreParts]: PromisedMethods<S[K]>;
};

export type AsyncStore = Promised<Store>;
