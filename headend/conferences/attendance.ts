/**
 * The live attendance status of one target station (issue 7 "Live attendance board"), derived — purely —
 * from what the headend knows: presence (DESIGN.md §4), desired vs applied schedule, the occurrence's
 * execution state (`occurrence.state` events), the receiver as the station last reported it (state or
 * telemetry) and its alarms.
 *
 * Statuses, in the order they are decided:
 * - `cancelled`: the conference was cancelled and the station applied the schedule without it.
 * - `ended` / `failed`: the station reported a final state (completed, or failed / missed with a reason).
 * - `offline`: not connected (the station may still be executing — offline first, DESIGN.md §6 — but
 *   the headend cannot know until it reconnects).
 * - `not_applied`: connected, but the schedule that carries the conference as it is now is not applied yet
 *   (or it was rejected: `failed`, with the rejection).
 * - `failed` (live): receiver unresponsive (control link down or its alarm raised), no lock after the lock
 *   timeout, lock lost during the conference, or no stream while recording — each clears by itself when
 *   the station recovers, because the status is recomputed, never latched.
 * - `scheduled` (applied, pre-roll not begun), `tuning`, `ready` (locked before the start), `receiving`
 *   (locked after the start; `streaming` says whether the recorder sees bytes, null when not recorded).
 */
import { compareVersions, type ScheduleVersion } from '../../protocol/messages/common.js';
import type { ExecutionState } from '../../protocol/registry.js';

export const ATTENDANCE_STATUSES = [
  'offline',
  'not_applied',
  'scheduled',
  'tuning',
  'ready',
  'receiving',
  'failed',
  'ended',
  'cancelled',
] as const;
export type AttendanceStatus = (typeof ATTENDANCE_STATUSES)[number];

/** Why a station is where it is, for translation in the UI (the detail text is shown beside it). */
export const REASON_CODES = [
  'never_connected',
  'disconnected',
  'schedule_rejected',
  'awaiting_schedule',
  'awaiting_cancellation',
  'receiver_unresponsive',
  'no_lock',
  'lock_lost',
  'no_stream',
  'not_started',
  'missed',
  'failed',
  'cancelled_at_station',
  'completed',
  'completed_with_errors',
  'awaiting_report',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** The receiver as the station last reported it. */
export interface ReceiverReading {
  link: 'up' | 'down';
  locked: boolean;
  marginDb: number | null;
  cnDb: number | null;
}

/** Everything the status is derived from. */
export interface AttendanceInputs {
  nowMs: number;
  conference: { startMs: number; endMs: number; preRollMs: number; record: boolean; cancelled: boolean };
  timing: { tunePreRollMs: number; receiverLockTimeoutMs: number };
  connection: 'online' | 'disconnected' | 'unknown';
  /** Since when the connection is what it is. */
  since: string | null;
  /** The first schedule version that carries the conference as it is now. */
  required: ScheduleVersion;
  applied: ScheduleVersion | null;
  /** The station's last rejection of a document newer than the applied one. */
  rejected: { code: string; reason: string } | null;
  /** Newest reported state of the occurrence `(conference id, current start)`. */
  occurrence: { state: ExecutionState; reason: string | null; at: string } | null;
  receiver: ReceiverReading | null;
  /** The recorder's figures for this occurrence (telemetry), when it records. */
  recorder: { bitrateBps: number; bytes: number } | null;
  /** Message of an active `receiver_unresponsive` alarm of the station, if any. */
  receiverAlarm: string | null;
}

/** One row of the board. */
export interface AttendanceRow {
  stationId: string;
  status: AttendanceStatus;
  reasonCode: ReasonCode | null;
  /** Human detail (English, from the station or the headend); rendered as text. */
  detail: string | null;
  /** Execution state the station last reported for the occurrence. */
  state: ExecutionState | null;
  marginDb: number | null;
  cnDb: number | null;
  locked: boolean | null;
  /** Recorder sees bytes (true / false), or unknown / not recorded (null). */
  streaming: boolean | null;
}

type Derived = Omit<AttendanceRow, 'stationId' | 'state' | 'marginDb' | 'cnDb' | 'locked'>;

const d = (
  status: AttendanceStatus,
  reasonCode: ReasonCode | null = null,
  detail: string | null = null,
  streaming: boolean | null = null,
): Derived => ({ status, reasonCode, detail, streaming });

const behind = (applied: ScheduleVersion | null, required: ScheduleVersion) =>
  applied === null || compareVersions(applied, required) < 0;

const fmtDb = (x: number | null) => (x === null ? '—' : `${x.toFixed(1)} dB`);

/** Reason code of a `missed` state: the agent's reasons start with their code (`no_lock: …`). */
function missedCode(reason: string | null): ReasonCode {
  const code = reason?.split(':')[0]?.trim();
  if (code === 'no_lock' || code === 'receiver_unresponsive') return code;
  if (code === 'not_started') return 'not_started';
  return 'missed';
}

function decide(i: AttendanceInputs): Derived {
  const c = i.conference;
  const occ = i.occurrence;
  const online = i.connection === 'online';
  if (c.cancelled) {
    if (!behind(i.applied, i.required)) return d('cancelled');
    return online ? d('not_applied', 'awaiting_cancellation') : d('offline', offlineCode(i), i.since);
  }
  if (occ) {
    switch (occ.state) {
      case 'completed':
        return d('ended', 'completed', occ.reason);
      case 'completed_with_errors':
        return d('ended', 'completed_with_errors', occ.reason);
      case 'failed':
        return d('failed', 'failed', occ.reason);
      case 'missed':
        return d('failed', missedCode(occ.reason), occ.reason);
      case 'cancelled':
        return d('failed', 'cancelled_at_station', occ.reason);
      default:
        break;
    }
  }
  if (!online) return d('offline', offlineCode(i), i.since);
  if (behind(i.applied, i.required)) {
    if (i.rejected) return d('failed', 'schedule_rejected', `${i.rejected.code}: ${i.rejected.reason}`);
    return d('not_applied', 'awaiting_schedule');
  }
  const state = occ?.state ?? null;
  const running = state === 'ready' || state === 'recording' || state === 'showing';
  if (i.nowMs >= c.endMs) {
    // The station sends its final state when its window closes; until it arrives the board says so.
    return running ? d('ended', 'awaiting_report') : d('failed', 'not_started', 'it never tuned');
  }
  const r = i.receiver;
  const tuneAtMs = c.startMs - c.preRollMs - i.timing.tunePreRollMs;
  if (i.receiverAlarm !== null && (state !== null || i.nowMs >= tuneAtMs)) {
    // The agent's recovery ladder escalates both a silent receiver and one that cannot lock; its message
    // says which (device/receiver/recovery.ts: `no-lock: …` / `unresponsive: …`).
    if (/^no-lock/.test(i.receiverAlarm) && r && r.link === 'up' && !r.locked)
      return d('failed', 'no_lock', `C/N ${fmtDb(r.cnDb)}; ${i.receiverAlarm}`);
    return d('failed', 'receiver_unresponsive', i.receiverAlarm);
  }
  if (r && r.link === 'down' && (state !== null || i.nowMs >= tuneAtMs))
    return d('failed', 'receiver_unresponsive', 'the receiver does not answer on its control port');
  if (state === null || state === 'pending') {
    if (i.nowMs >= c.startMs + i.timing.receiverLockTimeoutMs)
      return d('failed', 'not_started', 'the station has not started tuning');
    return d('scheduled');
  }
  if (state === 'tuning') {
    const tuningForMs = i.nowMs - Date.parse(occ?.at ?? '');
    if (r && !r.locked && tuningForMs > i.timing.receiverLockTimeoutMs)
      return d(
        'failed',
        'no_lock',
        `no lock after ${Math.round(tuningForMs / 1000)} s (C/N ${fmtDb(r.cnDb)})`,
      );
    return d('tuning');
  }
  if (r && !r.locked) return d('failed', 'lock_lost', `lock lost (C/N ${fmtDb(r.cnDb)})`);
  if (i.nowMs < c.startMs) return d('ready');
  if (!c.record || state === 'showing') return d('receiving');
  if (i.recorder === null) return d('receiving');
  if (i.recorder.bitrateBps > 0) return d('receiving', null, null, true);
  return d('failed', 'no_stream', 'the receiver reports lock but no bytes reach the recorder', false);
}

function offlineCode(i: AttendanceInputs): ReasonCode {
  return i.connection === 'unknown' ? 'never_connected' : 'disconnected';
}

/** The board row of one station. */
export function deriveAttendance(stationId: string, i: AttendanceInputs): AttendanceRow {
  const r = i.receiver;
  return {
    stationId,
    ...decide(i),
    state: i.occurrence?.state ?? null,
    marginDb: r?.locked ? r.marginDb : null,
    cnDb: r?.cnDb ?? null,
    locked: r ? r.locked : null,
  };
}

/** Counts of each status. */
export type StatusCounts = Record<AttendanceStatus, number> & { total: number };

export function emptyCounts(): StatusCounts {
  const c = { total: 0 } as StatusCounts;
  for (const s of ATTENDANCE_STATUSES) c[s] = 0;
  return c;
}

/** Counts per county and over all (issue 7: "counts per county"). */
export function countByCounty(
  rows: readonly AttendanceRow[],
  countyOf: (stationId: string) => string,
): { all: StatusCounts; counties: Record<string, StatusCounts> } {
  const all = emptyCounts();
  const counties: Record<string, StatusCounts> = {};
  for (const row of rows) {
    const county = countyOf(row.stationId);
    counties[county] ??= emptyCounts();
    const c = counties[county];
    c[row.status]++;
    c.total++;
    all[row.status]++;
    all.total++;
  }
  return { all, counties };
}
