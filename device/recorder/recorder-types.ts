/** The recorder's public types (device/recorder/recorder.ts). */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { Clock } from '../link/clock.js';
import type { SpaceGuard, SpaceVerdict } from './disk.js';
import type { UdpInputOptions } from './ffmpeg-args.js';
import type { RunExit } from './ffmpeg-process.js';
import type { RecordingSummary, SegmentRecord } from './segments.js';
import type { RecorderSink } from './sink.js';
import type { SpawnFn } from './spawn.js';

export interface RecorderDeps {
  spawn: SpawnFn;
  clock: Clock;
  logger: Logger;
  /** Stall limit, segment length and stop grace come from the one timing profile. */
  timing: Pick<TimingProfile, 'recorderStallMs' | 'recorderSegmentMs' | 'recorderStopGraceMs'>;
  /** `ffmpeg` / `ffprobe` on PATH by default. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Where processes and segments are journalled (catalogueSink); none = memory only. */
  sink?: RecorderSink;
  /** Quota / free-space floor / retention (DiskGuard); none = no space checks. */
  space?: SpaceGuard;
  /** UDP fifo and socket buffer sizes (the read timeout is the stall limit). */
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

export const DEFAULT_BITRATE_BPS = 8_000_000;

export interface RecorderResult extends RecordingSummary {
  /** ms into the recording at which the planned start falls; 0 when recording started late, null if nothing. */
  plannedStartMarkMs: number | null;
  /** Wall time the first byte reached disk (this recorder's first run with data, lead included). */
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
  /** A space check failed (before the start, or during the recording, which then stops). */
  disk: [SpaceVerdict];
  finished: [RecorderResult];
}
