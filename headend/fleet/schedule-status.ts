/**
 * Desired vs applied schedule per station (DESIGN.md §4 "Desired state, not commands"): the desired
 * version is the newest document the headend issued (SQLite); the applied one is what the station reports
 * — in its retained state on every connect and in `schedule.applied` events. The status says how long the
 * two have differed (since the first version newer than the applied one was issued), and a version or hash
 * the headend never issued raises `schedule_unknown_version` (someone else published on the topic, or a
 * restored headend forgot what it issued).
 */
import { compareVersions, type ScheduleVersion } from '../../protocol/messages/common.js';
import type { ScheduleRejectCode } from '../../protocol/registry.js';
import type { Store } from '../store/index.js';
import type { AlarmBoard } from './alarm-board.js';

/** What a station reported applying. */
export interface AppliedReport {
  version: ScheduleVersion;
  hash: string;
  appliedAt: string;
}

/** The station's last rejection of a document. */
export interface RejectionReport {
  version: ScheduleVersion | null;
  code: ScheduleRejectCode;
  reason: string;
  at: string;
}

/** Desired vs applied for one station. */
export interface ScheduleStatus {
  stationId: string;
  desired: { version: ScheduleVersion; sha256: string; issuedAt: string; publishedAt: string | null } | null;
  applied: AppliedReport | null;
  rejected: RejectionReport | null;
  /** Applied version and hash equal the desired ones (true when neither exists). */
  inSync: boolean;
  /** Since when the station has been behind: issue time of the first version newer than the applied one. */
  lagSince: string | null;
  lagMs: number | null;
  /** The applied version/hash was never issued by this headend. */
  unknownVersion: boolean;
}

export interface ScheduleTracker {
  /** From a birth: the applied document (null before the first one) and the last rejection. */
  reportState(stationId: string, applied: AppliedReport | null, rejected: RejectionReport | null): void;
  /** From a `schedule.applied` event (ignored when older than what is known). */
  reportApplied(stationId: string, applied: AppliedReport): void;
  reportRejected(stationId: string, rejected: RejectionReport): void;
  status(stationId: string): ScheduleStatus;
  /** Every registered station's status. */
  list(): ScheduleStatus[];
}

export function createScheduleTracker(deps: {
  store: Store;
  alarms: AlarmBoard;
  now?: () => Date;
}): ScheduleTracker {
  const { store, alarms } = deps;
  const now = deps.now ?? (() => new Date());
  const applied = new Map<string, AppliedReport | null>();
  const rejected = new Map<string, RejectionReport | null>();
  // One prepared look-up per report (every station reports after every document it applies).
  const issuedHash = store.db.prepare<[string, number, number], { sha256: string }>(
    'SELECT sha256 FROM schedule_docs WHERE station_id = ? AND epoch = ? AND n = ?',
  );
  const firstNewer = store.db.prepare<[string, number, number, number], { at: string | null }>(
    `SELECT MIN(issued_at) AS at FROM schedule_docs WHERE station_id = ? AND (epoch > ? OR (epoch = ? AND n > ?))`,
  );

  const checkIssued = (stationId: string, a: AppliedReport | null) => {
    if (a === null) {
      alarms.clear('schedule_unknown_version', stationId);
      return;
    }
    // Usually the station applied the newest version: its hash is in the repo's cached head.
    const head = store.schedules.head(stationId);
    const issued =
      head && compareVersions(head.version, a.version) === 0
        ? head
        : issuedHash.get(stationId, a.version.epoch, a.version.n);
    const version = issued !== undefined;
    const exact = issued?.sha256 === a.hash;
    if (exact) {
      alarms.clear('schedule_unknown_version', stationId);
      return;
    }
    const v = `{epoch ${a.version.epoch}, n ${a.version.n}}`;
    alarms.raise({
      kind: 'schedule_unknown_version',
      stationId,
      subject: '',
      message: version
        ? `${stationId} applied schedule ${v} with a hash this headend never issued for it`
        : `${stationId} applied schedule ${v}, which this headend never issued`,
      evidence: { epoch: a.version.epoch, n: a.version.n, hash: a.hash, versionIssued: version },
    });
  };

  const tracker: ScheduleTracker = {
    reportState(stationId, a, r) {
      applied.set(stationId, a);
      rejected.set(stationId, r);
      checkIssued(stationId, a);
    },
    reportApplied(stationId, a) {
      const cur = applied.get(stationId);
      if (cur && compareVersions(a.version, cur.version) <= 0) return;
      applied.set(stationId, a);
      checkIssued(stationId, a);
    },
    reportRejected(stationId, r) {
      rejected.set(stationId, r);
    },
    status(stationId) {
      // The newest document's version and hash, without its bytes (cached by the repo between writes:
      // status is asked for after every report).
      const d = store.schedules.head(stationId);
      const a = applied.get(stationId) ?? null;
      const desired = d
        ? {
            version: { epoch: d.version.epoch, n: d.version.n },
            sha256: d.sha256,
            issuedAt: d.issuedAt,
            publishedAt: d.publishedAt,
          }
        : null;
      const inSync =
        desired === null
          ? a === null
          : a !== null && compareVersions(a.version, desired.version) === 0 && a.hash === desired.sha256;
      let lagSince: string | null = null;
      if (!inSync && desired) {
        lagSince = a
          ? (firstNewer.get(stationId, a.version.epoch, a.version.epoch, a.version.n)?.at ?? null)
          : (firstNewer.get(stationId, -1, -1, -1)?.at ?? null);
      }
      return {
        stationId,
        desired,
        applied: a,
        rejected: rejected.get(stationId) ?? null,
        inSync,
        lagSince,
        lagMs: lagSince === null ? null : Math.max(0, now().getTime() - Date.parse(lagSince)),
        unknownVersion: alarms.active('schedule_unknown_version', stationId),
      };
    },
    list: () => store.stations.list().map((s) => tracker.status(s.id)),
  };
  return tracker;
}
