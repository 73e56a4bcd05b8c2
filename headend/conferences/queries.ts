/**
 * Read models of a conference: the live attendance board (rows joined with the stations' names and
 * counties, counts per county) and the attendance report's inputs gathered from the store (the attendance
 * log, the recordings catalogue, the stations' reported final states).
 */
import { z } from 'zod';
import { occurrenceStatuses } from '../fleet/ingest.js';
import type { Store } from '../store/index.js';
import { type AttendanceRow, countByCounty, type StatusCounts } from './attendance.js';
import type { ConferenceView } from './conference-schema.js';
import type { ConferencesRepo, StoredConference } from './conferences-repo.js';
import { buildReport, type ConferenceReport, type ReportRecording } from './report.js';

/** A board row with the station's name and county. */
export interface BoardRow extends AttendanceRow {
  name: string;
  county: string;
}

/** The live attendance board (issue 7). */
export interface ConferenceBoard {
  conference: ConferenceView;
  /** When it was computed (headend clock). */
  at: string;
  rows: BoardRow[];
  counts: { all: StatusCounts; counties: Record<string, StatusCounts> };
  /** Names of the counties in `counts` (DOMAIN.md §1, Chinese and pinyin). */
  counties: { id: string; name: string; nameZh: string | null }[];
}

const stationInfo = (store: Store, id: string) => {
  const s = store.stations.get(id);
  return { name: s?.name ?? id, county: s?.county ?? '' };
};

export function boardOf(
  store: Store,
  conference: ConferenceView,
  rows: AttendanceRow[],
  now: Date,
): ConferenceBoard {
  const info = new Map(rows.map((r) => [r.stationId, stationInfo(store, r.stationId)]));
  const board = rows
    .map((r) => ({ ...r, ...(info.get(r.stationId) ?? { name: r.stationId, county: '' }) }))
    .sort((a, b) => a.county.localeCompare(b.county) || a.stationId.localeCompare(b.stationId));
  const counts = countByCounty(board, (id) => info.get(id)?.county ?? '');
  const counties = Object.keys(counts.counties)
    .sort()
    .map((id) => {
      const g = store.groups.get(id);
      return { id, name: g?.name ?? id, nameZh: g?.nameZh ?? null };
    });
  return { conference, at: now.toISOString(), rows: board, counts, counties };
}

/** The manifest fields the report reads (protocol/messages/events.ts `recording.manifest`). */
const ManifestSegments = z.object({
  segments: z.array(z.object({ start: z.string(), end: z.string(), durationMs: z.number() })),
});

export function reportOf(
  store: Store,
  repo: ConferencesRepo,
  c: StoredConference,
  rows: AttendanceRow[],
  now: Date,
): ConferenceReport {
  const startMs = Date.parse(c.start);
  const recordings: ReportRecording[] = store.recordings
    .list({ entryId: c.id, limit: 100_000 })
    .filter((r) => r.occurrenceStart !== null && r.occurrenceStart !== undefined)
    .filter((r) => Date.parse(r.occurrenceStart as string) === startMs)
    .map((r) => {
      const m = ManifestSegments.safeParse(r.manifest);
      return {
        stationId: r.stationId,
        recordingId: r.recordingId,
        status: r.status,
        quality: r.quality ?? null,
        bytes: r.bytes ?? null,
        segments: m.success ? m.data.segments : [],
      };
    });
  const finalStates = new Map(
    occurrenceStatuses(store, { entryId: c.id, limit: 100_000 })
      .filter((o) => Date.parse(o.nominalStart) === startMs)
      .map((o) => [o.stationId, { state: o.state, reason: o.reason }]),
  );
  return buildReport({
    conference: {
      id: c.id,
      title: c.title,
      startMs,
      endMs: Date.parse(c.end),
      record: c.record,
      cancelledAtMs: c.cancelledAt === null ? null : Date.parse(c.cancelledAt),
    },
    nowMs: now.getTime(),
    stations: repo.stations(c.id).map((s) => ({ id: s.stationId, ...stationInfo(store, s.stationId) })),
    attendance: repo.attendance(c.id),
    recordings,
    finalStates,
    current: new Map(
      rows.map((r) => [r.stationId, { status: r.status, reasonCode: r.reasonCode, detail: r.detail }]),
    ),
  });
}
