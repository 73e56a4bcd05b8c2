/**
 * The recorder of one occurrence (DESIGN.md §6 "Recorder"): runs ffmpeg (device/recorder/ffmpeg-process.ts)
 * from the pre-roll until the planned end, in segments, and keeps it running:
 * - started during pre-roll (the executor calls `start` `recorderLeadMs` early) so the ~1.2 s ffmpeg needs
 *   to probe is not lost; reports the planned-start mark (the offset into the recording where the planned
 *   start falls) and the first-byte time;
 * - a stall watchdog: no byte growth on disk for `recorderStallMs` → the run is interrupted and a new one
 *   started at once (ffmpeg's own UDP `timeout=` ends a run on a dead input the same way); the time
 *   missing is a gap between segments;
 * - a PMT change (ffmpeg's "New … stream" warning followed by no growth: our PIDs moved) → a new run, so a
 *   new segment picks the new PIDs up by programme number;
 * - disk space checked before the start and during the recording (DiskGuard runs retention when short);
 * - every closed segment verified with ffprobe; at the end a summary with gaps, quality and outcome.
 * Timings come from the timing profile; spawn, clock and logger are passed in.
 */
import { EventEmitter } from 'node:events';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import { readProcessIdentity } from '../recovery/orphans.js';
import type { SpaceGuard, SpaceVerdict } from './disk.js';
import { RecorderError } from './errors.js';
import {
  buildRecorderArgs,
  DEFAULT_UDP_OPTIONS,
  LEAD_STEP_MS,
  leadCutCount,
  type UdpInputOptions,
} from './ffmpeg-args.js';
import { FfmpegRun, type RunExit, type TimedProgress } from './ffmpeg-process.js';
import { type OpenSegment, SegmentCloser } from './segment-closer.js';
import {
  nextSegmentIndex,
  type RecordingSummary,
  SEGMENT_PATTERN,
  type SegmentRecord,
  segmentIndexOf,
  summarise,
} from './segments.js';
import type { RecorderSink } from './sink.js';
import type { SpawnFn } from './spawn.js';

export interface RecorderDeps {
  spawn: SpawnFn;
  clock: Clock;
  logger: Logger;
  timing: Pick<TimingProfile, 'recorderStallMs' | 'recorderSegmentMs' | 'recorderStopGraceMs'>;
  ffmpegPath?: string;
  ffprobePath?: string;
  sink?: RecorderSink;
  space?: SpaceGuard;
  udp?: Partial<Omit<UdpInputOptions, 'timeoutUs'>>;
}

export interface RecordingRequest {
  /** The receiver's MPEG-TS output URL. */
  url: string;
  /** DVB service id (programme number). */
  serviceId: number;
  /** Absolute recordings root. */
  root: string;
  /** This recording's directory, relative to `root`. */
  dir: string;
  /** Planned start and end, ms since the epoch (the window the recording must cover). */
  plannedStart: number;
  end: number;
  /** Segments recorded before a crash (resume): kept in the summary, new ones continue the numbering. */
  previous?: readonly SegmentRecord[];
  /** Whether the station clock is trusted; asked when the recording finishes. */
  clockTrusted?: () => boolean;
  /** Bitrate assumed before one is measured, for the space check (default 8 Mbit/s, DESIGN.md §3). */
  estimatedBitrateBps?: number;
}

export interface RecorderResult extends RecordingSummary {
  /** ms into the recording at which the planned start falls; 0 when recording started late, null if nothing. */
  plannedStartMarkMs: number | null;
  /** Wall time the first recorded byte reached disk (this recorder's first run with data). */
  firstByteAt: number | null;
  /** ffmpeg runs this recorder made (1 = no restart). */
  runs: number;
}

export interface RecorderEvents {
  spawned: [{ run: number; pid: number; argv: readonly string[] }];
  /** The first byte reached disk; `lateByMs` > 0 when the stream began after the planned start. */
  first_byte: [{ at: number; lateByMs: number }];
  progress: [{ bytes: number; mediaMs: number; speed: number | null }];
  stall: [{ run: number; silentMs: number }];
  pmt_change: [{ run: number }];
  restart: [{ run: number; cause: string; exit: RunExit }];
  segment: [SegmentRecord];
  disk: [SpaceVerdict];
  finished: [RecorderResult];
}

interface RunState {
  n: number;
  run: FfmpegRun;
  startNumber: number;
  /** Segments numbered below this are pre-roll lead pieces (first run only). */
  leadBelow: number;
  listPath: string;
  spawnedMono: number;
  origin: number | null;
  /** Progress blocks with media time so far; the origin estimate is settled after SETTLE_BLOCKS. */
  validBlocks: number;
  settled: Promise<void>;
  settle: () => void;
  lastBlockWall: number | null;
  lastOutUs: number;
  programme: Set<number> | null;
  open: OpenSegment | null;
  lastGrowthMono: number;
  gotData: boolean;
  pmtSuspectMono: number | null;
  handle: number | null;
}

const DEFAULT_BITRATE_BPS = 8_000_000;
/**
 * Progress blocks (0.5 s apart) after which a run's origin estimate (min of wall − media time) has settled:
 * the first blocks come while ffmpeg is still catching up on what it buffered during the probe.
 */
const SETTLE_BLOCKS = 5;


export class Recorder extends EventEmitter<RecorderEvents> {
  private req: RecordingRequest | null = null;
  private end = 0;
  private stopping = false;
  private failure: string | undefined;
  private lastRunFailure: string | undefined;
  private current: RunState | null = null;
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
    if (this.req) throw new RecorderError('STATE', 'recorder already started');
    const now = this.deps.clock.now();
    if (!(req.end > now)) throw new RecorderError('BAD_REQUEST', 'the recording window is already over');
    if (!path.isAbsolute(req.root)) throw new RecorderError('BAD_REQUEST', 'recordings root must be absolute');
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
        ffmpegPath: this.ffmpegPath,
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
      await mkdir(abs, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RecorderError(code === 'EROFS' ? 'READ_ONLY' : 'BAD_REQUEST', `cannot create ${abs}: ${String(err)}`);
    }
    if (this.deps.space) {
      const verdict = await this.deps.space.ensureSpace(this.bytesAhead(req.estimatedBitrateBps ?? DEFAULT_BITRATE_BPS));
      if (!verdict.ok) {
        this.emit('disk', verdict);
        throw new RecorderError(verdict.reason === 'read_only' ? 'READ_ONLY' : 'DISK_FULL', verdict.message);
      }
    }
    this.nextIndex = Math.max(await nextSegmentIndex(abs), ...this.segments.map((s) => s.index + 1));
    const first = this.spawnRun();
    if (!(await first.run.spawned)) {
      const exit = await first.run.exited;
      this.stopping = true;
      throw new RecorderError('SPAWN_FAILED', `cannot start ${this.ffmpegPath}: ${exit.spawnError ?? 'unknown'}`);
    }
    this.scheduleEnd();
    this.scheduleTick();
    void this.loop(first);
  }

  /** Moves the planned end (an edit extending or ending early: one continuous recording, DESIGN.md §5). */
  extend(newEnd: number): void {
    if (!this.req || this.stopping) throw new RecorderError('STATE', 'recorder is not running');
    this.end = newEnd;
    this.scheduleEnd();
  }

  /** Ends the recording now (the window ends now: pre-emption, cancellation, shutdown). */
  stop(): Promise<RecorderResult> {
    if (this.req && !this.stopping) {
      this.end = Math.min(this.end, this.deps.clock.now());
      this.requestStop('stop');
    }
    return this.finished;
  }

  /** A snapshot for telemetry and `disk.usage`/status RPCs. */
  status(): { running: boolean; run: number; pid: number | undefined; bytes: number; segments: number; end: number } {
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

  private spawnRun(): RunState {
    const req = this.req!;
    const absDir = path.resolve(req.root, req.dir);
    const n = ++this.runCount;
    const now = this.deps.clock.now();
    const leadMs = req.plannedStart - now;
    const hasLead = n === 1 && this.segments.length === 0 && leadMs >= LEAD_STEP_MS;
    const listPath = path.join(absDir, `.segments-${String(this.nextIndex).padStart(5, '0')}.csv`);
    const args = buildRecorderArgs({
      url: req.url,
      serviceId: req.serviceId,
      segmentPattern: path.join(absDir, SEGMENT_PATTERN),
      segmentListPath: listPath,
      segmentMs: this.deps.timing.recorderSegmentMs,
      startNumber: this.nextIndex,
      ...(hasLead ? { leadMs, horizonMs: this.end - now + 3_600_000 } : {}),
      udp: { ...DEFAULT_UDP_OPTIONS, ...this.deps.udp, timeoutUs: this.deps.timing.recorderStallMs * 1000 },
    });
    const run = new FfmpegRun({
      spawn: this.deps.spawn,
      clock: this.deps.clock,
      logger: this.log,
      ffmpegPath: this.ffmpegPath,
      args,
      stopGraceMs: this.deps.timing.recorderStopGraceMs,
    });
    let settle = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const state: RunState = {
      n,
      validBlocks: 0,
      settled,
      settle,
      run,
      startNumber: this.nextIndex,
      // Cuts c1..cN make pieces start..start+N-1 before the last lead cut; piece start+N is regular.
      leadBelow: hasLead ? this.nextIndex + leadCutCount(leadMs) : 0,
      listPath,
      spawnedMono: this.deps.clock.monotonic(),
      origin: null,
      lastBlockWall: null,
      lastOutUs: 0,
      programme: null,
      open: null,
      lastGrowthMono: this.deps.clock.monotonic(),
      gotData: false,
      pmtSuspectMono: null,
      handle: null,
    };
    run.on('progress', (p) => this.onProgress(state, p));
    run.on('log', (e) => {
      if (e.type === 'segment_opened') this.onSegmentOpened(state, e.file);
      else if (e.type === 'programme' && e.programId === req.serviceId) {
        state.programme = new Set(e.streams.map((s) => s.index));
      } else if (e.type === 'corrupt_packet' && state.open) {
        if (!state.programme || state.programme.has(e.streamIndex)) state.open.ccErrors++;
      } else if (e.type === 'new_stream' && state.gotData && state.pmtSuspectMono === null) {
        state.pmtSuspectMono = this.deps.clock.monotonic();
      }
    });
    this.current = state;
    const pid = run.start();
    if (pid !== undefined) {
      this.journal(state, pid, run.argv);
      this.emit('spawned', { run: n, pid, argv: run.argv });
      this.log.info({ run: n, pid, startNumber: this.nextIndex }, 'recorder run started');
    }
    return state;
  }

  private journal(state: RunState, pid: number, argv: readonly string[]): void {
    const id = readProcessIdentity(pid);
    if (!this.deps.sink || !id) return;
    state.handle = this.deps.sink.processStarted({
      pid,
      startTicks: id.startTicks,
      bootId: id.bootId,
      cmdline: argv.join('\0'),
      startedAt: new Date(this.deps.clock.now()).toISOString(),
    });
  }

  private onProgress(state: RunState, p: TimedProgress): void {
    if (p.outTimeUs !== null && p.outTimeUs > 0) {
      const candidate = p.wallMs - p.outTimeUs / 1000;
      state.origin = state.origin === null ? candidate : Math.min(state.origin, candidate);
      if (++state.validBlocks === SETTLE_BLOCKS) state.settle();
      if (!state.gotData) {
        state.gotData = true;
        if (this.firstByteAt === null) this.onFirstByte(p.wallMs, state.origin);
      }
    }
    // Progress blocks come every 0.5 s while packets flow. Media time that moves on after a longer silence
    // (which did not end the run) is an input pause inside the current segment. The final block of a run
    // stopped after a stall carries no new media and is not a resumption.
    const holeMs = Math.max(2_000, this.deps.timing.recorderStallMs / 2);
    const advanced = p.progress === 'continue' && p.outTimeUs !== null && p.outTimeUs > state.lastOutUs;
    if (advanced && state.lastBlockWall !== null && state.open && p.wallMs - state.lastBlockWall > holeMs) {
      state.open.holes.push({ from: state.lastBlockWall, to: p.wallMs - 500 });
    }
    if (advanced) {
      state.lastOutUs = p.outTimeUs ?? 0;
      state.lastBlockWall = p.wallMs;
    }
    this.emit('progress', { bytes: this.totalBytes(), mediaMs: (p.outTimeUs ?? 0) / 1000, speed: p.speed });
  }

  private onFirstByte(at: number, origin: number): void {
    this.firstByteAt = at;
    const lateByMs = Math.max(0, Math.round(origin - this.req!.plannedStart));
    this.emit('first_byte', { at, lateByMs });
    this.log.info({ firstByteAt: new Date(at).toISOString(), lateByMs }, 'first byte recorded');
  }

  private onSegmentOpened(state: RunState, file: string): void {
    const index = segmentIndexOf(path.basename(file));
    if (index === null) return; // the csv list is opened the same way
    if (state.open) this.closer?.close(state.open, state);
    const req = this.req!;
    state.open = {
      index,
      abs: file,
      rel: path.relative(req.root, file),
      openedWall: this.deps.clock.now(),
      ccErrors: 0,
      holes: [],
      bytes: 0,
      announced: false,
      lead: index < state.leadBelow,
    };
    this.nextIndex = Math.max(this.nextIndex, index + 1);
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
    if (!state || !state.run.running) return;
    const mono = this.deps.clock.monotonic();
    const seg = state.open;
    if (seg) {
      const size = await stat(seg.abs).then(
        (s) => s.size,
        () => seg.bytes,
      );
      if (size > seg.bytes) {
        seg.bytes = size;
        state.lastGrowthMono = mono;
        if (!seg.announced && !seg.lead) {
          seg.announced = true;
          const prev = this.segments[this.segments.length - 1];
          const now = this.deps.clock.now();
          this.deps.sink?.segmentOpened({
            file: seg.rel,
            start: new Date(seg.openedWall).toISOString(),
            gapBeforeMs: prev ? Math.max(0, now - prev.end) : 0,
          });
        }
      }
    }
    if (this.stopping) return;
    const silentMs = mono - state.lastGrowthMono;
    if (silentMs >= this.deps.timing.recorderStallMs) {
      this.log.warn({ run: state.n, silentMs }, 'recorder stalled: no bytes written; restarting');
      this.emit('stall', { run: state.n, silentMs });
      void state.run.stop('stall', 'interrupt');
      return;
    }
    if (state.pmtSuspectMono !== null) {
      if (state.lastGrowthMono < state.pmtSuspectMono && mono - state.pmtSuspectMono >= 1_000) {
        this.log.warn({ run: state.n }, 'PMT changed (new streams, ours silent): new segment');
        this.emit('pmt_change', { run: state.n });
        void state.run.stop('pmt_change', 'graceful');
        return;
      }
      // Growth went on: the new stream belongs to another programme of the multiplex.
      if (mono - state.pmtSuspectMono >= 3_000) state.pmtSuspectMono = null;
    }
    if (this.deps.space && mono - this.lastDiskCheckMono >= this.diskCheckMs()) {
      this.lastDiskCheckMono = mono;
      const elapsedS = Math.max(1, (mono - state.spawnedMono) / 1000);
      const measured = (this.totalBytes() * 8) / elapsedS;
      const bitrate = state.gotData ? measured : (this.req?.estimatedBitrateBps ?? DEFAULT_BITRATE_BPS);
      const verdict = await this.deps.space.ensureSpace(this.bytesAhead(bitrate));
      if (!verdict.ok && !this.stopping) {
        this.emit('disk', verdict);
        this.failure = verdict.reason;
        this.log.error({ reason: verdict.reason }, 'stopping recording: no disk space');
        this.requestStop('disk');
      }
    }
  }

  private async loop(first: RunState): Promise<void> {
    let state: RunState | null = first;
    let emptyRuns = 0;
    while (state) {
      const exit = await state.run.exited;
      this.onRunExit(state, exit);
      const now = this.deps.clock.now();
      if (this.stopping || now >= this.end - 250) break;
      if (exit.failure === 'disk_full' || exit.failure === 'read_only') {
        this.failure = exit.failure;
        break;
      }
      const cause = exit.requested ?? exit.failure ?? (exit.spawnError ? 'spawn_failed' : 'input_ended');
      this.emit('restart', { run: state.n, cause, exit });
      this.log.warn({ run: state.n, cause, code: exit.code, lastError: exit.lastError }, 'recorder run ended early');
      emptyRuns = state.gotData ? 0 : emptyRuns + 1;
      // A run that recorded nothing (bad URL, service missing) is retried with a growing pause, never a hot loop.
      const pause = emptyRuns === 0 ? 0 : Math.min(this.deps.timing.recorderStallMs, 250 * 2 ** emptyRuns);
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

  private onRunExit(state: RunState, exit: RunExit): void {
    if (!state.gotData) this.lastRunFailure = exit.failure ?? (exit.spawnError ? 'spawn_failed' : 'no_data');
    if (state.open) this.closer?.close(state.open, state);
    state.open = null;
    state.settle();
    this.closer?.endLead();
    this.closer?.retime(state);
    const reason = exit.requested ?? exit.failure ?? `exit ${exit.code ?? exit.signal}`;
    if (state.handle !== null) {
      this.deps.sink?.processEnded(state.handle, new Date(this.deps.clock.now()).toISOString(), reason);
    }
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
    this.log.info(
      { outcome: result.outcome, reason: result.reason, bytes: result.bytes, gapsMs: result.gapsMs, quality: result.quality },
      'recording finished',
    );
    this.emit('finished', result);
    this.resolveFinished(result);
  }
}
