/**
 * Binds the executor's `ExecutorStorePort` to the station store (device/store): journal rows and the
 * events reporting them share one transaction (DESIGN.md §4), recordings are opened per occurrence.
 */
import path from 'node:path';
import type { StationStore } from '../store/db.js';
import type { ExecutorStorePort } from './ports.js';

/** A file-system-safe directory name for an occurrence: `<entryId>/<nominal start, compact UTC>`. */
export function recordingDirName(entryId: string, nominalStart: string): string {
  return path.join(entryId, nominalStart.replace(/[-:]/g, '').replace(/\.\d+/, ''));
}

export function executorStorePort(
  store: StationStore,
  opts: { recordingsDir: string; notify: () => void; now: () => number },
): ExecutorStorePort {
  return {
    transaction: (fn) => store.transaction(fn),
    journal: (tx, row) => {
      store.journal.append(tx, row);
    },
    event: (tx, body) => {
      store.outbox.appendEvent(tx, body);
    },
    latest: (entryId, nominalStart) => {
      const j = store.journal.latest(entryId, nominalStart);
      return j ? { state: j.state, reason: j.reason, at: j.at, detail: j.detail } : undefined;
    },
    openRecording: (r) => {
      const dir = recordingDirName(r.entryId, r.nominalStart);
      const { recording, resumed } = store.recordings.open({
        entryId: r.entryId,
        nominalStart: r.nominalStart,
        title: r.title,
        service: r.service,
        serviceId: r.serviceId,
        dir,
        plannedStart: r.plannedStart,
        plannedEnd: r.plannedEnd,
        ...(r.keep !== undefined ? { keep: r.keep } : {}),
        startedAt: new Date(opts.now()).toISOString(),
        clockTrusted: r.clockTrusted,
      });
      return { id: recording.id, dir: path.join(opts.recordingsDir, recording.dir), resumed };
    },
    setPlannedEnd: (id, end) => store.recordings.setPlannedEnd(id, end),
    finishRecording: (tx, id, r) => {
      store.recordings.finish(tx, id, r);
    },
    committed: opts.notify,
  };
}
