// The bot's identity over PostgreSQL (see ../identity-tables.ts): the first claim of a name wins,
// across replicas, in one statement each.
import type { IdentityState } from "../identity-tables.js";
import type { Promised } from "../types.js";
import type { Db } from "./pool.js";

export class PgIdentityTables implements Promised<IdentityState> {
  constructor(private readonly db: Db) {}

  async claim(name: string, value: string, at = Date.now()): Promise<string> {
    await this.db.query("INSERT INTO bot_identity (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", [name, value, at]);
    const { rows } = await this.db.query<{ value: string }>("SELECT value FROM bot_identity WHERE name = $1", [name]);
    return rows[0]!.value;
  }

  async get(name: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: string }>("SELECT value FROM bot_identity WHERE name = $1", [name]);
    return rows[0]?.value;
  }
}
