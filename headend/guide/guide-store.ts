/**
 * Reading the guide tables of migration 002 (`guide_programmes`, `guide_channel_map`,
 * `guide_import_runs`): programmes for guide days, links and the HTTP API, the channel mapping table, and
 * the import runs. The import's own writes are in import-staging.ts.
 */
import type { Database } from 'better-sqlite3';
import type { GuideProgramme } from './guide-validate.js';
import type { ChannelMapRow } from './xmltv-channels.js';
import type { LangText } from './xmltv-parse.js';

interface ProgrammeRow {
  service: string;
  programme_id: string;
  start_ms: number;
  stop_ms: number;
  event_id: string | null;
  title: string;
  sub_title: string | null;
  episode: string | null;
  description: string | null;
  category: string | null;
  lang: string | null;
  titles_json: string | null;
}

/** The programme columns, in the order the import writes them. */
export const PROGRAMME_COLUMNS =
  'service, programme_id, start_ms, stop_ms, event_id, title, sub_title, episode, description, category, lang, titles_json';

/** Converts a stored row to the programme type. */
export function programmeFromRow(r: ProgrammeRow): GuideProgramme {
  return {
    service: r.service,
    programmeId: r.programme_id,
    startMs: r.start_ms,
    stopMs: r.stop_ms,
    eventId: r.event_id,
    title: r.title,
    subTitle: r.sub_title,
    episode: r.episode,
    description: r.description,
    category: r.category,
    lang: r.lang,
    titles: r.titles_json === null ? null : (JSON.parse(r.titles_json) as LangText[]),
  };
}

/** Read access to stored programmes (used by guide days, guide links and the HTTP API). */
export interface GuideReader {
  /** Programmes of `service` starting in [fromMs, toMs), by start. */
  byStart(service: string, fromMs: number, toMs: number): GuideProgramme[];
  /** Programmes of every service (or one) overlapping [fromMs, toMs), by start. */
  overlapping(fromMs: number, toMs: number, service?: string): GuideProgramme[];
  /** One programme by id. */
  get(service: string, programmeId: string): GuideProgramme | undefined;
  /** Services that have programmes starting in [fromMs, toMs). */
  services(fromMs: number, toMs: number): string[];
  /** How many programmes of `service` start in [fromMs, toMs). */
  count(service: string, fromMs: number, toMs: number): number;
}

export function createGuideReader(db: Database): GuideReader {
  const byStart = db.prepare(
    `SELECT ${PROGRAMME_COLUMNS} FROM guide_programmes WHERE service = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms`,
  );
  const overlapAll = db.prepare(
    `SELECT ${PROGRAMME_COLUMNS} FROM guide_programmes WHERE start_ms < ? AND stop_ms > ? ORDER BY start_ms, service`,
  );
  const overlapOne = db.prepare(
    `SELECT ${PROGRAMME_COLUMNS} FROM guide_programmes WHERE service = ? AND start_ms < ? AND stop_ms > ? ORDER BY start_ms`,
  );
  const one = db.prepare(
    `SELECT ${PROGRAMME_COLUMNS} FROM guide_programmes WHERE service = ? AND programme_id = ?`,
  );
  const services = db.prepare(
    'SELECT DISTINCT service FROM guide_programmes WHERE start_ms >= ? AND start_ms < ? ORDER BY service',
  );
  const count = db
    .prepare('SELECT COUNT(*) FROM guide_programmes WHERE service = ? AND start_ms >= ? AND start_ms < ?')
    .pluck();
  return {
    count: (service, fromMs, toMs) => count.get(service, fromMs, toMs) as number,
    byStart: (service, fromMs, toMs) =>
      (byStart.all(service, fromMs, toMs) as ProgrammeRow[]).map(programmeFromRow),
    overlapping: (fromMs, toMs, service) =>
      (service === undefined
        ? (overlapAll.all(toMs, fromMs) as ProgrammeRow[])
        : (overlapOne.all(service, toMs, fromMs) as ProgrammeRow[])
      ).map(programmeFromRow),
    get: (service, programmeId) => {
      const r = one.get(service, programmeId) as ProgrammeRow | undefined;
      return r === undefined ? undefined : programmeFromRow(r);
    },
    services: (fromMs, toMs) => (services.all(fromMs, toMs) as { service: string }[]).map((r) => r.service),
  };
}

/** The channel mapping table (`guide_channel_map`). */
export interface ChannelMapRepo {
  list(): ChannelMapRow[];
  /** Adds or replaces one row. */
  set(row: ChannelMapRow): void;
  /** Removes one row; false when it did not exist. */
  remove(matchKind: ChannelMapRow['matchKind'], matchValue: string): boolean;
}

export function createChannelMapRepo(db: Database, now: () => number = Date.now): ChannelMapRepo {
  const list = db.prepare(
    'SELECT match_kind, match_value, service FROM guide_channel_map ORDER BY match_kind, match_value',
  );
  const upsert = db.prepare(
    `INSERT INTO guide_channel_map (match_kind, match_value, service, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (match_kind, match_value) DO UPDATE SET service = excluded.service`,
  );
  const del = db.prepare('DELETE FROM guide_channel_map WHERE match_kind = ? AND match_value = ?');
  return {
    list: () =>
      (list.all() as { match_kind: ChannelMapRow['matchKind']; match_value: string; service: string }[]).map(
        (r) => ({
          matchKind: r.match_kind,
          matchValue: r.match_value,
          service: r.service,
        }),
      ),
    set: (row) => {
      upsert.run(row.matchKind, row.matchValue, row.service, now());
    },
    remove: (kind, value) => del.run(kind, value).changes > 0,
  };
}

/** Marks runs left "running" by a process that died mid-import as failed (call once at start-up). */
export function failInterruptedImports(db: Database, at: number = Date.now()): number {
  return db
    .prepare(
      "UPDATE guide_import_runs SET status = 'failed', finished_at = ?, error = 'interrupted' WHERE status = 'running'",
    )
    .run(at).changes;
}

/** A finished import run as stored. */
export interface ImportRunRow {
  id: number;
  source: string;
  startedAt: number;
  finishedAt: number | null;
  status: 'running' | 'ok' | 'failed';
  error: string | null;
  reportJson: string | null;
}

/** The latest import runs, newest first (for the UI and the CLI). */
export function listImportRuns(db: Database, limit = 20): ImportRunRow[] {
  return (
    db
      .prepare(
        'SELECT id, source, started_at, finished_at, status, error, report_json FROM guide_import_runs ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as {
      id: number;
      source: string;
      started_at: number;
      finished_at: number | null;
      status: ImportRunRow['status'];
      error: string | null;
      report_json: string | null;
    }[]
  ).map((r) => ({
    id: r.id,
    source: r.source,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    error: r.error,
    reportJson: r.report_json,
  }));
}
