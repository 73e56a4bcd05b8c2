/**
 * Event ingest (DESIGN.md §4 "Events are exactly-once end to end, acknowledged by the headend, not the
 * broker"; issue 5 "Ingest"):
 * - every event is inserted on `(station, storeId, seq)`: the same key with the same payload hash is a
 *   duplicate (a resend), with a different hash a conflict — kept aside and alarmed, never merged;
 * - arrival order is never trusted: the retained ack `{storeId, seq}` is the highest CONTIGUOUS committed
 *   seq, and it is published only AFTER the transaction committed (the station then deletes its copies);
 * - what events mean (recording manifests into the catalogue, occurrence states, offline telemetry
 *   summaries, applied schedules, station alarms) is applied in seq order as the ack advances over them,
 *   inside the same transaction — so an event that arrives early waits for the gap before it to close;
 * - messages arriving together are ingested in one short transaction (≤ `maxBatch` events).
 * An undecodable event whose `storeId`/`seq` can still be read is stored as type `invalid` (it is
 * committed as received, so one bad row cannot stall the station's outbox forever) and counted.
 * A row the station QUARANTINED (it kept causing disconnects, DESIGN.md §4 ACL rule) never arrives; the
 * station's `outbox_quarantined` alarm names its `{storeId, seq}`, and the headend stores a `quarantined`
 * placeholder under that key so the ack can move past it instead of stalling the station's outbox for good.
 */
import type { Logger } from 'pino';
import { StoreId } from '../../protocol/messages/common.js';
import { decodePayload } from '../../protocol/messages/decode.js';
import { StationEvent } from '../../protocol/messages/events.js';
import type { IncomingEvent, InsertOutcome } from '../store/events.js';
import type { Store } from '../store/index.js';
import type { AlarmBoard } from './alarm-board.js';
import { createEventEffects } from './event-effects.js';
import type { ScheduleTracker } from './schedule-status.js';
import type { TelemetryIngest } from './telemetry.js';

export interface IngestDeps {
  store: Store;
  logger: Logger;
  alarms: AlarmBoard;
  tracker: ScheduleTracker;
  telemetry: TelemetryIngest;
  /** Publishes the station's retained ack as committed now (publisher.ts). */
  publishAck(stationId: string): void;
  now?: () => Date;
  /** Most events in one transaction (default 500: keeps it well under ~20 ms, DESIGN.md §7). */
  maxBatch?: number;
}

/** What one batch did. */
export interface BatchResult {
  inserted: number;
  duplicates: number;
  conflicts: number;
  invalid: number;
  dropped: number;
  /** Events whose meaning was applied (the ack moved over them). */
  applied: number;
}

export interface EventIngest {
  /** Queues one `events` message; the batch is ingested on the next turn of the event loop. */
  handle(stationId: string, payload: Buffer): void;
  /** Ingests what is queued now. */
  flush(): BatchResult;
  /** Listens to events as they are applied, in seq order (SSE, alarm engine); returns the remover. */
  onApplied(listener: (stationId: string, e: StationEvent) => void): () => void;
  stats(): BatchResult & { batches: number };
}

/** `storeId` and `seq` of a payload that failed validation, when they can still be read. */
function sniffKey(payload: Buffer): { storeId: string; seq: number; type: string } | null {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { storeId?: unknown; seq?: unknown; type?: unknown };
    if (!StoreId.safeParse(v.storeId).success) return null;
    if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 1) return null;
    return {
      storeId: v.storeId as string,
      seq: v.seq,
      type: typeof v.type === 'string' ? v.type.slice(0, 64) : '',
    };
  } catch {
    return null;
  }
}

/** Event type of the placeholder stored for a row the station quarantined. */
const QUARANTINED = 'quarantined';

/**
 * The placeholder for the row an `outbox_quarantined` alarm names (evidence `{seq, storeId}`), or null.
 * Only an earlier seq of the same store qualifies: the alarm itself is a later event of that store.
 */
export function quarantinePlaceholder(stationId: string, e: StationEvent): IncomingEvent | null {
  if (e.type !== 'alarm.raised' || e.kind !== 'outbox_quarantined') return null;
  const seq = e.evidence.seq;
  const storeId = e.evidence.storeId ?? e.storeId;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || seq >= e.seq) return null;
  if (storeId !== e.storeId) return null;
  const payload = JSON.stringify({ storeId, seq, type: QUARANTINED, reportedBy: e.seq, alarmId: e.alarmId });
  return { stationId, storeId, seq, type: QUARANTINED, at: e.at, payload };
}

export function createEventIngest(deps: IngestDeps): EventIngest {
  const { store, alarms, tracker, telemetry } = deps;
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const maxBatch = deps.maxBatch ?? 500;
  const queue: { stationId: string; payload: Buffer }[] = [];
  const listeners = new Set<(stationId: string, e: StationEvent) => void>();
  const totals = { inserted: 0, duplicates: 0, conflicts: 0, invalid: 0, dropped: 0, applied: 0, batches: 0 };
  const known = new Set<string>();
  let scheduled = false;

  const stationKnown = (id: string) => {
    if (known.has(id)) return true;
    if (!store.stations.get(id)) return false;
    known.add(id);
    return true;
  };

  const effects = createEventEffects({ store, logger: log, alarms, tracker, telemetry });
  const applyInTx = effects.apply;

  const flush = (): BatchResult => {
    const result: BatchResult = {
      inserted: 0,
      duplicates: 0,
      conflicts: 0,
      invalid: 0,
      dropped: 0,
      applied: 0,
    };
    const items = queue.splice(0, maxBatch);
    if (queue.length > 0) schedule();
    if (items.length === 0) return result;
    const incoming: IncomingEvent[] = [];
    const decoded = new Map<string, StationEvent>();
    for (const { stationId, payload } of items) {
      if (!stationKnown(stationId)) {
        result.dropped++;
        log.warn(
          { event: 'event-unknown-station', stationId },
          'event from a station not in the registry dropped',
        );
        continue;
      }
      const d = decodePayload(StationEvent, payload);
      if (d.ok) {
        const e = d.value;
        decoded.set(`${stationId}\u0000${e.storeId}\u0000${e.seq}`, e);
        incoming.push({ stationId, storeId: e.storeId, seq: e.seq, type: e.type, at: e.at, payload });
        const placeholder = quarantinePlaceholder(stationId, e);
        if (placeholder && !store.events.has(stationId, placeholder.storeId, placeholder.seq)) {
          log.warn(
            { event: 'event-quarantined', stationId, storeId: placeholder.storeId, seq: placeholder.seq },
            'station quarantined an event: a placeholder lets the ack move past it',
          );
          incoming.push(placeholder);
        }
        continue;
      }
      const key = sniffKey(payload);
      if (!key) {
        result.dropped++;
        log.warn({ event: 'event-invalid', stationId, err: d.error.message }, 'unreadable event dropped');
        continue;
      }
      result.invalid++;
      log.warn(
        {
          event: 'event-invalid',
          stationId,
          storeId: key.storeId,
          seq: key.seq,
          type: key.type,
          err: d.error.message,
        },
        'invalid event stored as received (type "invalid")',
      );
      incoming.push({ stationId, storeId: key.storeId, seq: key.seq, type: 'invalid', at: null, payload });
    }
    const after: (() => void)[] = [];
    const appliedEvents: [string, StationEvent][] = [];
    let outcomes: InsertOutcome[] = [];
    if (incoming.length > 0) {
      store.transaction(() => {
        const before = new Map<string, number>();
        for (const e of incoming) {
          const k = `${e.stationId}\u0000${e.storeId}`;
          if (!before.has(k)) before.set(k, store.events.ack(e.stationId, e.storeId).seq);
        }
        const res = store.events.ingest(incoming);
        outcomes = res.outcomes;
        for (const [k, ack] of res.acks) {
          const from = before.get(k) ?? 0;
          if (ack.seq <= from) continue;
          // The ack moved over (from, ack.seq]: apply their meaning in seq order.
          for (const row of store.events.list(ack.stationId, {
            storeId: ack.storeId,
            afterSeq: from,
            limit: ack.seq - from,
          })) {
            if (row.type === 'invalid' || row.type === QUARANTINED) continue;
            let e = decoded.get(`${row.stationId}\u0000${row.storeId}\u0000${row.seq}`);
            if (!e) {
              const d = decodePayload(StationEvent, row.payload);
              if (!d.ok) continue;
              e = d.value;
            }
            const post = applyInTx(row.stationId, e);
            if (post) after.push(post);
            appliedEvents.push([row.stationId, e]);
          }
        }
      });
    }
    // Committed: now the acks, the alarms and the listeners (DESIGN.md §4: ack only after the commit).
    const stations = new Set<string>();
    outcomes.forEach((o, i) => {
      const e = incoming[i] as IncomingEvent;
      stations.add(e.stationId);
      if (o === 'inserted') result.inserted++;
      else if (o === 'duplicate') result.duplicates++;
      else {
        result.conflicts++;
        alarms.raise({
          kind: 'event_conflict',
          stationId: e.stationId,
          subject: `${e.storeId}:${e.seq}`,
          message: `${e.stationId} re-sent event ${e.seq} of store ${e.storeId} with a different payload`,
          evidence: { storeId: e.storeId, seq: e.seq, type: e.type },
        });
      }
    });
    for (const s of stations) deps.publishAck(s);
    for (const fn of after) {
      try {
        fn();
      } catch (err) {
        log.error({ event: 'event-effect-failed', err: (err as Error).message }, 'applying an event failed');
      }
    }
    result.applied = appliedEvents.length;
    for (const [stationId, e] of appliedEvents) {
      for (const l of listeners) {
        try {
          l(stationId, e);
        } catch (err) {
          log.error(
            { event: 'event-listener-failed', err: (err as Error).message },
            'an event listener threw',
          );
        }
      }
    }
    totals.batches++;
    for (const k of ['inserted', 'duplicates', 'conflicts', 'invalid', 'dropped', 'applied'] as const)
      totals[k] += result[k];
    log.debug({ event: 'ingest-batch', at: now().toISOString(), ...result }, 'events ingested');
    return result;
  };

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      try {
        flush();
      } catch (err) {
        // The transaction rolled back: nothing was acked, the stations resend from their ack.
        log.error(
          { event: 'ingest-failed', err: (err as Error).message },
          'event batch failed; stations will resend',
        );
      }
    });
  }

  return {
    handle(stationId, payload) {
      queue.push({ stationId, payload });
      schedule();
    },
    flush,
    onApplied(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({ ...totals }),
  };
}

export { type OccurrenceStatusRow, occurrenceStatuses } from './event-effects.js';
