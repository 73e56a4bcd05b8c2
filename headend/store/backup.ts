/**
 * Online backup and restore of the headend database (DESIGN.md §7). A backup uses SQLite's backup API
 * (better-sqlite3 `db.backup()`), which copies a consistent snapshot while the headend keeps writing (WAL).
 * A restore verifies the file, migrates it, and starts a NEW schedule epoch greater than both the restored
 * and the replaced database's, so every station accepts the restored headend's next documents as newer
 * even though their `n` starts again at 1 (DESIGN.md §4 "Desired state").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { createAuditRepo } from './audit.js';
import { openDatabase } from './db.js';
import { StoreError } from './errors.js';
import { assertNotRunning } from './lock.js';
import { createMetaRepo } from './meta.js';
import { type Migration, migrate } from './migrate.js';

/** What a backup or a restore produced. */
export interface BackupInfo {
  file: string;
  bytes: number;
  schemaVersion: number;
  scheduleEpoch: number;
}

/** Checks that `file` is a sound headend database; returns its schema version and epoch. */
export function inspectBackup(file: string): { schemaVersion: number; scheduleEpoch: number } {
  let db: Database | undefined;
  try {
    db = openDatabase(file, { readonly: true });
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok')
      throw new StoreError('NOT_A_BACKUP', `${file}: integrity check failed: ${String(check)}`);
    const hasTables = db
      .prepare(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'meta')",
      )
      .get() as { n: number };
    if (hasTables.n !== 2) throw new StoreError('NOT_A_BACKUP', `${file}: not a headend database`);
    const v = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const e = db.prepare("SELECT value FROM meta WHERE key = 'schedule_epoch'").get() as
      | { value: string }
      | undefined;
    return { schemaVersion: v.v ?? 0, scheduleEpoch: Number(e?.value ?? 0) };
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('NOT_A_BACKUP', `${file}: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** Writes a consistent copy of the live database `db` to `file` (the directory is created). */
export async function backupDatabase(db: Database, file: string): Promise<BackupInfo> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(file)) throw new StoreError('ALREADY_EXISTS', `${file} exists; choose another name`);
  await db.backup(file);
  const info = inspectBackup(file);
  return { file, bytes: fs.statSync(file).size, ...info };
}

/** Default name of a backup in the data dir: `backups/headend-20261127T110000Z.db`. */
export function defaultBackupPath(dataDir: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return path.join(dataDir, 'backups', `headend-${stamp}.db`);
}

function liveEpoch(dbFile: string): number {
  if (!fs.existsSync(dbFile)) return 0;
  try {
    return inspectBackup(dbFile).scheduleEpoch;
  } catch {
    return 0;
  }
}

/** Options of `restoreDatabase`. */
export interface RestoreOptions {
  /** The database file the headend uses (`<dataDir>/headend.db`). */
  dbFile: string;
  /** The backup to restore. */
  backupFile: string;
  migrations: readonly Migration[];
  /** Who asked (audit log). */
  actor: string;
  now?: () => Date;
}

/**
 * Replaces `dbFile` with `backupFile`. Refuses while a headend runs on the data dir. The replaced database
 * is kept beside it as `headend.db.pre-restore-<stamp>`.
 */
export async function restoreDatabase(
  opts: RestoreOptions,
): Promise<BackupInfo & { previous: string | null }> {
  const now = opts.now ?? (() => new Date());
  const dataDir = path.dirname(opts.dbFile);
  assertNotRunning(dataDir);
  const restored = inspectBackup(opts.backupFile);
  if (restored.schemaVersion > opts.migrations.length) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `backup schema ${restored.schemaVersion} is newer than this headend knows`,
    );
  }
  const epochBefore = liveEpoch(opts.dbFile);
  const tmp = `${opts.dbFile}.restoring`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true });

  const src = openDatabase(opts.backupFile, { readonly: true });
  try {
    await src.backup(tmp);
  } finally {
    src.close();
  }
  const db = openDatabase(tmp);
  let epoch: number;
  try {
    migrate(db, opts.migrations, now);
    epoch = createMetaRepo(db).bumpScheduleEpoch(epochBefore);
    createAuditRepo(db, now).record({
      actor: opts.actor,
      action: 'store.restore',
      details: {
        backupFile: path.resolve(opts.backupFile),
        epochBefore,
        restoredEpoch: restored.scheduleEpoch,
        newEpoch: epoch,
      },
    });
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }

  let previous: string | null = null;
  if (fs.existsSync(opts.dbFile)) {
    // Fold the live WAL into the main file before moving it, so the kept copy is complete.
    const live = openDatabase(opts.dbFile);
    live.pragma('wal_checkpoint(TRUNCATE)');
    live.close();
    previous = `${opts.dbFile}.pre-restore-${now().toISOString().replace(/[-:.]/g, '')}`;
    fs.renameSync(opts.dbFile, previous);
  }
  for (const f of [`${opts.dbFile}-wal`, `${opts.dbFile}-shm`]) fs.rmSync(f, { force: true });
  fs.renameSync(tmp, opts.dbFile);
  for (const f of [`${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true });
  return {
    file: opts.dbFile,
    bytes: fs.statSync(opts.dbFile).size,
    schemaVersion: inspectBackup(opts.dbFile).schemaVersion,
    scheduleEpoch: epoch,
    previous,
  };
}
