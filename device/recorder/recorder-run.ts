/**
 * The recorder's view of one ffmpeg run: the media-time origin estimate, the segment being written, the
 * programme's input streams (for continuity errors), holes, and the signals the watchdog reads (last
 * byte growth, a suspected PMT change). device/recorder/recorder.ts owns the runs; this file keeps the
 * bookkeeping of one.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../link/clock.js';
import { readProcessIdentity } from '../recovery/orphans.js';
import type { FfmpegRun, TimedProgress } from './ffmpeg-process.js';
import type { OpenSegment, RunTimeline } from './segment-closer.js';
import { segmentIndexOf } from './segments.js';
import type { RecorderSink } from './sink.js';

/**
 * Progress blocks (0.5 s apart) after which the origin estimate (min of wall − media time) has settled:
 * the first blocks come while ffmpeg is still catching up on what it buffered during the probe.
 */
const SETTLE_BLOCKS = 5;

export interface RecorderRunOptions {
  n: number;
  run: FfmpegRun;
  serviceId: number;
  /** Absolute recordings root (segment paths are reported relative to it). */
  root: string;
  listPath: string;
  /** Segments numbered below this are pre-roll lead pieces (0 = none). */
  leadBelow: number;
  clock: Clock;
  /** Input silence (no progress) longer than this, ending without a restart, is a hole. */
  holeMs: number;
  /** The run started muxing: wall time of the first data and the origin estimate then. */
  onFirstData(wall: number, origin: number): void;
  /** A segment closed because the next one opened. */
  onSegmentClosed(seg: OpenSegment): void;
  onProgress(p: TimedProgress): void;
}

export class RecorderRun implements RunTimeline {
  readonly n: number;
  readonly run: FfmpegRun;
  readonly listPath: string;
  readonly spawnedMono: number;
  origin: number | null = null;
  readonly settled: Promise<void>;
  settle: () => void = () => {};
  open: OpenSegment | null = null;
  /** Monotonic time the run last made progress: media time advanced, or the file grew (spawn time until then). */
  lastGrowthMono: number;
  gotData = false;
  /** Set when ffmpeg reported a new stream; confirmed as a PMT change if our bytes stop. */
  pmtSuspectMono: number | null = null;
  /** Journal handle of the process (sink). */
  handle: number | null = null;
  private validBlocks = 0;
  private lastBlockWall: number | null = null;
  private lastOutUs = 0;
  private programme: Set<number> | null = null;

  constructor(private readonly o: RecorderRunOptions) {
    this.n = o.n;
    this.run = o.run;
    this.listPath = o.listPath;
    this.spawnedMono = o.clock.monotonic();
    this.lastGrowthMono = this.spawnedMono;
    this.settled = new Promise((resolve) => {
      this.settle = resolve;
    });
    o.run.on('progress', (p) => this.onProgress(p));
    o.run.on('log', (e) => {
      if (e.type === 'segment_opened') this.onSegmentOpened(e.file);
      else if (e.type === 'programme' && e.programId === o.serviceId) {
        this.programme = new Set(e.streams.map((s) => s.index));
      } else if (e.type === 'corrupt_packet' && this.open) {
        if (!this.programme || this.programme.has(e.streamIndex)) this.open.ccErrors++;
      } else if (e.type === 'new_stream' && this.gotData && this.pmtSuspectMono === null) {
        this.pmtSuspectMono = o.clock.monotonic();
      }
    });
  }

  /**
   * Samples the open segment's size; file growth counts as progress too. Returns the segment when it grew.
   */
  async sampleGrowth(mono: number): Promise<OpenSegment | null> {
    const seg = this.open;
    if (!seg) return null;
    const size = await stat(seg.abs).then(
      (s) => s.size,
      () => seg.bytes,
    );
    if (size <= seg.bytes) return null;
    seg.bytes = size;
    this.lastGrowthMono = mono;
    return seg;
  }

  /**
   * The watchdog's verdict: `stall` when nothing was recorded for `stallMs`; `pmt_change` when ffmpeg
   * reported a new stream and ours have been silent for 1 s since (the last packets on the old PIDs may
   * land just after the warning); null otherwise. Growth going on 2 s after the warning means the new
   * stream belongs to another programme of the multiplex: the suspicion is dropped.
   */
  liveness(mono: number, stallMs: number): 'stall' | 'pmt_change' | null {
    if (mono - this.lastGrowthMono >= stallMs) return 'stall';
    if (this.pmtSuspectMono === null) return null;
    if (mono - Math.max(this.lastGrowthMono, this.pmtSuspectMono) >= 1_000) return 'pmt_change';
    if (this.lastGrowthMono - this.pmtSuspectMono >= 2_000) this.pmtSuspectMono = null;
    return null;
  }

  /** Journals the spawned process (PID, kernel start time, boot id, command line) before anything else. */
  journal(pid: number, sink: RecorderSink | undefined): void {
    const id = readProcessIdentity(pid);
    if (!sink || !id) return;
    this.handle = sink.processStarted({
      pid,
      startTicks: id.startTicks,
      bootId: id.bootId,
      cmdline: this.run.argv.join('\0'),
      startedAt: new Date(this.o.clock.now()).toISOString(),
    });
  }

  private onProgress(p: TimedProgress): void {
    if (p.outTimeUs !== null && p.outTimeUs > 0) {
      const candidate = p.wallMs - p.outTimeUs / 1000;
      this.origin = this.origin === null ? candidate : Math.min(this.origin, candidate);
      if (++this.validBlocks === SETTLE_BLOCKS) this.settle();
      if (!this.gotData) {
        this.gotData = true;
        this.o.onFirstData(p.wallMs, this.origin);
      }
    }
    // Blocks come every 0.5 s while packets flow. Media time that moves on after a longer silence (which
    // did not end the run) is an input pause inside the current segment. The final block of a run stopped
    // after a stall carries no new media and is not a resumption.
    const advanced = p.progress === 'continue' && p.outTimeUs !== null && p.outTimeUs > this.lastOutUs;
    if (advanced) {
      // Media time moving on = packets reach the muxer: the run is alive (the watchdog's signal).
      this.lastGrowthMono = this.o.clock.monotonic();
      if (this.lastBlockWall !== null && this.open && p.wallMs - this.lastBlockWall > this.o.holeMs) {
        this.open.holes.push({ from: this.lastBlockWall, to: p.wallMs - 500 });
      }
      this.lastOutUs = p.outTimeUs ?? 0;
      this.lastBlockWall = p.wallMs;
    }
    this.o.onProgress(p);
  }

  private onSegmentOpened(file: string): void {
    const index = segmentIndexOf(path.basename(file));
    if (index === null) return; // the csv list is opened the same way
    if (this.open) this.o.onSegmentClosed(this.open);
    this.open = {
      index,
      abs: file,
      rel: path.relative(this.o.root, file),
      openedWall: this.o.clock.now(),
      ccErrors: 0,
      holes: [],
      bytes: 0,
      announced: false,
      lead: index < this.o.leadBelow,
    };
  }
}
