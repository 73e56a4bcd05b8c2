/**
 * The headend store: one SQLite connection, migrated, with one repo per aggregate (DESIGN.md §7). Built by
 * `openStore`, passed to everything that needs it (no module singleton, STYLE.md guideline 5).
 */
import type { Database } from 'better-sqlite3';
import { type AuditRepo, createAuditRepo } from './audit.js';
import { openDatabase } from './db.js';
import { createEventsRepo, type EventsRepo } from './events.js';
import { createGroupsRepo, type GroupsRepo } from './groups.js';
import { createLineupRepo, type LineupRepo } from './lineup.js';
import { createMetaRepo, type MetaRepo } from './meta.js';
import { type MigrateResult, type Migration, migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { createRecordingsRepo, type RecordingsRepo } from './recordings.js';
import { createSchedulesRepo, type SchedulesRepo } from './schedules.js';
import { createStateHistoryRepo, type StateHistoryRepo } from './state-history.js';
import { createStationsRepo, type StationsRepo } from './stations.js';

/** The store handed to the headend's modules. */
export interface Store {
  /** The connection (for modules with their own tables, e.g. guide, and for transactions across repos). */
  readonly db: Database;
  readonly meta: MetaRepo;
  readonly stations: StationsRepo;
  readonly groups: GroupsRepo;
  readonly lineup: LineupRepo;
  readonly schedules: SchedulesRepo;
  readonly events: EventsRepo;
  readonly recordings: RecordingsRepo;
  readonly stateHistory: StateHistoryRepo;
  readonly audit: AuditRepo;
  /** What migration did when the store was opened. */
  readonly migration: MigrateResult;
  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Options of `openStore`. */
export interface StoreOptions {
  /** Clock for timestamps; tests pass a fake one. */
  now?: () => Date;
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

/** Opens (creating and migrating when needed) the store at `file` (`:memory:` for tests). */
export function openStore(file: string, opts: StoreOptions = {}): Store {
  const now = opts.now ?? (() => new Date());
  const db = openDatabase(
    file,
    opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs },
  );
  let migration: MigrateResult;
  try {
    migration = migrate(db, opts.migrations ?? MIGRATIONS, now);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    db,
    meta: createMetaRepo(db),
    stations: createStationsRepo(db, now),
    groups: createGroupsRepo(db, now),
    lineup: createLineupRepo(db, now),
    schedules: createSchedulesRepo(db, now),
    events: createEventsRepo(db, now),
    recordings: createRecordingsRepo(db),
    stateHistory: createStateHistoryRepo(db, now),
    audit: createAuditRepo(db, now),
    migration,
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => {
      if (db.open) db.close();
    },
  };
}

export { StoreError } from './errors.js';
