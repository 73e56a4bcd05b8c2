/**
 * Re-adopting the alarms that were active when the headend stopped (engine `restore`, called by service.ts
 * with the store's active rows). A restored alarm keeps its id, level, acknowledgement and history: it stays
 * at its saved level until the rule that owns its (station, kind, subject) reports on it again, and then the
 * ordinary holds decide (tracker.ts `RESTORED_SOURCE`) — so a reconnecting station whose fault is still there
 * keeps the same alarm, and one whose fault is gone clears it after the clear hold. Each kind is handed to
 * the rule that will report on it next (DESIGN.md §7 "Alarms"; issue 8 review D1).
 */
import type { AlarmKind } from '../../protocol/registry.js';
import type { Core } from './engine-core.js';
import { restoreFleet } from './engine-fleet.js';
import { ruleOf } from './rules.js';
import { RESTORED_SOURCE } from './tracker.js';
import { type AlarmRecord, SEVERITY_LEVEL } from './types.js';

/**
 * Kinds the telemetry rules report per message: a restored key joins the station's reported keys so the
 * next telemetry message that no longer mentions it (a receiver removed) zeroes it instead of leaving it up.
 */
const TELEMETRY_KINDS = new Set<AlarmKind>([
  'signal_lost',
  'margin_low',
  'stream_frozen',
  'recorder_stalled',
  'receiver_unresponsive',
  'lnb_fault',
  'disk_low',
  'disk_full',
]);

/** What restoring needs from the engine besides the core. */
export interface RestoreHooks {
  /** Seeds the credentials rule with one rejection at `now` (its window restarts at the restart). */
  credentials(subject: string, station: string | null, lastReason: string, now: number): void;
}

/** Re-adopts `records` (active rows) into the engine; cleared rows and ids already known are skipped. */
export function restoreAlarms(core: Core, records: readonly AlarmRecord[], hooks: RestoreHooks): void {
  const now = core.nowOf();
  for (const r of records) {
    if (r.clearedAt !== null || core.byId.has(r.id)) continue;
    const e = core.entryOf(r.station, r.kind, r.subject);
    if (e.alarm) continue;
    e.alarm = { ...r };
    e.carrier = r.carrier;
    core.byId.set(r.id, e);
    const latching = ruleOf(r.kind).latching;
    const held = {
      level: SEVERITY_LEVEL[r.severity],
      cause: r.cause,
      evidence: r.evidence,
      carrier: r.carrier,
      raiseHoldMs: 0,
      clearHoldMs: 0,
    };
    const stationAlarmId = r.evidence.facts.stationAlarmId;
    if (r.station && typeof stationAlarmId === 'string') {
      // A station alarm: its `alarm.cleared` (still in the station's outbox) must find it. A latching fact
      // has no level to hold: it stays until acknowledged.
      if (!latching) e.hold.report(`station:${stationAlarmId}`, held, r.raisedAt);
      core.stationState(r.station).stationAlarms.set(stationAlarmId, e.key);
    } else if (r.kind === 'sun_outage' && r.station) {
      // The annotation lasts its window plus the guard (engine-core `endSunWindows` ends it).
      const end = Date.parse(String(r.evidence.facts.windowEnd ?? ''));
      const list = String(r.evidence.facts.suppressed ?? '');
      core.stationState(r.station).sun = {
        until: Number.isFinite(end) ? end + core.t.sunOutageGuardMs : Number.NEGATIVE_INFINITY,
        suppressed: new Set(list ? list.split(', ') : []),
      };
      e.hold.report('sun', held, r.raisedAt);
      core.dirty.add(e.key);
    } else if (!latching) {
      e.hold.report(RESTORED_SOURCE, held, r.raisedAt);
    }
    if (r.station && TELEMETRY_KINDS.has(r.kind)) core.stationState(r.station).telemetryKeys.add(e.key);
    if (r.kind === 'credentials_rejected') {
      const last = r.evidence.facts.lastReason;
      hooks.credentials(r.subject, r.station, typeof last === 'string' ? last : '', now);
    }
    if (r.kind === 'fleet_signal_lost' && r.carrier) {
      const label = r.evidence.facts.carrier;
      restoreFleet(core, r.carrier, typeof label === 'string' ? label : r.carrier);
    }
  }
}
