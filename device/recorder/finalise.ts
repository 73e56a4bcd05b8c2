/**
 * Crash and power-cut recovery of recordings (DESIGN.md §6): after orphaned recorders are stopped
 * (device/recovery/orphans.ts), the catalogue is reconciled with the files — segments left `writing` are
 * measured and verified, segment files the catalogue never heard of are adopted — and then either
 * - the occurrence is still in its window: a new Recorder resumes it with `previous` = these segments
 *   (a new segment; the time between is reported as a gap), or
 * - its window closed: `finaliseRecording` summarises it from what exists, and the executor commits the
 *   outcome and the `recording.manifest` event in one transaction.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { StationStore } from '../store/db.js';
import { probeSegment } from './probe.js';
import { type RecordingSummary, type SegmentRecord, segmentIndexOf, summarise } from './segments.js';
import { catalogueSink, segmentRecordsFromCatalogue } from './sink.js';
import type { SpawnFn } from './spawn.js';

export interface ReconcileOptions {
  store: Pick<StationStore, 'recordings' | 'processes'>;
  recordingId: number;
  /** Absolute recordings root. */
  root: string;
  spawn: SpawnFn;
  ffprobePath?: string;
}

/**
 * Brings the catalogue's segments of a recording in line with the files on disk and returns them as
 * segment records, in order. Segments whose file is gone are reported with 0 bytes and a failed probe.
 */
export async function reconcileSegments(o: ReconcileOptions): Promise<SegmentRecord[]> {
  const rec = o.store.recordings.get(o.recordingId);
  if (!rec) return [];
  const sink = catalogueSink(o.store, rec);
  const absDir = path.resolve(o.root, rec.dir);
  const known = new Set(o.store.recordings.segments(rec.id).map((s) => s.file));
  // Files written but never catalogued (the agent died within a segment's first moments).
  for (const name of await readdir(absDir).catch(() => [] as string[])) {
    const file = path.join(rec.dir, name);
    if (segmentIndexOf(name) === null || known.has(file)) continue;
    const st = await stat(path.join(absDir, name)).catch(() => null);
    if (!st || st.size === 0) continue;
    o.store.recordings.addSegment(rec.id, { file, start: new Date(st.mtimeMs).toISOString() });
  }
  const records = segmentRecordsFromCatalogue(o.store.recordings.segments(rec.id));
  for (const r of records) {
    if (r.probe !== null) continue; // closed and verified (or found damaged) while the agent ran
    const abs = path.resolve(o.root, r.file);
    const st = await stat(abs).catch(() => null);
    const probe =
      st && st.size > 0
        ? await probeSegment(abs, {
            spawn: o.spawn,
            serviceId: rec.serviceId,
            ...(o.ffprobePath ? { ffprobePath: o.ffprobePath } : {}),
          })
        : { ok: false, durationMs: 0, programmeFound: false, streams: [], error: 'file missing or empty' };
    r.bytes = st?.size ?? 0;
    r.durationMs = probe.durationMs;
    // An adopted file's catalogued start is its mtime, i.e. its end: place it before that by its duration.
    if (!known.has(r.file) && st) r.start = Math.round(st.mtimeMs - probe.durationMs);
    r.end = r.start + probe.durationMs;
    r.probe = probe;
    sink.segmentClosed(r);
  }
  records.sort((a, b) => a.start - b.start || a.index - b.index);
  let prev: SegmentRecord | undefined;
  for (const r of records) {
    r.gapBeforeMs = prev ? Math.max(0, r.start - prev.end) : 0;
    prev = r;
  }
  return records;
}

/** The summary of a recording whose window closed while the agent was down (reconciled first). */
export async function finaliseRecording(
  o: ReconcileOptions & { clockTrusted: boolean; failure?: string },
): Promise<RecordingSummary | null> {
  const rec = o.store.recordings.get(o.recordingId);
  if (!rec) return null;
  const segments = await reconcileSegments(o);
  return summarise({
    window: { from: Date.parse(rec.plannedStart), to: Date.parse(rec.plannedEnd) },
    segments,
    clockTrusted: o.clockTrusted,
    ...(o.failure ? { failure: o.failure } : {}),
  });
}
