/** The audit log: every control action, who did it, to what (DESIGN.md §7). Append-only. */
import type { Database } from 'better-sqlite3';

/** One audit entry. */
export interface AuditEntry {
  id: number;
  at: string;
  /** `cli:root`, `http:alice`, `headend` … */
  actor: string;
  /** Dotted verb, e.g. `station.provision`, `station.revoke`, `store.restore`. */
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

/** Repo over `audit_log`. */
export interface AuditRepo {
  record(e: { actor: string; action: string; target?: string; details?: Record<string, unknown> }): number;
  /** Newest first. */
  list(opts?: { target?: string; limit?: number }): AuditEntry[];
}

interface Row {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details_json: string | null;
}

export function createAuditRepo(db: Database, now: () => Date = () => new Date()): AuditRepo {
  const ins = db.prepare(
    'INSERT INTO audit_log (at, actor, action, target, details_json) VALUES (?, ?, ?, ?, ?)',
  );
  const all = db.prepare<[number], Row>('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
  const byTarget = db.prepare<[string, number], Row>(
    'SELECT * FROM audit_log WHERE target = ? ORDER BY id DESC LIMIT ?',
  );
  return {
    record: (e) =>
      Number(
        ins.run(
          now().toISOString(),
          e.actor,
          e.action,
          e.target ?? null,
          e.details ? JSON.stringify(e.details) : null,
        ).lastInsertRowid,
      ),
    list: (opts = {}) => {
      const limit = opts.limit ?? 100;
      const rows = opts.target === undefined ? all.all(limit) : byTarget.all(opts.target, limit);
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        details: r.details_json ? (JSON.parse(r.details_json) as Record<string, unknown>) : null,
      }));
    },
  };
}
