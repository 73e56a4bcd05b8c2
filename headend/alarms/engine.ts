/**
 * The alarm engine (DESIGN.md §7 "Alarms"; issue 8). Pure: no I/O, no timers — the caller feeds
 * observations and calls `tick` (the shell in service.ts does it every second); every state change comes
 * out of `onTransition`, which the shell persists (store.ts), notifies (webhook.ts) and streams (SSE).
 *
 * ```ts
 * const engine = createAlarmEngine({
 *   timing,                                  // protocol/timing.ts: holds, grace, lag, windows
 *   clock: () => Date.now(),                 // observation time when an `at` is not given
 *   carrierOf: carrierLookupFromLineup(lineup),
 *   sunOutage: calendar.windows,             // sun-calendar.ts (optional)
 *   receiverNeeded: (station, rx, at) => …,  // optional: does the plan need this receiver now?
 *   onTransition: (t) => { … },              // raised | cleared | severity | acknowledged | linked | unlinked | updated
 * });
 * engine.observePresence('st-001', { online: false });  // Will / broker drop (birth: online: true, storeId)
 * engine.observeTelemetry('st-001', telemetry);         // a validated `Telemetry` message
 * engine.observeStationAlarm('st-001', alarmEvent);     // `alarm.raised` / `alarm.cleared` events
 * engine.observeSchedule('st-001', { desired, applied, issued, rejection });
 * engine.observeClock('st-001', { offsetMs, rttMs, trusted });
 * engine.observeCredentialsRejected({ username, clientId, reason });  // embedded broker `onRejected`
 * engine.observeRecording('st-001', manifest);          // `recording.manifest` events
 * engine.observeCondition({ station, kind: 'event_conflict', active: true, evidence });
 * engine.tick(now);                                     // holds run out, windows end
 * engine.acknowledge(alarmId, 'wang.technician');
 * ```
 *
 * How an alarm is decided: rules (telemetry-rules.ts, station-rules.ts) turn each observation into a level
 * per (station, kind, subject); tracker.ts applies the kind's hold times (rules.ts); engine-core.ts then
 * suppresses expected losses in predicted sun-outage windows (annotated by an info `sun_outage` alarm) and
 * folds lock losses that are part of a fleet-wide loss of one carrier into one fleet alarm
 * (engine-fleet.ts). While a station is disconnected its telemetry-based alarms keep their last state:
 * `station_offline` speaks for it. Only live observations belong here: summaries replayed after an outage
 * are history, not a present condition.
 */

import type { Telemetry } from '../../protocol/messages/telemetry.js';
import { ALARM_KINDS, type AlarmKind } from '../../protocol/registry.js';
import { cause as mkCause, evidence as mkEvidence, utc } from './causes.js';
import { type AlarmEngineDeps, createCore } from './engine-core.js';
import { tickFleets, trackLoss } from './engine-fleet.js';
import { restoreAlarms } from './engine-restore.js';
import { applyExplained, observeTelemetry, SERVICE_EXPLAINED } from './engine-telemetry.js';
import { ruleOf } from './rules.js';
import type { RecordingObservation, ScheduleObservation, StationAlarmEvent } from './station-rules.js';
import {
  bestClockSample,
  clockReport,
  credentialsReport,
  offlineReport,
  recordingLossIntervals,
  recordingReports,
  scheduleReports,
  stationAlarmReport,
} from './station-rules.js';
import {
  AlarmError,
  type AlarmRecord,
  type Cause,
  type Evidence,
  type OutageWindow,
  SEVERITY_LEVEL,
} from './types.js';

export type { AlarmEngineDeps } from './engine-core.js';

/** A generic condition (e.g. ingest's `event_conflict`). */
export interface ConditionInput {
  station: string | null;
  kind: AlarmKind;
  subject?: string;
  active: boolean;
  /** Severity when active; default: the registry's. */
  severity?: 'info' | 'warning' | 'critical';
  evidence?: Evidence;
  cause?: Cause;
  /** Source name (several sources OR together); default `external`. */
  source?: string;
  /** Hold times of this source, when it already held the condition itself; default: the kind's rule. */
  holds?: { raise: number; clear: number };
  at?: number;
}

/** The engine's API (see the header for usage). */
export interface AlarmEngine {
  observePresence(station: string, p: { online: boolean; storeId?: string; at?: number }): void;
  observeTelemetry(station: string, tm: Telemetry, at?: number): void;
  observeStationAlarm(station: string, ev: StationAlarmEvent, at?: number): void;
  observeSchedule(station: string, o: ScheduleObservation): void;
  observeClock(
    station: string,
    c: { offsetMs: number | null; rttMs: number | null; trusted?: boolean; at?: number },
  ): void;
  observeCredentialsRejected(r: {
    username: string | null;
    clientId: string;
    reason: string;
    at?: number;
  }): void;
  observeRecording(station: string, m: RecordingObservation): void;
  observeCondition(c: ConditionInput): void;
  /** Lets holds run out and windows end; call it about once a second. */
  tick(now?: number): void;
  /** Acknowledges an active alarm; throws `AlarmError` NOT_FOUND / ALREADY_ACKNOWLEDGED / INVALID_INPUT. */
  acknowledge(id: string, by: string, at?: number): AlarmRecord;
  get(id: string): AlarmRecord | undefined;
  active(filter?: { station?: string; kind?: AlarmKind }): AlarmRecord[];
  /**
   * Re-adopts alarms that were active when the headend stopped (from the store): each keeps its id and level
   * until its rule reports on it again, then the ordinary holds decide (engine-restore.ts).
   */
  restore(records: readonly AlarmRecord[]): void;
  /** Forgets a deregistered station's pending state (its raised alarms stay until cleared or acknowledged). */
  forgetStation(station: string): void;
  stats(): { active: Record<'info' | 'warning' | 'critical', number>; tracked: number; pending: number };
}

const STATION_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** Builds an engine (see the header). */
export function createAlarmEngine(deps: AlarmEngineDeps): AlarmEngine {
  const core = createCore(deps);
  const { t, policy, entries, byId, dirty, trends } = core;
  const creds = new Map<string, { station: string | null; times: number[]; reasons: string[] }>();
  const blackBySvc = new Map<string, Set<string>>();
  const levelOf = (station: string | null, kind: AlarmKind, subject: string) =>
    entries.get(core.keyOf(station, kind, subject))?.hold.rawLevel() ?? 0;

  function dropStationSource(key: string, alarmId: string, now: number): void {
    const e = entries.get(key);
    const src = e?.hold.sources.get(`station:${alarmId}`);
    if (!e || !src) return;
    e.hold.report(`station:${alarmId}`, { ...src, level: 0 }, now);
    dirty.add(e.key);
    core.evaluate(e, now);
  }

  function refreshCredentials(subject: string, now: number): void {
    const c = creds.get(subject);
    if (!c) return;
    const horizon = now - t.offlineGraceMs;
    while (c.times.length > 0 && (c.times[0] as number) < horizon) {
      c.times.shift();
      c.reasons.shift();
    }
    const active = levelOf(c.station, 'credentials_rejected', subject) > 0;
    const rep = credentialsReport(
      subject,
      c.reasons,
      policy.credentialsRejectThreshold,
      active,
      t.offlineGraceMs,
    );
    core.apply(c.station, rep, 'broker', now);
    if (c.times.length === 0) creds.delete(subject);
  }

  return {
    observePresence(station, p) {
      const now = core.nowOf(p.at);
      const st = core.stationState(station);
      const wasOnline = st.online;
      st.online = p.online;
      if (p.online && p.storeId && st.storeId && p.storeId !== st.storeId) {
        // A new station database: alarms raised by the old one will never be cleared by it.
        for (const [alarmId, key] of st.stationAlarms) dropStationSource(key, alarmId, now);
        st.stationAlarms.clear();
      }
      if (p.storeId) st.storeId = p.storeId;
      if (p.online && wasOnline === false) {
        // "Connected but behind" counts from the reconnect, not from before the outage.
        const lag = entries.get(core.keyOf(station, 'schedule_lag', ''));
        if (lag && !lag.alarm) lag.hold.sources.delete('lag');
      }
      core.apply(station, offlineReport(p.online, now), 'presence', now);
      if (!p.online) {
        // A disconnected station is nobody's peer: it reports nothing current.
        for (const m of core.carrierMargins.values()) {
          m.all.delete(station);
          m.low.delete(station);
        }
      }
      trackLoss(core, station);
      for (const e of core.entriesOf(station)) {
        dirty.add(e.key);
        core.evaluate(e, now);
      }
    },
    observeTelemetry: (station, tm, at) => observeTelemetry(core, station, tm, at),
    observeStationAlarm(station, ev, at) {
      const now = core.nowOf(at);
      const st = core.stationState(station);
      if (ev.type === 'alarm.cleared') {
        const key = st.stationAlarms.get(ev.alarmId) ?? core.keyOf(station, ev.kind, '');
        dropStationSource(key, ev.alarmId, now);
        st.stationAlarms.delete(ev.alarmId);
        if (ev.kind === 'black_or_silent') for (const set of blackBySvc.values()) set.delete(station);
        return;
      }
      const rx = ev.receiverId ? st.receivers.get(ev.receiverId) : undefined;
      let peers: { service: string; stations: string[] } | null = null;
      if (ev.kind === 'black_or_silent') {
        const fact = ev.evidence.service;
        const service = typeof fact === 'string' ? fact : (rx?.service ?? null);
        if (service) {
          const set = blackBySvc.get(service) ?? new Set<string>();
          peers = { service, stations: [...set].filter((s) => s !== station).sort() };
          set.add(station);
          blackBySvc.set(service, set);
        }
      }
      const r = { ...stationAlarmReport(ev, peers), carrier: rx?.carrier ?? null };
      core.apply(station, r, `station:${ev.alarmId}`, now, { raise: 0, clear: 0 });
      // A latching kind is a fact, not a state (rules.ts): recorded, it stays until acknowledged.
      if (ruleOf(r.kind).latching)
        core.apply(station, { ...r, level: 0 }, `station:${ev.alarmId}`, now, { raise: 0, clear: 0 });
      st.stationAlarms.set(ev.alarmId, core.keyOf(station, r.kind, r.subject));
      if ((ev.kind === 'scrambled' || ev.kind === 'service_missing') && ev.receiverId) {
        // A frozen/stalled recorder still in its hold is this cause's consequence: drop it now.
        for (const k of SERVICE_EXPLAINED) {
          const e = entries.get(core.keyOf(station, k, ev.receiverId));
          const src = e?.hold.sources.get('telemetry');
          if (!e || !src || src.level === 0) continue;
          const held = { kind: k, subject: ev.receiverId, level: src.level, cause: src.cause };
          const r2 = { ...held, evidence: src.evidence, carrier: src.carrier ?? null };
          applyExplained(core, station, r2, now);
        }
      }
    },
    observeSchedule(station, o) {
      const now = core.nowOf(o.at);
      const r = scheduleReports(o, now);
      core.apply(station, r.unknown, 'version', now);
      core.apply(station, r.lag, 'lag', now);
      core.apply(station, r.rejected, 'rejection', now, { raise: 0, clear: t.alarmClearHoldMs });
    },
    observeClock(station, c) {
      const now = core.nowOf(c.at);
      const st = core.stationState(station);
      if (c.offsetMs !== null && Number.isFinite(c.offsetMs))
        st.clock.push({ offsetMs: c.offsetMs, rttMs: c.rttMs, at: now });
      const horizon = now - 8 * t.clockExchangeMs;
      st.clock = st.clock.filter((s) => s.at >= horizon).slice(-64);
      const active = levelOf(station, 'clock_untrusted', '') > 0;
      const best = bestClockSample(st.clock);
      const rep = clockReport(
        best,
        st.clock.length,
        c.trusted,
        active,
        t.clockMaxOffsetMs,
        policy.clockClearRatio,
      );
      core.apply(station, rep, 'clock', now);
    },
    observeCredentialsRejected(r) {
      const now = core.nowOf(r.at);
      const subject = r.username ?? r.clientId;
      const station = r.username && STATION_ID.test(r.username) ? r.username : null;
      const c = creds.get(subject) ?? { station, times: [], reasons: [] };
      c.times.push(now);
      c.reasons.push(r.reason);
      creds.set(subject, c);
      refreshCredentials(subject, now);
    },
    observeRecording(station, m) {
      const now = core.nowOf(m.at);
      let sun: OutageWindow | undefined;
      for (const [from, to] of recordingLossIntervals(m, now)) {
        sun = core.sunWindow(station, from, to);
        if (sun) break;
      }
      for (const r of recordingReports(m, policy.recordingDamagedBelow, sun))
        core.apply(station, r, 'recording', now);
    },
    observeCondition(c) {
      const now = core.nowOf(c.at);
      const info = ALARM_KINDS[c.kind];
      const level = c.active ? SEVERITY_LEVEL[c.severity ?? info.severity] : 0;
      const r = {
        kind: c.kind,
        subject: c.subject ?? '',
        level,
        cause: c.cause ?? mkCause(info.row, info.summary),
        evidence: c.evidence ?? mkEvidence(info.summary),
        carrier: null,
      };
      core.apply(c.station, r, c.source ?? 'external', now, c.holds);
    },
    tick(at) {
      const now = core.nowOf(at);
      for (const subject of [...creds.keys()]) refreshCredentials(subject, now);
      core.endSunWindows(now);
      tickFleets(core, now);
      for (const k of [...dirty]) {
        const e = entries.get(k);
        if (e) core.evaluate(e, now);
        else dirty.delete(k);
      }
    },
    acknowledge(id, by, at) {
      const now = core.nowOf(at);
      const e = byId.get(id);
      if (!e?.alarm) throw new AlarmError('NOT_FOUND', `no active alarm ${id}`);
      if (!by.trim()) throw new AlarmError('INVALID_INPUT', 'acknowledging needs a name');
      if (e.alarm.ackedBy) {
        const when = utc(e.alarm.ackedAt ?? 0);
        throw new AlarmError(
          'ALREADY_ACKNOWLEDGED',
          `alarm ${id} was acknowledged by ${e.alarm.ackedBy} at ${when}`,
        );
      }
      e.alarm.ackedBy = by;
      e.alarm.ackedAt = now;
      const snapshot = { ...e.alarm };
      core.emit({ type: 'acknowledged', at: now, alarm: e.alarm, actor: by });
      dirty.add(e.key);
      core.evaluate(e, now); // a latched alarm whose condition ended clears on acknowledgement
      return snapshot;
    },
    get(id) {
      const a = byId.get(id)?.alarm;
      return a ? { ...a } : undefined;
    },
    active(filter = {}) {
      const out: AlarmRecord[] = [];
      for (const e of byId.values()) {
        if (!e.alarm) continue;
        if (filter.station !== undefined && e.station !== filter.station) continue;
        if (filter.kind !== undefined && e.kind !== filter.kind) continue;
        out.push({ ...e.alarm });
      }
      return out.sort((a, b) => a.raisedAt - b.raisedAt);
    },
    restore(records) {
      restoreAlarms(core, records, {
        credentials(subject, station, lastReason, now) {
          if (!creds.has(subject)) creds.set(subject, { station, times: [now], reasons: [lastReason] });
        },
      });
    },
    forgetStation(station) {
      for (const e of core.entriesOf(station)) {
        e.hold.sources.clear();
        dirty.delete(e.key);
        if (!e.alarm) core.dropEntry(e);
      }
      core.stations.delete(station);
      for (const m of core.carrierMargins.values()) {
        m.all.delete(station);
        m.low.delete(station);
      }
      trends.forget(station);
      for (const f of core.fleets.values()) {
        f.lost.delete(station);
        f.receiving.delete(station);
      }
    },
    stats() {
      const active = { info: 0, warning: 0, critical: 0 };
      for (const e of byId.values()) if (e.alarm) active[e.alarm.severity] += 1;
      return { active, tracked: entries.size, pending: dirty.size };
    },
  };
}
