/**
 * Rules on what the headend observes about a station besides telemetry: presence, schedule versions,
 * clock offset, rejected credentials, recording outcomes and the station's own alarm events. Pure report
 * builders: the engine keeps the state (sample windows, previous levels) and applies the holds.
 */

import { FAILURES, type FailureId } from '../../protocol/failures.js';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import type { AlarmKind, AlarmSeverity } from '../../protocol/registry.js';
import { cause, duration, evidence, kindCause, utc } from './causes.js';
import { RECORDING_DEGRADED_KIND, RECORDING_FAILED_KIND } from './rules.js';
import type { RuleReport } from './telemetry-rules.js';
import { type EvidenceFacts, SEVERITY_LEVEL } from './types.js';

/** Presence → `station_offline` (raised after the grace period by the rule's hold). */
export function offlineReport(online: boolean, since: number): RuleReport {
  return {
    kind: 'station_offline',
    subject: '',
    level: online ? 0 : 2,
    cause: kindCause('station_offline', 'uplink (broadband/3G/4G) down, or the station lost power'),
    evidence: evidence(`disconnected since ${utc(since)}; the station keeps executing its local schedule`, {
      disconnectedSince: new Date(since).toISOString(),
    }),
    carrier: null,
  };
}

const v = (x: ScheduleVersion) => `e${x.epoch}.n${x.n}`;

/** What the headend knows about a station's schedule (from its state and the store). */
export interface ScheduleObservation {
  /** Latest version the headend issued to the station, `null` when none. */
  desired: ScheduleVersion | null;
  /** Version the station reports applied, `null` when none yet. */
  applied: ScheduleVersion | null;
  /** SHA-256 the station reports for the applied document. */
  appliedHash?: string | null;
  /** False when (applied version, hash) is not a document the headend issued (DESIGN.md §4). */
  issued: boolean;
  /** The station's last rejection, when its state carries one for the desired version or later. */
  rejection?: { version?: ScheduleVersion; code: string; reason: string } | null;
  /** Headend time the desired version was issued (for the evidence text). */
  desiredIssuedAt?: number | null;
  at?: number;
}

/** Schedule observation → `schedule_unknown_version`, `schedule_lag` (lag and rejection sources). */
export function scheduleReports(
  o: ScheduleObservation,
  now: number,
): { unknown: RuleReport; lag: RuleReport; rejected: RuleReport } {
  const unknown = o.applied !== null && !o.issued;
  const behind =
    o.desired !== null &&
    (o.applied === null || o.applied.epoch !== o.desired.epoch || o.applied.n !== o.desired.n);
  const since = o.desiredIssuedAt ? ` (issued ${duration(now - o.desiredIssuedAt)} ago)` : '';
  return {
    unknown: {
      kind: 'schedule_unknown_version',
      subject: '',
      level: unknown ? 3 : 0,
      cause: kindCause(
        'schedule_unknown_version',
        'a document from another headend, a restored backup, or tampering',
      ),
      evidence: evidence(
        `station reports schedule ${o.applied ? v(o.applied) : '?'}${o.appliedHash ? ` (sha256 ${o.appliedHash.slice(0, 12)}…)` : ''}, which this headend never issued`,
        { applied: o.applied ? v(o.applied) : null, appliedHash: o.appliedHash ?? null },
      ),
      carrier: null,
    },
    lag: {
      kind: 'schedule_lag',
      subject: '',
      level: behind && !unknown ? 2 : 0,
      cause: kindCause('schedule_lag', 'the station is not applying the published schedule'),
      evidence: evidence(
        `station runs ${o.applied ? v(o.applied) : 'no schedule'} while the headend issued ${o.desired ? v(o.desired) : '—'}${since}`,
        { desired: o.desired ? v(o.desired) : null, applied: o.applied ? v(o.applied) : null },
      ),
      carrier: null,
    },
    rejected: {
      kind: 'schedule_lag',
      subject: '',
      level: o.rejection ? 2 : 0,
      cause: kindCause('schedule_lag', `the station rejected the schedule (${o.rejection?.code ?? ''})`),
      evidence: evidence(
        `station rejected schedule ${o.rejection?.version ? v(o.rejection.version) : ''}: ${o.rejection?.code ?? ''} — ${o.rejection?.reason ?? ''}`,
        { rejectedCode: o.rejection?.code ?? null, reason: o.rejection?.reason?.slice(0, 300) ?? null },
      ),
      carrier: null,
    },
  };
}

/** One clock measurement: station clock minus headend clock, and the exchange's round trip. */
export interface ClockSample {
  offsetMs: number;
  rttMs: number | null;
  at: number;
}

/**
 * Minimum-RTT filter (DESIGN.md §6 Clock): of recent exchanges, the one with the shortest round trip has
 * the least asymmetric delay in it, so its offset is the best estimate.
 */
export function bestClockSample(samples: readonly ClockSample[]): ClockSample | null {
  let best: ClockSample | null = null;
  for (const s of samples) {
    const r = s.rttMs ?? Number.POSITIVE_INFINITY;
    if (!best || r < (best.rttMs ?? Number.POSITIVE_INFINITY)) best = s;
  }
  return best;
}

/** Clock estimate → `clock_untrusted`, with hysteresis (`active`: already on). */
export function clockReport(
  best: ClockSample | null,
  samples: number,
  trusted: boolean | undefined,
  active: boolean,
  limitMs: number,
  clearRatio: number,
): RuleReport {
  const abs = best ? Math.abs(best.offsetMs) : null;
  const over = abs !== null && abs > (active ? limitMs * clearRatio : limitMs);
  const level = over || trusted === false ? 2 : 0;
  let text: string;
  if (best && abs !== null) {
    const dir = best.offsetMs >= 0 ? 'ahead of' : 'behind';
    text =
      `station clock ${(abs / 1000).toFixed(1)} s ${dir} the headend (best of ${samples} exchange${samples === 1 ? '' : 's'}` +
      `${best.rttMs !== null ? `, RTT ${Math.round(best.rttMs)} ms` : ''}); limit ${(limitMs / 1000).toFixed(1)} s`;
  } else {
    text = 'clock offset unknown: no exchange with the headend has succeeded';
  }
  if (trusted === false && !over) text += '; the station reports its clock untrusted';
  return {
    kind: 'clock_untrusted',
    subject: '',
    level,
    cause: kindCause('clock_untrusted', 'no NTP and the clock drifted, or a bad RTC after a power cut'),
    evidence: evidence(text, {
      offsetMs: best ? Math.round(best.offsetMs) : null,
      rttMs: best?.rttMs ?? null,
      limitMs,
      trusted: trusted ?? null,
    }),
    carrier: null,
  };
}

/** Rejected CONNECTs of one username in the window → `credentials_rejected`. */
export function credentialsReport(
  subject: string,
  reasons: readonly string[],
  threshold: number,
  active: boolean,
  windowMs: number,
): RuleReport {
  const n = reasons.length;
  const on = active ? n > 0 : n >= threshold;
  const last = reasons.at(-1) ?? '';
  const probable =
    last === 'wrong-secret'
      ? 'wrong or rotated secret on the station'
      : last === 'revoked'
        ? 'a revoked station still trying to connect'
        : last === 'client-id-mismatch'
          ? 'client id ≠ username: misconfigured or impersonating'
          : last === 'unknown-station'
            ? 'a station id the registry does not know'
            : 'misconfigured or impersonating client';
  return {
    kind: 'credentials_rejected',
    subject,
    level: on ? 2 : 0,
    cause: kindCause('credentials_rejected', probable),
    evidence: evidence(
      `${n} rejected connection${n === 1 ? '' : 's'} for "${subject}" within ${duration(windowMs)} (last: ${last})`,
      {
        username: subject,
        rejections: n,
        lastReason: last,
      },
    ),
    carrier: null,
  };
}

/** A recording manifest's outcome as the alarm engine needs it. */
export interface RecordingObservation {
  recordingId: string;
  entryId: string;
  nominalStart: string;
  outcome: 'completed' | 'completed_with_errors' | 'failed';
  quality: number;
  reason?: string | undefined;
  service?: string | undefined;
  /** Recorded time and missing time (manifest `durationMs`, `gapsMs`): bound the recording's period. */
  durationMs?: number | undefined;
  gapsMs?: number | undefined;
  /** The manifest's segments: the holes between them (and segments with stalls) are where data went missing. */
  segments?: readonly { start: string; end: string; gaps: number }[] | undefined;
  at?: number;
}

/**
 * Where a recording lost data, as [from, to) intervals (ms): the holes between segments and the segments
 * that had stalls inside; without segments, the whole period from the nominal start to its end (nominal
 * start + recorded + missing time, or `now` when the manifest has no durations).
 */
export function recordingLossIntervals(m: RecordingObservation, now: number): [number, number][] {
  const start = Date.parse(m.nominalStart);
  const segs = (m.segments ?? [])
    .map((x) => ({ from: Date.parse(x.start), to: Date.parse(x.end), gaps: x.gaps }))
    .filter((x) => Number.isFinite(x.from) && Number.isFinite(x.to))
    .sort((a, b) => a.from - b.from);
  if (segs.length > 0) {
    const out: [number, number][] = [];
    let prevEnd = Number.isFinite(start) ? start : (segs[0] as { from: number }).from;
    for (const x of segs) {
      if (x.from > prevEnd) out.push([prevEnd, x.from]);
      if (x.gaps > 0) out.push([x.from, x.to]);
      prevEnd = Math.max(prevEnd, x.to);
    }
    return out;
  }
  if (!Number.isFinite(start)) return [];
  const span = (m.durationMs ?? 0) + (m.gapsMs ?? 0);
  return [[start, span > 0 ? start + span : Math.max(start, now)]];
}

/** A predicted sun-outage window a recording's losses fell in (see `recordingReports`). */
export interface SunWindowHit {
  startMs: number;
  endMs: number;
}

/** Rows of a degradation a sun outage explains: lost signal or a stalled stream, not the disk or the service. */
const SUN_EXPLAINS: ReadonlySet<FailureId> = new Set<FailureId>(['stream-stall', 'snow-ice-fade']);

function degradedReport(
  m: RecordingObservation,
  what: string,
  facts: EvidenceFacts,
  degraded: boolean,
  damagedBelow: number,
  sun: SunWindowHit | undefined,
  rowCause: () => ReturnType<typeof cause>,
): RuleReport {
  const text = `${what} completed with errors, quality ${m.quality}/100 (damaged below ${damagedBelow})`;
  if (!sun || !degraded)
    return {
      kind: RECORDING_DEGRADED_KIND,
      subject: '',
      level: degraded ? 2 : 0,
      cause: rowCause(),
      evidence: evidence(text, facts),
      carrier: null,
    };
  const window = `${utc(sun.startMs)} – ${utc(sun.endMs)}`;
  return {
    kind: RECORDING_DEGRADED_KIND,
    subject: '',
    level: SEVERITY_LEVEL.info,
    cause: cause('sun-outage', `degraded during the predicted sun outage ${window}: expected, not a fault`),
    evidence: evidence(`${text}; data lost inside the predicted sun outage ${window}`, {
      ...facts,
      sunOutageStart: new Date(sun.startMs).toISOString(),
      sunOutageEnd: new Date(sun.endMs).toISOString(),
    }),
    carrier: null,
  };
}

/**
 * The failure-table row a recording's reason points at. Reasons start with the agent's codes (`read_only:
 * …`, `disk_full: …`, `clock_untrusted: …`, `no_lock`) followed by text; words are matched whole, so "clock"
 * is not a lock loss and `read_only` is the disk, not a stall.
 */
export function recordingRow(reason: string): FailureId {
  const r = reason.toLowerCase();
  if (/\b(disk_full|read_only|erofs|quota)\b|\bdisk\b|\bspace\b|read-only/.test(r)) return 'disk-full';
  if (/scrambl/.test(r)) return 'scrambled-service';
  if (/\bservice_missing\b|\bservice\b.*\b(missing|not in)\b|\bpat\b|\bpmt\b/.test(r))
    return 'service-reshuffle';
  if (/\bclock/.test(r)) return 'clock-drift';
  if (/\b(no_lock|no lock|lock lost|unlocked|signal)\b/.test(r)) return 'snow-ice-fade';
  return 'stream-stall';
}

/** Manifest → recording alarms (empty when the registry lacks the kinds: see rules.ts). */
/**
 * With `sun` (the recording lost data inside a predicted sun-outage window), a degradation that would blame
 * the signal or a stream stall names the `sun-outage` row instead and is only info: the copy is damaged and
 * the operator should know, but it was expected and nothing at the station needs fixing (DOMAIN.md §6, Sun
 * outage). It is not dropped altogether because the damaged programme is real. A failed recording keeps
 * its own severity and row: a window of minutes does not explain a whole recording lost.
 */
export function recordingReports(
  m: RecordingObservation,
  damagedBelow: number,
  sun?: SunWindowHit,
): RuleReport[] {
  const reason = m.reason ?? '';
  const row = recordingRow(reason);
  const failed = m.outcome === 'failed';
  const degraded = !failed && (m.outcome === 'completed_with_errors' || m.quality < damagedBelow);
  const what = `recording ${m.recordingId} of ${m.entryId} at ${m.nominalStart}${m.service ? ` (${m.service})` : ''}`;
  const facts = {
    recordingId: m.recordingId,
    entryId: m.entryId,
    outcome: m.outcome,
    quality: m.quality,
    reason: reason || null,
  };
  const rowCause = (level: string) =>
    cause(row, reason ? `${level}: ${reason}` : `${level}: ${FAILURES[row].failure.toLowerCase()}`);
  return [
    {
      kind: RECORDING_FAILED_KIND,
      subject: '',
      level: failed ? 3 : 0,
      cause: rowCause('failed'),
      evidence: evidence(`${what} failed${reason ? `: ${reason}` : ''}`, facts),
      carrier: null,
    },
    degradedReport(m, what, facts, degraded, damagedBelow, SUN_EXPLAINS.has(row) ? sun : undefined, () =>
      rowCause('degraded'),
    ),
  ];
}

/**
 * What the engine reads of a station's `alarm.raised` / `alarm.cleared` event. The protocol's events
 * (protocol/messages/events.ts) fit it as they are; so does an alarm relayed by another headend module.
 */
export type StationAlarmEvent =
  | {
      type: 'alarm.raised';
      alarmId: string;
      kind: AlarmKind;
      severity: AlarmSeverity;
      receiverId?: string | undefined;
      message: string;
      evidence: EvidenceFacts;
    }
  | { type: 'alarm.cleared'; alarmId: string; kind: AlarmKind };
type Raised = Extract<StationAlarmEvent, { type: 'alarm.raised' }>;

/** A station's `alarm.raised` → a report for its (kind, receiver); black/silent names peers seeing the same. */
export function stationAlarmReport(
  ev: Raised,
  peersSameService: { service: string; stations: string[] } | null,
): RuleReport {
  const kind: AlarmKind = ev.kind;
  let c = kindCause(kind, ev.message);
  if (kind === 'black_or_silent' && peersSameService) {
    const n = peersSameService.stations.length;
    c =
      n > 0
        ? cause(
            'black-silent',
            `upstream: ${n} other station${n === 1 ? '' : 's'} on ${peersSameService.service} ${n === 1 ? 'sees' : 'see'} the same`,
          )
        : cause(
            'black-silent',
            `only this station on ${peersSameService.service} so far: upstream likely; check the decoder output`,
          );
  }
  return {
    kind,
    subject: ev.receiverId ?? '',
    level: SEVERITY_LEVEL[ev.severity],
    cause: c,
    evidence: evidence(ev.message, { ...ev.evidence, stationAlarmId: ev.alarmId }),
    carrier: null,
  };
}
