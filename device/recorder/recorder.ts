/**
 * The recorder of one occurrence (DESIGN.md §6 "Recorder"): runs ffmpeg (device/recorder/ffmpeg-process.ts)
 * from the pre-roll until the planned end, in segments, and keeps it running:
 * - started during pre-roll (the executor calls `start` `recorderLeadMs` early) so the ~1.2 s ffmpeg needs
 *   to probe is not lost; reports the planned-start mark (the offset into the recording where the planned
 *   start falls) and the first-byte time;
 * - a stall watchdog: no progress (media time not advancing, file not growing) for `recorderStallMs` → the run is interrupted and a new one
 *   started at once (ffmpeg's own UDP `timeout=` ends a run on a dead input the same way); the time
 *   missing is a gap between segments;
 * - a PMT change (ffmpeg's "New … stream" warning followed by no growth: our PIDs moved) → a new run, so a
 *   new segment picks the new PIDs up by programme number;
 * - disk space checked before the start and during the recording (DiskGuard runs retention when short);
 * - every closed segment verified with ffprobe; at the end a summary with gaps, quality and outcome.
 * Timings come from the timing profile; spawn, clock and logger are passed in.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { RecorderError } from './errors.js';
import type { RunExit } from './ffmpeg-process.js';
import type { RecorderRun } from './recorder-run.js';
import {
  DEFAULT_BITRATE_BPS,
  type RecorderDeps,
  type RecorderEvents,
  type RecorderResult,
  type RecordingRequest,
} from './recorder-types.js';
import { endRun, launchRun, restartPauseMs } from './run-launch.js';
import { SegmentCloser } from './segment-closer.js';
import { nextSegmentIndex, type SegmentRecord, summarise } from './segments.js';

export type { RecorderDeps, RecorderEvents, RecorderResult, RecordingRequest } from './recorder-types.js';

/** A recorder is started in pre-roll, seconds ahead; more than this is a mistake (it would record it all). */
const MAX_PRE_ROLL_MS = 5 * 60_000;

export class Recorder extends EventEmitter<RecorderEvents> {
  private req: RecordingRequest | null = null;
  private end = 0;
  private stopping = false;
  private cancelled = false;
  private failure: string | undefined;
  private lastRunFailure: string | undefined;
  private current: RecorderRun | null = null;
  private runCount = 0;
  private nextIndex = 0;
  private firstByteAt: number | null = null;
  private segments: SegmentRecord[] = [];
  private closer: SegmentCloser | null = null;
  private cancelEnd: (() => void) | null = null;
  private cancelTick: (() => void) | null = null;
  private wake: (() => void) | null = null;
  private lastDiskCheckMono = 0;
  private resolveFinished!: (r: RecorderResult) => void;
  /** Resolves with the result when the recording is over (end reached, stopped, or failed). */
  readonly finished: Promise<RecorderResult>;
  private readonly log: Logger;

  constructor(private readonly deps: RecorderDeps) {
    super();
    this.log = deps.logger;
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  /**
   * Starts recording now. Resolves once the first ffmpeg run is up (and journalled). Rejects with
   * RecorderError: BAD_REQUEST, DISK_FULL / READ_ONLY (space check failed even after retention),
   * SPAWN_FAILED, STATE (already started).
   */
  async start(req: RecordingRequest): Promise<void> {
    if (this.req || this.cancelled) throw new RecorderError('STATE', 'recorder already started or stopped');
    const now = this.deps.clock.now();
    if (!(req.end > now)) throw new RecorderError('BAD_REQUEST', 'the recording window is already over');
    if (req.plannedStart - now > MAX_PRE_ROLL_MS) {
      throw new RecorderError(
        'BAD_REQUEST',
        `start at most ${MAX_PRE_ROLL_MS / 1000} s before the planned start`,
      );
    }
    if (!path.isAbsolute(req.root))
      throw new RecorderError('BAD_REQUEST', 'recordings root must be absolute');
    const abs = path.resolve(req.root, req.dir);
    if (!abs.startsWith(path.resolve(req.root) + path.sep)) {
      throw new RecorderError('BAD_REQUEST', `recording dir ${req.dir} escapes the recordings root`);
    }
    this.req = req;
    this.end = req.end;
    this.segments = [...(req.previous ?? [])];
    this.closer = new SegmentCloser(
      {
        spawn: this.deps.spawn,
        ...(this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {}),
        serviceId: req.serviceId,
        plannedStart: req.plannedStart,
        ...(this.deps.sink ? { sink: this.deps.sink } : {}),
        logger: this.log,
        onSegment: (r) => this.emit('segment', r),
      },
      this.segments,
    );
    try {
      await this.prepare(abs, req);
      const first = this.spawnRun();
      if (!(await first.run.spawned)) {
        const exit = await first.run.exited;
        throw new RecorderError(
          'SPAWN_FAILED',
          `cannot start ${this.ffmpegPath}: ${exit.spawnError ?? 'unknown'}`,
        );
      }
      this.scheduleEnd();
      this.scheduleTick();
      void this.loop(first);
    } catch (err) {
      // `finished` still resolves (failed, with the reason), so whoever awaits it is never left hanging.
      this.stopping = true;
      this.failure = err instanceof RecorderError ? err.code.toLowerCase() : 'error';
      this.finish();
      throw err;
    }
  }

  /** Directory, space (retention if short) and the next segment number. */
  private async prepare(abs: string, req: RecordingRequest): Promise<void> {
    try {
      await mkdir(abs, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === 'EROFS' ? 'READ_ONLY' : 'BAD_REQUEST';
      throw new RecorderError(code, `cannot create ${abs}: ${String(err)}`);
    }
    if (this.deps.space) {
      const verdict = await this.deps.space.ensureSpace(
        this.bytesAhead(req.estimatedBitrateBps ?? DEFAULT_BITRATE_BPS),
      );
      if (!verdict.ok) {
        this.emit('disk', verdict);
        throw new RecorderError(verdict.reason === 'read_only' ? 'READ_ONLY' : 'DISK_FULL', verdict.message);
      }
    }
    this.nextIndex = Math.max(await nextSegmentIndex(abs), ...this.segments.map((s) => s.index + 1));
  }

  /** Moves the planned end (an edit extending or ending early: one continuous recording, DESIGN.md §5). */
  extend(newEnd: number): void {
    if (!this.req || this.stopping) throw new RecorderError('STATE', 'recorder is not running');
    this.end = newEnd;
    this.scheduleEnd();
  }

  /**
   * Ends the recording now (the window ends now: pre-emption, cancellation, shutdown) and resolves with
   * the result. Stopping a recorder that was not started yet cancels it: a later `start` is refused and the
   * result is an empty `failed` one.
   */
  stop(): Promise<RecorderResult> {
    if (!this.req) {
      this.cancelled = true;
      const now = this.deps.clock.now();
      const empty = summarise({
        window: { from: now, to: now },
        segments: [],
        clockTrusted: true,
        failure: 'stopped',
      });
      this.resolveFinished({ ...empty, plannedStartMarkMs: null, firstByteAt: null, runs: 0 });
      return this.finished;
    }
    if (!this.stopping) {
      this.end = Math.min(this.end, this.deps.clock.now());
      this.requestStop('stop');
    }
    return this.finished;
  }

  /** A snapshot for telemetry and status RPCs. */
  status(): {
    running: boolean;
    run: number;
    pid: number | undefined;
    bytes: number;
    segments: number;
    end: number;
  } {
    return {
      running: this.req !== null && !this.stopping,
      run: this.runCount,
      pid: this.current?.run.pid,
      bytes: this.totalBytes(),
      segments: this.segments.length + (this.current?.open ? 1 : 0),
      end: this.end,
    };
  }

  private get ffmpegPath(): string {
    return this.deps.ffmpegPath ?? 'ffmpeg';
  }

  private totalBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0) + (this.current?.open?.bytes ?? 0);
  }

  /** Bytes the next stretch of recording needs: one segment plus a check period, at the given rate. */
  private bytesAhead(bitrateBps: number): number {
    const ms = this.deps.timing.recorderSegmentMs + this.diskCheckMs();
    return Math.ceil((bitrateBps / 8) * (ms / 1000));
  }

  private diskCheckMs(): number {
    return Math.max(2_000, this.deps.timing.recorderStallMs);
  }

  private requestStop(cause: 'end' | 'stop' | 'disk'): void {
    this.stopping = true;
    this.cancelEnd?.();
    this.wake?.();
    void this.current?.run.stop(cause, 'graceful');
  }

  private scheduleEnd(): void {
    this.cancelEnd?.();
    const delay = Math.max(0, this.end - this.deps.clock.now());
    this.cancelEnd = this.deps.clock.schedule(delay, () => this.requestStop('end'));
  }

  private spawnRun(): RecorderRun {
    const req = this.req!;
    const n = ++this.runCount;
    const state = launchRun({
      req,
      deps: this.deps,
      logger: this.log,
      ffmpegPath: this.ffmpegPath,
      n,
      startNumber: this.nextIndex,
      fresh: n === 1 && this.segments.length === 0,
      end: this.end,
      onFirstData: (wall, origin) => this.onFirstByte(wall, origin),
      onSegmentClosed: (seg, run) => {
        this.nextIndex = Math.max(this.nextIndex, seg.index + 1);
        this.closer?.close(seg, run);
      },
      onProgress: (p) =>
        this.emit('progress', {
          bytes: this.totalBytes(),
          mediaMs: (p.outTimeUs ?? 0) / 1000,
          speed: p.speed,
        }),
    });
    this.current = state;
    const pid = state.run.start();
    if (pid !== undefined) {
      state.journal(pid, this.deps.sink);
      this.emit('spawned', { run: n, pid, argv: state.run.argv });
      this.log.info({ run: n, pid, startNumber: this.nextIndex }, 'recorder run started');
    }
    return state;
  }

  private onFirstByte(at: number, origin: number): void {
    if (this.firstByteAt !== null) return;
    this.firstByteAt = at;
    const lateByMs = Math.max(0, Math.round(origin - this.req!.plannedStart));
    this.emit('first_byte', { at, lateByMs });
    this.log.info({ firstByteAt: new Date(at).toISOString(), lateByMs }, 'first byte recorded');
  }

  private scheduleTick(): void {
    const tickMs = Math.min(500, Math.max(100, this.deps.timing.recorderStallMs / 4));
    this.cancelTick = this.deps.clock.schedule(tickMs, () => {
      void this.tick().finally(() => {
        if (!this.stopping || this.current?.run.running) this.scheduleTick();
      });
    });
  }

  /** Watchdog: byte growth on disk, PMT-change confirmation, periodic space check. */
  private async tick(): Promise<void> {
    const state = this.current;
    if (!state?.run.running) return;
    const mono = this.deps.clock.monotonic();
    const seg = await state.sampleGrowth(mono);
    if (seg && !seg.announced && !seg.lead) {
      seg.announced = true;
      this.nextIndex = Math.max(this.nextIndex, seg.index + 1);
      const prev = this.segments[this.segments.length - 1];
      this.deps.sink?.segmentOpened({
        file: seg.rel,
        start: new Date(seg.openedWall).toISOString(),
        gapBeforeMs: prev ? Math.max(0, this.deps.clock.now() - prev.end) : 0,
      });
    }
    if (this.stopping) return;
    const verdict = state.liveness(mono, this.deps.timing.recorderStallMs);
    if (verdict === 'stall') {
      const silentMs = mono - state.lastGrowthMono;
      this.log.warn({ run: state.n, silentMs }, 'recorder stalled: nothing recorded; restarting');
      this.emit('stall', { run: state.n, silentMs });
      void state.run.stop('stall', 'interrupt');
    } else if (verdict === 'pmt_change') {
      this.log.warn({ run: state.n }, 'PMT changed (new streams, ours silent): new segment');
      this.emit('pmt_change', { run: state.n });
      void state.run.stop('pmt_change', 'graceful');
    } else if (this.deps.space && mono - this.lastDiskCheckMono >= this.diskCheckMs()) {
      this.lastDiskCheckMono = mono;
      const elapsedS = Math.max(1, (mono - state.spawnedMono) / 1000);
      const bitrate = state.gotData
        ? (this.totalBytes() * 8) / elapsedS
        : (this.req?.estimatedBitrateBps ?? DEFAULT_BITRATE_BPS);
      const space = await this.deps.space.ensureSpace(this.bytesAhead(bitrate));
      if (!space.ok && !this.stopping) {
        this.emit('disk', space);
        this.failure = space.reason;
        this.log.error({ reason: space.reason }, 'stopping recording: no disk space');
        this.requestStop('disk');
      }
    }
  }

  private async loop(first: RecorderRun): Promise<void> {
    let state: RecorderRun | null = first;
    let emptyRuns = 0;
    while (state) {
      const exit = await state.run.exited;
      this.onRunExit(state, exit);
      if (this.stopping || this.deps.clock.now() >= this.end - 250) break;
      if (exit.failure === 'disk_full' || exit.failure === 'read_only') {
        this.failure = exit.failure;
        break;
      }
      const cause = exit.requested ?? exit.failure ?? (exit.spawnError ? 'spawn_failed' : 'input_ended');
      this.emit('restart', { run: state.n, cause, exit });
      this.log.warn(
        { run: state.n, cause, code: exit.code, lastError: exit.lastError },
        'recorder run ended early',
      );
      emptyRuns = state.gotData ? 0 : emptyRuns + 1;
      const pause = restartPauseMs(emptyRuns, this.deps.timing.recorderStallMs);
      if (pause > 0) await this.sleep(pause);
      if (this.stopping || this.deps.clock.now() >= this.end - 250) break;
      state = this.spawnRun();
    }
    this.stopping = true;
    this.cancelEnd?.();
    this.cancelTick?.();
    await this.closer?.drain();
    this.finish();
  }

  private onRunExit(state: RecorderRun, exit: RunExit): void {
    const ended = endRun(state, exit, {
      closer: this.closer,
      sink: this.deps.sink,
      now: this.deps.clock.now(),
    });
    if (ended.emptyFailure !== null) this.lastRunFailure = ended.emptyFailure;
    if (ended.nextIndex !== null) this.nextIndex = Math.max(this.nextIndex, ended.nextIndex);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.schedule(ms, () => {
        this.wake = null;
        resolve();
      });
      this.wake = () => {
        cancel();
        this.wake = null;
        resolve();
      };
    });
  }

  private finish(): void {
    const req = this.req!;
    const hasData = this.segments.some((s) => s.bytes > 0);
    const failure = this.failure ?? (hasData ? undefined : this.lastRunFailure);
    const summary = summarise({
      window: { from: req.plannedStart, to: this.end },
      segments: this.segments,
      clockTrusted: req.clockTrusted ? req.clockTrusted() : true,
      ...(failure ? { failure } : {}),
    });
    const first = summary.segments[0];
    const result: RecorderResult = {
      ...summary,
      plannedStartMarkMs: first ? Math.max(0, req.plannedStart - first.start) : null,
      firstByteAt: this.firstByteAt,
      runs: this.runCount,
    };
    const { outcome, reason, bytes, gapsMs, quality } = result;
    this.log.info({ outcome, reason, bytes, gapsMs, quality }, 'recording finished');
    this.emit('finished', result);
    this.resolveFinished(result);
  }
}
