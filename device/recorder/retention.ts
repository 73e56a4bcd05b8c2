/**
 * Retention (DESIGN.md §6 "Disk quota and retention"; DOMAIN.md §6 "Disk full"). `planRetention` is pure:
 * which recordings to delete and why. `runRetention` is the thin shell that deletes files, then catalogue
 * rows.
 *
 * Rules, in order:
 * 1. Never a running recording, never a protected one.
 * 2. keep-N per entry (MythTV's "max episodes"): of an entry's finished recordings, only the newest N are
 *    kept; older unprotected ones go even without space pressure. Protected ones count toward the N.
 * 3. Space: while more bytes are needed, the oldest finished unprotected recording goes first (by finish
 *    time, then planned start, then id — deterministic).
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { StoreError } from '../store/errors.js';
import type { Recording, RecordingsRepo } from '../store/recordings.js';

export interface RetentionItem {
  id: number;
  entryId: string;
  plannedStart: string;
  finishedAt: string | null;
  state: 'running' | 'finished';
  protected: boolean;
  /** keep-N recorded with the recording; null = no limit. */
  keep: number | null;
  bytes: number;
}

export interface RetentionDecision {
  id: number;
  reason: 'keep_n' | 'space';
  bytes: number;
}

export interface RetentionPlan {
  delete: RetentionDecision[];
  /** Bytes the deletions free (catalogue figures). */
  freedBytes: number;
  /** Bytes still missing after every allowed deletion (0 = the need is met). */
  shortBytes: number;
}

export interface RetentionOptions {
  /** Bytes to free; 0 = only enforce keep-N. */
  needBytes: number;
  /** Current keep-N per entry (from the applied schedule); overrides what the recordings carry. */
  keepByEntry?: Readonly<Record<string, number | null>>;
}

const byAge = (a: RetentionItem, b: RetentionItem) =>
  (a.finishedAt ?? a.plannedStart).localeCompare(b.finishedAt ?? b.plannedStart) ||
  a.plannedStart.localeCompare(b.plannedStart) ||
  a.id - b.id;

/** What to delete (pure). */
export function planRetention(items: readonly RetentionItem[], opts: RetentionOptions): RetentionPlan {
  const finished = items.filter((i) => i.state === 'finished');
  const chosen = new Map<number, RetentionDecision>();

  const byEntry = new Map<string, RetentionItem[]>();
  for (const i of finished) byEntry.set(i.entryId, [...(byEntry.get(i.entryId) ?? []), i]);
  for (const [entryId, list] of byEntry) {
    const newestFirst = [...list].sort((a, b) => byAge(b, a));
    const keep =
      opts.keepByEntry && entryId in opts.keepByEntry
        ? opts.keepByEntry[entryId]
        : (newestFirst[0]?.keep ?? null);
    if (keep === null || keep === undefined) continue;
    for (const item of newestFirst.slice(Math.max(0, keep))) {
      if (!item.protected) chosen.set(item.id, { id: item.id, reason: 'keep_n', bytes: item.bytes });
    }
  }

  let freed = [...chosen.values()].reduce((n, d) => n + d.bytes, 0);
  const deletable = finished.filter((i) => !i.protected && !chosen.has(i.id)).sort(byAge);
  for (const item of deletable) {
    if (freed >= opts.needBytes) break;
    chosen.set(item.id, { id: item.id, reason: 'space', bytes: item.bytes });
    freed += item.bytes;
  }
  return {
    delete: [...chosen.values()],
    freedBytes: freed,
    shortBytes: Math.max(0, opts.needBytes - freed),
  };
}

export function toRetentionItem(r: Recording): RetentionItem {
  return {
    id: r.id,
    entryId: r.entryId,
    plannedStart: r.plannedStart,
    finishedAt: r.finishedAt,
    state: r.state,
    protected: r.protected,
    keep: r.keep,
    bytes: r.bytes,
  };
}

export interface RetentionReport {
  deleted: { id: number; entryId: string; dir: string; reason: RetentionDecision['reason']; bytes: number }[];
  /** Bytes actually removed from disk. */
  freedBytes: number;
  /** Bytes still missing (per the catalogue) after every allowed deletion. */
  shortBytes: number;
  errors: { id: number; code: string; message: string }[];
}

/** Total size of the files under `dir` (apparent size); 0 when it does not exist. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(p);
    else {
      try {
        total += (await lstat(p)).size;
      } catch {
        // vanished meanwhile
      }
    }
  }
  return total;
}

/** `rel` resolved under `root`, or null if it would escape it (a catalogue row must never delete /). */
export function insideRoot(root: string, rel: string): string | null {
  const abs = path.resolve(root, rel);
  const r = path.relative(root, abs);
  return r === '' || r.startsWith('..') || path.isAbsolute(r) ? null : abs;
}

export interface RetentionDeps {
  recordings: RecordingsRepo;
  /** Absolute recordings root; catalogue `dir`s are relative to it. */
  root: string;
  logger: Logger;
}

/** Deletes what `planRetention` chose: files first, then the catalogue row. Stops on a read-only disk. */
export async function runRetention(deps: RetentionDeps, opts: RetentionOptions): Promise<RetentionReport> {
  const all = deps.recordings.list();
  const plan = planRetention(all.map(toRetentionItem), opts);
  const report: RetentionReport = { deleted: [], freedBytes: 0, shortBytes: plan.shortBytes, errors: [] };
  for (const d of plan.delete) {
    const rec = all.find((r) => r.id === d.id);
    if (!rec) continue;
    const abs = insideRoot(deps.root, rec.dir);
    if (!abs) {
      report.errors.push({
        id: rec.id,
        code: 'BAD_PATH',
        message: `dir ${rec.dir} is outside the recordings root`,
      });
      continue;
    }
    const bytes = await directoryBytes(abs);
    try {
      await rm(abs, { recursive: true, force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      report.errors.push({ id: rec.id, code, message: String(err) });
      if (code === 'EROFS') break;
      continue;
    }
    deps.recordings.remove(rec.id);
    report.freedBytes += bytes;
    report.deleted.push({ id: rec.id, entryId: rec.entryId, dir: rec.dir, reason: d.reason, bytes });
    deps.logger.info(
      { recordingId: rec.id, entryId: rec.entryId, reason: d.reason, bytes },
      'retention deleted recording',
    );
  }
  return report;
}

/**
 * Deletes one recording on request (`recordings.delete` RPC): its files, then its catalogue row. A running
 * recording is refused (StoreError CONFLICT, DESIGN.md §6); an unknown id is NOT_FOUND. The caller keeps the
 * RPC's rid so a redelivery never runs this twice.
 */
export async function deleteRecording(
  deps: Omit<RetentionDeps, 'logger'>,
  id: number,
): Promise<{ id: number; bytes: number }> {
  const rec = deps.recordings.get(id);
  if (!rec) throw new StoreError('NOT_FOUND', `no recording ${id}`);
  if (rec.state === 'running') throw new StoreError('CONFLICT', `recording ${id} is running`);
  const abs = insideRoot(deps.root, rec.dir);
  if (!abs)
    throw new StoreError('CONFLICT', `recording ${id}: dir ${rec.dir} is outside the recordings root`);
  const bytes = await directoryBytes(abs);
  await rm(abs, { recursive: true, force: true });
  deps.recordings.remove(id);
  return { id, bytes };
}
