/**
 * The import's writes, on the worker's own connection: a staging table, then one transaction per service
 * window in which SQLite itself diffs the staged programmes against the stored ones and applies the
 * difference (unchanged programmes never travel back into JavaScript).
 *
 * The staging table lives in the connection's TEMP schema (a temporary file: better-sqlite3 is built with
 * SQLITE_TEMP_STORE=1, and its page cache is capped), so a file of any size is parsed into SQLite rather
 * than into JavaScript memory; it also takes no lock on the main database, so nothing is visible (and
 * nothing blocks the headend's writer) until the whole file has parsed cleanly.
 */
import type { Database, Statement } from 'better-sqlite3';
import { PROGRAMME_COLUMNS } from './guide-store.js';
import type { GuideProgramme, MoveCandidate } from './guide-validate.js';
import type { LangText } from './xmltv-parse.js';
import type { NormalizedProgramme } from './xmltv-programme.js';

interface StagingRow {
  channel: string;
  start_ms: number;
  raw_stop_ms: number | null;
  title: string;
  lang: string | null;
  sub_title: string | null;
  episode: string | null;
  description: string | null;
  category: string | null;
  titles_json: string | null;
  event_id: string | null;
  content_id: string | null;
  line: number;
}

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

/** A row of the staging table: what the file said, and (when accepted) the validated programme. */
export interface StagedRow {
  source: NormalizedProgramme;
  /** The validated programme, or null when validation refused it (kept for a later re-validation). */
  programme: GuideProgramme | null;
}

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

const STAGED_ACCEPTED = 'SELECT * FROM temp.guide_staging WHERE channel = @c AND programme_id IS NOT NULL';
const IN_STAGING = `EXISTS (SELECT 1 FROM temp.guide_staging t WHERE t.channel = @c
  AND t.programme_id = guide_programmes.programme_id)`;
const IN_LIVE =
  'EXISTS (SELECT 1 FROM guide_programmes g WHERE g.service = @s AND g.programme_id = t.programme_id)';

/** Statements the import runs on its own connection. */
export class ImportStatements {
  private readonly insertStaging: Statement;
  private readonly stagedForChannel: Statement;
  private readonly deleteStagedChannel: Statement;
  private readonly stagedChannels: Statement;
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
    db.exec(`DROP TABLE IF EXISTS temp.guide_staging;
      CREATE TEMP TABLE guide_staging (
        seq INTEGER PRIMARY KEY, channel TEXT NOT NULL, programme_id TEXT,
        start_ms INTEGER NOT NULL, stop_ms INTEGER, raw_stop_ms INTEGER, title TEXT NOT NULL, lang TEXT,
        sub_title TEXT, episode TEXT, description TEXT, category TEXT, titles_json TEXT, event_id TEXT,
        content_id TEXT, line INTEGER NOT NULL)`);
    this.insertStaging = db.prepare(
      `INSERT INTO temp.guide_staging (channel, programme_id, start_ms, stop_ms, raw_stop_ms, title, lang,
       sub_title, episode, description, category, titles_json, event_id, content_id, line)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    this.stagedForChannel = db.prepare('SELECT * FROM temp.guide_staging WHERE channel = ? ORDER BY seq');
    this.deleteStagedChannel = db.prepare('DELETE FROM temp.guide_staging WHERE channel = ?');
    this.stagedChannels = db.prepare(
      'SELECT channel, COUNT(*) AS n FROM temp.guide_staging GROUP BY channel ORDER BY channel',
    );
    this.hasOutside = db
      .prepare(
        'SELECT EXISTS (SELECT 1 FROM guide_programmes WHERE service = @s AND (start_ms < @ws OR start_ms >= @we))',
      )
      .pluck();
    // A staged id that a row OUTSIDE the window already has (an episode id shared by a repeat, a DVB
    // event id reused after wrapping) is qualified by its start, which is stable too.
    this.renameCollisions = db.prepare(
      `UPDATE temp.guide_staging SET programme_id = programme_id || '@' || start_ms
       WHERE channel = @c AND programme_id IN (SELECT programme_id FROM guide_programmes
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
       WHERE t.channel = @c AND t.programme_id IS NOT NULL
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
    const insertAdded = `INSERT INTO guide_programmes (${PROGRAMME_COLUMNS}, source, imported_at)
       SELECT @s, t.programme_id, t.start_ms, t.stop_ms, t.event_id, t.title, t.sub_title, t.episode,
         t.description, t.category, t.lang, t.titles_json, @src, @at
       FROM temp.guide_staging t WHERE t.channel = @c AND t.programme_id IS NOT NULL`;
    this.insertAdded = db.prepare(
      `${insertAdded} AND NOT ${IN_LIVE} RETURNING programme_id, title, sub_title, episode, start_ms, stop_ms`,
    );
    // Without vanished programmes there is nothing to pair: return just the starts.
    this.insertAddedStarts = db.prepare(`${insertAdded} AND NOT ${IN_LIVE} RETURNING start_ms`).pluck();
    // A service with no programmes at all (its first import): no diff to make, insert everything.
    this.hasAnyLive = db.prepare('SELECT EXISTS (SELECT 1 FROM guide_programmes WHERE service = ?)').pluck();
    this.insertAll = db.prepare(insertAdded);
    this.pruneBefore = db.prepare('DELETE FROM guide_programmes WHERE stop_ms < ?');
    this.startRun = db.prepare(
      "INSERT INTO guide_import_runs (source, started_at, status) VALUES (?, ?, 'running')",
    );
    this.finishRun = db.prepare(
      'UPDATE guide_import_runs SET finished_at = ?, status = ?, error = ?, report_json = ? WHERE id = ?',
    );
  }

  /** Stages rows in one (temp-only: no lock on the main database) transaction. */
  stage(rows: readonly StagedRow[]): void {
    const ins = this.insertStaging;
    this.db.transaction(() => {
      for (const { source: s, programme: p } of rows) {
        ins.run(
          s.channel,
          p === null ? null : p.programmeId,
          s.startMs,
          p === null ? null : p.stopMs,
          s.stopMs,
          s.title,
          s.lang,
          s.subTitle,
          s.episode,
          s.description,
          s.category,
          s.titles === null ? null : JSON.stringify(s.titles),
          s.eventId,
          s.contentId,
          s.line,
        );
      }
    })();
  }

  /** Indexes the staged rows once parsing is over (cheaper than maintaining the index per insert). */
  indexStaging(): void {
    this.db.exec('CREATE INDEX temp.guide_staging_channel ON guide_staging (channel, programme_id)');
  }

  dropStaging(): void {
    this.db.exec('DROP TABLE IF EXISTS temp.guide_staging');
  }

  stagedChannelCounts(): { channel: string; n: number }[] {
    return this.stagedChannels.all() as { channel: string; n: number }[];
  }

  /** What the file said for one channel (for re-validating a channel split across the file). */
  stagedSources(channel: string): NormalizedProgramme[] {
    return (this.stagedForChannel.all(channel) as StagingRow[]).map((r) => ({
      channel: r.channel,
      startMs: r.start_ms,
      stopMs: r.raw_stop_ms,
      offsetMinutes: null, // offsets were checked while streaming
      title: r.title,
      lang: r.lang,
      subTitle: r.sub_title,
      episode: r.episode,
      description: r.description,
      category: r.category,
      titles: r.titles_json === null ? null : (JSON.parse(r.titles_json) as LangText[]),
      eventId: r.event_id,
      contentId: r.content_id,
      line: r.line,
    }));
  }

  /** Replaces one channel's staged rows (after re-validation). */
  restage(channel: string, rows: readonly StagedRow[]): void {
    this.db.transaction(() => {
      this.deleteStagedChannel.run(channel);
      this.stage(rows);
    })();
  }

  /**
   * Replaces `service`'s window with the accepted rows staged for `channel`, in ONE transaction: readers
   * see the old window or the new one, never a mix. The diff is done by SQLite, so unchanged programmes
   * never travel into JavaScript.
   */
  applyWindow(
    service: string,
    channel: string,
    window: { startMs: number; endMs: number },
    accepted: number,
    source: string,
    importedAt: number,
  ): AppliedWindow {
    const range = { s: service, c: channel, ws: window.startMs, we: window.endMs };
    const write = { s: service, c: channel, src: source, at: importedAt };
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
        if (this.hasOutside.get(range) === 1) this.renameCollisions.run(range);
        const removed = (this.deleteRemoved.all(range) as CandidateRow[]).map(candidate);
        const changed = this.changedRows.all({ s: service, c: channel }) as (CandidateRow & {
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
