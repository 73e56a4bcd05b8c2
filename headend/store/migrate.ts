/**
 * The one migrations runner (STYLE.md guideline 12). Migrations are TypeScript modules
 * (`migrations/NNN-name.ts`) exporting `{version, name, up}`; `up` is SQL run in one transaction together
 * with the row that records it, so a migration is applied entirely or not at all. Running it again is a
 * no-op; a database newer than the code, or one whose recorded names disagree with the code, is refused.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.js';

/** One schema migration. */
export interface Migration {
  /** 1, 2, 3…: applied in order, each once. */
  readonly version: number;
  /** Short kebab-case name, recorded with the version. */
  readonly name: string;
  /** SQL statements. */
  readonly up: string;
}

/** What `migrate` did. */
export interface MigrateResult {
  /** Schema version before. */
  from: number;
  /** Schema version after. */
  to: number;
  /** Versions applied by this call. */
  applied: number[];
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(
        'BAD_MIGRATIONS',
        `migration #${i + 1} has version ${m.version}: versions must be 1, 2, 3… in order`,
      );
    }
  });
}

/** Schema version recorded in `db` (0 for a new database). */
export function schemaVersion(db: Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies every migration newer than the database's version. */
export function migrate(
  db: Database,
  migrations: readonly Migration[],
  now: () => Date = () => new Date(),
): MigrateResult {
  checkList(migrations);
  const from = schemaVersion(db);
  if (from > migrations.length) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `database schema version ${from} is newer than this headend knows (${migrations.length}); upgrade the headend`,
    );
  }
  const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
  }[];
  for (const r of recorded) {
    const m = migrations[r.version - 1];
    if (!m || m.name !== r.name) {
      throw new StoreError(
        'MIGRATION_MISMATCH',
        `database has migration ${r.version} "${r.name}" but the code has "${m?.name ?? '(none)'}"`,
      );
    }
  }
  const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      db.exec(m.up);
      insert.run(m.version, m.name, now().toISOString());
    })();
    applied.push(m.version);
  }
  return { from, to: migrations.length, applied };
}
