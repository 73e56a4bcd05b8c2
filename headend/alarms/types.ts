/**
 * Types shared by the alarm engine, its store and its notifiers (DESIGN.md §7 "Alarms"; issue 8). Times are
 * UTC epoch milliseconds inside the engine; the store and the webhook JSON write them as ISO-8601 `Z`.
 */
import type { FailureId } from '../../protocol/failures.js';
import type { ModCod } from '../../protocol/link-budget.js';
import type { AlarmKind, AlarmSeverity } from '../../protocol/registry.js';

/** Severity order: an alarm's level is 0 when not raised, else 1 (info) … 3 (critical). */
export const SEVERITY_LEVEL: Readonly<Record<AlarmSeverity, 1 | 2 | 3>> = {
  info: 1,
  warning: 2,
  critical: 3,
};

/** Level (1–3) → severity. */
export function severityOfLevel(level: number): AlarmSeverity {
  return level >= 3 ? 'critical' : level === 2 ? 'warning' : 'info';
}

/** A few named figures backing an alarm, the same shape as a station's alarm evidence (PROTOCOL.md). */
export type EvidenceFacts = Record<string, number | string | boolean | null>;

/** Why the engine believes what it says: one human sentence and the figures behind it. */
export interface Evidence {
  /** E.g. "margin fell 4.0 dB over 3.0 days while 6 other stations on 3840H27500 held steady". */
  text: string;
  facts: EvidenceFacts;
}

/** The probable cause, from the failure table (DOMAIN.md §6, protocol/failures.ts). */
export interface Cause {
  /** Failure-table row; usually the kind's own row, refined by evidence (e.g. no lock + LNB short → LNB row). */
  row: FailureId;
  /** The row's failure name, verbatim. */
  failure: string;
  /** The row's response, verbatim: what to do about it. */
  respond: string;
  /** The probable cause in a few words, e.g. "dish alignment or snow load". */
  text: string;
}

/** Who an alarm is about. */
export type AlarmScope = 'station' | 'fleet';

/** One alarm as the engine, the store, the UI and webhooks see it. */
export interface AlarmRecord {
  /** Unique id (a new one every time the condition is raised again). */
  id: string;
  scope: AlarmScope;
  /** Station id; `null` for a fleet alarm, or for rejected credentials under a name that is no station id. */
  station: string | null;
  /** Carrier (`transponderKey`) for fleet alarms and signal alarms; otherwise `null`. */
  carrier: string | null;
  /** What inside the station it is about: receiver id, service key, MQTT username…; `''` when the station. */
  subject: string;
  kind: AlarmKind;
  severity: AlarmSeverity;
  cause: Cause;
  evidence: Evidence;
  raisedAt: number;
  ackedBy: string | null;
  ackedAt: number | null;
  clearedAt: number | null;
  /** Id of the fleet alarm this station alarm is folded into, if any. */
  linkedTo: string | null;
}

/**
 * What happened to an alarm:
 * - `raised`, `cleared` (automatically when the condition ended, or on acknowledgement for latching kinds);
 * - `severity`: escalated or de-escalated (e.g. margin warning → critical), never silently;
 * - `acknowledged` (by whom);
 * - `linked` / `unlinked`: folded into / released from a fleet alarm;
 * - `updated`: new evidence worth showing (a fleet alarm's station count grew).
 */
export type TransitionType =
  | 'raised'
  | 'cleared'
  | 'severity'
  | 'acknowledged'
  | 'linked'
  | 'unlinked'
  | 'updated';

/** One transition, with a snapshot of the alarm after it. */
export interface AlarmTransition {
  type: TransitionType;
  at: number;
  alarm: AlarmRecord;
  /** Severity before a `severity` transition. */
  previousSeverity?: AlarmSeverity;
  /** Who acted (acknowledgement). */
  actor?: string;
}

/** A carrier as the engine needs it: its key, a label for texts, and its modulation/FEC (DOMAIN.md §2). */
export interface CarrierInfo extends ModCod {
  /** `transponderKey()` of the transponder, e.g. `3840H27500`. */
  key: string;
  /** Display label, e.g. "3840 MHz H 27500 ks/s". */
  label: string;
}

/** A predicted sun-outage window (protocol/sun-outage.ts), UTC ms. */
export interface OutageWindow {
  startMs: number;
  endMs: number;
  peakMs: number;
}

/** The engine's typed error. */
export class AlarmError extends Error {
  override readonly name = 'AlarmError';
  constructor(
    readonly code: 'NOT_FOUND' | 'ALREADY_ACKNOWLEDGED' | 'INVALID_INPUT' | 'BAD_POLICY',
    message: string,
  ) {
    super(message);
  }
}
