/**
 * "Has another connection committed since I last looked?" for the read caches of the repos (stations.ts,
 * schedules.ts). SQLite's `PRAGMA data_version` changes exactly when another connection (the XMLTV worker,
 * the CLI) commits; this connection's own writes are tracked by the caches themselves.
 *
 * Asking SQLite costs as much as the cached read it would save, so it is asked once per turn of the event
 * loop: a cached read is then as fresh as a read made at the start of the turn. Reads outside a transaction
 * give no more than that anyway (another connection may commit a microsecond after any read).
 */
import type { Database } from 'better-sqlite3';

/** Returns a function giving the connection's data version, read at most once per event-loop turn. */
export function dataVersionPerTurn(db: Database): () => number {
  const stmt = db.prepare<[], number>('PRAGMA data_version').pluck();
  let value = -1;
  let fresh = false;
  return () => {
    if (!fresh) {
      value = stmt.get() as number;
      fresh = true;
      setImmediate(() => {
        fresh = false;
      }).unref();
    }
    return value;
  };
}
