/**
 * Content check (DOMAIN.md §4 "black/silence detection as a separate analysis"; §6 "Black/silent programme
 * with good RF"): while a recording runs, every `contentCheckPeriodMs` the newest `contentCheckWindowMs` of
 * the segment being written is piped to ffmpeg with `blackdetect` and `silencedetect` (content-analysis.ts).
 * The recorder's own ffmpeg is the only reader of the receiver's unicast output (diagnostics/stream-capture.ts),
 * so the check reads what it wrote.
 *
 * - `black_or_silent`: the window is black and/or silent throughout while the receiver is locked with a
 *   margin above the alarm level; raised after `alarmRaiseHoldMs`, cleared after `alarmClearHoldMs` of
 *   picture and sound (or of no recording on the receiver).
 * - `scrambled` (second source, alarm-slots.ts): the window carries a video stream but not one picture
 *   decodes while the receiver reports lock — catches a receiver that reports no CA status.
 *
 * One check at a time per recording; ffmpeg runs with one thread, a bounded `-t` and a kill timer, and is
 * killed on stop. A window that did not grow (the stall detectors' business) is not judged.
 */
import type { ChildProcess } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DEFAULT_MARGIN_POLICY } from '../../protocol/link-budget.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { SpawnFn } from '../recorder/spawn.js';
import type { AlarmSlots } from './alarm-slots.js';
import {
  type ContentReport,
  contentCheckArgs,
  judgeContent,
  parseContentOutput,
} from './content-analysis.js';
import { HeldCondition } from './held-condition.js';

/** One running recording as the check sees it. */
export interface CheckedRecording {
  /** `entryId@nominalStart`. */
  key: string;
  receiverId: string;
  service: string;
  /** Absolute path of the segment being written, null before the first one opens. */
  segmentFile: () => string | null;
  /** The recorder's input bitrate now (bit/s), to size the window in bytes. */
  bitrateBps: () => number;
}

export interface ContentCheckDeps {
  recordings: () => CheckedRecording[];
  /** Lock and margin of a receiver now; null when unknown. */
  receiver: (id: string) => { locked: boolean; marginDb: number | null } | null;
  slots: AlarmSlots;
  clock: Clock;
  now: () => number;
  timing: Pick<
    TimingProfile,
    'contentCheckPeriodMs' | 'contentCheckWindowMs' | 'alarmRaiseHoldMs' | 'alarmClearHoldMs'
  >;
  spawn: SpawnFn;
  ffmpegPath?: string;
  logger: Logger;
  /** Called while content-sourced `scrambled` is raised on a receiver (recording notes). */
  onScrambled?: (receiverId: string, message: string) => void;
}

const SOURCE = 'content-check';
/** Less new data than this since the last check (≈ 100 TS packets) is not a window worth judging. */
const MIN_NEW_BYTES = 188 * 100;
/** Bitrate assumed before the recorder has measured one (a low SD service). */
const MIN_BITRATE_BPS = 300_000;
const MAX_TAIL_BYTES = 48 * 1024 * 1024;
/** Output kept for parsing: the stream table is at the head, the detector results at the tail. */
const HEAD_CHARS = 16_000;
const TAIL_CHARS = 48_000;

interface ReceiverState {
  black: HeldCondition;
  undecodable: HeldCondition;
  service: string | null;
  scrambledMessage: string | null;
}

export class ContentCheck {
  private readonly receivers = new Map<string, ReceiverState>();
  private readonly lastSize = new Map<string, number>();
  private readonly inFlight = new Map<string, ChildProcess | null>();
  private cancel: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly deps: ContentCheckDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = null;
    for (const child of this.inFlight.values()) child?.kill('SIGKILL');
  }

  /** One pass: starts a check for every recording not already being checked. */
  tick(): void {
    const recs = this.deps.recordings();
    const busy = new Set(recs.map((r) => r.receiverId));
    for (const [id, st] of this.receivers) {
      if (busy.has(id)) continue;
      // No recording to look at: what was raised clears after the clear hold (nothing is observed).
      this.observe(id, st, st.service ?? '', { black: false, silent: false, undecodable: false }, null);
    }
    for (const key of [...this.lastSize.keys()])
      if (!recs.some((r) => r.key === key)) this.lastSize.delete(key);
    for (const r of recs) {
      if (this.inFlight.has(r.key)) continue;
      this.inFlight.set(r.key, null);
      void this.checkOne(r)
        .catch((err: unknown) => this.deps.logger.warn({ err, recording: r.key }, 'content check failed'))
        .finally(() => this.inFlight.delete(r.key));
    }
  }

  private async checkOne(r: CheckedRecording): Promise<void> {
    const file = r.segmentFile();
    if (!file) return;
    const size = await stat(file).then(
      (s) => s.size,
      () => null,
    );
    if (size === null) return;
    const grew = size - (this.lastSize.get(r.key) ?? 0);
    if (grew < 0) this.lastSize.set(r.key, 0); // a new segment file: count from its start
    if (grew < MIN_NEW_BYTES) return;
    this.lastSize.set(r.key, size);
    const windowMs = this.deps.timing.contentCheckWindowMs;
    const bps = Math.max(MIN_BITRATE_BPS, r.bitrateBps());
    const want = Math.ceil(((bps / 8) * windowMs * 1.25) / 1000);
    const tailBytes = Math.min(size, grew, MAX_TAIL_BYTES, Math.max(MIN_NEW_BYTES, want));
    const tail = await readTail(file, size, tailBytes);
    if (this.stopped) return;
    const report = await this.analyse(r.key, tail, windowMs);
    if (!report || this.stopped) return;
    const verdict = judgeContent(report);
    this.observe(r.receiverId, this.stateOf(r.receiverId), r.service, verdict, report);
  }

  private analyse(key: string, tail: Buffer, windowMs: number): Promise<ContentReport | null> {
    const d = this.deps;
    // Decode at most twice the window: the tail was sized for 1.25× at the measured bitrate.
    const child = d.spawn(d.ffmpegPath ?? 'ffmpeg', contentCheckArgs(windowMs * 2), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.inFlight.set(key, child);
    let stdout = '';
    let head = '';
    let rest = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout = (stdout + b.toString()).slice(-8000);
    });
    child.stderr?.on('data', (b: Buffer) => {
      const s = b.toString();
      if (head.length < HEAD_CHARS) head += s;
      else rest = (rest + s).slice(-TAIL_CHARS);
    });
    child.stdin?.on('error', () => undefined); // ffmpeg may exit before reading everything (EPIPE)
    child.stdin?.end(tail);
    return new Promise((resolve) => {
      const killer = d.clock.schedule(Math.max(5000, windowMs * 4), () => child.kill('SIGKILL'));
      child.once('error', (err) => {
        killer();
        d.logger.warn({ err: err.message }, 'cannot run ffmpeg for the content check');
        resolve(null);
      });
      child.once('close', (code, signal) => {
        killer();
        if (signal) return resolve(null); // killed: stopped or timed out, no verdict
        const report = parseContentOutput(head + rest, stdout);
        d.logger.debug({ recording: key, code, report }, 'content check');
        resolve(report);
      });
    });
  }

  private stateOf(id: string): ReceiverState {
    let st = this.receivers.get(id);
    if (!st) {
      const { alarmRaiseHoldMs: r, alarmClearHoldMs: c } = this.deps.timing;
      st = {
        black: new HeldCondition(r, c),
        undecodable: new HeldCondition(r, c),
        service: null,
        scrambledMessage: null,
      };
      this.receivers.set(id, st);
    }
    return st;
  }

  private observe(
    rx: string,
    st: ReceiverState,
    service: string,
    v: { black: boolean; silent: boolean; undecodable: boolean },
    report: ContentReport | null,
  ): void {
    const d = this.deps;
    const mono = d.clock.monotonic();
    const windowMs = d.timing.contentCheckWindowMs;
    const status = d.receiver(rx);
    const locked = status?.locked === true;
    const goodRf =
      locked && (status?.marginDb == null || status.marginDb >= DEFAULT_MARGIN_POLICY.alarmBelowDb);
    if (report) st.service = service;
    const blackNow = goodRf && (v.black || v.silent);
    const what = v.black && v.silent ? 'black picture and silence' : v.black ? 'black picture' : 'silence';
    const margin = status?.marginDb == null ? '' : `, margin ${status.marginDb.toFixed(1)} dB`;
    const windowS = Math.round((report?.mediaMs ?? windowMs) / 100) / 10;
    const tb = st.black.observe(blackNow, mono, mono - windowMs);
    if (tb === 'raise' && report) {
      const since = d.now() - (mono - (st.black.since ?? mono));
      d.slots.raise(
        'black_or_silent',
        rx,
        SOURCE,
        `${what} on ${service} (${rx}) throughout the last ${windowS} s with good RF (locked${margin})`,
        {
          receiver: rx,
          service,
          black: v.black,
          silent: v.silent,
          blackMs: report.blackMs,
          silentMs: report.silentMs,
          mediaMs: report.mediaMs,
          marginDb: status?.marginDb ?? null,
          since: new Date(since).toISOString(),
        },
      );
    } else if (tb === 'clear') {
      d.slots.clear('black_or_silent', rx, SOURCE, {
        service: st.service,
        reason: report ? 'picture and sound are back' : 'no recording to check',
      });
    }
    const undecodable = locked && v.undecodable;
    const tu = st.undecodable.observe(undecodable, mono, mono - windowMs);
    if (tu === 'raise' && report) {
      const message = `no decodable video in the last ${Math.round(windowMs / 1000)} s of ${service} while ${rx} is locked: scrambled (or undecodable) service`;
      st.scrambledMessage = message;
      d.slots.raise('scrambled', rx, SOURCE, message, {
        receiver: rx,
        service,
        frames: report.frames,
        mediaMs: report.mediaMs,
        since: new Date(d.now() - (mono - (st.undecodable.since ?? mono))).toISOString(),
      });
    } else if (tu === 'clear') {
      st.scrambledMessage = null;
      d.slots.clear('scrambled', rx, SOURCE, { service: st.service, reason: 'pictures decode again' });
    }
    if (st.undecodable.raised && st.scrambledMessage) d.onScrambled?.(rx, st.scrambledMessage);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.deps.clock.schedule(this.deps.timing.contentCheckPeriodMs, () => {
      this.cancel = null;
      try {
        this.tick();
      } catch (err) {
        this.deps.logger.error({ err }, 'content check tick failed');
      }
      this.schedule();
    });
  }
}

async function readTail(file: string, size: number, bytes: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    // Start on a packet boundary of the file (segments are whole 188-byte packets from offset 0).
    const from = Math.max(0, size - bytes - ((size - bytes) % 188));
    const buf = Buffer.alloc(size - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
