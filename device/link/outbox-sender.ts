/**
 * Sends the station's outbox to `st/{id}/events` (DESIGN.md §4, "Events are exactly-once end to end,
 * acknowledged by the headend, not the broker").
 *
 * - Rows leave in `seq` order and STAY in the outbox until the headend's retained `ack {storeId, seq}`
 *   covers them. A PUBACK proves nothing: Mosquitto acks a publish its ACL denied, aedes keeps messages in
 *   memory, and nobody may be subscribed while the headend restarts.
 * - On every (re)connect the whole outbox is sent again from the oldest row still held (= from the ack): the
 *   headend de-duplicates on `(station, storeId, seq)`.
 * - When rows were sent and the ack has not moved for `outboxResendMs`, everything above the ack is resent
 *   (a headend that restarted without a subscription lost them).
 * - The embedded broker closes the connection on a denied publish (DESIGN.md §3), so a row in flight when
 *   the connection drops is suspected: it is then sent alone, and a row that was in flight at
 *   `outboxQuarantineAfter` consecutive disconnects is quarantined (kept, skipped, reported in the state
 *   and by an alarm) instead of cutting the link forever.
 */
import type { Logger } from 'pino';
import type { StationStore } from '../store/db.js';
import type { Clock } from './clock.js';

/** One outbox row as the sender needs it. */
export interface OutboxRow {
  seq: number;
  /** The event's JSON bytes exactly as stored (resends are byte-identical: same key, same hash). */
  payload: string;
}

/** The sender's view of the outbox (device/store); adapted in agent.ts. */
export interface OutboxPort {
  /** Random id of the station database (DESIGN.md §4). */
  readonly storeId: string;
  /** Rows with `seq > afterSeq`, not quarantined, ascending, at most `limit`. */
  pending(afterSeq: number, limit: number): OutboxRow[];
  /** Deletes every row with `seq ≤ seq` (the headend committed them); returns how many went. */
  ackUpTo(seq: number): number;
  /** Marks a row quarantined with a reason; it is skipped from now on. */
  quarantine(seq: number, reason: string): void;
  /** Rows still held (unacked, quarantined included). */
  size(): number;
}

/** Publishes one event at QoS 1; resolves on PUBACK, rejects when the connection goes first. */
export type EventPublish = (payload: string) => Promise<void>;

/** Counters for the state, telemetry and tests. */
export interface OutboxSenderStats {
  /** Publishes made (resends included). */
  published: number;
  /** Times the sender went back to the ack and sent again because the ack stalled. */
  stallResends: number;
  /** Highest seq the headend acknowledged for this store (0 = none yet). */
  ackedSeq: number;
  /** Acks for another store (e.g. an old database's ack still retained) ignored. */
  foreignAcks: number;
  /** Rows quarantined by this sender. */
  quarantined: number[];
}

/** Publishes in flight at once on a healthy link; mqtt.js keeps them in order on one connection. */
export const SEND_WINDOW = 16;

export interface OutboxSenderOptions {
  port: OutboxPort;
  clock: Clock;
  logger: Logger;
  /** From the timing profile. */
  resendMs: number;
  quarantineAfter: number;
  /** Called when a row is quarantined (the agent raises an alarm and republishes its state). */
  onQuarantine?: (seq: number, reason: string) => void;
}

export class OutboxSender {
  private publish: EventPublish | null = null;
  /** Connection generation: a pump of an older connection stops at its next step. */
  private generation = 0;
  /** Highest seq published on this connection (the next send starts above it). */
  private cursor = 0;
  private pumping = false;
  private again = false;
  private readonly inFlight = new Set<number>();
  /** Consecutive disconnects each suspected row was in flight for. */
  private readonly blame = new Map<number, number>();
  private suspect: number | null = null;
  private cancelStall: (() => void) | null = null;
  private ackAtArm = -1;
  readonly stats: OutboxSenderStats = {
    published: 0,
    stallResends: 0,
    ackedSeq: 0,
    foreignAcks: 0,
    quarantined: [],
  };

  constructor(private readonly opts: OutboxSenderOptions) {}

  /** The link is up: send everything still held, from the oldest row. */
  connected(publish: EventPublish): void {
    this.generation++;
    this.publish = publish;
    this.cursor = 0;
    this.inFlight.clear();
    this.kick();
  }

  /** The link went down. A row in flight at that moment is suspected (see the header). */
  disconnected(): void {
    if (!this.publish) return;
    this.generation++;
    this.publish = null;
    this.stopStallTimer();
    const first = Math.min(...this.inFlight);
    this.inFlight.clear();
    if (!Number.isFinite(first)) return;
    const count = (this.blame.get(first) ?? 0) + 1;
    this.blame.set(first, count);
    this.suspect = first;
    if (count >= this.opts.quarantineAfter) {
      const reason = `in flight at ${count} consecutive disconnects (a broker refusing it closes the connection)`;
      this.opts.port.quarantine(first, reason);
      this.blame.delete(first);
      this.suspect = null;
      this.stats.quarantined.push(first);
      this.opts.logger.error({ seq: first, count }, 'outbox row quarantined');
      this.opts.onQuarantine?.(first, reason);
    } else {
      this.opts.logger.warn(
        { seq: first, count },
        'connection lost with an event in flight; sending it alone next',
      );
    }
  }

  /** New rows were appended (call after the transaction commits). */
  notify(): void {
    this.kick();
  }

  /**
   * The headend's retained ack arrived. Rows it covers are deleted; a foreign store's ack is ignored. An
   * ack can only move forward for a store: a lower one (a stale retained copy) changes nothing.
   */
  onAck(ack: { storeId: string; seq: number }): void {
    if (ack.storeId !== this.opts.port.storeId) {
      this.stats.foreignAcks++;
      this.opts.logger.info({ ack }, 'ack for another store ignored');
      return;
    }
    if (ack.seq <= this.stats.ackedSeq) return;
    this.stats.ackedSeq = ack.seq;
    const removed = this.opts.port.ackUpTo(ack.seq);
    this.opts.logger.debug({ seq: ack.seq, removed }, 'ack');
    if (this.cursor < ack.seq) this.cursor = ack.seq;
    this.armStallTimer();
  }

  /** Stops timers; the outbox itself stays in the store. */
  close(): void {
    this.generation++;
    this.publish = null;
    this.stopStallTimer();
  }

  private kick(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.sendAvailable();
      } while (this.again && this.publish);
    } finally {
      this.pumping = false;
    }
  }

  private async sendAvailable(): Promise<void> {
    const gen = this.generation;
    for (;;) {
      const publish = this.publish;
      if (!publish || gen !== this.generation) return;
      const limit = this.suspect !== null ? 1 : SEND_WINDOW;
      const rows = this.opts.port.pending(this.cursor, limit);
      if (rows.length === 0) return;
      const sends = rows.map((row) => {
        this.inFlight.add(row.seq);
        this.stats.published++;
        return publish(row.payload).then(() => {
          this.inFlight.delete(row.seq);
          // It went through: whatever closed the connection before, it was not this row.
          this.blame.delete(row.seq);
          if (this.suspect === row.seq) this.suspect = null;
        });
      });
      const last = rows[rows.length - 1];
      if (last) this.cursor = last.seq;
      try {
        await Promise.all(sends);
      } catch {
        return; // disconnected() does the bookkeeping; the next connect starts over from the ack.
      }
      if (gen === this.generation) this.armStallTimer();
    }
  }

  /** Rows above the ack were sent: if the ack does not move within `resendMs`, resend from the ack. */
  private armStallTimer(): void {
    if (!this.publish) return;
    if (this.cursor <= this.stats.ackedSeq) {
      this.stopStallTimer();
      return;
    }
    if (this.cancelStall && this.ackAtArm === this.stats.ackedSeq) return;
    this.stopStallTimer();
    this.ackAtArm = this.stats.ackedSeq;
    this.cancelStall = this.opts.clock.schedule(this.opts.resendMs, () => {
      this.cancelStall = null;
      if (!this.publish || this.stats.ackedSeq !== this.ackAtArm || this.cursor <= this.stats.ackedSeq)
        return;
      this.stats.stallResends++;
      this.opts.logger.info(
        { ackedSeq: this.stats.ackedSeq, sentUpTo: this.cursor },
        'ack stalled: resending from the ack',
      );
      this.cursor = this.stats.ackedSeq;
      this.kick();
    });
  }

  private stopStallTimer(): void {
    this.cancelStall?.();
    this.cancelStall = null;
  }
}

/** The outbox port on the station store (device/store/outbox.ts). */
export function storeOutboxPort(
  store: Pick<StationStore, 'storeId' | 'outbox'>,
  now: () => number,
): OutboxPort {
  return {
    storeId: store.storeId,
    pending: (after, limit) => store.outbox.pending({ afterSeq: after, limit }),
    ackUpTo: (seq) => store.outbox.ackUpTo(store.storeId, seq).deleted,
    quarantine: (seq, reason) => store.outbox.quarantine(seq, reason, new Date(now()).toISOString()),
    size: () => store.outbox.stats().rows,
  };
}
