/**
 * Rows of the import's staging tables (import-staging.ts) and how they are written: values are bound
 * many rows per statement, because each call from JavaScript into SQLite costs more than the row
 * itself (DESIGN.md §8 budget; scripts/bench/xmltv.ts measures it).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { GuideProgramme } from './guide-validate.js';
import type { LangText } from './xmltv-parse.js';
import type { NormalizedProgramme } from './xmltv-programme.js';

/** Rows per multi-row INSERT: the per-statement cost of a call is paid once per this many rows. */
export const ROWS_PER_STATEMENT = 32;

export interface RawRow {
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

/** Columns of a staged (accepted) programme after `seq`, in the order they are bound. */
export const STAGED_COLUMNS = [
  'programme_id',
  'start_ms',
  'stop_ms',
  'event_id',
  'title',
  'sub_title',
  'episode',
  'description',
  'category',
  'lang',
  'titles_json',
  // What validation does not keep, for re-validating should the channel turn out split (cheap: numbers).
  'raw_stop_ms',
  'content_id',
  'line',
] as const;

/** Columns of a programme waiting, as the file said it, to be validated with the rest of its channel. */
export const RAW_COLUMNS = [
  'channel',
  'start_ms',
  'raw_stop_ms',
  'title',
  'lang',
  'sub_title',
  'episode',
  'description',
  'category',
  'titles_json',
  'event_id',
  'content_id',
  'line',
] as const;

/** Writes row `i`'s values into `out` from index `at`: `seq` first, then the table's columns in order. */
export type Fill = (i: number, seq: number, out: unknown[], at: number) => void;

/** INSERT of many rows per statement (and one per statement for the remainder). */
export class BatchInsert {
  private readonly many: Statement<unknown[]>;
  private readonly one: Statement<unknown[]>;
  private readonly manyValues: unknown[];
  private readonly oneValues: unknown[];
  private readonly width: number;

  constructor(db: Database, table: string, columns: readonly string[]) {
    this.width = columns.length + 1;
    const row = `(${new Array(this.width).fill('?').join(',')})`;
    const head = `INSERT INTO ${table} (seq, ${columns.join(', ')}) VALUES `;
    this.many = db.prepare(head + new Array(ROWS_PER_STATEMENT).fill(row).join(','));
    this.one = db.prepare(head + row);
    this.manyValues = new Array(this.width * ROWS_PER_STATEMENT);
    this.oneValues = new Array(this.width);
  }

  /** Inserts rows 0…count-1 with `seq` = firstSeq + i (call inside a transaction). */
  run(count: number, firstSeq: number, fill: Fill): void {
    const width = this.width;
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= count; i += ROWS_PER_STATEMENT) {
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) fill(i + j, firstSeq + i + j, this.manyValues, j * width);
      this.many.run(this.manyValues);
    }
    for (; i < count; i++) {
      fill(i, firstSeq + i, this.oneValues, 0);
      this.one.run(this.oneValues);
    }
  }
}

/** The `seq` range [lo, hi] holding one channel's staged programmes. */
export interface SeqRange {
  lo: number;
  hi: number;
}

/** Binds accepted programme `i` (with what the file said, `sources[i]`) as a row of guide_staging. */
export function fillStaged(
  programmes: readonly GuideProgramme[],
  sources: readonly NormalizedProgramme[],
): Fill {
  return (i, seq, out, at) => {
    const p = programmes[i] as GuideProgramme;
    const s = sources[i] as NormalizedProgramme;
    out[at] = seq;
    out[at + 1] = p.programmeId;
    out[at + 2] = p.startMs;
    out[at + 3] = p.stopMs;
    out[at + 4] = p.eventId;
    out[at + 5] = p.title;
    out[at + 6] = p.subTitle;
    out[at + 7] = p.episode;
    out[at + 8] = p.description;
    out[at + 9] = p.category;
    out[at + 10] = p.lang;
    out[at + 11] = p.titles === null ? null : JSON.stringify(p.titles);
    out[at + 12] = s.stopMs;
    out[at + 13] = s.contentId;
    out[at + 14] = s.line;
  };
}

/** Binds programme `i` as the file said it, as a row of guide_staging_raw. */
export function fillRaw(rows: readonly NormalizedProgramme[]): Fill {
  return (i, seq, out, at) => {
    const s = rows[i] as NormalizedProgramme;
    out[at] = seq;
    out[at + 1] = s.channel;
    out[at + 2] = s.startMs;
    out[at + 3] = s.stopMs;
    out[at + 4] = s.title;
    out[at + 5] = s.lang;
    out[at + 6] = s.subTitle;
    out[at + 7] = s.episode;
    out[at + 8] = s.description;
    out[at + 9] = s.category;
    out[at + 10] = s.titles === null ? null : JSON.stringify(s.titles);
    out[at + 11] = s.eventId;
    out[at + 12] = s.contentId;
    out[at + 13] = s.line;
  };
}

/** A row of guide_staging_raw back to the normalised programme it was. */
export function sourceOfRaw(r: RawRow): NormalizedProgramme {
  return {
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
  };
}
