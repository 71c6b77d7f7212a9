// Versioned schema migrations for both datastore engines. Each migration is a numbered entry with the
// SQL of each engine; `schema_migrations` records which versions a database has (version + applied_at).
// Migrations run at open, in order, each in its own transaction. A database whose schema is newer than
// this code knows is refused: old code on a new schema would misread it without a word.
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

export interface Migration {
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'apps and routes',
    // STRICT: SQLite then rejects a value of the wrong type instead of storing it silently.
    sqlite: `
      CREATE TABLE apps (
        name TEXT PRIMARY KEY,
        config TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
      CREATE TABLE routes (
        app_name TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        path TEXT NOT NULL,
        image TEXT NOT NULL,
        format TEXT NOT NULL,
        memory INTEGER NOT NULL,
        timeout INTEGER NOT NULL,
        idle_timeout INTEGER NOT NULL,
        type TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        headers TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (app_name, path)
      ) STRICT;`,
    postgres: `
      CREATE TABLE apps (
        name text PRIMARY KEY,
        config jsonb NOT NULL DEFAULT '{}'
      );
      CREATE TABLE routes (
        app_name text NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        path text NOT NULL,
        image text NOT NULL,
        format text NOT NULL,
        memory integer NOT NULL,
        timeout integer NOT NULL,
        idle_timeout integer NOT NULL,
        type text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        headers jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (app_name, path)
      );`,
  },
  {
    version: 2,
    description: "routes.cpus (Fn's CPU share of a function)",
    sqlite: `ALTER TABLE routes ADD COLUMN cpus TEXT NOT NULL DEFAULT '';`,
    postgres: `ALTER TABLE routes ADD COLUMN cpus text NOT NULL DEFAULT '';`,
  },
  {
    version: 3,
    description: 'v2: app ids and timestamps, fns, triggers',
    // Timestamps are text in both engines: ISO-8601 in UTC with milliseconds (2026-12-07T15:04:05.123Z),
    // exactly as the API wrote them. An app that predates this migration gets 26 random uppercase hex
    // characters as its id (every one a ULID character) and the migration's time as its timestamps;
    // the column defaults do the same for a row inserted without them.
    //
    // SQLite cannot add a NOT NULL column with a computed default, so apps is rebuilt. Migrations run
    // in a transaction with foreign keys on, and dropping apps would then delete its routes through
    // the cascade: routes is set aside in a temporary copy, dropped, and recreated as it was.
    sqlite: `
      CREATE TEMP TABLE routes_before_v3 AS SELECT * FROM routes;
      DROP TABLE routes;
      CREATE TABLE apps_v3 (
        id TEXT NOT NULL UNIQUE DEFAULT (upper(hex(randomblob(13)))),
        name TEXT PRIMARY KEY,
        config TEXT NOT NULL DEFAULT '{}',
        annotations TEXT NOT NULL DEFAULT '{}',
        syslog_url TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
      INSERT INTO apps_v3 (name, config) SELECT name, config FROM apps;
      DROP TABLE apps;
      ALTER TABLE apps_v3 RENAME TO apps;
      CREATE TABLE routes (
        app_name TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
        path TEXT NOT NULL,
        image TEXT NOT NULL,
        format TEXT NOT NULL,
        memory INTEGER NOT NULL,
        timeout INTEGER NOT NULL,
        idle_timeout INTEGER NOT NULL,
        type TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        headers TEXT NOT NULL DEFAULT '{}',
        cpus TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (app_name, path)
      ) STRICT;
      INSERT INTO routes (app_name, path, image, format, memory, timeout, idle_timeout, type, config, headers, cpus)
        SELECT app_name, path, image, format, memory, timeout, idle_timeout, type, config, headers, cpus
        FROM temp.routes_before_v3;
      DROP TABLE temp.routes_before_v3;
      CREATE TABLE fns (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        image TEXT NOT NULL,
        memory INTEGER NOT NULL,
        timeout INTEGER NOT NULL,
        idle_timeout INTEGER NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        annotations TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (app_id, name)
      ) STRICT;
      CREATE TABLE triggers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        fn_id TEXT NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        source TEXT NOT NULL,
        annotations TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (app_id, type, source),
        UNIQUE (app_id, fn_id, name)
      ) STRICT;
      CREATE INDEX triggers_fn_id ON triggers (fn_id);`,
    // A volatile default is evaluated per row when the column is added, so every app gets its own id.
    // The unique constraints are named: a violation maps to its message by constraint name (rows.ts).
    postgres: `
      ALTER TABLE apps
        ADD COLUMN id text NOT NULL DEFAULT upper(substr(md5(random()::text || clock_timestamp()::text), 1, 26)),
        ADD COLUMN annotations jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN syslog_url text,
        ADD COLUMN created_at text NOT NULL
          DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        ADD COLUMN updated_at text NOT NULL
          DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
      ALTER TABLE apps ADD CONSTRAINT apps_id_key UNIQUE (id);
      CREATE TABLE fns (
        id text PRIMARY KEY,
        name text NOT NULL,
        app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        image text NOT NULL,
        memory integer NOT NULL,
        timeout integer NOT NULL,
        idle_timeout integer NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        annotations jsonb NOT NULL DEFAULT '{}',
        created_at text NOT NULL,
        updated_at text NOT NULL,
        CONSTRAINT fns_app_id_name_key UNIQUE (app_id, name)
      );
      CREATE TABLE triggers (
        id text PRIMARY KEY,
        name text NOT NULL,
        app_id text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        fn_id text NOT NULL REFERENCES fns(id) ON DELETE CASCADE,
        type text NOT NULL,
        source text NOT NULL,
        annotations jsonb NOT NULL DEFAULT '{}',
        created_at text NOT NULL,
        updated_at text NOT NULL,
        CONSTRAINT triggers_app_id_type_source_key UNIQUE (app_id, type, source),
        CONSTRAINT triggers_app_id_fn_id_name_key UNIQUE (app_id, fn_id, name)
      );
      CREATE INDEX triggers_fn_id ON triggers (fn_id);`,
  },
];

export const SCHEMA_VERSION = latestVersion(MIGRATIONS);

/** The database was migrated by a newer fn-node; this one must not touch it. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `database schema version ${databaseVersion} is newer than this fn-node supports (${knownVersion}); ` +
        'upgrade fn-node or point DB_URL at another database',
    );
  }
}

/** Any bigint works; this one is "fnguard" in ASCII so it is recognisable in pg_locks. */
const ADVISORY_LOCK_KEY = '28831838254494308';

const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL
) STRICT`;

const POSTGRES_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Applies the pending migrations. Each runs under `BEGIN IMMEDIATE`, which takes SQLite's write lock
 * before reading the applied versions, so several processes opening one file at once apply each
 * migration exactly once. Returns the versions applied by this call.
 */
export function migrateSqlite(db: BetterSqlite3.Database, migrations = MIGRATIONS): number[] {
  checkOrder(migrations);
  const known = latestVersion(migrations);
  db.transaction(() => db.exec(SQLITE_TABLE)).immediate();
  const applied: number[] = [];
  for (const migration of migrations) {
    db.transaction(() => {
      const versions = new Set(
        (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
          (row) => row.version,
        ),
      );
      refuseNewer(versions, known);
      if (versions.has(migration.version)) return;
      db.exec(migration.sqlite);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        new Date().toISOString(),
      );
      applied.push(migration.version);
    }).immediate();
  }
  return applied;
}

/**
 * Applies the pending migrations on a dedicated session holding a session-level advisory lock, so
 * nodes starting together against one database queue behind each other and only the first migrates.
 * The lock is released on unlock or, if the session dies, by the server.
 */
export async function migratePostgres(client: pg.Client, migrations = MIGRATIONS): Promise<number[]> {
  checkOrder(migrations);
  const known = latestVersion(migrations);
  await client.query('SELECT pg_advisory_lock($1::bigint)', [ADVISORY_LOCK_KEY]);
  try {
    await client.query(POSTGRES_TABLE);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const versions = new Set(rows.map((row) => row.version));
    refuseNewer(versions, known);
    const applied: number[] = [];
    for (const migration of migrations) {
      if (versions.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.postgres);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [ADVISORY_LOCK_KEY]).catch(() => undefined);
  }
}

function refuseNewer(versions: Set<number>, known: number): void {
  const newest = Math.max(0, ...versions);
  if (newest > known) throw new SchemaTooNewError(newest, known);
}

function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration ${index} has version ${migration.version}; versions must be 1, 2, 3, ...`);
    }
  });
}
