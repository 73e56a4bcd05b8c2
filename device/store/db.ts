/**
 * The station's local store (DESIGN.md §6 "Offline first"): better-sqlite3 in WAL mode with
 * `synchronous=FULL`, so a committed transaction survives a power cut — the outbox's exactly-once promise
 * (DESIGN.md §4) depends on it. One `StationStore` per database; several can live in one process (the
 * quick-start fleet runs many agents), so nothing here is a module singleton.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { AlarmStateRepo } from './alarm-state.js';
import { CountersRepo } from './counters.js';
import { StoreError } from './errors.js';
import { JournalRepo } from './journal.js';
import { type MigrationReport, migrate } from './migrate.js';
import { type Migration, STATION_MIGRATIONS } from './migrations/index.js';
import { OutboxRepo } from './outbox.js';
import { RecorderProcessesRepo } from './recorder-processes.js';
import { RecordingsRepo } from './recordings.js';
import { RpcRidsRepo } from './rpc-rids.js';
import { RunMarkerRepo } from './run-marker.js';
import { ScheduleRepo } from './schedule.js';
import { runInTransaction, type StoreTx } from './tx.js';

export interface StationStoreDeps {
  /** Wall clock (ms since the epoch) for bookkeeping timestamps; `Date.now` when omitted. */
  clock?: { now(): number };
  logger?: Logger;
  /** Source of the random storeId; node:crypto when omitted (tests pass a fixed one). */
  randomBytes?: (n: number) => Buffer;
  /** Migrations to apply; the station's own list when omitted (tests pass extra ones). */
  migrations?: readonly Migration[];
}

export interface StationStore {
  /** Random hex id of this database, created at first open; keys every event with `seq` (DESIGN.md §4). */
  readonly storeId: string;
  readonly path: string;
  /** What the migrations runner did at open. */
  readonly migration: MigrationReport;
  /** The raw connection, for diagnostics and tests; application code uses the repos. */
  readonly db: Database;
  readonly schedule: ScheduleRepo;
  readonly journal: JournalRepo;
  readonly outbox: OutboxRepo;
  readonly recordings: RecordingsRepo;
  readonly processes: RecorderProcessesRepo;
  readonly counters: CountersRepo;
  readonly rpc: RpcRidsRepo;
  /** Which agent run is live and whether the last one stopped cleanly (power-cut detection). */
  readonly runs: RunMarkerRepo;
  /** Active station alarms, restored at start (device/link/alarms.ts). */
  readonly alarmState: AlarmStateRepo;
  /**
   * Runs `fn` in one IMMEDIATE transaction: a journal row and the event reporting it commit together or not
   * at all. `fn` must be synchronous. Nested calls become savepoints.
   */
  transaction<T>(fn: (tx: StoreTx) => T): T;
  /** Checkpoints the WAL and closes the connection. */
  close(): void;
}

/** Number of random bytes in a storeId (32 hex chars; protocol allows 16–64). */
const STORE_ID_BYTES = 16;

/** Opens (creating if needed) the station database at `path` and brings its schema up to date. */
export function openStationStore(path: string, deps: StationStoreDeps = {}): StationStore {
  const now = () => new Date(deps.clock?.now() ?? Date.now()).toISOString();
  let db: Database;
  try {
    db = new BetterSqlite3(path);
  } catch (err) {
    throw new StoreError('OPEN_FAILED', `cannot open station database ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') {
      throw new StoreError('OPEN_FAILED', `${path}: journal_mode is ${String(mode)}, WAL required`);
    }
    // FULL: WAL is fsynced on every commit, so an acknowledged transaction survives a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const migration = migrate(db, deps.migrations ?? STATION_MIGRATIONS, now);
    const storeId = ensureStoreId(db, deps.randomBytes ?? nodeRandomBytes, now());
    if (migration.applied.length > 0) {
      deps.logger?.info({ path, from: migration.from, to: migration.to, storeId }, 'station store migrated');
    }
    return {
      storeId,
      path,
      migration,
      db,
      schedule: new ScheduleRepo(db),
      journal: new JournalRepo(db),
      outbox: new OutboxRepo(db, storeId),
      recordings: new RecordingsRepo(db),
      processes: new RecorderProcessesRepo(db),
      counters: new CountersRepo(db),
      rpc: new RpcRidsRepo(db),
      runs: new RunMarkerRepo(db),
      alarmState: new AlarmStateRepo(db),
      transaction: (fn) => runInTransaction(db, fn),
      close() {
        if (!db.open) return;
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
        } finally {
          db.close();
        }
      },
    };
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError('OPEN_FAILED', `cannot prepare station database ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}

function ensureStoreId(db: Database, randomBytes: (n: number) => Buffer, nowIso: string): string {
  const existing = db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as
    | { value: string }
    | undefined;
  if (existing) return existing.value;
  const id = randomBytes(STORE_ID_BYTES).toString('hex');
  const insert = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    insert.run('store_id', id);
    insert.run('created_at', nowIso);
  }).immediate();
  // Another connection may have won the race; whatever is stored is the id.
  return (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string }).value;
}
