/**
 * Station events (`ruralsat/v1/st/{id}/events`, QoS 1, not retained, DESIGN.md §4): exactly-once end to
 * end. Every event carries `(storeId, seq)`; the agent writes it to its outbox in the same transaction as
 * the change it reports, sends in order and resends from the headend's `ack`. The headend inserts on
 * `(station, storeId, seq)` — the same key with the same payload hash is a duplicate, a different hash an
 * alarm — so every event must be a pure record of what happened (resending it must give the same bytes).
 */
import { z } from 'zod';
import {
  AlarmSeverity,
  ExecutionState,
  RecordingOutcome,
  RpcErrorCode,
  RpcMethod,
  ScheduleRejectCode,
  StationAlarmKind,
} from '../registry.js';
import { Id, ScheduleVersion, ServiceKey, Sha256Hex, StoreId, UtcTimestamp } from './common.js';
import { ReceiverAlarmNames } from './telemetry.js';

const envelope = {
  storeId: StoreId,
  /** Grows by one per event within a store, from 1. */
  seq: z.number().int().positive(),
  /** When it happened (station clock; see `clockTrusted` on manifests). */
  at: UtcTimestamp,
};

const count = z.number().int().nonnegative();
const durationMs = z.number().int().nonnegative();

/** An occurrence is `(entryId, nominalStart)` (DESIGN.md §5). */
const occurrence = {
  entryId: Id,
  nominalStart: UtcTimestamp,
};

/** Lifecycle of one occurrence. */
export const OccurrenceStateEvent = z.strictObject({
  ...envelope,
  type: z.literal('occurrence.state'),
  ...occurrence,
  /** Revision of the entry the station was executing. */
  rev: z.number().int().nonnegative(),
  state: ExecutionState,
  receiverId: Id.optional(),
  /** Why (e.g. `dropped (by conf-7 at 2026-03-06T02:00:00Z)`, `no lock after 15 s`). */
  reason: z.string().max(500).optional(),
});

/** One recorded file. */
export const RecordingSegment = z
  .strictObject({
    /** File name relative to the recordings directory. */
    file: z.string().min(1).max(255),
    start: UtcTimestamp,
    end: UtcTimestamp,
    bytes: count,
    durationMs,
    ccErrors: count,
    /** Stream interruptions inside the segment (no data for longer than the stall limit). */
    gaps: count,
  })
  .refine((s) => Date.parse(s.end) >= Date.parse(s.start), { path: ['end'], message: 'end before start' });

/** The result of one recorded occurrence (DOMAIN.md §4: quality from gaps and CC errors). */
export const RecordingManifestEvent = z.strictObject({
  ...envelope,
  type: z.literal('recording.manifest'),
  ...occurrence,
  /** Station-local recording id (recordings.* RPCs use it). */
  recordingId: Id,
  service: ServiceKey,
  receiverId: Id.optional(),
  segments: z.array(RecordingSegment).max(1000),
  bytes: count,
  durationMs,
  /** Total time missing inside the recorded window (gaps plus time between segments). */
  gapsMs: durationMs,
  /** 0–100; MythTV marks below 95 as damaged (DOMAIN.md §4). */
  quality: z.number().min(0).max(100),
  outcome: RecordingOutcome,
  reason: z.string().max(500).optional(),
  /** False when the recording was made with an untrusted clock (DESIGN.md §6, Clock). */
  clockTrusted: z.boolean(),
});

/** Evidence of an alarm: a few named figures (e.g. `marginDb: 0.6`, `lnb: "short"`). */
export const Evidence = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/),
    z.union([z.number(), z.string().max(500), z.boolean(), z.null()]),
  )
  .refine((e) => Object.keys(e).length <= 32, 'at most 32 evidence fields');

export const AlarmRaisedEvent = z.strictObject({
  ...envelope,
  type: z.literal('alarm.raised'),
  /** Identifies this alarm instance; its `alarm.cleared` names the same id. */
  alarmId: Id,
  kind: StationAlarmKind,
  severity: AlarmSeverity,
  receiverId: Id.optional(),
  message: z.string().min(1).max(500),
  evidence: Evidence,
});

export const AlarmClearedEvent = z.strictObject({
  ...envelope,
  type: z.literal('alarm.cleared'),
  alarmId: Id,
  kind: StationAlarmKind,
  evidence: Evidence.optional(),
});

/** min / avg / max over the summary period. */
export const Stat = z
  .strictObject({ min: z.number(), avg: z.number(), max: z.number() })
  .refine((s) => s.min <= s.avg && s.avg <= s.max, 'need min ≤ avg ≤ max');

/** Per-minute summary made while the uplink was down (telemetry is lossy; this is not). */
export const TelemetrySummaryEvent = z
  .strictObject({
    ...envelope,
    type: z.literal('telemetry.summary'),
    from: UtcTimestamp,
    to: UtcTimestamp,
    /** Telemetry samples the summary is made of. */
    samples: z.number().int().positive(),
    receivers: z
      .array(
        z.strictObject({
          id: Id,
          /** Share of samples with lock, 0–1. */
          lockedRatio: z.number().min(0).max(1),
          marginDb: Stat.optional(),
          cnDb: Stat.optional(),
          /**
           * Every receiver alarm name seen in the minute's samples (telemetry `receivers[].alarms`);
           * optional: absent when no sample carried alarms (older agents).
           */
          alarms: ReceiverAlarmNames.optional(),
        }),
      )
      .max(8),
    diskFreeBytes: Stat.optional(),
    cpuPct: Stat.optional(),
  })
  .refine((s) => Date.parse(s.to) > Date.parse(s.from), { path: ['to'], message: 'to must be after from' })
  .refine((s) => Date.parse(s.to) - Date.parse(s.from) <= 3_600_000, {
    path: ['to'],
    message: 'a summary covers at most one hour',
  });

export const ScheduleAppliedEvent = z.strictObject({
  ...envelope,
  type: z.literal('schedule.applied'),
  version: ScheduleVersion,
  hash: Sha256Hex,
  /** The version it replaced, if any. */
  previous: ScheduleVersion.optional(),
});

export const ScheduleRejectedEvent = z.strictObject({
  ...envelope,
  type: z.literal('schedule.rejected'),
  version: ScheduleVersion.optional(),
  code: ScheduleRejectCode,
  reason: z.string().min(1).max(1000),
});

/** The station's clock was stepped (NTP/chrony, or corrected against the headend). */
export const ClockJumpEvent = z.strictObject({
  ...envelope,
  type: z.literal('clock.jump'),
  /** New minus old clock reading, ms (negative = stepped back). */
  deltaMs: z.number().int(),
  /** Offset against the headend after the jump, if known. */
  offsetMs: z.number().nullable(),
  source: z.enum(['ntp', 'headend', 'tdt', 'manual', 'unknown']),
});

/** A side-effecting RPC ran (the audit trail of remote actions on the station). */
export const RpcExecutedEvent = z.strictObject({
  ...envelope,
  type: z.literal('rpc.executed'),
  rid: Id,
  method: RpcMethod,
  ok: z.boolean(),
  errorCode: RpcErrorCode.optional(),
});

export const StationEvent = z.discriminatedUnion('type', [
  OccurrenceStateEvent,
  RecordingManifestEvent,
  AlarmRaisedEvent,
  AlarmClearedEvent,
  TelemetrySummaryEvent,
  ScheduleAppliedEvent,
  ScheduleRejectedEvent,
  ClockJumpEvent,
  RpcExecutedEvent,
]);
export type StationEvent = z.infer<typeof StationEvent>;
/** One event type's payload, e.g. `EventOf<'recording.manifest'>`. */
export type EventOf<T extends StationEvent['type']> = Extract<StationEvent, { type: T }>;
