/**
 * The conference tables (migration 6): `conferences`, `conference_stations` (target stations and the
 * schedule version that first carries the conference as it is now) and `conference_attendance` (live
 * status changes, the raw material of the attendance report). JSON columns are parsed with zod here, never
 * trusted as typed. Callers run writes inside the transaction of the change they belong to.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import { ConferenceTarget, SunWarning } from './conference-schema.js';

/** A stored conference. */
export interface StoredConference {
  id: string;
  title: string;
  organiser: string;
  notes: string;
  service: string;
  start: string;
  end: string;
  preRollMs: number;
  record: boolean;
  target: ConferenceTarget;
  warnings: SunWarning[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
  cancelledBy: string | null;
  startedNowAt: string | null;
  endedEarlyAt: string | null;
}

/** One target station of a conference. */
export interface ConferenceStation {
  stationId: string;
  /** The first schedule version that carries the conference as it is now. */
  required: ScheduleVersion;
  /** When that version was issued (the push). */
  pushedAt: string;
  /** When the headend first saw the station apply it (null: not yet). */
  appliedSeenAt: string | null;
}

/** One observed attendance status change. */
export interface AttendanceChange {
  stationId: string;
  at: string;
  status: string;
  reason: string | null;
  marginDb: number | null;
  streaming: boolean | null;
}

interface ConfRow {
  id: string;
  title: string;
  organiser: string;
  notes: string;
  service: string;
  start_at: string;
  end_at: string;
  pre_roll_ms: number;
  record: number;
  target_json: string;
  warnings_json: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
  started_now_at: string | null;
  ended_early_at: string | null;
}

const Warnings = z.array(SunWarning);

const toConference = (r: ConfRow): StoredConference => ({
  id: r.id,
  title: r.title,
  organiser: r.organiser,
  notes: r.notes,
  service: r.service,
  start: r.start_at,
  end: r.end_at,
  preRollMs: r.pre_roll_ms,
  record: r.record === 1,
  target: ConferenceTarget.parse(JSON.parse(r.target_json)),
  warnings: Warnings.parse(JSON.parse(r.warnings_json)),
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  cancelledAt: r.cancelled_at,
  cancelledBy: r.cancelled_by,
  startedNowAt: r.started_now_at,
  endedEarlyAt: r.ended_early_at,
});

export interface ConferencesRepo {
  get(id: string): StoredConference | undefined;
  /**
   * Newest start first. `activeAt` keeps those whose window holds that instant: from `marginMs` before the
   * pre-roll to `marginAfterMs` after the end; a cancelled one until `marginAfterMs` after the cancellation.
   */
  list(opts?: {
    stationId?: string;
    activeAt?: number;
    marginMs?: number;
    marginAfterMs?: number;
    limit?: number;
  }): StoredConference[];
  insert(c: StoredConference): void;
  /** Writes every mutable field of `c`. */
  update(c: StoredConference): void;
  stations(id: string): ConferenceStation[];
  /** Replaces the target stations (removed stations' attendance history stays). */
  setStations(id: string, stations: readonly ConferenceStation[]): void;
  /** Records the first time the headend saw `stationId` apply the required version. */
  markApplied(id: string, stationId: string, at: string): void;
  /** Records `at` for every conference of `stationId` whose required version `applied` covers (first time only). */
  markAppliedUpTo(stationId: string, applied: ScheduleVersion, at: string): number;
  appendAttendance(id: string, changes: readonly AttendanceChange[]): void;
  /** Every status change of the conference, oldest first. */
  attendance(id: string): AttendanceChange[];
  /** The newest status per station (to resume observing after a restart). */
  lastAttendance(id: string): Map<string, AttendanceChange>;
}

export function createConferencesRepo(db: Database): ConferencesRepo {
  const byId = db.prepare<[string], ConfRow>('SELECT * FROM conferences WHERE id = ?');
  const ins = db.prepare(`INSERT INTO conferences (id, title, organiser, notes, service, start_at, end_at,
      pre_roll_ms, record, target_json, warnings_json, created_by, created_at, updated_at, cancelled_at,
      cancelled_by, started_now_at, ended_early_at)
    VALUES (@id, @title, @organiser, @notes, @service, @start, @end, @preRollMs, @record, @target, @warnings,
      @createdBy, @createdAt, @updatedAt, @cancelledAt, @cancelledBy, @startedNowAt, @endedEarlyAt)`);
  const upd = db.prepare(`UPDATE conferences SET title = @title, organiser = @organiser, notes = @notes,
      service = @service, start_at = @start, end_at = @end, pre_roll_ms = @preRollMs, record = @record,
      target_json = @target, warnings_json = @warnings, updated_at = @updatedAt, cancelled_at = @cancelledAt,
      cancelled_by = @cancelledBy, started_now_at = @startedNowAt, ended_early_at = @endedEarlyAt
    WHERE id = @id`);
  const stationsOf = db.prepare<
    [string],
    {
      station_id: string;
      required_epoch: number;
      required_n: number;
      pushed_at: string;
      applied_seen_at: string | null;
    }
  >('SELECT * FROM conference_stations WHERE conference_id = ? ORDER BY station_id');
  // Stations no longer targeted leave; the others are updated in place: an extend of a fleet-wide
  // conference rewrites every row (5 000 at scale, DESIGN.md §8), and delete + insert also rewrote the
  // station index of each one.
  const delRemoved = db.prepare(`DELETE FROM conference_stations WHERE conference_id = ?
    AND station_id NOT IN (SELECT value FROM json_each(?))`);
  const insStation = db.prepare(`INSERT INTO conference_stations
    (conference_id, station_id, required_epoch, required_n, pushed_at, applied_seen_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (conference_id, station_id) DO UPDATE SET required_epoch = excluded.required_epoch,
      required_n = excluded.required_n, pushed_at = excluded.pushed_at, applied_seen_at = excluded.applied_seen_at`);
  const mark = db.prepare(`UPDATE conference_stations SET applied_seen_at = ?
    WHERE conference_id = ? AND station_id = ? AND applied_seen_at IS NULL`);
  const markUpTo = db.prepare(`UPDATE conference_stations SET applied_seen_at = ?
    WHERE station_id = ? AND applied_seen_at IS NULL
      AND (required_epoch < ? OR (required_epoch = ? AND required_n <= ?))`);
  const insAttendance = db.prepare(`INSERT INTO conference_attendance
    (conference_id, station_id, at, status, reason, margin_db, streaming) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  type AttRow = {
    station_id: string;
    at: string;
    status: string;
    reason: string | null;
    margin_db: number | null;
    streaming: number | null;
  };
  const attendanceOf = db.prepare<[string], AttRow>(
    'SELECT * FROM conference_attendance WHERE conference_id = ? ORDER BY id',
  );
  const lastOf = db.prepare<[string, string], AttRow>(`SELECT a.* FROM conference_attendance a
    WHERE a.conference_id = ? AND a.id IN (SELECT MAX(id) FROM conference_attendance WHERE conference_id = ?
      GROUP BY station_id)`);
  const toChange = (r: AttRow): AttendanceChange => ({
    stationId: r.station_id,
    at: r.at,
    status: r.status,
    reason: r.reason,
    marginDb: r.margin_db,
    streaming: r.streaming === null ? null : r.streaming === 1,
  });
  const params = (c: StoredConference) => ({
    ...c,
    record: c.record ? 1 : 0,
    target: JSON.stringify(c.target),
    warnings: JSON.stringify(c.warnings),
  });

  return {
    get(id) {
      const r = byId.get(id);
      return r ? toConference(r) : undefined;
    },
    list(opts = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (opts.stationId !== undefined) {
        where.push(
          'EXISTS (SELECT 1 FROM conference_stations s WHERE s.conference_id = c.id AND s.station_id = ?)',
        );
        args.push(opts.stationId);
      }
      if (opts.activeAt !== undefined) {
        // Not cancelled: start - pre-roll - before <= t < end + after. Cancelled: until `after` past the
        // cancellation (the board shows the stations dropping it). Compared as instants.
        const at = new Date(opts.activeAt).toISOString();
        where.push(`((c.cancelled_at IS NULL
            AND julianday(c.start_at) - (c.pre_roll_ms + ?) / 86400000.0 <= julianday(?)
            AND julianday(c.end_at) + ? / 86400000.0 > julianday(?))
          OR (c.cancelled_at IS NOT NULL AND julianday(c.cancelled_at) + ? / 86400000.0 > julianday(?)))`);
        const after = opts.marginAfterMs ?? opts.marginMs ?? 0;
        args.push(opts.marginMs ?? 0, at, after, at, after, at);
      }
      args.push(opts.limit ?? 500);
      const sql = `SELECT c.* FROM conferences c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.start_at DESC, c.id LIMIT ?`;
      return (db.prepare(sql).all(...args) as ConfRow[]).map(toConference);
    },
    insert: (c) => void ins.run(params(c)),
    update: (c) => void upd.run(params(c)),
    stations: (id) =>
      stationsOf.all(id).map((r) => ({
        stationId: r.station_id,
        required: { epoch: r.required_epoch, n: r.required_n },
        pushedAt: r.pushed_at,
        appliedSeenAt: r.applied_seen_at,
      })),
    setStations(id, stations) {
      delRemoved.run(id, JSON.stringify(stations.map((s) => s.stationId)));
      for (const s of stations)
        insStation.run(id, s.stationId, s.required.epoch, s.required.n, s.pushedAt, s.appliedSeenAt);
    },
    markApplied: (id, stationId, at) => void mark.run(at, id, stationId),
    markAppliedUpTo: (stationId, v, at) => markUpTo.run(at, stationId, v.epoch, v.epoch, v.n).changes,
    appendAttendance(id, changes) {
      for (const c of changes)
        insAttendance.run(
          id,
          c.stationId,
          c.at,
          c.status,
          c.reason,
          c.marginDb,
          c.streaming === null ? null : c.streaming ? 1 : 0,
        );
    },
    attendance: (id) => attendanceOf.all(id).map(toChange),
    lastAttendance: (id) => new Map(lastOf.all(id, id).map((r) => [r.station_id, toChange(r)])),
  };
}
