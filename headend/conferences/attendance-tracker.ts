/**
 * Watches the target stations of every conference that is about to run, runs or just ran, and keeps the
 * live attendance board (issue 7): each station's row is derived (attendance.ts) from presence, the
 * desired vs applied schedule, the occurrence's reported state, the last receiver reading and alarms.
 *
 * - Recomputed every `tickMs` (telemetry has no push hook) and soon after anything a station reports
 *   (presence change, an applied event), so the board follows within a second or two.
 * - Status changes are written to `conference_attendance` (the report integrates them) and handed to
 *   listeners (the HTTP layer's SSE stream); margin moves are only handed on, in 0.5 dB steps.
 * - The first time the headend sees a station apply the version that carries the conference, it is stored
 *   (`applied_seen_at`): the push → applied time of the measurement.
 */
import type { Logger } from 'pino';
import { compareVersions } from '../../protocol/messages/common.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { AlarmBoard } from '../fleet/alarm-board.js';
import { type EventIngest, occurrenceStatuses } from '../fleet/ingest.js';
import type { Presence } from '../fleet/presence.js';
import type { ScheduleTracker } from '../fleet/schedule-status.js';
import type { TelemetryIngest } from '../fleet/telemetry.js';
import type { Store } from '../store/index.js';
import { type AttendanceRow, deriveAttendance, type ReceiverReading } from './attendance.js';
import type {
  AttendanceChange,
  ConferenceStation,
  ConferencesRepo,
  StoredConference,
} from './conferences-repo.js';

/** The fleet parts the board reads (headend/fleet). */
export interface FleetView {
  presence: Pick<Presence, 'get' | 'onChange'>;
  tracker: Pick<ScheduleTracker, 'status'>;
  telemetry: Pick<TelemetryIngest, 'latest'>;
  alarms: Pick<AlarmBoard, 'list'>;
  ingest: Pick<EventIngest, 'onApplied'>;
}

export interface AttendanceTrackerDeps {
  store: Store;
  repo: ConferencesRepo;
  fleet: FleetView;
  timing: Pick<TimingProfile, 'tunePreRollMs' | 'receiverLockTimeoutMs'>;
  now: () => Date;
  logger: Logger;
  /** Recompute period (default 1000 ms). */
  tickMs?: number;
}

/** Rows that changed in one recomputation of one conference. */
export type RowsListener = (conferenceId: string, rows: AttendanceRow[]) => void;

export interface AttendanceTracker {
  /** The board of a conference now (any conference, active or not). */
  rows(c: StoredConference): AttendanceRow[];
  /** A conference changed (targets, times, cancelled): forget what was cached and recompute soon. */
  changed(conferenceId: string): void;
  onRows(listener: RowsListener): () => void;
  /** Recomputes every watched conference now (the timer calls it; tests may too). */
  tick(): void;
  start(): void;
  stop(): void;
}

/** Conferences are watched from this long before their tuning starts… */
const WATCH_BEFORE_MS = 60_000;
/** …until this long after they end (final states arrive when each station's window closes). */
const WATCH_AFTER_MS = 120_000;

const sameInstant = (a: string, b: string) => a === b || Date.parse(a) === Date.parse(b);
const step = (x: number | null) => (x === null ? null : Math.round(x * 2) / 2);

export function createAttendanceTracker(deps: AttendanceTrackerDeps): AttendanceTracker {
  const { store, repo, fleet } = deps;
  const log = deps.logger;
  const listeners = new Set<RowsListener>();
  const stationsCache = new Map<string, Map<string, ConferenceStation>>();
  const lastLogged = new Map<string, Map<string, AttendanceChange>>();
  const lastSent = new Map<string, Map<string, string>>();
  const appliedSeen = new Set<string>();
  const offs: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  let soon: NodeJS.Timeout | null = null;

  const stationsOf = (id: string): Map<string, ConferenceStation> => {
    let m = stationsCache.get(id);
    if (!m) {
      m = new Map(repo.stations(id).map((s) => [s.stationId, s]));
      stationsCache.set(id, m);
      for (const s of m.values()) if (s.appliedSeenAt) appliedSeen.add(`${id}\u0000${s.stationId}`);
    }
    return m;
  };

  const receiverOf = (stationId: string, receiverId: string | null): ReceiverReading | null => {
    const p = fleet.presence.get(stationId);
    const tel = fleet.telemetry.latest(stationId);
    const birth = p?.birth ?? null;
    const pick = <T extends { id: string }>(list: readonly T[]) =>
      (receiverId ? list.find((r) => r.id === receiverId) : undefined) ?? list[0];
    if (tel && (!birth || Date.parse(tel.at) >= Date.parse(birth.at))) {
      const r = pick(tel.telemetry.receivers);
      if (r) return { link: r.link, locked: r.locked, marginDb: r.marginDb, cnDb: r.cnDb };
    }
    // The state is newer (it is republished on every lock change); its summary has no C/N, so the last
    // telemetry's measurement stands in for it.
    const r = birth ? pick(birth.receivers) : undefined;
    const cn = tel ? (pick(tel.telemetry.receivers)?.cnDb ?? null) : null;
    return r ? { link: r.link, locked: r.locked, marginDb: r.marginDb, cnDb: cn } : null;
  };

  const rows = (c: StoredConference): AttendanceRow[] => {
    const nowMs = deps.now().getTime();
    const stations = stationsOf(c.id);
    const occ = new Map(
      occurrenceStatuses(store, { entryId: c.id, limit: 100_000 })
        .filter((o) => sameInstant(o.nominalStart, c.start))
        .map((o) => [o.stationId, o]),
    );
    const out: AttendanceRow[] = [];
    for (const s of stations.values()) {
      const p = fleet.presence.get(s.stationId);
      const st = fleet.tracker.status(s.stationId);
      const o = occ.get(s.stationId);
      const rej = st.rejected;
      const alarm = fleet.alarms.list(s.stationId).find((a) => a.kind === 'receiver_unresponsive');
      const rec = fleet.telemetry
        .latest(s.stationId)
        ?.telemetry.recorders.find((r) => r.entryId === c.id && sameInstant(r.nominalStart, c.start));
      out.push(
        deriveAttendance(s.stationId, {
          nowMs,
          conference: {
            startMs: Date.parse(c.start),
            endMs: Date.parse(c.end),
            preRollMs: c.preRollMs,
            record: c.record,
            cancelled: c.cancelledAt !== null,
          },
          timing: deps.timing,
          connection: p?.connection ?? 'unknown',
          since: p?.since ?? null,
          required: s.required,
          applied: st.applied?.version ?? null,
          rejected:
            rej && (rej.version === null || compareVersions(rej.version, s.required) >= 0)
              ? { code: rej.code, reason: rej.reason }
              : null,
          occurrence: o ? { state: o.state, reason: o.reason, at: o.at } : null,
          receiver: receiverOf(s.stationId, o?.receiverId ?? null),
          recorder: rec ? { bitrateBps: rec.bitrateBps, bytes: rec.bytes } : null,
          receiverAlarm: alarm ? alarm.message : null,
        }),
      );
      const key = `${c.id}\u0000${s.stationId}`;
      if (!appliedSeen.has(key) && st.applied && compareVersions(st.applied.version, s.required) >= 0) {
        appliedSeen.add(key);
        repo.markApplied(c.id, s.stationId, deps.now().toISOString());
      }
    }
    return out;
  };

  const observe = (c: StoredConference) => {
    const now = deps.now().toISOString();
    const current = rows(c);
    let logged = lastLogged.get(c.id);
    if (!logged) {
      logged = repo.lastAttendance(c.id);
      lastLogged.set(c.id, logged);
    }
    const sent = lastSent.get(c.id) ?? new Map<string, string>();
    lastSent.set(c.id, sent);
    const changes: AttendanceChange[] = [];
    const pushed: AttendanceRow[] = [];
    for (const r of current) {
      const prev = logged.get(r.stationId);
      const reason = r.reasonCode === null ? null : r.detail ? `${r.reasonCode}: ${r.detail}` : r.reasonCode;
      if (!prev || prev.status !== r.status || prev.reason !== reason || prev.streaming !== r.streaming) {
        const change = {
          stationId: r.stationId,
          at: now,
          status: r.status,
          reason,
          marginDb: r.marginDb,
          streaming: r.streaming,
        };
        changes.push(change);
        logged.set(r.stationId, change);
      }
      const sig = JSON.stringify([
        r.status,
        r.reasonCode,
        r.detail,
        r.state,
        r.locked,
        r.streaming,
        step(r.marginDb),
      ]);
      if (sent.get(r.stationId) !== sig) {
        sent.set(r.stationId, sig);
        pushed.push(r);
      }
    }
    if (changes.length > 0) store.transaction(() => repo.appendAttendance(c.id, changes));
    if (pushed.length > 0) for (const l of listeners) l(c.id, pushed);
  };

  const tick = () => {
    try {
      const nowMs = deps.now().getTime();
      const watched = repo.list({
        activeAt: nowMs,
        marginMs: deps.timing.tunePreRollMs + WATCH_BEFORE_MS,
        marginAfterMs: WATCH_AFTER_MS,
      });
      for (const c of watched) {
        try {
          observe(c);
        } catch (err) {
          log.error(
            { event: 'attendance-failed', conferenceId: c.id, err: (err as Error).message },
            'attendance failed',
          );
        }
      }
    } catch (err) {
      // A background loop catches, logs and carries on (STYLE.md guideline 6).
      log.error({ event: 'attendance-tick-failed', err: (err as Error).message }, 'attendance tick failed');
    }
  };

  const tickSoon = () => {
    if (soon) return;
    soon = setTimeout(() => {
      soon = null;
      tick();
    }, 100);
    soon.unref();
  };

  return {
    rows,
    changed(id) {
      stationsCache.delete(id);
      lastSent.delete(id);
      for (const k of [...appliedSeen]) if (k.startsWith(`${id}\u0000`)) appliedSeen.delete(k);
      tickSoon();
    },
    onRows(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tick,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        try {
          tick();
        } catch (err) {
          log.error(
            { event: 'attendance-tick-failed', err: (err as Error).message },
            'attendance tick failed',
          );
        }
      }, deps.tickMs ?? 1000);
      timer.unref();
      offs.push(fleet.presence.onChange(() => tickSoon()));
      offs.push(
        fleet.ingest.onApplied((stationId, e) => {
          // Stamp "applied" the moment the event is in (the push → applied measurement), then recompute.
          if (e.type === 'schedule.applied')
            repo.markAppliedUpTo(stationId, e.version, deps.now().toISOString());
          if (e.type === 'occurrence.state' || e.type === 'schedule.applied' || e.type.startsWith('alarm.'))
            tickSoon();
        }),
      );
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      if (soon) clearTimeout(soon);
      soon = null;
      for (const off of offs.splice(0)) off();
    },
  };
}
