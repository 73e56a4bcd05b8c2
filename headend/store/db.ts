/**
 * Opens the headend's SQLite database (DESIGN.md §7: SQLite in WAL mode is the source of truth).
 * WAL lets the HTTP API and a worker thread read while one writer commits; `busy_timeout` makes a second
 * connection (the XMLTV worker, the CLI) wait for the writer instead of failing with SQLITE_BUSY.
 */
import Database from 'better-sqlite3';

export type { Database } from 'better-sqlite3';

type Db = Database.Database;

/** Page cache per connection, KiB. */
const CACHE_KIB = 64 * 1024;

/**
 * WAL pages before a commit checkpoints them into the database file (SQLite's default is 1 000, ~4 MiB).
 * A fleet-wide push at 5 000 stations writes ~5 MiB of documents and then rewrites the same pages when the
 * broker's PUBACKs set their published flags, so with the default every push paid a checkpoint (copy and
 * fsync) of pages it was about to change again; at 8 000 (~32 MiB of WAL at most) one checkpoint covers
 * several pushes and copies each page once: insert + publish-flag writes of a push −30–40 % measured here
 * (scripts/bench/fanout-mosquitto.ts). Durability is the WAL's either way.
 */
const WAL_AUTOCHECKPOINT_PAGES = 8000;

/** Options of `openDatabase`. */
export interface OpenOptions {
  /** Open read-only (reports, `list`). */
  readonly?: boolean;
  /** Milliseconds a connection waits for a lock held by another one. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating when missing) the database at `file` (`:memory:` works for tests) with the pragmas every
 * connection needs. `synchronous=FULL`: the headend advances a station's event ack right after a commit and
 * the station then deletes its copy (DESIGN.md §4), so a commit must survive a power cut.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  }
  // 64 MiB of page cache instead of SQLite's 2 MiB default: a fleet-wide push reads and writes one schedule
  // document per station (5 000 × ~1 KiB and more), and with the default every read of a station's newest
  // document, registry row or status went back to the OS for its page (scripts/bench/fanout-mosquitto.ts).
  db.pragma(`cache_size = ${-CACHE_KIB}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/** Current UTC time as the protocol writes it (`…Z`, DESIGN.md §4). */
export function isoNow(now: () => Date = () => new Date()): string {
  return now().toISOString();
}
