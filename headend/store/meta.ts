/** Single-value settings of the headend database (`meta` table): the schedule epoch, the line-up version. */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.js';

/** Repo over the `meta` table. */
export interface MetaRepo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** The current schedule epoch: every document issued now carries it (DESIGN.md §4). */
  scheduleEpoch(): number;
  /** Starts a new epoch, strictly greater than the current one and than `atLeast`; returns it. */
  bumpScheduleEpoch(atLeast?: number): number;
}

export function createMetaRepo(db: Database): MetaRepo {
  const getStmt = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setStmt = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const repo: MetaRepo = {
    get: (key) => getStmt.get(key)?.value,
    set: (key, value) => {
      setStmt.run(key, value);
    },
    scheduleEpoch: () => {
      const v = Number(repo.get('schedule_epoch'));
      if (!Number.isSafeInteger(v) || v < 0)
        throw new StoreError('CONFLICT', 'meta.schedule_epoch is corrupt');
      return v;
    },
    bumpScheduleEpoch: (atLeast = 0) =>
      db.transaction(() => {
        const next = Math.max(repo.scheduleEpoch(), atLeast) + 1;
        repo.set('schedule_epoch', String(next));
        return next;
      })(),
  };
  return repo;
}
