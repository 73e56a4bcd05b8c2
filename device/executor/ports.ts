/**
 * What the executor needs from its surroundings, as narrow interfaces (STYLE.md guideline 5: dependencies
 * passed in). agent.ts binds them to the store, the recorder and the receivers; unit tests bind fakes.
 */
import type { ExecutionState, RecordingOutcome } from '../../protocol/registry.js';
import type { ManifestSegment } from '../recorder/segments.js';
import type { EventBody } from '../store/outbox.js';
import type { StoreTx } from '../store/tx.js';

/** One recorder run: ffmpeg from (just before) a part's start to its end, into one recording. */
export interface RecordingRun {
  /** Moves the end of this run (an edit that extends or ends early: one continuous recording). */
  extend(endMs: number): void;
  /** Stops now (cut, cancel, shutdown). Resolves when ffmpeg has exited. */
  stop(reason: string): Promise<void>;
  /** Settles when the run is over for good (end reached, stopped, or failed for good). */
  readonly done: Promise<RunResult>;
  /** Live figures for telemetry. */
  figures(): { bitrateBps: number; bytes: number; ccErrors: number };
  /**
   * A detector saw the recorded content go wrong while this run recorded (scrambled service, service gone
   * from the PAT: device/detect/). The recording's manifest then names it in its reason and is at best
   * `completed_with_errors` — DOMAIN.md §6 "don't record garbage silently". Repeating a note is harmless.
   */
  note?(issue: string): void;
}

export interface RunResult {
  /** False when ffmpeg could not record at all (no data, bad service): the reason says why. */
  ok: boolean;
  reason?: string;
  /** When the first byte reached the disk (start accuracy, DESIGN.md §8). */
  firstByteAtMs?: number;
}

/** How to start a run. */
export interface RunSpec {
  recordingId: number;
  /** Directory of this recording's segment files (absolute). */
  dir: string;
  url: string;
  serviceId: number;
  /** The planned start of the part: ffmpeg starts before it (pre-roll) and marks it. */
  plannedStartMs: number;
  endMs: number;
  /**
   * The recording already has segments from before an agent crash or power cut: this run is a new
   * segment and the time missing since the last one is recorded as a gap (DESIGN.md §6).
   */
  resumed: boolean;
  /** Called when the stream stalled and the watchdog restarted ffmpeg (the executor checks the receiver). */
  onStall?: () => void;
}

/** Final figures of a recording, made from all its segments. */
export interface RecordingFigures {
  segments: ManifestSegment[];
  bytes: number;
  durationMs: number;
  gapsMs: number;
  quality: number;
  outcome: RecordingOutcome;
  reason?: string;
}

export interface RecorderPort {
  start(spec: RunSpec): RecordingRun;
  /** Verifies every segment of a recording (ffprobe) and computes its figures for the manifest. */
  finalize(recordingId: number, window: { startMs: number; endMs: number }): Promise<RecordingFigures>;
}

/** Disk checks before a recording (DESIGN.md §6 "Disk"). */
export interface DiskPort {
  /** Frees space by retention if needed; `ok: false` with a reason when space cannot be found. */
  ensureSpace(): Promise<{ ok: true } | { ok: false; reason: string; readOnly: boolean }>;
}

/** Journal + outbox, written together (DESIGN.md §4: the event commits with the change it reports). */
export interface ExecutorStorePort {
  transaction<T>(fn: (tx: StoreTx) => T): T;
  journal(
    tx: StoreTx,
    row: {
      entryId: string;
      nominalStart: string;
      state: ExecutionState;
      reason?: string;
      detail?: Record<string, unknown>;
      at: string;
    },
  ): void;
  event(tx: StoreTx, body: EventBody): void;
  /** Latest journalled state of an occurrence. */
  latest(
    entryId: string,
    nominalStart: string,
  ):
    | { state: ExecutionState; reason: string | null; at: string; detail: Record<string, unknown> | null }
    | undefined;
  /** Opens (or resumes) the recording row of an occurrence. */
  openRecording(r: {
    entryId: string;
    nominalStart: string;
    title: string;
    service: string;
    serviceId: number;
    plannedStart: string;
    plannedEnd: string;
    keep?: number;
    clockTrusted: boolean;
  }): { id: number; dir: string; resumed: boolean };
  setPlannedEnd(recordingId: number, plannedEnd: string): void;
  finishRecording(
    tx: StoreTx,
    recordingId: number,
    r: {
      outcome: RecordingOutcome;
      reason?: string;
      bytes: number;
      durationMs: number;
      gapsMs: number;
      quality: number;
      clockTrusted: boolean;
      finishedAt: string;
    },
  ): void;
  /** Called after a commit that appended events (the outbox sender sends them). */
  committed(): void;
}
