/**
 * Committing a schedule change with a SHORT write transaction (DESIGN.md §7: "transactions stay short
 * (≤ ~20 ms)"; "a change and its new schedule version commit together, then publish").
 *
 * Compiling a fleet-wide conference (102 documents here, thousands at scale) took 60–200 ms, and it ran
 * inside the write transaction, holding SQLite's write lock — the XMLTV worker and the CLI, which write
 * through their own connections, waited behind it. So a change runs in two phases:
 *
 * 1. `prepare`, READS ONLY, in one read transaction (a WAL snapshot): validate the change, compile the
 *    stations it touches with the changed entry in place of the stored one, build each new document's
 *    bytes and version.
 * 2. `write`, in a write transaction taken with `BEGIN IMMEDIATE`: only the inserts and updates.
 *
 * Nothing may have been committed between the two, or the versions and the compile would be stale. In this
 * process both phases run in one synchronous call, so no other code of the headend runs between them; other
 * connections are what remains, and SQLite's `PRAGMA data_version` changes exactly when another connection
 * commits. It is read before the snapshot and again under the write lock: if it moved, the change is
 * prepared again (a few times), and then, so that a busy writer cannot starve it, prepared and written
 * inside one write transaction — the old, long, always-correct way.
 *
 * Inside a caller's transaction (preview.ts rolls one back) both phases simply run in it.
 */
import type { Store } from '../store/index.js';

/** How one commit went (logged with the change; the fan-out bench reports `writeMs`). */
export interface CommitTiming {
  /** The read phase: validation, compile, document bytes. */
  prepareMs: number;
  /** The write transaction, BEGIN IMMEDIATE to COMMIT. */
  writeMs: number;
  /** Read phases run (more than one when another connection committed in between). */
  attempts: number;
  /** Prepared and written in one transaction: inside a caller's transaction, or after `attempts` retries. */
  inline: boolean;
}

/** Read phases tried before preparing inside the write transaction. */
export const MAX_PREPARE_ATTEMPTS = 3;

/** Runs `prepare` (reads only) from a snapshot and `write` in a short write transaction; see above. */
export function commitPrepared<P, T>(
  store: Pick<Store, 'db'>,
  prepare: () => P,
  write: (prepared: P) => T,
): { result: T; timing: CommitTiming } {
  const { db } = store;
  if (db.inTransaction) {
    const t0 = performance.now();
    const result = write(prepare());
    const ms = performance.now() - t0;
    return { result, timing: { prepareMs: 0, writeMs: ms, attempts: 1, inline: true } };
  }
  const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
  let prepareMs = 0;
  for (let attempt = 1; attempt <= MAX_PREPARE_ATTEMPTS; attempt++) {
    const before = dataVersion();
    const t0 = performance.now();
    const prepared = db.transaction(prepare)();
    const t1 = performance.now();
    prepareMs += t1 - t0;
    // Under the write lock nobody else can commit: an unchanged data_version means the snapshot is current.
    const done = db
      .transaction(() => (dataVersion() === before ? { value: write(prepared) } : null))
      .immediate();
    if (done) {
      return {
        result: done.value,
        timing: { prepareMs, writeMs: performance.now() - t1, attempts: attempt, inline: false },
      };
    }
  }
  const t2 = performance.now();
  const result = db.transaction(() => write(prepare())).immediate();
  return {
    result,
    timing: {
      prepareMs,
      writeMs: performance.now() - t2,
      attempts: MAX_PREPARE_ATTEMPTS + 1,
      inline: true,
    },
  };
}
