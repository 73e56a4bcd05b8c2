/**
 * The event outbox (DESIGN.md §4 "Events are exactly-once end to end"). Every event gets `(storeId, seq)`
 * when it is appended inside the transaction of the change it reports; the exact JSON text is stored, so a
 * resend carries the same bytes (the headend treats same key + same hash as a duplicate). Rows stay until
 * the headend's retained `ack` covers them — never deleted on PUBACK. A row that keeps causing disconnects
 * (the embedded broker disconnects on a denied publish) is quarantined: kept, reported, no longer sent.
 */
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { StationEvent } from '../../protocol/messages/events.js';
import { StoreError } from './errors.js';
import { assertInTransaction, type StoreTx } from './tx.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as the caller writes it: everything but the `(storeId, seq)` the outbox assigns. */
export type EventBody = DistributiveOmit<StationEvent, 'storeId' | 'seq'>;

/** One outbox row. `payload` is the exact JSON to publish. */
export interface OutboxRow {
  seq: number;
  type: StationEvent['type'];
  at: string;
  payload: string;
  /** Disconnects blamed on this row so far. */
  failures: number;
  quarantined: { at: string; reason: string } | null;
}

/** Result of applying an ack. */
export interface AckResult {
  /** Rows deleted by this ack. */
  deleted: number;
  /** The ack names another database (an older store of this station): nothing was deleted. */
  otherStore: boolean;
  /** The ack covers seqs this store never issued (e.g. the database was restored from a backup). */
  ahead: boolean;
}

interface RawRow {
  seq: number;
  type: string;
  at: string;
  body: string;
  failures: number;
  quarantined_at: string | null;
  quarantine_reason: string | null;
}

function toRow(r: RawRow): OutboxRow {
  return {
    seq: r.seq,
    type: r.type as StationEvent['type'],
    at: r.at,
    payload: r.body,
    failures: r.failures,
    quarantined:
      r.quarantined_at === null ? null : { at: r.quarantined_at, reason: r.quarantine_reason ?? 'unknown' },
  };
}

export class OutboxRepo {
  private readonly insert: Statement;
  private readonly setBody: Statement;

  constructor(
    private readonly db: Database,
    readonly storeId: string,
  ) {
    this.insert = db.prepare("INSERT INTO outbox (type, at, body) VALUES (?, ?, '')");
    this.setBody = db.prepare('UPDATE outbox SET body = ? WHERE seq = ?');
  }

  /**
   * Appends an event inside `tx` and returns it with its `(storeId, seq)`. The event is validated against
   * the protocol schema first: an invalid event would be refused by the headend forever, so it is a typed
   * error here and the caller's whole transaction (the state change too) rolls back.
   */
  appendEvent(tx: StoreTx, body: EventBody): StationEvent {
    assertInTransaction(this.db, tx, 'outbox.appendEvent');
    const info = this.insert.run(body.type, body.at);
    const seq = Number(info.lastInsertRowid);
    const parsed = StationEvent.safeParse({ storeId: this.storeId, seq, ...body });
    if (!parsed.success) {
      throw new StoreError('INVALID_EVENT', `invalid ${body.type} event: ${z.prettifyError(parsed.error)}`);
    }
    // Key order fixed by the envelope: storeId, seq first, so the stored text reads well in logs.
    const event = parsed.data;
    this.setBody.run(JSON.stringify(event), seq);
    return event;
  }

  /** Rows to send, oldest first: not quarantined, `seq > afterSeq`. */
  pending(opts: { afterSeq?: number; limit?: number } = {}): OutboxRow[] {
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE quarantined_at IS NULL AND seq > ? ORDER BY seq LIMIT ?')
      .all(opts.afterSeq ?? 0, opts.limit ?? 1000) as RawRow[];
    return rows.map(toRow);
  }

  /** One row by seq, quarantined or not. */
  get(seq: number): OutboxRow | undefined {
    const r = this.db.prepare('SELECT * FROM outbox WHERE seq = ?').get(seq) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  /** Every quarantined row, oldest first. */
  quarantined(): OutboxRow[] {
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE quarantined_at IS NOT NULL ORDER BY seq')
      .all() as RawRow[];
    return rows.map(toRow);
  }

  /** Rows held (sent or not) and how many of them are quarantined. */
  stats(): { rows: number; quarantined: number; oldestAt: string | null; lastSeq: number } {
    const r = this.db
      .prepare('SELECT COUNT(*) AS rows, COUNT(quarantined_at) AS q, MIN(at) AS oldest FROM outbox')
      .get() as { rows: number; q: number; oldest: string | null };
    return { rows: r.rows, quarantined: r.q, oldestAt: r.oldest, lastSeq: this.lastSeq() };
  }

  /** Highest seq ever issued by this store (0 before the first event), even if its row was acked away. */
  lastSeq(): number {
    const r = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as
      | { seq: number }
      | undefined;
    return r?.seq ?? 0;
  }

  /**
   * Applies the headend's ack `{storeId, seq}`: deletes every row with seq ≤ `seq` (quarantined ones too —
   * the headend has committed past them). An ack for another store id changes nothing.
   */
  ackUpTo(storeId: string, seq: number): AckResult {
    if (storeId !== this.storeId) return { deleted: 0, otherStore: true, ahead: false };
    const info = this.db.prepare('DELETE FROM outbox WHERE seq <= ?').run(seq);
    return { deleted: info.changes, otherStore: false, ahead: seq > this.lastSeq() };
  }

  /** Blames one disconnect on row `seq`; returns its new failure count (the sender decides on quarantine). */
  recordFailure(seq: number): number {
    const r = this.db
      .prepare('UPDATE outbox SET failures = failures + 1 WHERE seq = ? RETURNING failures')
      .get(seq) as { failures: number } | undefined;
    if (!r) throw new StoreError('NOT_FOUND', `outbox row ${seq} does not exist`);
    return r.failures;
  }

  /** Clears a row's failure count (it was sent and acked past, or the cause was elsewhere). */
  resetFailures(seq: number): void {
    this.db.prepare('UPDATE outbox SET failures = 0 WHERE seq = ?').run(seq);
  }

  /** Stops sending row `seq`; it stays (and is reported) until an ack covers it. */
  quarantine(seq: number, reason: string, at: string): void {
    const info = this.db
      .prepare(
        'UPDATE outbox SET quarantined_at = ?, quarantine_reason = ? WHERE seq = ? AND quarantined_at IS NULL',
      )
      .run(at, reason, seq);
    if (info.changes === 0 && !this.get(seq)) {
      throw new StoreError('NOT_FOUND', `outbox row ${seq} does not exist`);
    }
  }

  /** Puts a quarantined row back in the send queue (an operator released it). */
  release(seq: number): void {
    this.db
      .prepare(
        'UPDATE outbox SET quarantined_at = NULL, quarantine_reason = NULL, failures = 0 WHERE seq = ?',
      )
      .run(seq);
  }
}
