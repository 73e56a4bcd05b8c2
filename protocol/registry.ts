/**
 * The one registry of names both sides use (DESIGN.md §4, last paragraph). Everything that crosses the
 * wire or reaches a user as a state, outcome, event type, RPC method or alarm kind is named here. Alarm
 * kinds and the failure table they map to live in failures.ts and are re-exported below.
 */
import { z } from 'zod';

/** Planner outcome of one occurrence (DESIGN.md §5). */
export const PLAN_OUTCOMES = ['planned', 'shared', 'truncated', 'dropped'] as const;
export const PlanOutcome = z.enum(PLAN_OUTCOMES);
export type PlanOutcome = z.infer<typeof PlanOutcome>;

/** Priority classes, highest first (DESIGN.md §5): conference > mandated recording > operator recording. */
export const PRIORITY_CLASSES = ['conference', 'mandated', 'operator'] as const;
export const PriorityClass = z.enum(PRIORITY_CLASSES);
export type PriorityClass = z.infer<typeof PriorityClass>;

/** Rank of a class: higher wins. */
export function classRank(c: PriorityClass): number {
  return PRIORITY_CLASSES.length - PRIORITY_CLASSES.indexOf(c);
}

/**
 * Execution state of one occurrence on the station (reported by `occurrence.state` events).
 * - `pending`: planned, not started. `tuning`: receiver being tuned in pre-roll. `ready`: locked, waiting
 *   for the start. `recording`: ffmpeg writing. `showing`: a conference shown on the output, not recorded.
 * - Terminal: `completed`, `completed_with_errors` (distinct, never hidden under completed — DOMAIN.md §4),
 *   `failed`, `missed` (its window passed without it running: agent down, dropped by the plan, no lock),
 *   `cancelled` (removed from the schedule before or while running).
 */
export const EXECUTION_STATES = [
  'pending',
  'tuning',
  'ready',
  'recording',
  'showing',
  'completed',
  'completed_with_errors',
  'failed',
  'missed',
  'cancelled',
] as const;
export const ExecutionState = z.enum(EXECUTION_STATES);
export type ExecutionState = z.infer<typeof ExecutionState>;

/** States an occurrence never leaves. */
export const TERMINAL_EXECUTION_STATES: readonly ExecutionState[] = [
  'completed',
  'completed_with_errors',
  'failed',
  'missed',
  'cancelled',
];

/**
 * Allowed transitions. `recording → recording` is a resume after a crash or power cut (a new segment,
 * DESIGN.md §6); `ready → tuning` is a re-tune after the receiver lost its settings (DOMAIN.md §6).
 */
export const EXECUTION_TRANSITIONS: Readonly<Record<ExecutionState, readonly ExecutionState[]>> = {
  pending: ['tuning', 'missed', 'cancelled', 'failed'],
  tuning: ['ready', 'recording', 'showing', 'failed', 'missed', 'cancelled'],
  ready: ['tuning', 'recording', 'showing', 'failed', 'missed', 'cancelled'],
  recording: ['recording', 'completed', 'completed_with_errors', 'failed', 'cancelled'],
  showing: ['showing', 'completed', 'failed', 'cancelled'],
  completed: [],
  completed_with_errors: [],
  failed: [],
  missed: [],
  cancelled: [],
};

/** True when `from → to` is a legal execution transition. */
export function canTransition(from: ExecutionState, to: ExecutionState): boolean {
  return EXECUTION_TRANSITIONS[from].includes(to);
}

/** Outcome of a finished recording (DOMAIN.md §4: completed-with-errors is its own status). */
export const RECORDING_OUTCOMES = ['completed', 'completed_with_errors', 'failed'] as const;
export const RecordingOutcome = z.enum(RECORDING_OUTCOMES);
export type RecordingOutcome = z.infer<typeof RecordingOutcome>;

/** Types of the station's exactly-once events (DESIGN.md §4, topic `st/{id}/events`). */
export const EVENT_TYPES = [
  'occurrence.state',
  'recording.manifest',
  'alarm.raised',
  'alarm.cleared',
  'telemetry.summary',
  'schedule.applied',
  'schedule.rejected',
  'clock.jump',
  'rpc.executed',
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/** One RPC method: whether it changes anything (side effects ⇒ its rid is journalled, DESIGN.md §4). */
export interface RpcMethodInfo {
  /** Running it twice would act twice: the station keeps its `rid` so a redelivery never runs again. */
  sideEffects: boolean;
  /** One line for PROTOCOL.md and the technician's UI. */
  summary: string;
}

/** The diagnostics RPC methods (DESIGN.md §6). */
export const RPC_METHODS = {
  'receiver.status': {
    sideEffects: false,
    summary: 'lock, level, C/N, margin, BER, LNB and alarms per receiver',
  },
  'receiver.info': { sideEffects: false, summary: 'family, model, firmware, transport and capabilities' },
  'receiver.retune': {
    sideEffects: true,
    summary: 're-apply the desired tuning (or tune a service) and verify',
  },
  'receiver.reset': {
    sideEffects: true,
    summary: 'soft-reset the receiver over serial, then re-apply tuning',
  },
  'receiver.lnb': { sideEffects: true, summary: 'switch the LNB supply on, off, or off-and-on' },
  'stream.probe': {
    sideEffects: false,
    summary: "probe the receiver's output stream (services, bitrate, CC errors)",
  },
  'plan.explain': {
    sideEffects: false,
    summary: "the station's own plan for a window, with outcomes and reasons",
  },
  'logs.tail': { sideEffects: false, summary: "the agent's recent log entries" },
  'disk.usage': { sideEffects: false, summary: 'recordings disk: size, free, quota, read-only' },
  'recordings.list': { sideEffects: false, summary: 'recordings catalogue on the station' },
  'recordings.protect': { sideEffects: true, summary: 'protect or unprotect a recording from retention' },
  'recordings.delete': { sideEffects: true, summary: 'delete a recording' },
  'recordings.retention': {
    sideEffects: true,
    summary: 'read or change the retention policy, optionally sweep now',
  },
  'clock.exchange': {
    sideEffects: false,
    summary: "NTP-style timestamps to measure the station's clock offset",
  },
} as const satisfies Record<string, RpcMethodInfo>;
export type RpcMethod = keyof typeof RPC_METHODS;
export const RPC_METHOD_NAMES = Object.keys(RPC_METHODS) as RpcMethod[];
export const RpcMethod = z.enum(RPC_METHOD_NAMES as [RpcMethod, ...RpcMethod[]]);

/** True when the method changes state on the station (its rid must be journalled). */
export function hasSideEffects(method: RpcMethod): boolean {
  return RPC_METHODS[method].sideEffects;
}

/**
 * RPC error codes. The station answers with the first group; `DISCONNECTED` and `TIMEOUT` are produced by
 * the headend itself ("disconnected since …" at once; every wait is bounded, DESIGN.md §4).
 */
export const RPC_ERROR_CODES = [
  'UNKNOWN_METHOD',
  'INVALID_PARAMS',
  'EXPIRED',
  'BUSY',
  'MAINTENANCE_HOLD',
  'NOT_FOUND',
  'REFUSED',
  'RECEIVER_ERROR',
  'INTERNAL',
  'DISCONNECTED',
  'TIMEOUT',
] as const;
export const RpcErrorCode = z.enum(RPC_ERROR_CODES);
export type RpcErrorCode = z.infer<typeof RpcErrorCode>;

/** Why a station rejected a schedule document (reported in its state and a `schedule.rejected` event). */
export const SCHEDULE_REJECT_CODES = [
  'TOO_LARGE',
  'NOT_JSON',
  'INVALID',
  'UNSUPPORTED_PLANNER',
  'UNKNOWN_RECEIVER',
] as const;
export const ScheduleRejectCode = z.enum(SCHEDULE_REJECT_CODES);
export type ScheduleRejectCode = z.infer<typeof ScheduleRejectCode>;

/** LNB supply state as receivers report it (DOMAIN.md §2). */
export const LNB_STATES = ['ok', 'short', 'no_load', 'off', 'unknown'] as const;
export const LnbState = z.enum(LNB_STATES);
export type LnbState = z.infer<typeof LnbState>;

/** Alarm severity. */
export const ALARM_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const AlarmSeverity = z.enum(ALARM_SEVERITIES);
export type AlarmSeverity = z.infer<typeof AlarmSeverity>;

export * from './failures.js';
