/**
 * Alarm persistence (migration 005-alarms): every transition the engine emits is written as the alarm's
 * current row plus one history row, in one transaction, so the store always shows what the engine decided
 * and when (DESIGN.md §7). At start the service reads `active()` back into the engine (`restore`) so an
 * alarm raised before a restart still clears when its condition ends. JSON columns are parsed with zod,
 * never trusted as typed (store convention, migration 001).
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { FAILURES, type FailureId } from '../../protocol/failures.js';
import { AlarmKind, AlarmSeverity } from '../../protocol/registry.js';
import { AlarmError, type AlarmRecord, type AlarmTransition, type TransitionType } from './types.js';

const Facts = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));
const EvidenceJson = z.object({ text: z.string(), facts: Facts });
const CauseJson = z.object({
  row: z.string().refine((r): r is FailureId => Object.hasOwn(FAILURES, r), 'unknown failure row'),
  failure: z.string(),
  respond: z.string(),
  text: z.string(),
});

interface AlarmRow {
  id: string;
  scope: string;
  station_id: string | null;
  carrier: string | null;
  subject: string;
  kind: string;
  severity: string;
  cause_json: string;
  evidence_json: string;
  raised_at: string;
  acked_by: string | null;
  acked_at: string | null;
  cleared_at: string | null;
  linked_to: string | null;
}

/** One history row of an alarm. */
export interface AlarmHistoryEntry {
  at: number;
  type: TransitionType;
  severity: z.infer<typeof AlarmSeverity>;
  actor: string | null;
  evidence: { text: string; facts: z.infer<typeof Facts> };
  linkedTo: string | null;
}

/** Query of `list`. */
export interface AlarmQuery {
  station?: string;
  kind?: z.infer<typeof AlarmKind>;
  /** Raised at or after / before (ms). */
  from?: number;
  to?: number;
  /** Only alarms not yet cleared. */
  activeOnly?: boolean;
  /** Most recent first; default 100, at most 1000. */
  limit?: number;
}

/** The alarms repo. */
export interface AlarmsRepo {
  /** Persists one transition (row upsert + history) atomically. */
  record(tr: AlarmTransition): void;
  get(id: string): AlarmRecord | undefined;
  /** Alarms not cleared, oldest first. */
  active(filter?: { station?: string }): AlarmRecord[];
  list(q?: AlarmQuery): AlarmRecord[];
  history(id: string): AlarmHistoryEntry[];
  /** Active alarms by severity (metrics, fleet board). */
  countsBySeverity(): Record<'info' | 'warning' | 'critical', number>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ms = (s: string | null) => (s === null ? null : Date.parse(s));

function toRecord(r: AlarmRow): AlarmRecord {
  return {
    id: r.id,
    scope: r.scope === 'fleet' ? 'fleet' : 'station',
    station: r.station_id,
    carrier: r.carrier,
    subject: r.subject,
    kind: AlarmKind.parse(r.kind),
    severity: AlarmSeverity.parse(r.severity),
    cause: CauseJson.parse(JSON.parse(r.cause_json)),
    evidence: EvidenceJson.parse(JSON.parse(r.evidence_json)),
    raisedAt: Date.parse(r.raised_at),
    ackedBy: r.acked_by,
    ackedAt: ms(r.acked_at),
    clearedAt: ms(r.cleared_at),
    linkedTo: r.linked_to,
  };
}

/** Builds the repo over an open, migrated headend database. */
export function createAlarmsRepo(db: Database): AlarmsRepo {
  const upsert = db.prepare(`
    INSERT INTO alarms (id, scope, station_id, carrier, subject, kind, severity, cause_row, cause, cause_json,
      evidence_json, raised_at, acked_by, acked_at, cleared_at, linked_to, updated_at)
    VALUES (@id, @scope, @station, @carrier, @subject, @kind, @severity, @causeRow, @cause, @causeJson,
      @evidence, @raisedAt, @ackedBy, @ackedAt, @clearedAt, @linkedTo, @updatedAt)
    ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, cause_row = excluded.cause_row,
      cause = excluded.cause, cause_json = excluded.cause_json, evidence_json = excluded.evidence_json,
      acked_by = excluded.acked_by, acked_at = excluded.acked_at, cleared_at = excluded.cleared_at,
      linked_to = excluded.linked_to, carrier = excluded.carrier, updated_at = excluded.updated_at`);
  const history = db.prepare(
    'INSERT INTO alarm_history (alarm_id, at, type, severity, actor, details_json) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const getOne = db.prepare('SELECT * FROM alarms WHERE id = ?');

  const record = db.transaction((tr: AlarmTransition) => {
    const a = tr.alarm;
    // A fleet alarm may be linked before the store saw it only if transitions were lost; never point at nothing.
    const linked = a.linkedTo && getOne.get(a.linkedTo) ? a.linkedTo : null;
    upsert.run({
      id: a.id,
      scope: a.scope,
      station: a.station,
      carrier: a.carrier,
      subject: a.subject,
      kind: a.kind,
      severity: a.severity,
      causeRow: a.cause.row,
      cause: a.cause.text,
      causeJson: JSON.stringify(a.cause),
      evidence: JSON.stringify(a.evidence),
      raisedAt: iso(a.raisedAt),
      ackedBy: a.ackedBy,
      ackedAt: iso(a.ackedAt),
      clearedAt: iso(a.clearedAt),
      linkedTo: linked,
      updatedAt: iso(tr.at),
    });
    const details = {
      evidence: a.evidence,
      linkedTo: a.linkedTo,
      previousSeverity: tr.previousSeverity ?? null,
    };
    history.run(a.id, iso(tr.at), tr.type, a.severity, tr.actor ?? null, JSON.stringify(details));
  });

  const HistoryDetails = z.object({ evidence: EvidenceJson, linkedTo: z.string().nullable() });

  return {
    record: (tr) => record(tr),
    get(id) {
      const r = getOne.get(id) as AlarmRow | undefined;
      return r ? toRecord(r) : undefined;
    },
    active(filter = {}) {
      const rows =
        filter.station === undefined
          ? db.prepare('SELECT * FROM alarms WHERE cleared_at IS NULL ORDER BY raised_at, id').all()
          : db
              .prepare(
                'SELECT * FROM alarms WHERE cleared_at IS NULL AND station_id = ? ORDER BY raised_at, id',
              )
              .all(filter.station);
      return (rows as AlarmRow[]).map(toRecord);
    },
    list(q = {}) {
      const limit = q.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new AlarmError('INVALID_INPUT', `limit must be 1–1000, got ${limit}`);
      }
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.station !== undefined) {
        where.push('station_id = ?');
        args.push(q.station);
      }
      if (q.kind !== undefined) {
        where.push('kind = ?');
        args.push(q.kind);
      }
      if (q.from !== undefined) {
        where.push('raised_at >= ?');
        args.push(new Date(q.from).toISOString());
      }
      if (q.to !== undefined) {
        where.push('raised_at < ?');
        args.push(new Date(q.to).toISOString());
      }
      if (q.activeOnly) where.push('cleared_at IS NULL');
      const sql = `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id LIMIT ?`;
      return (db.prepare(sql).all(...args, limit) as AlarmRow[]).map(toRecord);
    },
    history(id) {
      const rows = db
        .prepare(
          'SELECT at, type, severity, actor, details_json FROM alarm_history WHERE alarm_id = ? ORDER BY id',
        )
        .all(id) as {
        at: string;
        type: TransitionType;
        severity: string;
        actor: string | null;
        details_json: string;
      }[];
      return rows.map((r) => {
        const d = HistoryDetails.parse(JSON.parse(r.details_json));
        return {
          at: Date.parse(r.at),
          type: r.type,
          severity: AlarmSeverity.parse(r.severity),
          actor: r.actor,
          evidence: d.evidence,
          linkedTo: d.linkedTo,
        };
      });
    },
    countsBySeverity() {
      const out = { info: 0, warning: 0, critical: 0 };
      const rows = db
        .prepare('SELECT severity, COUNT(*) AS n FROM alarms WHERE cleared_at IS NULL GROUP BY severity')
        .all() as { severity: string; n: number }[];
      for (const r of rows) {
        const s = AlarmSeverity.safeParse(r.severity);
        if (s.success) out[s.data] = r.n;
      }
      return out;
    },
  };
}
