/**
 * The engine's state and its decision step, shared by the observers (engine.ts) and fleet correlation
 * (engine-fleet.ts). One `Core` per engine; nothing here is module-level state.
 *
 * `evaluate` is the one place an alarm changes: the holds (tracker.ts) give the level allowed now; a
 * raise of a suppressible kind inside a predicted sun-outage window is held back and annotated; a lock loss
 * that belongs to a fleet-wide loss of its carrier is folded into the fleet alarm; everything else raises,
 * escalates, de-escalates or clears, and each change is emitted as a transition.
 */
import { randomUUID } from 'node:crypto';
import type { MarginLevel } from '../../protocol/link-budget.js';
import type { AlarmKind } from '../../protocol/registry.js';
import type { TimingProfile } from '../../protocol/timing.js';
import { cause as mkCause, evidence as mkEvidence } from './causes.js';
import { deferToFleet, onFleetCleared, onFleetRaised } from './engine-fleet.js';
import { annotateSun } from './engine-sun.js';
import { type AlarmPolicy, type AlarmPolicyInput, AlarmPolicySchema, ruleOf } from './rules.js';
import type { ClockSample } from './station-rules.js';
import type { RuleReport } from './telemetry-rules.js';
import { HoldTracker } from './tracker.js';
import { MarginTrends } from './trend.js';
import {
  type AlarmRecord,
  type AlarmTransition,
  type CarrierInfo,
  type OutageWindow,
  SEVERITY_LEVEL,
  severityOfLevel,
} from './types.js';

/** Dependencies of the engine. */
export interface AlarmEngineDeps {
  timing: TimingProfile;
  /** Headend time, ms; used when an observation carries no `at`. */
  clock: () => number;
  /** Service key → carrier (carriers.ts builds it from the line-up). */
  carrierOf: (service: string) => CarrierInfo | undefined;
  /** Predicted sun-outage windows of a station overlapping [from, to) (sun-calendar.ts `windows`). */
  sunOutage?: (station: string, fromMs: number, toMs: number) => readonly OutageWindow[];
  /**
   * Stored per-minute margin of one receiver in [from, to) (the headend's `telemetry_minutes`), used once
   * per receiver to rebuild the margin trend after a restart (the trend window is 3 days, the engine's
   * buckets are memory only). Optional: without it the trend starts empty.
   */
  marginHistory?: (
    station: string,
    receiver: string,
    fromMs: number,
    toMs: number,
  ) => readonly { at: number; marginDb: number }[];
  /** Whether the plan needs a receiver now; `undefined` = judge by whether it is tuned to a service. */
  receiverNeeded?: (station: string, receiver: string, atMs: number) => boolean | undefined;
  /** Every transition, synchronously, after the engine's state is updated. */
  onTransition: (t: AlarmTransition) => void;
  /** Non-timing thresholds (rules.ts); defaults from DOMAIN.md. */
  policy?: AlarmPolicyInput;
  /** Alarm ids (default: random UUIDs). */
  newId?: () => string;
}

/** One alarm key's state. */
export interface Entry {
  key: string;
  station: string | null;
  kind: AlarmKind;
  subject: string;
  carrier: string | null;
  hold: HoldTracker;
  alarm: AlarmRecord | null;
  /** Why a raise is being held back. */
  suppressed: 'sun' | 'fleet' | null;
  /** Fleet alarm id after which this station stayed bad (evidence suffix). */
  releasedFrom: string | null;
}

/** What the engine remembers per station. */
export interface StationState {
  online: boolean | null;
  storeId?: string;
  /** Keys reported by the last telemetry message (missing next time → level 0). */
  telemetryKeys: Set<string>;
  marginLevels: Map<string, MarginLevel>;
  recorderBytes: Map<string, number>;
  /** receiver → carrier, service and whether the plan needs it, from the latest telemetry. */
  receivers: Map<string, { carrier: string | null; service: string | null; needed: boolean }>;
  /** Station alarm id → entry key (to clear on `alarm.cleared`). */
  stationAlarms: Map<string, string>;
  clock: ClockSample[];
  sun: { until: number; suppressed: Set<string> } | null;
}

/** Fleet correlation state of one carrier. */
export interface FleetState {
  key: string;
  label: string;
  /** Stations without lock on it (online, needing it), and since when. */
  lost: Map<string, number>;
  /** Stations receiving it. */
  receiving: Set<string>;
  /** Stations counted by the current fleet verdict. */
  members: string[];
}

/** Kinds whose state comes from the station's own reports: frozen while it is disconnected. */
const FROZEN_OFFLINE = new Set<AlarmKind>([
  'signal_lost',
  'margin_low',
  'margin_trend',
  'stream_frozen',
  'recorder_stalled',
  'receiver_unresponsive',
  'lnb_fault',
  'disk_low',
  'disk_full',
  'clock_untrusted',
  'schedule_lag',
]);

/** The engine's state and decision step. */
export interface Core {
  deps: AlarmEngineDeps;
  t: TimingProfile;
  policy: AlarmPolicy;
  entries: Map<string, Entry>;
  byId: Map<string, Entry>;
  dirty: Set<string>;
  stations: Map<string, StationState>;
  /** Entry keys per station (presence changes touch only that station's entries). */
  stationKeys: Map<string, Set<string>>;
  fleets: Map<string, FleetState>;
  /** Fleets whose membership changed since the last tick. */
  dirtyFleets: Set<FleetState>;
  /** Per carrier: the stations receiving it and those at margin warning or worse (peer comparison). */
  carrierMargins: Map<string, { all: Set<string>; low: Set<string> }>;
  trends: MarginTrends;
  nowOf(at?: number): number;
  keyOf(station: string | null, kind: AlarmKind, subject: string): string;
  entryOf(station: string | null, kind: AlarmKind, subject: string): Entry;
  /** Forgets an entry (no alarm, nothing held). */
  dropEntry(e: Entry): void;
  /** Entries of one station. */
  entriesOf(station: string): Entry[];
  stationState(id: string): StationState;
  /** Records `r` from `source` (holds default to the kind's rule) and evaluates its entry. */
  apply(
    station: string | null,
    r: RuleReport,
    source: string,
    now: number,
    holds?: { raise: number; clear: number },
  ): void;
  evaluate(e: Entry, now: number): void;
  emit(tr: AlarmTransition): void;
  /** First predicted sun-outage window of `station` overlapping [from − guard, to + guard]. */
  sunWindow(station: string, from: number, to: number): OutageWindow | undefined;
  /** Ends sun-outage annotations whose window (plus guard) is over. */
  endSunWindows(now: number): void;
}

/** Builds the core of one engine. */
export function createCore(deps: AlarmEngineDeps): Core {
  const t = deps.timing;
  const newId = deps.newId ?? randomUUID;
  let last = Number.NEGATIVE_INFINITY;

  const core: Core = {
    deps,
    t,
    policy: AlarmPolicySchema.parse(deps.policy ?? {}),
    entries: new Map(),
    byId: new Map(),
    dirty: new Set(),
    stations: new Map(),
    stationKeys: new Map(),
    fleets: new Map(),
    dirtyFleets: new Set(),
    carrierMargins: new Map(),
    trends: new MarginTrends(t.alarmTrendWindowMs),
    nowOf(at) {
      // Time never runs backwards inside the engine, whatever order observations arrive in.
      last = Math.max(last, at ?? deps.clock());
      return last;
    },
    keyOf: (station, kind, subject) => `${station ?? ''}|${kind}|${subject}`,
    entryOf(station, kind, subject) {
      const key = core.keyOf(station, kind, subject);
      let e = core.entries.get(key);
      if (!e) {
        e = {
          key,
          station,
          kind,
          subject,
          carrier: null,
          hold: new HoldTracker(),
          alarm: null,
          suppressed: null,
          releasedFrom: null,
        };
        core.entries.set(key, e);
        if (station !== null) {
          const keys = core.stationKeys.get(station) ?? new Set<string>();
          keys.add(key);
          core.stationKeys.set(station, keys);
        }
      }
      return e;
    },
    dropEntry(e) {
      core.entries.delete(e.key);
      core.dirty.delete(e.key);
      if (e.station !== null) core.stationKeys.get(e.station)?.delete(e.key);
    },
    entriesOf(station) {
      const out: Entry[] = [];
      for (const k of core.stationKeys.get(station) ?? []) {
        const e = core.entries.get(k);
        if (e) out.push(e);
      }
      return out;
    },
    stationState(id) {
      let s = core.stations.get(id);
      if (!s) {
        s = {
          online: null,
          telemetryKeys: new Set(),
          marginLevels: new Map(),
          recorderBytes: new Map(),
          receivers: new Map(),
          stationAlarms: new Map(),
          clock: [],
          sun: null,
        };
        core.stations.set(id, s);
      }
      return s;
    },
    apply(station, r, source, now, holds) {
      const key = core.keyOf(station, r.kind, r.subject);
      // A condition that is absent and was never seen needs no state (most telemetry reports are zeros).
      if (r.level === 0 && !core.entries.has(key)) return;
      const e = core.entryOf(station, r.kind, r.subject);
      const spec = ruleOf(r.kind);
      e.hold.report(
        source,
        {
          level: r.level,
          cause: r.cause,
          evidence: r.evidence,
          carrier: r.carrier,
          raiseHoldMs: holds?.raise ?? spec.raiseHoldMs(t),
          clearHoldMs: holds?.clear ?? spec.clearHoldMs(t),
        },
        now,
      );
      if (r.carrier) e.carrier = r.carrier;
      core.dirty.add(e.key);
      core.evaluate(e, now);
    },
    evaluate(e, now) {
      const st = e.station ? core.stations.get(e.station) : undefined;
      if (st?.online === false && FROZEN_OFFLINE.has(e.kind)) return;
      const spec = ruleOf(e.kind);
      const current = e.alarm ? SEVERITY_LEVEL[e.alarm.severity] : 0;
      let target = e.hold.heldLevel(current, now);
      if (target > current && spec.sunOutage && e.station) {
        const w = core.sunWindow(e.station, e.hold.onsetOf(target) ?? now, now);
        if (w) {
          // Expected loss (DOMAIN.md §6, Sun outage): holds only count from the end of the window.
          e.hold.holdFrom = Math.max(e.hold.holdFrom, w.endMs + t.sunOutageGuardMs);
          target = e.hold.heldLevel(current, now);
          if (target <= current) {
            e.suppressed = 'sun';
            annotateSun(core, e, w, now);
            return;
          }
        }
      }
      if (target > current && spec.fleet && deferToFleet(core, e, now)) return;
      if (target > current) raiseTo(e, target, now);
      else if (target < current && e.alarm) {
        if (spec.latching && target === 0 && !e.alarm.ackedBy) return;
        lowerTo(e, target, now);
      }
      e.suppressed = null;
      e.hold.prune(now);
      if (e.hold.settled(e.alarm ? SEVERITY_LEVEL[e.alarm.severity] : 0, now)) {
        core.dirty.delete(e.key);
        if (!e.alarm && e.hold.sources.size === 0) core.dropEntry(e);
      }
    },
    emit(tr) {
      const a = tr.alarm;
      deps.onTransition({
        ...tr,
        alarm: {
          ...a,
          cause: { ...a.cause },
          evidence: { text: a.evidence.text, facts: { ...a.evidence.facts } },
        },
      });
    },
    sunWindow(station, from, to) {
      return deps.sunOutage?.(station, from - t.sunOutageGuardMs, to + t.sunOutageGuardMs)[0];
    },
    endSunWindows(now) {
      for (const [id, st] of core.stations) {
        if (!st.sun || now < st.sun.until) continue;
        st.sun = null;
        const src = core.entries.get(core.keyOf(id, 'sun_outage', ''))?.hold.sources.get('sun');
        if (src)
          core.apply(
            id,
            {
              kind: 'sun_outage',
              subject: '',
              level: 0,
              cause: src.cause,
              evidence: src.evidence,
              carrier: null,
            },
            'sun',
            now,
          );
      }
    },
  };

  function raiseTo(e: Entry, level: number, now: number): void {
    const src = e.hold.strongest();
    const cause = src?.cause ?? mkCause('flaky-uplink', 'unknown');
    let ev = src?.evidence ?? mkEvidence('');
    if (e.releasedFrom)
      ev = mkEvidence(`${ev.text}; still bad after fleet alarm ${e.releasedFrom} ended`, ev.facts);
    if (e.alarm) {
      const prev = e.alarm.severity;
      Object.assign(e.alarm, { severity: severityOfLevel(level), cause, evidence: ev });
      core.emit({ type: 'severity', at: now, alarm: e.alarm, previousSeverity: prev });
      return;
    }
    e.alarm = {
      id: newId(),
      scope: e.kind === 'fleet_signal_lost' || e.station === null ? 'fleet' : 'station',
      station: e.station,
      carrier: e.carrier,
      subject: e.subject,
      kind: e.kind,
      severity: severityOfLevel(level),
      cause,
      evidence: ev,
      raisedAt: now,
      ackedBy: null,
      ackedAt: null,
      clearedAt: null,
      linkedTo: null,
    };
    core.byId.set(e.alarm.id, e);
    e.releasedFrom = null;
    core.emit({ type: 'raised', at: now, alarm: e.alarm });
    if (e.kind === 'fleet_signal_lost') onFleetRaised(core, e, now);
  }

  function lowerTo(e: Entry, level: number, now: number): void {
    const a = e.alarm as AlarmRecord;
    if (level > 0) {
      const prev = a.severity;
      const src = e.hold.strongest();
      a.severity = severityOfLevel(level);
      if (src && src.level > 0) a.evidence = src.evidence;
      core.emit({ type: 'severity', at: now, alarm: a, previousSeverity: prev });
      return;
    }
    a.clearedAt = now;
    e.alarm = null;
    core.byId.delete(a.id);
    core.emit({ type: 'cleared', at: now, alarm: a });
    if (e.kind === 'fleet_signal_lost' && e.carrier) onFleetCleared(core, e.carrier, a.id, now);
  }

  return core;
}
