/**
 * Small bookkeeping writes that arrive in bursts — a state per station when a conference reaches the
 * whole fleet, the outbox's "published" flag per PUBACK — grouped into ONE transaction per short window
 * (default 50 ms, or sooner when many are queued). With `synchronous=FULL` every commit is an fsync
 * (headend/store/db.ts), so 102 separate commits cost hundreds of milliseconds where one costs a few; the
 * event loop (and the embedded broker in it) stays free, and each transaction stays short (DESIGN.md §7).
 * Nothing that a station waits for is written here: acks are only published after the ingest transaction.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';

export interface WriteBatch {
  /**
   * Queues a write; it runs inside the next batch's transaction. `committed` runs after that transaction
   * committed (not when it failed): for caches that may only learn what the table really holds.
   */
  add(write: () => void, committed?: () => void): void;
  /** Runs what is queued now (at stop, and by tests that read right after). */
  flush(): void;
}

export function createWriteBatch(
  store: Pick<Store, 'transaction'> & { db?: Store['db'] },
  logger: Logger,
  what: string,
  opts: { windowMs?: number; maxWrites?: number } = {},
): WriteBatch {
  // Bookkeeping needs no fsync of its own (`synchronous=NORMAL` for its commits only): in WAL mode a lost
  // tail loses only these rows, never reorders them before a durable commit, and the next FULL commit (an
  // event batch, a schedule change) syncs them with it. At `synchronous=FULL` each batch's fsync was ~7 % of
  // the headend's time in a 5 000-station push (scripts/bench/fanout-mosquitto.ts).
  const relaxed = <T>(fn: () => T): T => {
    const db = store.db;
    if (!db || db.inTransaction) return fn();
    const before = db.pragma('synchronous', { simple: true }) as number;
    if (before < 2) return fn();
    db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      db.pragma(`synchronous = ${before}`);
    }
  };
  const windowMs = opts.windowMs ?? 50;
  const maxWrites = opts.maxWrites ?? 1000;
  let queue: (() => void)[] = [];
  let after: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const writes = queue;
    const hooks = after;
    queue = [];
    after = [];
    if (writes.length === 0) return;
    try {
      relaxed(() =>
        store.transaction(() => {
          for (const w of writes) w();
        }),
      );
    } catch (err) {
      // Bookkeeping only: the retained documents and the stations' reports bring it back.
      logger.error(
        { event: 'batch-write-failed', what, writes: writes.length, err: (err as Error).message },
        `${what}: batch write failed`,
      );
      return;
    }
    for (const h of hooks) {
      try {
        h();
      } catch (err) {
        logger.error(
          { event: 'batch-hook-failed', what, err: (err as Error).message },
          `${what}: after-commit hook failed`,
        );
      }
    }
  };
  return {
    add(write, committed) {
      queue.push(write);
      if (committed) after.push(committed);
      if (queue.length >= maxWrites) setImmediate(flush);
      else if (!timer) {
        timer = setTimeout(flush, windowMs);
        timer.unref();
      }
    },
    flush,
  };
}
