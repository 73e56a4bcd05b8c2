/**
 * Closing the segments of a recording, one at a time in order: measure the file, read its media times
 * from ffmpeg's csv segment list, verify it with ffprobe, place it on the wall clock, and report it to the
 * sink (catalogue). A zero-byte file is removed; a pre-roll lead segment that holds nothing after the
 * planned start is removed too (the recording proper starts at the planned start, DESIGN.md §6).
 */
import { readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { probeSegment } from './probe.js';
import type { Interval } from './quality.js';
import { parseSegmentList, type SegmentListRow, type SegmentRecord } from './segments.js';
import type { RecorderSink } from './sink.js';
import type { SpawnFn } from './spawn.js';

/** A segment ffmpeg is writing. */
export interface OpenSegment {
  index: number;
  /** Absolute path. */
  abs: string;
  /** Path relative to the recordings root (what the catalogue and the manifest carry). */
  rel: string;
  openedWall: number;
  ccErrors: number;
  holes: Interval[];
  /** Size last seen by the watchdog. */
  bytes: number;
  /** Reported to the sink as opened (once it had data). */
  announced: boolean;
  /** The pre-roll lead piece (dropped at close if it ends by the planned start). */
  lead: boolean;
}

/** What the closer needs to know about the run that wrote a segment. */
export interface RunTimeline {
  /** Run number within the recording. */
  n: number;
  /** Path of the run's csv segment list. */
  listPath: string;
  /**
   * Estimated wall time of media time 0 of the run (null if it never muxed anything). The estimate
   * improves over the first seconds, while ffmpeg catches up on what it buffered during its probe.
   */
  origin: number | null;
  /** Resolves once the origin estimate has settled (or the run ended). */
  settled: Promise<void>;
}

export interface SegmentCloserDeps {
  spawn: SpawnFn;
  ffprobePath?: string;
  serviceId: number;
  /** Planned start (ms since the epoch): a lead segment ending before it (+ tolerance) is dropped. */
  plannedStart: number;
  sink?: RecorderSink;
  logger: Logger;
  onSegment(record: SegmentRecord): void;
}

export class SegmentCloser {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: SegmentCloserDeps,
    /** Closed segments so far, in order (the recorder's list; previous segments of a resume first). */
    readonly segments: SegmentRecord[],
  ) {}

  /** Queues `seg` for closing after the ones before it. */
  close(seg: OpenSegment, run: RunTimeline): void {
    this.queue = this.queue
      .then(() => this.closeOne(seg, run))
      .catch((err: unknown) => this.deps.logger.error({ err, file: seg.abs }, 'closing segment failed'));
  }

  /** Resolves when every queued segment is closed. */
  drain(): Promise<void> {
    return this.queue;
  }

  /**
   * Re-derives the wall times of `run`'s segments from its final origin estimate (queued after the
   * closes), and re-reports segments whose times moved.
   */
  retime(run: RunTimeline): void {
    this.queue = this.queue.then(() => {
      const origin = run.origin;
      if (origin === null) return;
      let prev: SegmentRecord | undefined;
      for (const r of this.segments) {
        if (r.media && r.media.run === run.n) {
          const start = Math.round(origin + r.media.startS * 1000);
          const end = Math.round(origin + r.media.endS * 1000);
          const gapBeforeMs = prev ? Math.max(0, start - prev.end) : 0;
          if (start !== r.start || end !== r.end || gapBeforeMs !== r.gapBeforeMs) {
            Object.assign(r, { start, end, gapBeforeMs });
            this.deps.sink?.segmentClosed(r);
          }
        }
        prev = r;
      }
    });
  }

  private async closeOne(seg: OpenSegment, run: RunTimeline): Promise<void> {
    // Lead decisions and wall times need a settled origin estimate (a few progress blocks into the run).
    await run.settled;
    const bytes = await stat(seg.abs).then(
      (s) => s.size,
      () => 0,
    );
    if (bytes === 0) {
      await unlink(seg.abs).catch(() => {});
      return;
    }
    const rows = parseSegmentList(await readFile(run.listPath, 'utf8').catch(() => ''));
    const row = rows.find((r) => path.basename(r.file) === path.basename(seg.abs));
    // The lead piece ends by the planned start: it holds nothing of the programme. (If the keyframe after
    // the lead cut came after the planned start, it holds the programme's beginning and is kept whole: a
    // stream copy can only start at a keyframe, and an early start beats a lost one.)
    if (seg.lead && row && (run.origin ?? seg.openedWall) + row.endS * 1000 <= this.deps.plannedStart) {
      await unlink(seg.abs).catch(() => {});
      return;
    }
    await this.record(seg, run, bytes, row);
  }

  private async record(seg: OpenSegment, run: RunTimeline, bytes: number, row: SegmentListRow | undefined) {
    const origin = run.origin ?? seg.openedWall;
    const probe = await probeSegment(seg.abs, {
      spawn: this.deps.spawn,
      serviceId: this.deps.serviceId,
      ...(this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {}),
    });
    const prev = this.segments[this.segments.length - 1];
    const start = row ? origin + row.startS * 1000 : Math.max(prev?.end ?? 0, seg.openedWall);
    const durationMs = probe.ok ? probe.durationMs : row ? Math.round((row.endS - row.startS) * 1000) : 0;
    const end = row ? origin + row.endS * 1000 : start + durationMs;
    const record: SegmentRecord = {
      file: seg.rel,
      index: seg.index,
      start: Math.round(start),
      end: Math.round(end),
      bytes,
      durationMs,
      ccErrors: seg.ccErrors,
      holes: seg.holes,
      gapBeforeMs: prev ? Math.max(0, Math.round(start - prev.end)) : 0,
      probe,
      media: row ? { run: run.n, startS: row.startS, endS: row.endS } : null,
    };
    this.segments.push(record);
    this.deps.sink?.segmentClosed(record);
    if (!probe.ok)
      this.deps.logger.warn({ file: seg.rel, error: probe.error }, 'segment failed verification');
    this.deps.onSegment(record);
  }
}
