/**
 * The one migrations runner (STYLE.md §12). Applied versions are recorded with their names in
 * `schema_migrations`; each pending migration runs in its own IMMEDIATE transaction together with its
 * bookkeeping row, so a crash or a throwing migration leaves the database at the previous version.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { Migration } from './migrations/types.js';

/** What `migrate` did. */
export interface MigrationReport {
  /** Version before and after. */
  from: number;
  to: number;
  /** Versions applied by this call, in order. */
  applied: number[];
}

/** Throws unless versions are 1, 2, 3 … in order with unique names: a broken list is a build error. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(
        'MIGRATION_MISMATCH',
        `migration list out of order: position ${i + 1} holds version ${m.version} (${m.name})`,
      );
    }
  });
}

/** Brings `db` up to the newest migration in `migrations`. */
export function migrate(
  db: Database,
  migrations: readonly Migration[],
  nowIso: () => string,
): MigrationReport {
  checkMigrationList(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
  }[];
  for (const row of rows) {
    const known = migrations[row.version - 1];
    if (!known) {
      throw new StoreError(
        'DB_TOO_NEW',
        `database has migration ${row.version} (${row.name}) which this agent does not know; ` +
          'it was written by a newer agent — upgrade the agent instead of downgrading the database',
      );
    }
    if (known.name !== row.name) {
      throw new StoreError(
        'MIGRATION_MISMATCH',
        `migration ${row.version} is recorded as '${row.name}' but this build calls it '${known.name}'`,
      );
    }
  }
  const from = rows.length === 0 ? 0 : (rows[rows.length - 1]?.version ?? 0);
  const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations.slice(from)) {
    const apply = db.transaction(() => {
      m.up(db);
      insert.run(m.version, m.name, nowIso());
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      apply.immediate();
    } catch (err) {
      throw new StoreError('MIGRATION_FAILED', `migration ${m.version} (${m.name}) failed: ${String(err)}`, {
        cause: err,
      });
    }
    applied.push(m.version);
  }
  return { from, to: from + applied.length, applied };
}
