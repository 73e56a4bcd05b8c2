/**
 * The alarms the fleet modules raise from what they observe (DESIGN.md §4, §7): a station offline after
 * the grace period, a schedule version the headend never issued, an event re-sent with a different
 * payload, and the alarms stations raise themselves (`alarm.raised` / `alarm.cleared` events). The board
 * keeps the active set (raise and clear are idempotent, so a redelivered retained state pages nobody
 * twice) and hands every transition to a sink — the alarm engine (headend/alarms) in the running headend,
 * which owns holds, correlation, storage and notification.
 */
import type { Logger } from 'pino';
import { ALARM_KINDS, type AlarmKind, type AlarmSeverity } from '../../protocol/registry.js';

/** Figures backing an alarm (the shape of a station's alarm evidence, PROTOCOL.md). */
export type AlarmFacts = Record<string, string | number | boolean | null>;

/** One raise or clear. */
export interface FleetAlarm {
  action: 'raise' | 'clear';
  kind: AlarmKind;
  stationId: string;
  /** What inside the station it is about (a receiver, an event key, the station's own alarm id); '' = the station. */
  subject: string;
  severity: AlarmSeverity;
  message: string;
  evidence: AlarmFacts;
  /** Headend time of the transition (UTC `Z`). */
  at: string;
  /** Raised by the station itself (an `alarm.raised` event) rather than by the headend. */
  fromStation: boolean;
}

/** Where transitions go. */
export type AlarmSink = (a: FleetAlarm) => void;

export interface AlarmBoard {
  raise(
    a: Omit<FleetAlarm, 'action' | 'at' | 'severity' | 'fromStation'> & {
      severity?: AlarmSeverity;
      fromStation?: boolean;
    },
  ): boolean;
  clear(kind: AlarmKind, stationId: string, subject?: string, evidence?: AlarmFacts): boolean;
  /** Is this alarm raised now? */
  active(kind: AlarmKind, stationId: string, subject?: string): boolean;
  /** Every active alarm, oldest first. */
  list(stationId?: string): FleetAlarm[];
  /** Adds a sink (several may listen: the alarm engine, SSE); returns its remover. */
  subscribe(sink: AlarmSink): () => void;
}

const key = (kind: string, stationId: string, subject: string) => `${stationId}\u0000${kind}\u0000${subject}`;

export function createAlarmBoard(deps: { logger: Logger; now?: () => Date }): AlarmBoard {
  const now = deps.now ?? (() => new Date());
  const active = new Map<string, FleetAlarm>();
  const sinks = new Set<AlarmSink>();
  const emit = (a: FleetAlarm) => {
    const log =
      a.action === 'raise' ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
    log(
      { event: `alarm-${a.action}`, ...a },
      `${a.action === 'raise' ? 'alarm' : 'cleared'}: ${a.kind} at ${a.stationId}`,
    );
    for (const s of sinks) {
      try {
        s(a);
      } catch (err) {
        deps.logger.error({ event: 'alarm-sink-failed', err: (err as Error).message }, 'an alarm sink threw');
      }
    }
  };
  return {
    raise(r) {
      const subject = r.subject;
      const k = key(r.kind, r.stationId, subject);
      if (active.has(k)) return false;
      const a: FleetAlarm = {
        action: 'raise',
        kind: r.kind,
        stationId: r.stationId,
        subject,
        severity: r.severity ?? ALARM_KINDS[r.kind].severity,
        message: r.message,
        evidence: r.evidence,
        at: now().toISOString(),
        fromStation: r.fromStation ?? false,
      };
      active.set(k, a);
      emit(a);
      return true;
    },
    clear(kind, stationId, subject = '', evidence = {}) {
      const k = key(kind, stationId, subject);
      const raised = active.get(k);
      if (!raised) return false;
      active.delete(k);
      emit({ ...raised, action: 'clear', evidence, at: now().toISOString() });
      return true;
    },
    active: (kind, stationId, subject = '') => active.has(key(kind, stationId, subject)),
    list: (stationId) =>
      [...active.values()].filter((a) => stationId === undefined || a.stationId === stationId),
    subscribe(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
  };
}
