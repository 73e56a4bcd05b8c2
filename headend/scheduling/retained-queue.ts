/**
 * Publishing retained documents so that the LAST message on every topic is the newest content
 * (DESIGN.md §4 "retained documents are the truth"). One queue entry per topic, latest wins:
 * - the payload is read when it is sent, not when it was asked for, so a document issued while an older
 *   one is in flight goes out after it and nothing stale is ever sent last;
 * - at most one publish per topic is in flight; messages from one client on one connection reach the
 *   broker in the order they were sent (MQTT 3.1.1 §4.6), so the broker retains the newest;
 * - a failed publish (not connected, connection lost, no PUBACK in time) stays queued and is retried with
 *   backoff; "accepted" means the broker's PUBACK, after which `onAccepted` runs (the outbox flag).
 */
import type { Logger } from 'pino';

/** The payload of a topic as it is now, or null when there is nothing to publish. */
export type ReadPayload = () => { payload: Buffer; onAccepted?: () => void } | null;

export interface RetainedQueueDeps {
  /** Publishes retained QoS 1 on the current connection; resolves on PUBACK, rejects otherwise. */
  publish(topic: string, payload: Buffer): Promise<void>;
  connected(): boolean;
  logger: Logger;
  /** First retry delay after a failure and its cap (doubles per consecutive failure). */
  retryMinMs: number;
  retryMaxMs: number;
  /** Publishes in flight at once (default 256). */
  maxInFlight?: number;
}

/** Counters for `/healthz` and the bench. */
export interface RetainedQueueStats {
  pending: number;
  inFlight: number;
  accepted: number;
  failures: number;
  lastError: string | null;
}

export class RetainedQueue {
  private readonly pending = new Map<string, ReadPayload>();
  private readonly inFlight = new Set<string>();
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly counters = { accepted: 0, failures: 0, lastError: null as string | null };

  constructor(private readonly deps: RetainedQueueDeps) {}

  /** Asks for `topic` to be (re)published with whatever `read` returns at send time. */
  want(topic: string, read: ReadPayload): void {
    if (this.closed) return;
    this.pending.delete(topic); // re-insert at the end: first asked, first sent
    this.pending.set(topic, read);
    this.pump();
  }

  /** Call when the connection comes up: sends what waited. */
  resume(): void {
    this.failures = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pump();
  }

  stats(): RetainedQueueStats {
    return { pending: this.pending.size, inFlight: this.inFlight.size, ...this.counters };
  }

  /** Resolves when nothing is pending or in flight. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending; pending topics are dropped (SQLite holds the truth, republished at the next start). */
  close(): void {
    this.closed = true;
    this.pending.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.settleIdle();
  }

  private pump(): void {
    if (this.closed || this.retryTimer || !this.deps.connected()) return;
    const max = this.deps.maxInFlight ?? 256;
    for (const [topic, read] of this.pending) {
      if (this.inFlight.size >= max) break;
      if (this.inFlight.has(topic)) continue;
      this.pending.delete(topic);
      let item: ReturnType<ReadPayload>;
      try {
        item = read();
      } catch (err) {
        this.deps.logger.error(
          { event: 'publish-read-failed', topic, err: (err as Error).message },
          'could not read a document to publish',
        );
        continue;
      }
      if (item === null) continue;
      this.send(topic, read, item.payload, item.onAccepted);
    }
    this.settleIdle();
  }

  private send(topic: string, read: ReadPayload, payload: Buffer, onAccepted?: () => void): void {
    this.inFlight.add(topic);
    this.deps.publish(topic, payload).then(
      () => {
        this.inFlight.delete(topic);
        this.failures = 0;
        this.counters.accepted++;
        try {
          onAccepted?.();
        } catch (err) {
          this.deps.logger.error(
            { event: 'publish-accept-hook-failed', topic, err: (err as Error).message },
            'could not record an accepted publish',
          );
        }
        this.pump();
      },
      (err: unknown) => {
        this.inFlight.delete(topic);
        this.counters.failures++;
        this.counters.lastError = (err as Error).message;
        // Keep it queued unless a newer request for the topic arrived meanwhile (that one reads fresh).
        if (!this.pending.has(topic) && !this.closed) this.pending.set(topic, read);
        this.scheduleRetry();
      },
    );
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    if (!this.deps.connected()) return; // `resume()` on the next connection sends everything
    const delay = Math.min(this.deps.retryMaxMs, this.deps.retryMinMs * 2 ** Math.min(this.failures, 20));
    this.failures++;
    this.deps.logger.warn(
      { event: 'publish-retry', delayMs: delay, pending: this.pending.size, err: this.counters.lastError },
      'publish failed; retrying',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
    this.retryTimer.unref();
  }

  private settleIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (!this.closed && (this.pending.size > 0 || this.inFlight.size > 0)) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
