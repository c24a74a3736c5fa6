// The PostgreSQL store's door: open it by URL, its async Store type, and the SQLite-to-PostgreSQL copy.
export { openPgStore, PgStore, type PgStoreOptions } from "./pg-store.js";
export { DEFAULT_STATEMENT_TIMEOUT_MS } from "./pool.js";
export { copySqliteToPostgres, StoreCopyError, type CopyResult } from "./copy-from-sqlite.js";
