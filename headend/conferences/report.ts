/**
 * The attendance report of a conference (issue 7 "Attendance report afterwards"): per station the share of
 * the conference it received with lock (and, when recorded, with the stream reaching the recorder), whether
 * a recording was made and its quality; totals per county; a CSV export. Pure: the inputs are read by the
 * service.
 *
 * Two sources of evidence, the better one counts:
 * - the live attendance log (the headend's observations, `conference_attendance`): time in `receiving`
 *   inside [start, end). A station that was `ready` when the conference started was receiving from the
 *   start (the next observation only confirms it, up to one tick later);
 * - the recording (`recording.manifest`, DOMAIN.md §4): the recorded segments' overlap with [start, end) —
 *   proof of reception even while the uplink was down (DESIGN.md §6: offline first).
 */
import type { ExecutionState } from '../../protocol/registry.js';
import type { AttendanceChange } from './conferences-repo.js';

/** A recording of the conference in the headend's catalogue. */
export interface ReportRecording {
  stationId: string;
  recordingId: string;
  status: string;
  quality: number | null;
  bytes: number | null;
  segments: { start: string; end: string; durationMs: number }[];
}

export interface ReportInput {
  conference: {
    id: string;
    title: string;
    startMs: number;
    endMs: number;
    record: boolean;
    cancelledAtMs: number | null;
  };
  nowMs: number;
  stations: { id: string; name: string; county: string }[];
  attendance: readonly AttendanceChange[];
  recordings: readonly ReportRecording[];
  /** Newest execution state per station, as the stations reported it. */
  finalStates: ReadonlyMap<string, { state: ExecutionState; reason: string | null }>;
  /** The current board status per station (for a report made while the conference runs). */
  current: ReadonlyMap<string, { status: string; reasonCode: string | null; detail: string | null }>;
}

/** MythTV marks recordings below 95/100 "damaged" (DOMAIN.md §4). */
export const DAMAGED_BELOW = 95;
/** A station that received at least this share counts as having attended all of it. */
export const FULL_SHARE = 0.95;

export interface StationReport {
  stationId: string;
  name: string;
  county: string;
  /** Last board status, its reason code (attendance.ts) and detail. */
  status: string;
  reasonCode: string | null;
  detail: string | null;
  /** Last execution state the station reported. */
  state: ExecutionState | null;
  /** Received with lock (and stream), from the live log, ms. */
  receivedMs: number;
  /** Recorded inside the conference window, ms. */
  recordedMs: number;
  /** Share of the conference received (0–1), the better of the two; null when it never ran. */
  share: number | null;
  recording: {
    made: boolean;
    recordingId: string | null;
    status: string | null;
    quality: number | null;
    damaged: boolean;
    bytes: number | null;
  } | null;
}

export interface CountyTotals {
  county: string;
  stations: number;
  /** Received at least FULL_SHARE. */
  full: number;
  /** Received some but less than FULL_SHARE. */
  partial: number;
  /** Received nothing. */
  none: number;
  /** Mean share over the county's stations (0–1); null when the conference never ran. */
  meanShare: number | null;
  recordingsMade: number;
  recordingsDamaged: number;
}

export interface ConferenceReport {
  conferenceId: string;
  title: string;
  start: string;
  /** Effective end: the end, or when it was cancelled. */
  end: string;
  durationMs: number;
  /** The report is provisional while the conference has not ended. */
  final: boolean;
  stations: StationReport[];
  counties: CountyTotals[];
  totals: Omit<CountyTotals, 'county'>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A logged reason `code: detail` (attendance-tracker.ts) back into its parts. */
function splitReason(reason: string | null): { reasonCode: string | null; detail: string | null } {
  if (reason === null) return { reasonCode: null, detail: null };
  const i = reason.indexOf(': ');
  return i < 0
    ? { reasonCode: reason, detail: null }
    : { reasonCode: reason.slice(0, i), detail: reason.slice(i + 2) };
}

/** Time in `receiving` inside [from, to), from one station's changes (oldest first). */
export function receivingMs(changes: readonly AttendanceChange[], fromMs: number, toMs: number): number {
  let total = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as AttendanceChange;
    const next = changes[i + 1];
    const a = Math.max(Date.parse(c.at), fromMs);
    const b = Math.min(next ? Date.parse(next.at) : toMs, toMs);
    if (b <= a) continue;
    // `ready` observed before the start and still current after it: locked through the start.
    const counts = c.status === 'receiving' || (c.status === 'ready' && Date.parse(c.at) < fromMs);
    if (counts && c.streaming !== false) total += b - a;
  }
  return total;
}

/** Recorded time inside [from, to): the segments' overlap with it. */
export function recordedMs(rec: ReportRecording | undefined, fromMs: number, toMs: number): number {
  if (!rec) return 0;
  let total = 0;
  for (const s of rec.segments) {
    const a = Math.max(Date.parse(s.start), fromMs);
    const b = Math.min(Date.parse(s.end), toMs);
    if (b > a) total += b - a;
  }
  return total;
}

function totalsOf(rows: readonly StationReport[]): Omit<CountyTotals, 'county'> {
  const shares = rows.map((r) => r.share).filter((s): s is number => s !== null);
  return {
    stations: rows.length,
    full: rows.filter((r) => (r.share ?? 0) >= FULL_SHARE).length,
    partial: rows.filter((r) => (r.share ?? 0) > 0 && (r.share ?? 0) < FULL_SHARE).length,
    none: rows.filter((r) => (r.share ?? 0) === 0).length,
    meanShare: shares.length === 0 ? null : shares.reduce((a, b) => a + b, 0) / shares.length,
    recordingsMade: rows.filter((r) => r.recording?.made).length,
    recordingsDamaged: rows.filter((r) => r.recording?.damaged).length,
  };
}

export function buildReport(input: ReportInput): ConferenceReport {
  const c = input.conference;
  const endMs = c.cancelledAtMs === null ? c.endMs : Math.min(c.endMs, Math.max(c.cancelledAtMs, c.startMs));
  const toMs = Math.min(endMs, input.nowMs);
  const durationMs = Math.max(0, endMs - c.startMs);
  const byStation = new Map<string, AttendanceChange[]>();
  for (const a of input.attendance) {
    const list = byStation.get(a.stationId) ?? [];
    list.push(a);
    byStation.set(a.stationId, list);
  }
  const recordings = new Map(input.recordings.map((r) => [r.stationId, r]));
  const stations: StationReport[] = input.stations.map((s) => {
    const changes = byStation.get(s.id) ?? [];
    const rec = recordings.get(s.id);
    const received = toMs > c.startMs ? receivingMs(changes, c.startMs, toMs) : 0;
    const recorded = toMs > c.startMs ? recordedMs(rec, c.startMs, toMs) : 0;
    const ranMs = Math.max(0, toMs - c.startMs);
    const last = changes[changes.length - 1];
    const cur = input.current.get(s.id);
    const fin = input.finalStates.get(s.id);
    const made = rec !== undefined && rec.status !== 'failed' && (rec.bytes ?? 0) > 0;
    return {
      stationId: s.id,
      name: s.name,
      county: s.county,
      status: cur?.status ?? last?.status ?? 'unknown',
      ...(cur ? { reasonCode: cur.reasonCode, detail: cur.detail } : splitReason(last?.reason ?? null)),
      state: fin?.state ?? null,
      receivedMs: received,
      recordedMs: recorded,
      share: ranMs === 0 ? null : Math.min(1, Math.max(received, recorded) / ranMs),
      recording: c.record
        ? {
            made,
            recordingId: rec?.recordingId ?? null,
            status: rec?.status ?? null,
            quality: rec?.quality ?? null,
            damaged:
              made && rec?.quality !== null && rec?.quality !== undefined && rec.quality < DAMAGED_BELOW,
            bytes: rec?.bytes ?? null,
          }
        : null,
    };
  });
  const countyNames = [...new Set(stations.map((s) => s.county))].sort();
  return {
    conferenceId: c.id,
    title: c.title,
    start: iso(c.startMs),
    end: iso(endMs),
    durationMs,
    final: input.nowMs >= endMs,
    stations,
    counties: countyNames.map((county) => ({
      county,
      ...totalsOf(stations.filter((s) => s.county === county)),
    })),
    totals: totalsOf(stations),
  };
}

/** The report restricted to some stations (an operator sees only their own), totals recomputed. */
export function restrictReport(r: ConferenceReport, keep: (stationId: string) => boolean): ConferenceReport {
  const stations = r.stations.filter((s) => keep(s.stationId));
  const countyNames = [...new Set(stations.map((s) => s.county))].sort();
  return {
    ...r,
    stations,
    counties: countyNames.map((county) => ({
      county,
      ...totalsOf(stations.filter((s) => s.county === county)),
    })),
    totals: totalsOf(stations),
  };
}

/** One CSV field (RFC 4180), with spreadsheet formula injection neutralised (untrusted names). */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const pct = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 10);
const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * The report as CSV: one row per station, an empty line, then the totals per county and over all. UTF-8
 * with a byte-order mark so spreadsheet programs show the Chinese names correctly; CRLF line ends.
 */
export function reportCsv(r: ConferenceReport): string {
  const lines: string[] = [];
  const row = (fields: (string | number | null)[]) => lines.push(fields.map(csvField).join(','));
  row([
    'station_id',
    'station_name',
    'county',
    'status',
    'reason',
    'detail',
    'received_pct',
    'received_s',
    'recorded',
    'recording_status',
    'quality',
    'recorded_s',
    'bytes',
  ]);
  for (const s of r.stations) {
    row([
      s.stationId,
      s.name,
      s.county,
      s.status,
      s.reasonCode,
      s.detail,
      pct(s.share),
      secs(s.receivedMs),
      s.recording === null ? 'n/a' : s.recording.made ? 'yes' : 'no',
      s.recording?.status ?? null,
      s.recording?.quality ?? null,
      s.recording === null ? null : secs(s.recordedMs),
      s.recording?.bytes ?? null,
    ]);
  }
  lines.push('');
  row(['county', 'stations', 'full', 'partial', 'none', 'mean_received_pct', 'recordings', 'damaged']);
  const totalRow = (name: string, t: Omit<CountyTotals, 'county'>) =>
    row([
      name,
      t.stations,
      t.full,
      t.partial,
      t.none,
      pct(t.meanShare),
      t.recordingsMade,
      t.recordingsDamaged,
    ]);
  for (const c of r.counties) totalRow(c.county, c);
  totalRow('all', r.totals);
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
