/**
 * What a station's events MEAN at the headend (DESIGN.md §4 events, §6): a recording manifest goes into
 * the recordings catalogue ("completed with errors" stays distinct, DOMAIN.md §4), an occurrence's newest
 * execution state into `occurrence_status`, an offline telemetry summary into the minute rows, an applied
 * or rejected schedule to the desired-vs-applied tracker, a station's own alarm to the alarm board.
 * Ingest (ingest.ts) calls `apply` inside its transaction, in seq order, as the ack advances over an event;
 * what must wait for the commit (alarms, tracker) is returned as a function to run after it.
 */
import type { Logger } from 'pino';
import type { EventOf, StationEvent } from '../../protocol/messages/events.js';
import type { Store } from '../store/index.js';
import type { AlarmBoard } from './alarm-board.js';
import type { ScheduleTracker } from './schedule-status.js';
import type { TelemetryIngest } from './telemetry.js';

const RECORDING_STATUS = {
  completed: 'completed',
  completed_with_errors: 'completed-with-errors',
  failed: 'failed',
} as const;

export interface EventEffectsDeps {
  store: Store;
  logger: Logger;
  alarms: AlarmBoard;
  tracker: ScheduleTracker;
  telemetry: TelemetryIngest;
}

export interface EventEffects {
  /** Applies one event inside the caller's transaction; returns what to run after the commit, if anything. */
  apply(stationId: string, e: StationEvent): (() => void) | null;
}

export function createEventEffects(deps: EventEffectsDeps): EventEffects {
  const { store, alarms, tracker, telemetry } = deps;
  const log = deps.logger;
  // Arrival order is never trusted: a row only moves forward in seq order within a store (by time across
  // stores, after a reinstall), so a resent older event cannot undo a newer one.
  const occurrenceUpsert = store.db.prepare(`INSERT INTO occurrence_status
      (station_id, entry_id, nominal_start, rev, state, reason, receiver_id, at, store_id, seq, first_at)
    VALUES (@stationId, @entryId, @nominalStart, @rev, @state, @reason, @receiverId, @at, @storeId, @seq, @at)
    ON CONFLICT (station_id, entry_id, nominal_start) DO UPDATE SET rev = excluded.rev, state = excluded.state,
      reason = excluded.reason, receiver_id = excluded.receiver_id, at = excluded.at, store_id = excluded.store_id,
      seq = excluded.seq
    WHERE CASE WHEN excluded.store_id = occurrence_status.store_id THEN excluded.seq > occurrence_status.seq
               ELSE excluded.at > occurrence_status.at END`);

  /** Applies one event's meaning inside the transaction; returns what must happen after the commit. */
  const apply = (stationId: string, e: StationEvent): (() => void) | null => {
    switch (e.type) {
      case 'recording.manifest': {
        const segs = e.segments;
        try {
          store.recordings.upsert({
            stationId,
            recordingId: e.recordingId,
            entryId: e.entryId,
            occurrenceStart: e.nominalStart,
            serviceKey: e.service,
            status: RECORDING_STATUS[e.outcome],
            startedAt: segs[0]?.start ?? null,
            endedAt: segs[segs.length - 1]?.end ?? null,
            bytes: e.bytes,
            quality: e.quality,
            clockTrusted: e.clockTrusted,
            manifest: e,
            updatedAt: e.at,
          });
        } catch (err) {
          log.warn(
            { event: 'catalogue-failed', stationId, seq: e.seq, err: (err as Error).message },
            'manifest not catalogued',
          );
        }
        return null;
      }
      case 'occurrence.state':
        occurrenceUpsert.run({
          stationId,
          entryId: e.entryId,
          nominalStart: e.nominalStart,
          rev: e.rev,
          state: e.state,
          reason: e.reason ?? null,
          receiverId: e.receiverId ?? null,
          at: e.at,
          storeId: e.storeId,
          seq: e.seq,
        });
        return null;
      case 'telemetry.summary':
        telemetry.mergeSummary(stationId, e);
        return null;
      case 'schedule.applied':
        return () => tracker.reportApplied(stationId, { version: e.version, hash: e.hash, appliedAt: e.at });
      case 'schedule.rejected':
        return () =>
          tracker.reportRejected(stationId, {
            version: e.version ?? null,
            code: e.code,
            reason: e.reason,
            at: e.at,
          });
      case 'alarm.raised':
        return () =>
          alarms.raise({
            kind: e.kind,
            stationId,
            subject: e.alarmId,
            severity: e.severity,
            message: e.message,
            evidence: {
              ...e.evidence,
              ...(e.receiverId === undefined ? {} : { receiverId: e.receiverId }),
              raisedAt: e.at,
            },
            fromStation: true,
          });
      case 'alarm.cleared':
        return () => alarms.clear(e.kind, stationId, e.alarmId, { ...(e.evidence ?? {}), clearedAt: e.at });
      default:
        return null;
    }
  };

  return { apply };
}

/** Occurrence states as reported by a station (newest per occurrence). */
export interface OccurrenceStatusRow {
  stationId: string;
  entryId: string;
  nominalStart: string;
  rev: number;
  state: EventOf<'occurrence.state'>['state'];
  reason: string | null;
  receiverId: string | null;
  at: string;
  firstAt: string;
}

/** Reads `occurrence_status` for a station, an entry, or both (attendance, station page). */
export function occurrenceStatuses(
  store: Store,
  opts: { stationId?: string; entryId?: string; limit?: number },
): OccurrenceStatusRow[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (opts.stationId !== undefined) {
    where.push('station_id = ?');
    args.push(opts.stationId);
  }
  if (opts.entryId !== undefined) {
    where.push('entry_id = ?');
    args.push(opts.entryId);
  }
  args.push(opts.limit ?? 1000);
  const rows = store.db
    .prepare(
      `SELECT * FROM occurrence_status ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY nominal_start DESC, station_id LIMIT ?`,
    )
    .all(...args) as {
    station_id: string;
    entry_id: string;
    nominal_start: string;
    rev: number;
    state: OccurrenceStatusRow['state'];
    reason: string | null;
    receiver_id: string | null;
    at: string;
    first_at: string;
  }[];
  return rows.map((r) => ({
    stationId: r.station_id,
    entryId: r.entry_id,
    nominalStart: r.nominal_start,
    rev: r.rev,
    state: r.state,
    reason: r.reason,
    receiverId: r.receiver_id,
    at: r.at,
    firstAt: r.first_at,
  }));
}
