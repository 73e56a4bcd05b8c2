/**
 * The event log, exactly once per `(station, storeId, seq)` (DESIGN.md §4 "Events are exactly-once end to
 * end, acknowledged by the headend, not the broker"). Arrival order is never trusted: an event is inserted
 * on its key; the same key with the same payload hash is a duplicate (a resend), with a different hash a
 * conflict (kept aside and alarmed, never merged). The ack high-water mark is the highest `seq` such that
 * every seq from 1 to it is committed, so a station that drops its rows up to the ack never drops one the
 * headend does not have. Sequences start at 1 in every station store.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';

/** One event as received. */
export interface IncomingEvent {
  stationId: string;
  storeId: string;
  seq: number;
  type: string;
  /** Event time as the station stamped it (UTC `Z`), if any. */
  at?: string | null;
  /** The payload exactly as received (its SHA-256 decides duplicate vs conflict). */
  payload: string | Buffer;
}

/** What happened to one incoming event. */
export type InsertOutcome = 'inserted' | 'duplicate' | 'conflict';

/** The ack of one station store: every seq ≤ `seq` is committed. */
export interface StoreAck {
  storeId: string;
  seq: number;
  updatedAt: string;
}

/** A stored event. */
export interface StoredEvent {
  stationId: string;
  storeId: string;
  seq: number;
  type: string;
  at: string | null;
  payload: string;
  payloadSha256: string;
  receivedAt: string;
}

/** Repo over `events`, `event_conflicts` and `event_acks`. */
export interface EventsRepo {
  /** Inserts one event on its key (one short transaction). */
  insert(e: IncomingEvent): InsertOutcome;
  /**
   * Inserts a batch and advances the acks of the stores it touched, in ONE transaction; the caller publishes
   * the returned acks only after this returns (after the commit).
   */
  ingest(events: readonly IncomingEvent[]): {
    outcomes: InsertOutcome[];
    acks: Map<string, StoreAck & { stationId: string }>;
  };
  /** Is this key stored? */
  has(stationId: string, storeId: string, seq: number): boolean;
  /** Current ack of a station store (seq 0 when nothing is committed yet). */
  ack(stationId: string, storeId: string): StoreAck;
  /** Every store's ack of a station, newest first. */
  acks(stationId: string): StoreAck[];
  /** Moves the ack over every contiguous committed seq; returns the ack and whether it moved. */
  advanceAck(stationId: string, storeId: string): StoreAck & { moved: boolean };
  /** Events of a station, oldest first by (storeId, seq). */
  list(stationId: string, opts?: { storeId?: string; afterSeq?: number; limit?: number }): StoredEvent[];
  /** Conflicting payloads received for existing keys. */
  conflicts(stationId?: string): (StoredEvent & { id: number })[];
}

/** Lower-case hex SHA-256 of a payload. */
export function payloadHash(payload: string | Buffer): string {
  return createHash('sha256').update(payload).digest('hex');
}

interface EventRow {
  station_id: string;
  store_id: string;
  seq: number;
  type: string;
  at: string | null;
  payload: string;
  payload_sha256: string;
  received_at: string;
}

const toEvent = (r: EventRow): StoredEvent => ({
  stationId: r.station_id,
  storeId: r.store_id,
  seq: r.seq,
  type: r.type,
  at: r.at,
  payload: r.payload,
  payloadSha256: r.payload_sha256,
  receivedAt: r.received_at,
});

export function createEventsRepo(db: Database, now: () => Date = () => new Date()): EventsRepo {
  const ins =
    db.prepare(`INSERT INTO events (station_id, store_id, seq, type, at, payload, payload_sha256, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const existing = db.prepare<[string, string, number], { payload_sha256: string }>(
    'SELECT payload_sha256 FROM events WHERE station_id = ? AND store_id = ? AND seq = ?',
  );
  const insConflict =
    db.prepare(`INSERT INTO event_conflicts (station_id, store_id, seq, payload, payload_sha256, received_at)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const getAck = db.prepare<[string, string], { seq: number; updated_at: string }>(
    'SELECT seq, updated_at FROM event_acks WHERE station_id = ? AND store_id = ?',
  );
  const after = db.prepare<[string, string, number, number], { seq: number }>(
    'SELECT seq FROM events WHERE station_id = ? AND store_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const putAck =
    db.prepare(`INSERT INTO event_acks (station_id, store_id, seq, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (station_id, store_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`);

  const insertOne = (e: IncomingEvent): InsertOutcome => {
    if (!Number.isSafeInteger(e.seq) || e.seq < 1)
      throw new RangeError(`event seq must be an integer ≥ 1, got ${e.seq}`);
    const payload = typeof e.payload === 'string' ? e.payload : e.payload.toString('utf8');
    const hash = payloadHash(payload);
    const at = now().toISOString();
    if (ins.run(e.stationId, e.storeId, e.seq, e.type, e.at ?? null, payload, hash, at).changes === 1)
      return 'inserted';
    if (existing.get(e.stationId, e.storeId, e.seq)?.payload_sha256 === hash) return 'duplicate';
    insConflict.run(e.stationId, e.storeId, e.seq, payload, hash, at);
    return 'conflict';
  };

  const repo: EventsRepo = {
    insert: (e) => db.transaction(insertOne)(e),
    ingest(events) {
      return db.transaction(() => {
        const outcomes = events.map(insertOne);
        const acks = new Map<string, StoreAck & { stationId: string }>();
        for (const e of events) {
          const key = `${e.stationId}\u0000${e.storeId}`;
          if (acks.has(key)) continue;
          const a = repo.advanceAck(e.stationId, e.storeId);
          acks.set(key, { stationId: e.stationId, storeId: a.storeId, seq: a.seq, updatedAt: a.updatedAt });
        }
        return { outcomes, acks };
      })();
    },
    has: (stationId, storeId, seq) => existing.get(stationId, storeId, seq) !== undefined,
    ack(stationId, storeId) {
      const r = getAck.get(stationId, storeId);
      return { storeId, seq: r?.seq ?? 0, updatedAt: r?.updated_at ?? '' };
    },
    acks: (stationId) =>
      (
        db
          .prepare(
            'SELECT store_id, seq, updated_at FROM event_acks WHERE station_id = ? ORDER BY updated_at DESC',
          )
          .all(stationId) as { store_id: string; seq: number; updated_at: string }[]
      ).map((r) => ({ storeId: r.store_id, seq: r.seq, updatedAt: r.updated_at })),
    advanceAck(stationId, storeId) {
      return db.transaction(() => {
        const cur = repo.ack(stationId, storeId);
        let seq = cur.seq;
        // Walk forward over contiguous seqs in pages; a gap stops the ack (the station resends from it).
        for (;;) {
          const page = after.all(stationId, storeId, seq, 500);
          let i = 0;
          while (i < page.length && page[i]?.seq === seq + 1) {
            seq += 1;
            i += 1;
          }
          if (i < page.length || page.length < 500) break;
        }
        if (seq === cur.seq) return { ...cur, moved: false };
        const at = now().toISOString();
        putAck.run(stationId, storeId, seq, at);
        return { storeId, seq, updatedAt: at, moved: true };
      })();
    },
    list(stationId, opts = {}) {
      const where = ['station_id = ?'];
      const args: (string | number)[] = [stationId];
      if (opts.storeId !== undefined) {
        where.push('store_id = ?');
        args.push(opts.storeId);
      }
      if (opts.afterSeq !== undefined) {
        where.push('seq > ?');
        args.push(opts.afterSeq);
      }
      args.push(opts.limit ?? 1000);
      const sql = `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY store_id, seq LIMIT ?`;
      return (db.prepare(sql).all(...args) as EventRow[]).map(toEvent);
    },
    conflicts(stationId) {
      const rows = (
        stationId === undefined
          ? db.prepare('SELECT * FROM event_conflicts ORDER BY id').all()
          : db.prepare('SELECT * FROM event_conflicts WHERE station_id = ? ORDER BY id').all(stationId)
      ) as (EventRow & { id: number })[];
      return rows.map((r) => ({ ...toEvent({ ...r, type: '', at: null }), id: r.id }));
    },
  };
  return repo;
}
