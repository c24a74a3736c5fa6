// The store's schema as an ordered list of migrations; PRAGMA user_version records how many ran.
// Never edit a shipped migration: append a new one, because files in the field already ran the old.

import type Database from "better-sqlite3";

export interface Migration {
  /** 1-based; equals the user_version the file has after this migration. */
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "spawns, steps, model preferences, user keys, audit log",
    // The status lists are spelled out (not built from LIVE_STATUSES) so this migration stays
    // frozen even if the constant changes; a change there needs a new migration.
    // Newest-first listings scan the (…, created_at) indexes backwards, which yields
    // created_at DESC, rowid DESC without a sort step; a DESC index column would not give the
    // rowid tie-break for free.
    sql: `
      CREATE TABLE spawns (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        platform    TEXT NOT NULL,
        workspace   TEXT NOT NULL,
        channel     TEXT NOT NULL,
        owner_id    TEXT NOT NULL,
        owner_name  TEXT NOT NULL,
        agent       TEXT NOT NULL,
        cloud       TEXT NOT NULL,
        model       TEXT,
        size        TEXT,
        zone        TEXT,
        status      TEXT NOT NULL CHECK (status IN
                      ('pending', 'provisioning', 'ready', 'failed', 'deleting', 'deleted', 'cancelled')),
        server_id   TEXT,
        address     TEXT,
        ssh_user    TEXT,
        ssh_port    INTEGER,
        host_key    TEXT,
        session     TEXT NOT NULL,
        prompt      TEXT,
        error       TEXT,
        meta        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
        created_at  INTEGER NOT NULL,
        ready_at    INTEGER,
        deleted_at  INTEGER,
        expires_at  INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX spawns_live_name ON spawns (platform, owner_id, name)
        WHERE status IN ('pending', 'provisioning', 'ready', 'deleting');
      CREATE INDEX spawns_by_channel ON spawns (platform, workspace, channel, created_at);
      CREATE INDEX spawns_by_owner ON spawns (platform, owner_id, created_at);
      CREATE INDEX spawns_by_platform ON spawns (platform, created_at);
      CREATE INDEX spawns_by_name ON spawns (platform, name);
      CREATE INDEX spawns_by_status ON spawns (status);

      CREATE TABLE steps (
        spawn_id    TEXT NOT NULL REFERENCES spawns (id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        name        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN
                      ('pending', 'running', 'succeeded', 'warned', 'failed', 'skipped')),
        detail      TEXT,
        started_at  INTEGER,
        ended_at    INTEGER,
        PRIMARY KEY (spawn_id, seq)
      ) STRICT;

      CREATE TABLE model_prefs (
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        agent       TEXT NOT NULL,
        model       TEXT NOT NULL,
        PRIMARY KEY (platform, user_id, agent)
      ) STRICT;

      CREATE TABLE user_keys (
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key  TEXT NOT NULL,
        key_type    TEXT NOT NULL,
        comment     TEXT NOT NULL,
        added_at    INTEGER NOT NULL,
        PRIMARY KEY (platform, user_id, fingerprint)
      ) STRICT;

      -- No foreign key to spawns: the log outlives spawns and may name one not yet recorded.
      CREATE TABLE audit (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        action      TEXT NOT NULL,
        spawn_id    TEXT,
        detail      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
      ) STRICT;
      CREATE INDEX audit_by_spawn ON audit (spawn_id, at);
      CREATE INDEX audit_by_time ON audit (at);
    `,
  },
  {
    version: 2,
    description: "spawn shares and tunnel tokens",
    // Tunnel tokens are stored only as their SHA-256: the raw token exists in the URL handed to
    // the user and nowhere else.
    sql: `
      CREATE TABLE spawn_shares (
        spawn_id    TEXT NOT NULL REFERENCES spawns (id) ON DELETE CASCADE,
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        added_at    INTEGER NOT NULL,
        PRIMARY KEY (spawn_id, platform, user_id)
      ) STRICT;
      CREATE INDEX shares_by_user ON spawn_shares (platform, user_id);

      CREATE TABLE tunnel_tokens (
        token_hash  TEXT PRIMARY KEY,
        spawn_id    TEXT NOT NULL REFERENCES spawns (id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER,
        revoked_at  INTEGER
      ) STRICT;
      CREATE INDEX tunnel_tokens_by_spawn ON tunnel_tokens (spawn_id);
    `,
  },
  {
    version: 3,
    description: "users' sealed secrets, handled deliveries, status message references",
    // Secrets are sealed (AES-256-GCM) before they reach the store; only the last four
    // characters are kept in clear, to show which key is set.
    sql: `
      CREATE TABLE user_secrets (
        platform    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        name        TEXT NOT NULL,
        sealed      TEXT NOT NULL,
        last4       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (platform, user_id, name)
      ) STRICT;

      CREATE TABLE deliveries (
        key         TEXT PRIMARY KEY,
        at          INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX deliveries_by_time ON deliveries (at);

      CREATE TABLE message_refs (
        spawn_id    TEXT NOT NULL REFERENCES spawns (id) ON DELETE CASCADE,
        platform    TEXT NOT NULL,
        ref         TEXT NOT NULL CHECK (json_valid(ref)),
        PRIMARY KEY (spawn_id, platform)
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: "expiry reminders sent, failed deletes to retry, orphan servers seen by the reconciler",
    // Rows are written by the expiry sweep and the reconciler only (src/bot/upkeep/expiry.ts, reconciler.ts).
    // A reminder is keyed to the expiry it announced: an extended spawn is reminded again.
    // Orphans have no foreign key: they are servers no live spawn owns, by definition.
    sql: `
      CREATE TABLE expiry_reminders (
        spawn_id    TEXT PRIMARY KEY REFERENCES spawns (id) ON DELETE CASCADE,
        expires_at  INTEGER NOT NULL,
        sent_at     INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE delete_retries (
        spawn_id    TEXT PRIMARY KEY REFERENCES spawns (id) ON DELETE CASCADE,
        actor       TEXT NOT NULL,
        attempts    INTEGER NOT NULL,
        next_at     INTEGER NOT NULL,
        last_error  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE orphan_servers (
        cloud       TEXT NOT NULL,
        server_id   TEXT NOT NULL,
        spawn_id    TEXT,
        first_seen  INTEGER NOT NULL,
        reported_at INTEGER,
        PRIMARY KEY (cloud, server_id)
      ) STRICT;
    `,
  },
  {
    version: 5,
    description: "indexes for the spawn limits; where each audited action was asked for",
    // Live spawns per owner and per workspace come from partial indexes of live rows only, so
    // the count does not grow with history; spawns in the last hour from a created_at range.
    sql: `
      CREATE INDEX spawns_live_by_owner ON spawns (platform, owner_id)
        WHERE status IN ('pending', 'provisioning', 'ready', 'deleting');
      CREATE INDEX spawns_live_by_workspace ON spawns (platform, workspace)
        WHERE status IN ('pending', 'provisioning', 'ready', 'deleting');
      CREATE INDEX spawns_by_workspace ON spawns (platform, workspace, created_at);
      ALTER TABLE audit ADD COLUMN workspace TEXT;
      ALTER TABLE audit ADD COLUMN channel TEXT;
    `,
  },
  {
    version: 6,
    description: "pending Connect OpenRouter sign-ins (OAuth PKCE state and verifier)",
    // The state is kept only as its SHA-256 and the verifier sealed: a copy of the file cannot
    // finish someone's sign-in. used_at makes each state single-use (set once, atomically).
    sql: `
      CREATE TABLE oauth_states (
        state_hash      TEXT PRIMARY KEY,
        platform        TEXT NOT NULL,
        user_id         TEXT NOT NULL,
        workspace       TEXT NOT NULL,
        channel         TEXT NOT NULL,
        sealed_verifier TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        used_at         INTEGER
      ) STRICT;
      CREATE INDEX oauth_states_by_user ON oauth_states (platform, user_id);
      CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
    `,
  },
  {
    version: 7,
    description: "host keys pinned per host; hosts admins share with channels; which key reaches a spawn's host",
    // host_pins: one row per SSH endpoint (host:port as spawns reach it). The first spawn that
    // reaches it pins its key and its owner owns the pin; a different key later is refused and
    // kept in seen_key until the owner or an admin accepts it (`hosts trust`).
    // shared_hosts: existing hosts an admin registered for some channels; spawns there use the
    // bot's own key. channels is a JSON array of channel ids.
    sql: `
      CREATE TABLE host_pins (
        endpoint       TEXT PRIMARY KEY,
        host_key       TEXT NOT NULL,
        owner_platform TEXT NOT NULL,
        owner_id       TEXT NOT NULL,
        pinned_at      INTEGER NOT NULL,
        seen_key       TEXT,
        seen_at        INTEGER
      ) STRICT;
      CREATE TABLE shared_hosts (
        platform  TEXT NOT NULL,
        workspace TEXT NOT NULL,
        target    TEXT NOT NULL,
        channels  TEXT NOT NULL,
        added_by  TEXT NOT NULL,
        added_at  INTEGER NOT NULL,
        PRIMARY KEY (platform, workspace, target)
      ) STRICT;
      ALTER TABLE spawns ADD COLUMN ssh_identity TEXT;
    `,
  },
  {
    version: 8,
    description: "leases: one process at a time holds the data; what a run needs to be resumed",
    // holder names the process (host, pid, a random tag); a holder renews expires_at on every
    // heartbeat, and another may take the lease only once expires_at has passed. spawns.options
    // keeps the request's --host and --steps (JSON), so a restarted bot can continue the run.
    sql: `
      CREATE TABLE leases (
        name         TEXT PRIMARY KEY,
        holder       TEXT NOT NULL,
        acquired_at  INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      ) STRICT;
      ALTER TABLE spawns ADD COLUMN options TEXT;
    `,
  },
  {
    version: 9,
    description: "per-spawn OpenRouter keys made with the management key, and their pending deletes",
    // The key's hash is OpenRouter's id for it; the key itself is kept only sealed (for a restarted
    // bot to continue a run that had not written it to its host yet). revoke_at is set when the
    // key must go (its spawn ended) and holds when the next delete try is due; deleted_at ends it.
    sql: `
      CREATE TABLE spawn_api_keys (
        spawn_id    TEXT PRIMARY KEY,
        key_hash    TEXT NOT NULL,
        limit_usd   REAL NOT NULL,
        expires_at  INTEGER,
        created_at  INTEGER NOT NULL,
        revoke_at   INTEGER,
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        deleted_at  INTEGER,
        sealed_key  TEXT
      ) STRICT;
      CREATE INDEX spawn_api_keys_open ON spawn_api_keys (revoke_at) WHERE deleted_at IS NULL;
    `,
  },
  {
    version: 10,
    description: "dashboard links per user; which spawns mark what they put on an adopted host",
    // A link records who it was given to, so unshare can take back exactly that user's links
    // (rows from before this migration have no user and die with their spawn as before).
    // Spawns recorded before this migration put unmarked lines into authorized_keys: their
    // clean-up cannot tell those lines from the user's own and leaves them (marked_host = 0);
    // every spawn recorded from now on gets the column's default, 1.
    sql: `
      ALTER TABLE tunnel_tokens ADD COLUMN platform TEXT;
      ALTER TABLE tunnel_tokens ADD COLUMN user_id TEXT;
      CREATE INDEX tunnel_tokens_by_user ON tunnel_tokens (spawn_id, platform, user_id);
      ALTER TABLE spawns ADD COLUMN marked_host INTEGER NOT NULL DEFAULT 1;
      UPDATE spawns SET marked_host = 0;
    `,
  },
  {
    version: 11,
    description: "Connect OpenRouter names the account; no plain dashboard tokens on ended spawns; a Discord DM per user",
    // Links handed out before this went straight to OpenRouter, with no confirmation page: they
    // are dropped (they lived 10 minutes anyway). Live spawns' plain dashboard tokens are sealed
    // by the bot at start-up (SQL has no key); ended spawns no longer need theirs at all.
    // Discord DMs shared the workspace "dm"; each DM is now the workspace "dm:<user id>".
    sql: `
      ALTER TABLE oauth_states ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
      ALTER TABLE oauth_states ADD COLUMN confirmed_at INTEGER;
      ALTER TABLE oauth_states ADD COLUMN code_hash TEXT;
      ALTER TABLE oauth_states ADD COLUMN connected_at INTEGER;
      DELETE FROM oauth_states WHERE used_at IS NULL;
      UPDATE spawns SET meta = json_remove(meta, '$.dashboardToken')
        WHERE status NOT IN ('pending', 'provisioning', 'ready', 'deleting') AND json_extract(meta, '$.dashboardToken') IS NOT NULL;
      UPDATE spawns SET workspace = 'dm:' || owner_id WHERE platform = 'discord' AND workspace = 'dm';
      UPDATE audit SET workspace = 'dm:' || user_id WHERE platform = 'discord' AND workspace = 'dm';
    `,
  },
  {
    version: 12,
    description: "Failed and cancelled spawns can be dismissed from lists; their rows and audit stay",
    sql: `ALTER TABLE spawns ADD COLUMN dismissed_at INTEGER;`,
  },
  {
    version: 13,
    description: "What each spawn costs: its cloud price an hour when it started, its LLM spend, the budget notices sent",
    // One row per spawn that started after this migration (older spawns have none: their price is
    // unknown, never 0). price_kind 'free' is a host the bot does not pay for; 'unknown' says why
    // in price_source. The LLM columns are the last read of the spawn's own OpenRouter key.
    // active_at: the last time someone was seen using the spawn (an SSH session, an extend), for
    // SPAWNBOT_IDLE_AFTER. budget_notices: one row per (scope, month, kind) so each warning goes out once.
    sql: `
      CREATE TABLE spawn_costs (
        spawn_id        TEXT PRIMARY KEY REFERENCES spawns (id) ON DELETE CASCADE,
        price_kind      TEXT NOT NULL CHECK (price_kind IN ('priced', 'free', 'unknown')),
        price_per_hour  REAL,
        currency        TEXT,
        price_source    TEXT NOT NULL,
        llm_usage       REAL,
        llm_limit       REAL,
        llm_checked_at  INTEGER,
        llm_changed_at  INTEGER,
        warned_at       INTEGER,
        stopped_at      INTEGER,
        active_at       INTEGER
      ) STRICT;
      CREATE TABLE budget_notices (
        scope  TEXT NOT NULL,
        month  TEXT NOT NULL,
        kind   TEXT NOT NULL,
        at     INTEGER NOT NULL,
        PRIMARY KEY (scope, month, kind)
      ) STRICT;
      -- A month's costs find the spawns made before it that ended inside it by their end.
      CREATE INDEX spawns_by_end ON spawns (platform, deleted_at) WHERE deleted_at IS NOT NULL;
    `,
  },
  {
    version: 14,
    description: "One record of a clean-up owed to a cloud or host (a delete that failed, or the leftovers of a run that ended), replacing delete_retries and the 'cleanup pending' error text",
    // what: 'delete' — a delete someone (or expiry, or the reconciler) asked for failed and is
    // retried; 'leftovers' — a run ended and what it made could not be removed yet. One row per
    // spawn. Spawns recovery left "deleting" with the old "cleanup pending" text are owed leftovers,
    // due at once.
    sql: `
      CREATE TABLE cleanups_owed (
        spawn_id    TEXT PRIMARY KEY REFERENCES spawns (id) ON DELETE CASCADE,
        what        TEXT NOT NULL CHECK (what IN ('delete', 'leftovers')),
        actor       TEXT NOT NULL,
        attempts    INTEGER NOT NULL,
        next_at     INTEGER NOT NULL,
        last_error  TEXT NOT NULL
      ) STRICT;
      INSERT INTO cleanups_owed (spawn_id, what, actor, attempts, next_at, last_error)
        SELECT spawn_id, 'delete', actor, attempts, next_at, last_error FROM delete_retries;
      INSERT OR IGNORE INTO cleanups_owed (spawn_id, what, actor, attempts, next_at, last_error)
        SELECT id, 'leftovers', 'spawnbot', 1, 0, error FROM spawns WHERE status = 'deleting' AND error LIKE 'cleanup pending%';
      DROP TABLE delete_retries;
    `,
  },
  {
    version: 15,
    description: "The bot's identity kept with its data (its SSH key, sealed; a check of its secret key), shared by every process on it",
    // Replicas on one database must be one bot: the servers it made trust one SSH key, and users'
    // secrets open with one secret key. The first process stores both (sealed); the rest read them.
    sql: `
      CREATE TABLE bot_identity (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 16,
    description: "Send slots: the next free time of each outbound chat rate-limit lane, shared by every replica",
    // Replicas posting into one workspace must keep to its limits together: each books its next
    // send in the lane's row (one row per lane; rows a minute stale are deleted as they are met).
    sql: `
      CREATE TABLE send_slots (
        lane     TEXT PRIMARY KEY,
        next_at  INTEGER NOT NULL
      ) STRICT;
    `,
  },
];

// The highest version; with every migration merged it equals the count (a store test checks).
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

export function readSchemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Bring the file up to SCHEMA_VERSION. Each migration runs in its own BEGIN IMMEDIATE
 * transaction that re-reads user_version first, so two processes opening a fresh file at once
 * apply each migration exactly once; a file already at SCHEMA_VERSION is not written at all.
 */
export function migrate(db: Database.Database): void {
  const found = readSchemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new Error(
      `store file has schema version ${found}, newer than this build's ${SCHEMA_VERSION}; upgrade spawnbot or use another file`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= found) continue;
    const apply = db.transaction(() => {
      if (readSchemaVersion(db) >= migration.version) return; // another process got there first
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}
