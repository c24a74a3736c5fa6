// The bot's identity kept with its data: the values every process on this data must share (its
// SSH key, sealed; a check value sealed with its secret key). The first process to claim a name
// sets it; every later one reads what is there. The SQL for that table (migration 15).
import type Database from "better-sqlite3";

export interface IdentityState {
  /** The stored value of name; value is stored first when there is none (the first claim wins). */
  claim(name: string, value: string, at?: number): string;
  get(name: string): string | undefined;
}

export class IdentityTables implements IdentityState {
  private readonly sql;

  constructor(db: Database.Database) {
    this.sql = {
      put: db.prepare<[string, string, number]>("INSERT INTO bot_identity (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING"),
      get: db.prepare<[string], { value: string }>("SELECT value FROM bot_identity WHERE name = ?"),
    };
  }

  claim(name: string, value: string, at = Date.now()): string {
    this.sql.put.run(name, value, at);
    return this.sql.get.get(name)!.value;
  }

  get(name: string): string | undefined {
    return this.sql.get.get(name)?.value;
  }
}
