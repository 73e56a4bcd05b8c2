/**
 * The occurrence journal: every state change of every occurrence `(entryId, nominalStart)` (DESIGN.md §5
 * identity), written in the same transaction as the `occurrence.state` event that reports it. Recovery reads
 * it to find occurrences that were running when the power went (DESIGN.md §6).
 */
import type { Database } from 'better-sqlite3';
import { type ExecutionState, TERMINAL_EXECUTION_STATES } from '../../protocol/registry.js';
import { assertInTransaction, type StoreTx } from './tx.js';

/** One journal row. `detail` is free-form JSON for the executor (receiver, recording id, pids …). */
export interface JournalEntry {
  id: number;
  entryId: string;
  nominalStart: string;
  state: ExecutionState;
  reason: string | null;
  detail: Record<string, unknown> | null;
  at: string;
}

export interface JournalAppend {
  entryId: string;
  nominalStart: string;
  state: ExecutionState;
  reason?: string;
  detail?: Record<string, unknown>;
  at: string;
}

interface RawRow {
  id: number;
  entry_id: string;
  nominal_start: string;
  state: string;
  reason: string | null;
  detail: string | null;
  at: string;
}

function toEntry(r: RawRow): JournalEntry {
  return {
    id: r.id,
    entryId: r.entry_id,
    nominalStart: r.nominal_start,
    state: r.state as ExecutionState,
    reason: r.reason,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    at: r.at,
  };
}

const TERMINAL_SQL = TERMINAL_EXECUTION_STATES.map((s) => `'${s}'`).join(', ');

export class JournalRepo {
  constructor(private readonly db: Database) {}

  /** Records a state change; must share `tx` with the outbox event that reports it. */
  append(tx: StoreTx, row: JournalAppend): JournalEntry {
    assertInTransaction(this.db, tx, 'journal.append');
    const r = this.db
      .prepare(
        `INSERT INTO journal (entry_id, nominal_start, state, reason, detail, at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        row.entryId,
        row.nominalStart,
        row.state,
        row.reason ?? null,
        row.detail === undefined ? null : JSON.stringify(row.detail),
        row.at,
      ) as RawRow;
    return toEntry(r);
  }

  /** Every state change of one occurrence, oldest first. */
  history(entryId: string, nominalStart: string): JournalEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM journal WHERE entry_id = ? AND nominal_start = ? ORDER BY id')
      .all(entryId, nominalStart) as RawRow[];
    return rows.map(toEntry);
  }

  /** The latest state of one occurrence, if it was ever journalled. */
  latest(entryId: string, nominalStart: string): JournalEntry | undefined {
    const r = this.db
      .prepare('SELECT * FROM journal WHERE entry_id = ? AND nominal_start = ? ORDER BY id DESC LIMIT 1')
      .get(entryId, nominalStart) as RawRow | undefined;
    return r ? toEntry(r) : undefined;
  }

  /** The latest row of every occurrence whose latest state is not terminal (what recovery must look at). */
  unfinished(): JournalEntry[] {
    const rows = this.db
      .prepare(
        `SELECT j.* FROM journal j
           JOIN (SELECT MAX(id) AS id FROM journal GROUP BY entry_id, nominal_start) m ON m.id = j.id
          WHERE j.state NOT IN (${TERMINAL_SQL})
          ORDER BY j.nominal_start, j.entry_id`,
      )
      .all() as RawRow[];
    return rows.map(toEntry);
  }

  /**
   * Time of the newest journal row. After a power cut the clock is not trusted until it reads later than
   * this (DESIGN.md §6: "not earlier than the last journal entry").
   */
  lastAt(): string | null {
    const r = this.db.prepare('SELECT MAX(at) AS at FROM journal').get() as { at: string | null };
    return r.at;
  }

  /** Deletes terminal occurrences whose last change is older than `beforeIso`; returns rows removed. */
  prune(beforeIso: string): number {
    return this.db
      .prepare(
        `DELETE FROM journal WHERE (entry_id, nominal_start) IN (
           SELECT j.entry_id, j.nominal_start FROM journal j
             JOIN (SELECT MAX(id) AS id FROM journal GROUP BY entry_id, nominal_start) m ON m.id = j.id
            WHERE j.state IN (${TERMINAL_SQL}) AND j.at < ?)`,
      )
      .run(beforeIso).changes;
  }
}
