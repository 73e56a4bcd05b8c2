/**
 * The import's writes, on the worker's own connection: a staging table, then one transaction per service
 * window in which SQLite itself diffs the staged programmes against the stored ones and applies the
 * difference (unchanged programmes never travel back into JavaScript).
 *
 * The staging tables live in the connection's TEMP schema (a temporary file: better-sqlite3 is built with
 * SQLITE_TEMP_STORE=1, and its page cache is capped), so a file of any size is parsed into SQLite rather
 * than into JavaScript memory; they also take no lock on the main database, so nothing is visible (and
 * nothing blocks the headend's writer) until the whole file has parsed cleanly.
 *
 * What it costs (DESIGN.md §8: the import within 1.5× a bare parse; scripts/bench/xmltv.ts): binding a
 * value from JavaScript costs more than SQLite storing it, so only accepted programmes are staged, with
 * just the columns the guide stores, many rows per statement; each channel's rows get one contiguous
 * range of `seq`, so a service's first import copies a rowid range and the staging table needs no index
 * unless a service already has programmes to diff against. A channel that is split across the file waits
 * in a second table, as written, until the whole file has been read (see import-read.ts).
 */
import type { Database, Statement } from 'better-sqlite3';
import { PROGRAMME_COLUMNS } from './guide-store.js';
import type { GuideProgramme, MoveCandidate } from './guide-validate.js';
import {
  BatchInsert,
  fillRaw,
  fillStaged,
  RAW_COLUMNS,
  type RawRow,
  type SeqRange,
  STAGED_COLUMNS,
  sourceOfRaw,
} from './staging-rows.js';
import type { NormalizedProgramme } from './xmltv-programme.js';

export type { SeqRange } from './staging-rows.js';

/** Descriptive fields differ (`IS NOT`: NULL-safe). */
const DETAILS_DIFFER = [
  'event_id',
  'title',
  'sub_title',
  'episode',
  'description',
  'category',
  'lang',
  'titles_json',
]
  .map((c) => `g.${c} IS NOT t.${c}`)
  .join(' OR ');

/** What applying one service's window found and did (the SQL did the diff). */
export interface AppliedWindow {
  /** The service had no programmes at all: everything accepted was added (nothing read back). */
  firstImport: boolean;
  /** Programmes that were in the window and are not in the file any more. */
  removed: MoveCandidate[];
  /** Programmes new to the window (before move pairing); null when nothing vanished, so nothing can pair. */
  added: MoveCandidate[] | null;
  /** Starts of the programmes new to the window (empty on a first import). */
  addedStarts: number[];
  /** Same id, new times. */
  moved: { from: MoveCandidate; to: MoveCandidate }[];
  /** Same id and times, other details changed: their starts. */
  updatedStarts: number[];
  /** Accepted programmes of the file for this service. */
  accepted: number;
}

interface CandidateRow {
  programme_id: string;
  title: string;
  sub_title: string | null;
  episode: string | null;
  start_ms: number;
  stop_ms: number;
}

function candidate(r: CandidateRow): MoveCandidate {
  return {
    programmeId: r.programme_id,
    title: r.title,
    subTitle: r.sub_title,
    episode: r.episode,
    startMs: r.start_ms,
    stopMs: r.stop_ms,
  };
}

// A channel's staged programmes are its `seq` range [@lo, @hi] (no channel column to bind per row).
const STAGED_ACCEPTED = 'SELECT * FROM temp.guide_staging WHERE seq BETWEEN @lo AND @hi';
const IN_STAGING = `EXISTS (SELECT 1 FROM temp.guide_staging t
  WHERE t.programme_id = guide_programmes.programme_id AND t.seq BETWEEN @lo AND @hi)`;
const IN_LIVE =
  'EXISTS (SELECT 1 FROM guide_programmes g WHERE g.service = @s AND g.programme_id = t.programme_id)';

/** Statements the import runs on its own connection. */
export class ImportStatements {
  private readonly insertStaged: BatchInsert;
  private insertRaw: BatchInsert | null = null;
  private rawForChannel: Statement | null = null;
  /** Next `seq` of either staging table (one counter: ranges never overlap). */
  private nextSeq = 1;
  /** The (programme_id, seq) index the diff needs exists. */
  private indexed = false;
  private readonly hasOutside: Statement;
  private readonly hasAnyLive: Statement;
  private readonly insertAll: Statement;
  private readonly renameCollisions: Statement;
  private readonly deleteRemoved: Statement;
  private readonly changedRows: Statement;
  private readonly updateChanged: Statement;
  private readonly insertAdded: Statement;
  private readonly insertAddedStarts: Statement;
  private readonly pruneBefore: Statement;
  private readonly startRun: Statement;
  private readonly finishRun: Statement;

  constructor(private readonly db: Database) {
    // Bounded page cache for the staging file (≈4 MiB) keeps the import's memory flat in the file size.
    db.pragma('temp.cache_size = -4096');
    db.exec(`DROP TABLE IF EXISTS temp.guide_staging; DROP TABLE IF EXISTS temp.guide_staging_raw;
      CREATE TEMP TABLE guide_staging (
        seq INTEGER PRIMARY KEY, programme_id TEXT NOT NULL,
        start_ms INTEGER NOT NULL, stop_ms INTEGER NOT NULL, event_id TEXT, title TEXT NOT NULL,
        sub_title TEXT, episode TEXT, description TEXT, category TEXT, lang TEXT, titles_json TEXT,
        raw_stop_ms INTEGER, content_id TEXT, line INTEGER NOT NULL)`);
    this.insertStaged = new BatchInsert(db, 'temp.guide_staging', STAGED_COLUMNS);
    this.hasOutside = db
      .prepare(
        'SELECT EXISTS (SELECT 1 FROM guide_programmes WHERE service = @s AND (start_ms < @ws OR start_ms >= @we))',
      )
      .pluck();
    // A staged id that a row OUTSIDE the window already has (an episode id shared by a repeat, a DVB
    // event id reused after wrapping) is qualified by its start, which is stable too.
    this.renameCollisions = db.prepare(
      `UPDATE temp.guide_staging SET programme_id = programme_id || '@' || start_ms
       WHERE seq BETWEEN @lo AND @hi AND programme_id IN (SELECT programme_id FROM guide_programmes
         WHERE service = @s AND (start_ms < @ws OR start_ms >= @we))`,
    );
    this.deleteRemoved = db.prepare(
      `DELETE FROM guide_programmes WHERE service = @s AND start_ms >= @ws AND start_ms < @we AND NOT ${IN_STAGING}
       RETURNING programme_id, title, sub_title, episode, start_ms, stop_ms`,
    );
    this.changedRows = db.prepare(
      `SELECT t.programme_id, t.title, t.sub_title, t.episode, t.start_ms, t.stop_ms,
         g.start_ms AS old_start, g.stop_ms AS old_stop
       FROM temp.guide_staging t JOIN guide_programmes g ON g.service = @s AND g.programme_id = t.programme_id
       WHERE t.seq BETWEEN @lo AND @hi
         AND (g.start_ms <> t.start_ms OR g.stop_ms <> t.stop_ms OR ${DETAILS_DIFFER})`,
    );
    this.updateChanged = db.prepare(
      `UPDATE guide_programmes SET start_ms = t.start_ms, stop_ms = t.stop_ms, event_id = t.event_id,
         title = t.title, sub_title = t.sub_title, episode = t.episode, description = t.description,
         category = t.category, lang = t.lang, titles_json = t.titles_json, source = @src, imported_at = @at
       FROM (${STAGED_ACCEPTED}) AS t
       WHERE guide_programmes.service = @s AND guide_programmes.programme_id = t.programme_id
         AND (guide_programmes.start_ms <> t.start_ms OR guide_programmes.stop_ms <> t.stop_ms
              OR ${DETAILS_DIFFER.replaceAll('g.', 'guide_programmes.')})`,
    );
    const insertFrom = (
      where: string,
    ) => `INSERT INTO guide_programmes (${PROGRAMME_COLUMNS}, source, imported_at)
       SELECT @s, t.programme_id, t.start_ms, t.stop_ms, t.event_id, t.title, t.sub_title, t.episode,
         t.description, t.category, t.lang, t.titles_json, @src, @at
       FROM temp.guide_staging t WHERE ${where}`;
    const insertAdded = insertFrom(`t.seq BETWEEN @lo AND @hi AND NOT ${IN_LIVE}`);
    this.insertAdded = db.prepare(
      `${insertAdded} RETURNING programme_id, title, sub_title, episode, start_ms, stop_ms`,
    );
    // Without vanished programmes there is nothing to pair: return just the starts.
    this.insertAddedStarts = db.prepare(`${insertAdded} RETURNING start_ms`).pluck();
    // A service with no programmes at all (its first import): no diff to make, copy the channel's range.
    this.hasAnyLive = db.prepare('SELECT EXISTS (SELECT 1 FROM guide_programmes WHERE service = ?)').pluck();
    this.insertAll = db.prepare(insertFrom('t.seq BETWEEN @lo AND @hi'));
    this.pruneBefore = db.prepare('DELETE FROM guide_programmes WHERE stop_ms < ?');
    this.startRun = db.prepare(
      "INSERT INTO guide_import_runs (source, started_at, status) VALUES (?, ?, 'running')",
    );
    this.finishRun = db.prepare(
      'UPDATE guide_import_runs SET finished_at = ?, status = ?, error = ?, report_json = ? WHERE id = ?',
    );
  }

  /**
   * Stages one channel's accepted programmes (`sources[i]` is what the file said for `programmes[i]`),
   * all in one call so that the channel's range is contiguous, in one temp-only transaction (no lock on
   * the main database). Returns their `seq` range.
   */
  stage(programmes: readonly GuideProgramme[], sources: readonly NormalizedProgramme[]): SeqRange | null {
    if (programmes.length === 0) return null;
    const lo = this.nextSeq;
    this.nextSeq += programmes.length;
    this.db.transaction(() =>
      this.insertStaged.run(programmes.length, lo, fillStaged(programmes, sources)),
    )();
    return { lo, hi: lo + programmes.length - 1 };
  }

  private raw(): BatchInsert {
    if (this.insertRaw === null) {
      this.db.exec(`CREATE TEMP TABLE guide_staging_raw (seq INTEGER PRIMARY KEY,
        channel TEXT NOT NULL, start_ms INTEGER NOT NULL, raw_stop_ms INTEGER, title TEXT NOT NULL,
        lang TEXT, sub_title TEXT, episode TEXT, description TEXT, category TEXT, titles_json TEXT,
        event_id TEXT, content_id TEXT, line INTEGER NOT NULL)`);
      this.insertRaw = new BatchInsert(this.db, 'temp.guide_staging_raw', RAW_COLUMNS);
    }
    return this.insertRaw;
  }

  /**
   * Keeps programmes as the file said them, not (yet) accepted: those of a split channel until the whole
   * file is read, and those validation refused (should their channel turn out split after all).
   */
  stageRaw(rows: readonly NormalizedProgramme[]): void {
    if (rows.length === 0) return;
    const insert = this.raw();
    const lo = this.nextSeq;
    this.nextSeq += rows.length;
    this.db.transaction(() => insert.run(rows.length, lo, fillRaw(rows)))();
  }

  /** Takes `channel`'s accepted programmes back to what the file said (it turned out split). */
  unstage(channel: string, range: SeqRange | null): void {
    if (range === null) return;
    this.raw();
    const cols = RAW_COLUMNS.filter((c) => c !== 'channel').join(', ');
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO temp.guide_staging_raw (seq, channel, ${cols})
           SELECT seq, ?, ${cols} FROM temp.guide_staging WHERE seq BETWEEN ? AND ?`,
        )
        .run(channel, range.lo, range.hi);
      this.db.prepare('DELETE FROM temp.guide_staging WHERE seq BETWEEN ? AND ?').run(range.lo, range.hi);
    })();
  }

  /** What the file said for one split channel, in file order (to validate it as a whole). */
  stagedSources(channel: string): NormalizedProgramme[] {
    if (this.rawForChannel === null) {
      this.raw();
      this.db.exec('CREATE INDEX temp.guide_staging_raw_channel ON guide_staging_raw (channel, seq)');
      this.rawForChannel = this.db.prepare(
        'SELECT * FROM temp.guide_staging_raw WHERE channel = ? ORDER BY seq',
      );
    }
    return (this.rawForChannel.all(channel) as RawRow[]).map(sourceOfRaw);
  }

  /**
   * Indexes the staged rows for the diff against a service's stored programmes — once, and only when
   * a service has programmes to diff against (cheaper than maintaining the index per insert).
   */
  private ensureIndex(): void {
    if (this.indexed) return;
    this.db.exec('CREATE INDEX temp.guide_staging_id ON guide_staging (programme_id, seq)');
    this.indexed = true;
  }

  dropStaging(): void {
    this.db.exec('DROP TABLE IF EXISTS temp.guide_staging; DROP TABLE IF EXISTS temp.guide_staging_raw');
  }

  /**
   * Replaces `service`'s window with the programmes of `staged` (its channel's range), in ONE transaction: readers
   * see the old window or the new one, never a mix. The diff is done by SQLite, so unchanged programmes
   * never travel into JavaScript.
   */
  applyWindow(
    service: string,
    window: { startMs: number; endMs: number },
    staged: SeqRange,
    source: string,
    importedAt: number,
  ): AppliedWindow {
    const accepted = staged.hi - staged.lo + 1;
    const { lo, hi } = staged;
    const range = { s: service, lo, hi, ws: window.startMs, we: window.endMs };
    const write = { s: service, lo, hi, src: source, at: importedAt };
    // The diff needs the staging index; build it before taking the write lock (the check is repeated
    // inside the transaction, which is what decides).
    if (!this.indexed && this.hasAnyLive.get(service) === 1) this.ensureIndex();
    // IMMEDIATE: take the write lock first. A deferred transaction reads, then upgrades to write; if the
    // headend committed in between, SQLite answers SQLITE_BUSY_SNAPSHOT, which the busy timeout does not
    // retry ("database is locked" while the fleet writes).
    return this.db
      .transaction((): AppliedWindow => {
        if (this.hasAnyLive.get(service) === 0) {
          this.insertAll.run(write);
          return {
            firstImport: true,
            removed: [],
            added: null,
            addedStarts: [],
            moved: [],
            updatedStarts: [],
            accepted,
          };
        }
        this.ensureIndex();
        if (this.hasOutside.get(range) === 1) this.renameCollisions.run(range);
        const removed = (this.deleteRemoved.all(range) as CandidateRow[]).map(candidate);
        const changed = this.changedRows.all({ s: service, lo, hi }) as (CandidateRow & {
          old_start: number;
          old_stop: number;
        })[];
        const moved: AppliedWindow['moved'] = [];
        const updatedStarts: number[] = [];
        for (const r of changed) {
          if (r.old_start === r.start_ms && r.old_stop === r.stop_ms) updatedStarts.push(r.start_ms);
          else
            moved.push({
              from: { ...candidate(r), startMs: r.old_start, stopMs: r.old_stop },
              to: candidate(r),
            });
        }
        if (changed.length > 0) this.updateChanged.run(write);
        if (removed.length === 0) {
          const addedStarts = this.insertAddedStarts.all(write) as number[];
          return { firstImport: false, removed, added: null, addedStarts, moved, updatedStarts, accepted };
        }
        const added = (this.insertAdded.all(write) as CandidateRow[]).map(candidate);
        return {
          firstImport: false,
          removed,
          added,
          addedStarts: added.map((a) => a.startMs),
          moved,
          updatedStarts,
          accepted,
        };
      })
      .immediate();
  }

  /** Deletes programmes that ended before `ms`; returns how many. */
  prune(ms: number): number {
    return this.pruneBefore.run(ms).changes;
  }

  beginRun(source: string, at: number): number {
    return Number(this.startRun.run(source, at).lastInsertRowid);
  }

  endRun(
    id: number,
    at: number,
    status: 'ok' | 'failed',
    error: string | null,
    reportJson: string | null,
  ): void {
    this.finishRun.run(at, status, error, reportJson, id);
  }
}
