// The store contract (test/contracts/store-contract.ts) on PostgreSQL: a real server of our own
// (test/support/postgres.ts), a fresh database for every store the suite opens.
import { afterAll, beforeAll } from "vitest";
import { openPgStore, type PgStore } from "../src/bot/store/pg/index.js";
import { describeStoreContract } from "./contracts/store-contract.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let server: TestPostgres;
const opened: PgStore[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

describeStoreContract("PostgreSQL", {
  async open() {
    const store = await openPgStore(await server.createDatabase());
    opened.push(store);
    return store;
  },
  async openPair() {
    const url = await server.createDatabase();
    const pair = [await openPgStore(url), await openPgStore(url)] as [PgStore, PgStore];
    opened.push(...pair);
    return pair;
  },
});
