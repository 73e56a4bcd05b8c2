/**
 * One ffmpeg recorder process ("run"): spawned directly (DESIGN.md §3 — no wrapper library), its
 * `-progress` blocks and stderr parsed into typed events, and a stop that escalates the way ffmpeg needs
 * (DESIGN.md §3 ffmpeg notes): `q` on stdin ends cleanly once output has started; SIGINT also leaves a
 * valid file and is the only way out of a blocked open/probe or a blocked read; SIGKILL last (a truncated
 * file). A recording is made of one or more runs; device/recorder/recorder.ts decides when to start one.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../link/clock.js';
import { type FfmpegFailure, type FfmpegLogEvent, FfmpegLogParser } from './ffmpeg-log.js';
import { type ProgressBlock, ProgressParser } from './progress.js';
import type { SpawnFn } from './spawn.js';

/** Why the recorder asked a run to stop (null: it ended on its own). */
export type StopCause = 'end' | 'stop' | 'stall' | 'pmt_change' | 'disk';

export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What we asked for, if we asked. */
  requested: StopCause | null;
  /** The reason code of ffmpeg's last meaningful error line. */
  failure: FfmpegFailure | null;
  lastError: string | null;
  /** The escalation step that ended it, when we stopped it. */
  stoppedWith: 'q' | 'SIGINT' | 'SIGKILL' | null;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

/** A progress block stamped with when it arrived. */
export interface TimedProgress extends ProgressBlock {
  wallMs: number;
  monoMs: number;
}

export interface FfmpegRunEvents {
  progress: [TimedProgress];
  log: [FfmpegLogEvent];
  exit: [RunExit];
}

export interface FfmpegRunOptions {
  spawn: SpawnFn;
  clock: Clock;
  logger: Logger;
  ffmpegPath: string;
  args: readonly string[];
  /** Wait after `q` before SIGINT, and after SIGINT before SIGKILL. */
  stopGraceMs: number;
}

export class FfmpegRun extends EventEmitter<FfmpegRunEvents> {
  readonly exited: Promise<RunExit>;
  /** Resolves true once the OS started the process, false if it could not be started. */
  readonly spawned: Promise<boolean>;
  private resolveSpawned!: (ok: boolean) => void;
  private child: ChildProcess | null = null;
  private resolveExit!: (e: RunExit) => void;
  private requested: StopCause | null = null;
  private stoppedWith: RunExit['stoppedWith'] = null;
  private failure: FfmpegFailure | null = null;
  private lastError: string | null = null;
  private done = false;
  private cancelEscalation: (() => void) | null = null;
  private readonly progress = new ProgressParser();
  private readonly log = new FfmpegLogParser();

  constructor(private readonly opts: FfmpegRunOptions) {
    super();
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.spawned = new Promise((resolve) => {
      this.resolveSpawned = resolve;
    });
  }

  /** The PID once spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get argv(): readonly string[] {
    return [this.opts.ffmpegPath, ...this.opts.args];
  }

  /** Spawns ffmpeg. Returns the PID, or undefined when it could not be started (see `exited`). */
  start(): number | undefined {
    const { clock } = this.opts;
    let child: ChildProcess;
    try {
      child = this.opts.spawn(this.opts.ffmpegPath, this.opts.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      this.finish({ code: null, signal: null, spawnError: String(err) });
      return undefined;
    }
    this.child = child;
    child.once('spawn', () => this.resolveSpawned(true));
    // A write of `q` after ffmpeg exited gives EPIPE on stdin: expected, not a crash.
    child.stdin?.on('error', () => {});
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const block of this.progress.push(chunk)) {
        this.emit('progress', { ...block, wallMs: clock.now(), monoMs: clock.monotonic() });
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.onLog(this.log.push(chunk)));
    child.on('error', (err) => this.finish({ code: null, signal: null, spawnError: err.message }));
    child.on('close', (code, signal) => {
      this.onLog(this.log.end());
      this.finish({ code, signal });
    });
    return child.pid;
  }

  private onLog(events: FfmpegLogEvent[]): void {
    for (const e of events) {
      // Once we asked it to stop, generic complaints ("Immediate exit requested") are our own doing.
      if (e.type === 'error' && (this.requested === null || e.failure !== 'error')) {
        // Keep the most telling failure: a specific code is not overwritten by a generic error line.
        if (this.failure === null || this.failure === 'error' || e.failure !== 'error')
          this.failure = e.failure;
        this.lastError = e.message;
      }
      this.emit('log', e);
    }
  }

  private finish(r: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }): void {
    if (this.done) return;
    this.done = true;
    this.resolveSpawned(r.spawnError === undefined);
    this.cancelEscalation?.();
    const exit: RunExit = {
      code: r.code,
      signal: r.signal,
      requested: this.requested,
      failure: this.failure,
      lastError: this.lastError,
      stoppedWith: this.stoppedWith,
      ...(r.spawnError !== undefined ? { spawnError: r.spawnError } : {}),
    };
    this.emit('exit', exit);
    this.resolveExit(exit);
  }

  get running(): boolean {
    return this.child !== null && !this.done;
  }

  /**
   * Asks the run to stop. `graceful` starts with `q` (clean end of the segment); `interrupt` starts with
   * SIGINT (ffmpeg is blocked in a read or probe and would not see `q`). Escalates to SIGINT and SIGKILL
   * after `stopGraceMs` each. Resolves when the process has exited.
   */
  stop(cause: StopCause, mode: 'graceful' | 'interrupt' = 'graceful'): Promise<RunExit> {
    if (this.done || !this.child) return this.exited;
    if (this.requested === null) this.requested = cause;
    if (this.cancelEscalation) return this.exited; // already stopping
    const child = this.child;
    const { clock, stopGraceMs } = this.opts;
    const kill = (sig: NodeJS.Signals) => {
      if (this.done) return;
      this.stoppedWith = sig === 'SIGINT' ? 'SIGINT' : 'SIGKILL';
      child.kill(sig);
    };
    let cancelNext: (() => void) | null = null;
    const escalateToKill = () => {
      cancelNext = clock.schedule(stopGraceMs, () => kill('SIGKILL'));
    };
    if (mode === 'graceful' && child.stdin && !child.stdin.destroyed) {
      this.stoppedWith = 'q';
      child.stdin.write('q');
      cancelNext = clock.schedule(stopGraceMs, () => {
        kill('SIGINT');
        escalateToKill();
      });
    } else {
      kill('SIGINT');
      escalateToKill();
    }
    this.cancelEscalation = () => cancelNext?.();
    return this.exited;
  }
}
