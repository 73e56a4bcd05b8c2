/**
 * Entry of the XMLTV import worker thread (DESIGN.md §7: heavy work runs in a worker with its own
 * connection, so the embedded broker sharing the main event loop keeps answering). Each import opens its
 * OWN better-sqlite3 connection, runs, and posts the report (or the error). The thread stays up between
 * imports (warm JIT) until the main thread lets it go; its heap is capped by the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { openDatabase } from '../store/db.js';
import { importGuide } from './guide-import.js';
import { openSource } from './guide-sources.js';
import { GuideImportError } from './import-report.js';
import type { WorkerMessage, WorkerReply, WorkerRequest } from './import-worker.js';

async function run(req: WorkerRequest, signal: AbortSignal): Promise<WorkerReply> {
  try {
    const db = openDatabase(req.dbPath, { busyTimeoutMs: req.busyTimeoutMs });
    try {
      // A lost guide import is re-run, not recovered: NORMAL skips an fsync per service window (WAL stays
      // consistent), and a small page cache keeps this thread's memory flat.
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -8192');
      const report = await importGuide(db, openSource(req.source, req.limits, signal), {
        ...req.options,
        now: Date.now,
        signal,
      });
      return { ok: true, report };
    } finally {
      db.close();
    }
  } catch (err) {
    const e =
      err instanceof GuideImportError
        ? err
        : new GuideImportError('WORKER', (err as Error).message ?? String(err));
    return { ok: false, error: e.toJSON() };
  }
}

const port = parentPort;
if (port === null) throw new Error('import-worker-main must run in a worker thread');
const aborts = new Map<number, AbortController>();
// The main thread asks for cancellation with a message; the import stops between chunks, before applying.
port.on('message', (m: WorkerMessage) => {
  if (m.type === 'abort') {
    aborts.get(m.id)?.abort();
    return;
  }
  const ac = new AbortController();
  aborts.set(m.id, ac);
  void run(m.request, ac.signal).then((reply) => {
    aborts.delete(m.id);
    port.postMessage({ id: m.id, reply });
  });
});
