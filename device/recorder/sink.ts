/**
 * Where a recorder reports what must survive a crash: the processes it spawned (for orphan recovery) and
 * its segments (for resume and finalisation, DESIGN.md §6). `catalogueSink` writes them to the station
 * store; a recorder without a sink (the bench) keeps them in memory only.
 */
import type { StationStore } from '../store/db.js';
import type { Segment } from '../store/recordings.js';
import type { SegmentRecord } from './segments.js';

export interface RecorderSink {
  /** A recorder process started; returns a handle for `processEnded` (null if it was not journalled). */
  processStarted(p: {
    pid: number;
    startTicks: number;
    bootId: string;
    cmdline: string;
    startedAt: string;
  }): number | null;
  processEnded(handle: number, at: string, reason: string): void;
  /** A segment file started receiving data. */
  segmentOpened(s: { file: string; start: string; gapBeforeMs: number }): void;
  /** A segment closed and was verified (or found damaged). */
  segmentClosed(s: SegmentRecord): void;
}

/** A sink writing to the station store for one recording of the catalogue. */
export function catalogueSink(
  store: Pick<StationStore, 'processes' | 'recordings'>,
  recording: { id: number; entryId: string; nominalStart: string },
): RecorderSink {
  return {
    processStarted(p) {
      return store.processes.register({
        ...p,
        recordingId: recording.id,
        entryId: recording.entryId,
        nominalStart: recording.nominalStart,
      }).id;
    },
    processEnded(handle, at, reason) {
      store.processes.markEnded(handle, at, reason);
    },
    segmentOpened(s) {
      store.recordings.addSegment(recording.id, s);
    },
    segmentClosed(s) {
      const row =
        store.recordings.segmentByFile(recording.id, s.file) ??
        store.recordings.addSegment(recording.id, {
          file: s.file,
          start: new Date(s.start).toISOString(),
          gapBeforeMs: s.gapBeforeMs,
        });
      store.recordings.updateSegment(row.id, {
        start: new Date(s.start).toISOString(),
        end: new Date(Math.max(s.end, s.start)).toISOString(),
        bytes: s.bytes,
        durationMs: s.durationMs,
        ccErrors: s.ccErrors,
        holes: s.holes,
        state: s.probe === null ? 'closed' : s.probe.ok ? 'verified' : 'damaged',
        probe: s.probe,
      });
    },
  };
}

/**
 * The segments of a catalogued recording as the recorder's records: what a resumed recorder continues
 * from, and what recovery finalises a recording from when its window closed while the agent was down.
 * A segment still `writing` (the agent died mid-segment) has no end yet: pass `probe` to measure it.
 */
export function segmentRecordsFromCatalogue(segments: readonly Segment[]): SegmentRecord[] {
  return segments.map((s) => {
    const index = Number(/seg-(\d+)\.ts$/.exec(s.file)?.[1] ?? 0);
    const start = Date.parse(s.start);
    const end = s.end ? Date.parse(s.end) : start + s.durationMs;
    const probe = s.probe as SegmentRecord['probe'];
    return {
      file: s.file,
      index,
      start,
      end,
      bytes: s.bytes,
      durationMs: s.durationMs,
      ccErrors: s.ccErrors,
      holes: s.holes,
      gapBeforeMs: s.gapBeforeMs,
      probe:
        s.state === 'damaged'
          ? (probe ?? { ok: false, durationMs: 0, programmeFound: false, streams: [] })
          : probe,
    };
  });
}
