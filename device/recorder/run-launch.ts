/**
 * The run bookkeeping of a recording (DESIGN.md §6 "Recorder"): how one ffmpeg run is built from the
 * request (its command line, segment numbering, pre-roll lead cuts), what is settled when a run exits
 * (the open segment closed and verified, the process journal ended), and how long to pause before the next
 * run. device/recorder/recorder.ts decides when runs start and stop; this file is what a run is.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { buildRecorderArgs, DEFAULT_UDP_OPTIONS, leadCuts } from './ffmpeg-args.js';
import { FfmpegRun, type RunExit, type TimedProgress } from './ffmpeg-process.js';
import { RecorderRun } from './recorder-run.js';
import type { RecorderDeps, RecordingRequest } from './recorder-types.js';
import type { OpenSegment, SegmentCloser } from './segment-closer.js';
import { SEGMENT_PATTERN } from './segments.js';

export interface LaunchRunInput {
  req: RecordingRequest;
  deps: RecorderDeps;
  logger: Logger;
  ffmpegPath: string;
  /** The run's number in this recording (1-based). */
  n: number;
  /** The first segment number this run writes. */
  startNumber: number;
  /** Only the first run of a fresh recording starts before the planned start (pre-roll lead cuts). */
  fresh: boolean;
  /** The planned end (epoch ms). */
  end: number;
  onFirstData(wall: number, origin: number): void;
  /** A segment closed because the next one opened (`run` is the run it belongs to). */
  onSegmentClosed(seg: OpenSegment, run: RecorderRun): void;
  onProgress(p: TimedProgress): void;
}

/** Builds the next ffmpeg run and its bookkeeping; the caller starts it (`run.start()`). */
export function launchRun(i: LaunchRunInput): RecorderRun {
  const { req, deps } = i;
  const { clock, timing } = deps;
  const absDir = path.resolve(req.root, req.dir);
  const now = clock.now();
  const leadCutsMs = i.fresh ? leadCuts(req.plannedStart - now) : [];
  const listPath = path.join(absDir, `.segments-${String(i.startNumber).padStart(5, '0')}.csv`);
  const args = buildRecorderArgs({
    url: req.url,
    serviceId: req.serviceId,
    segmentPattern: path.join(absDir, SEGMENT_PATTERN),
    segmentListPath: listPath,
    segmentMs: timing.recorderSegmentMs,
    startNumber: i.startNumber,
    // Cuts are listed a day past the end, so an extension keeps getting regular segments.
    ...(leadCutsMs.length > 0 ? { leadCutsMs, horizonMs: i.end - now + 86_400_000 } : {}),
    udp: { ...DEFAULT_UDP_OPTIONS, ...deps.udp, timeoutUs: timing.recorderStallMs * 1000 },
  });
  const ffmpeg = new FfmpegRun({
    spawn: deps.spawn,
    clock,
    logger: i.logger,
    ffmpegPath: i.ffmpegPath,
    args,
    stopGraceMs: timing.recorderStopGraceMs,
  });
  const run: RecorderRun = new RecorderRun({
    n: i.n,
    run: ffmpeg,
    serviceId: req.serviceId,
    root: req.root,
    listPath,
    leadBelow: i.startNumber + leadCutsMs.length,
    clock,
    holeMs: Math.max(2_000, timing.recorderStallMs / 2),
    onFirstData: i.onFirstData,
    onSegmentClosed: (seg) => i.onSegmentClosed(seg, run),
    onProgress: i.onProgress,
  });
  return run;
}

export interface RunEnd {
  /** Why a run that recorded nothing ended (no_data, input_timeout, spawn_failed, …); null when it did. */
  emptyFailure: string | null;
  /** The segment number after the one the run left open, or null when none was open. */
  nextIndex: number | null;
}

/**
 * Settles an exited run: its open segment is closed (and verified), the closer is retimed on the run's
 * settled origin, and the process journal entry is ended with the reason.
 */
export function endRun(
  run: RecorderRun,
  exit: RunExit,
  deps: { closer: SegmentCloser | null; sink: RecorderDeps['sink']; now: number },
): RunEnd {
  let emptyFailure: string | null = null;
  if (!run.gotData) {
    const silent = exit.requested === 'stall' ? 'input_timeout' : 'no_data';
    emptyFailure = exit.failure ?? (exit.spawnError ? 'spawn_failed' : silent);
  }
  let nextIndex: number | null = null;
  if (run.open) {
    nextIndex = run.open.index + 1;
    deps.closer?.close(run.open, run);
  }
  run.open = null;
  run.settle();
  deps.closer?.retime(run);
  const reason = exit.requested ?? exit.failure ?? `exit ${exit.code ?? exit.signal}`;
  if (run.handle !== null) deps.sink?.processEnded(run.handle, new Date(deps.now).toISOString(), reason);
  return { emptyFailure, nextIndex };
}

/**
 * The pause before the next run: none after a run that recorded something; after runs that recorded
 * nothing (bad URL, service missing) a growing pause up to the stall limit — never a hot loop.
 */
export function restartPauseMs(emptyRuns: number, stallMs: number): number {
  return emptyRuns === 0 ? 0 : Math.min(stallMs, 250 * 2 ** emptyRuns);
}
