/**
 * Relays alarms decided elsewhere in the headend into the engine: headend/fleet's alarm board raises
 * `station_offline` once presence's grace period has run, `schedule_unknown_version` from the schedule
 * tracker, `event_conflict` from ingest, and passes on the stations' own `alarm.raised` / `alarm.cleared`
 * events. Those sources already held their conditions, so the relay enters them with no hold of its own;
 * the engine still adds what it owns — cause, evidence, sun-outage suppression, fleet correlation,
 * acknowledgement, storage and notification.
 *
 * `board.subscribe(relayToEngine(service.engine))` wires it (the structural type below is the board's
 * `FleetAlarm`, so this module does not depend on headend/fleet).
 */
import { ALARM_KINDS, type AlarmKind, type AlarmSeverity } from '../../protocol/registry.js';
import { kindCause } from './causes.js';
import type { AlarmEngine } from './engine.js';
import { ruleOf } from './rules.js';
import type { EvidenceFacts } from './types.js';

/** One raise or clear from another module. */
export interface RelayedAlarm {
  action: 'raise' | 'clear';
  kind: AlarmKind;
  stationId: string;
  /** Receiver, event key, or — for a station's own alarm — its alarm id; `''` = the station. */
  subject: string;
  severity: AlarmSeverity;
  message: string;
  evidence: EvidenceFacts;
  /** Raised by the station itself (an `alarm.raised` event). */
  fromStation: boolean;
  /** When it happened (UTC ISO); the engine's clock when absent or unreadable. */
  at?: string;
}

const NO_HOLD = { raise: 0, clear: 0 };

/** A sink for the alarm board that feeds `engine`. */
export function relayToEngine(engine: AlarmEngine): (a: RelayedAlarm) => void {
  return (a) => {
    const parsed = a.at === undefined ? Number.NaN : Date.parse(a.at);
    const at = Number.isFinite(parsed) ? { at: parsed } : {};
    if (a.fromStation && ALARM_KINDS[a.kind].raisedBy === 'station') {
      // Keyed by the station's receiver, like the headend's own telemetry rules, so one fault is one alarm.
      const rx = a.evidence.receiverId;
      engine.observeStationAlarm(
        a.stationId,
        a.action === 'raise'
          ? {
              type: 'alarm.raised',
              alarmId: a.subject,
              kind: a.kind,
              severity: a.severity,
              ...(typeof rx === 'string' ? { receiverId: rx } : {}),
              message: a.message,
              evidence: a.evidence,
            }
          : { type: 'alarm.cleared', alarmId: a.subject, kind: a.kind },
        at.at,
      );
      return;
    }
    const base = {
      station: a.stationId,
      kind: a.kind,
      subject: a.subject,
      severity: a.severity,
      evidence: { text: a.message, facts: a.evidence },
      cause: kindCause(a.kind),
      source: 'board',
      holds: NO_HOLD,
      ...at,
    };
    engine.observeCondition({ ...base, active: a.action === 'raise' });
    // A latching kind (an event conflict) is a fact, not a state: recorded, it stays until acknowledged.
    if (a.action === 'raise' && ruleOf(a.kind).latching) engine.observeCondition({ ...base, active: false });
  };
}
