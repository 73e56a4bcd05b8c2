/**
 * Segments of a recording (DOMAIN.md §4: record in segments so a crash or power cut loses at most one):
 * file naming, ffmpeg's csv segment list, and the pure summary of a recording from its segments — used
 * by the recorder when it finishes and by crash recovery to finalise a recording whose window closed
 * while the agent was down (DESIGN.md §6), so both give the same manifest.
 */
import { readdir } from 'node:fs/promises';
import type { RecordingOutcome } from '../../protocol/registry.js';
import type { EventBody } from '../store/outbox.js';
import type { ProbeResult } from './probe.js';
import { findGaps, type Gap, type Interval, qualityScore, recordingOutcome } from './quality.js';

/** Segment files are `seg-00000.ts`, `seg-00001.ts` … inside the recording's directory. */
export const SEGMENT_PATTERN = 'seg-%05d.ts';
const SEGMENT_NAME = /^seg-(\d{5,})\.ts$/;

export function segmentFileName(index: number): string {
  return `seg-${String(index).padStart(5, '0')}.ts`;
}

/** The index of a segment file name, or null for any other file. */
export function segmentIndexOf(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** The first free segment index in `absDir` (0 for a new recording; after the last one on a resume). */
export async function nextSegmentIndex(absDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(absDir);
  } catch {
    return 0;
  }
  let next = 0;
  for (const n of names) {
    const i = segmentIndexOf(n);
    if (i !== null && i >= next) next = i + 1;
  }
  return next;
}

/** One row of ffmpeg's csv segment list: the segment's media times within its run, in seconds. */
export interface SegmentListRow {
  file: string;
  startS: number;
  endS: number;
}

/** Parses `-segment_list_type csv` output (`name,start,end` per line); malformed lines are skipped. */
export function parseSegmentList(text: string): SegmentListRow[] {
  const rows: SegmentListRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.split(',');
    if (parts.length < 3) continue;
    const endS = Number(parts[parts.length - 1]);
    const startS = Number(parts[parts.length - 2]);
    // A file name may itself contain commas (ffmpeg quotes it then); take the last two fields as times.
    const file = parts
      .slice(0, -2)
      .join(',')
      .replace(/^"(.*)"$/, '$1');
    if (!file || !Number.isFinite(startS) || !Number.isFinite(endS) || endS < startS) continue;
    rows.push({ file, startS, endS });
  }
  return rows;
}

/** A closed segment as the recorder and the catalogue know it (times: ms since the epoch). */
export interface SegmentRecord {
  /** File name relative to the recordings root, e.g. `news/2026-03-01T1100/seg-00000.ts`. */
  file: string;
  index: number;
  start: number;
  end: number;
  bytes: number;
  durationMs: number;
  /** Corrupt packets (continuity errors) on the recorded programme while this segment was written. */
  ccErrors: number;
  /** Input pauses inside the segment (shorter than the stall limit, no restart). */
  holes: Interval[];
  /** Missing time just before this segment (restart, crash, PMT change); 0 for contiguous segments. */
  gapBeforeMs: number;
  /** ffprobe's verdict; null when not probed (e.g. finalised from the catalogue without the file). */
  probe: ProbeResult | null;
  /**
   * Where the segment sits in its ffmpeg run's media timeline (from the csv segment list); wall times are
   * run origin + these, re-derived when the origin estimate improves. Null when not known.
   */
  media?: { run: number; startS: number; endS: number } | null;
}

export interface RecordingSummary {
  window: Interval;
  segments: SegmentRecord[];
  bytes: number;
  /** Media duration of the verified segments. */
  durationMs: number;
  gaps: Gap[];
  gapsMs: number;
  quality: number;
  outcome: RecordingOutcome;
  reason?: string;
  clockTrusted: boolean;
}

export interface SummaryInput {
  /** [planned start, planned end] the recording was asked to cover. */
  window: Interval;
  segments: readonly SegmentRecord[];
  clockTrusted: boolean;
  /** Why recording stopped early or could not run (reason code, e.g. `disk_full`). */
  failure?: string;
  /** A late start / early end up to this long is not a gap (stop and probe latency). */
  edgeToleranceMs?: number;
}

const TS_PACKET = 188;

/** The recording's figures, gaps, quality and outcome from its segments (pure). */
export function summarise(input: SummaryInput): RecordingSummary {
  const segments = [...input.segments].sort((a, b) => a.start - b.start || a.index - b.index);
  const verified = segments.filter((s) => s.probe === null || s.probe.ok);
  const damaged = segments.length - verified.length;
  const gaps = findGaps({
    window: input.window,
    covered: verified.map((s) => ({ from: s.start, to: s.end })),
    holes: verified.flatMap((s) => s.holes),
    edgeToleranceMs: input.edgeToleranceMs ?? 1_500,
    joinToleranceMs: 250,
  });
  const bytes = segments.reduce((n, s) => n + s.bytes, 0);
  const durationMs = verified.reduce((n, s) => n + s.durationMs, 0);
  const ccErrors = segments.reduce((n, s) => n + s.ccErrors, 0);
  const quality = qualityScore({
    window: input.window,
    gaps,
    ccErrors,
    packets: Math.floor(bytes / TS_PACKET),
  });
  const verdict = recordingOutcome({
    bytes,
    recordedMs: durationMs,
    verifiedSegments: verified.length,
    damagedSegments: damaged,
    quality,
    gaps,
    ccErrors,
    ...(input.failure ? { failure: input.failure } : {}),
  });
  return {
    window: input.window,
    segments,
    bytes,
    durationMs,
    gaps,
    gapsMs: gaps.reduce((n, g) => n + g.ms, 0),
    quality,
    outcome: verdict.outcome,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
    clockTrusted: input.clockTrusted,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One segment as the `recording.manifest` event lists it (protocol/messages/events.ts `RecordingSegment`). */
export interface ManifestSegment {
  file: string;
  start: string;
  end: string;
  bytes: number;
  durationMs: number;
  ccErrors: number;
  gaps: number;
}

/** A summary's segments as the `recording.manifest` event lists them (ISO times, holes counted). */
export function manifestSegments(summary: Pick<RecordingSummary, 'segments'>): ManifestSegment[] {
  return summary.segments.map((s) => ({
    file: s.file,
    start: iso(s.start),
    end: iso(Math.max(s.end, s.start)),
    bytes: s.bytes,
    durationMs: s.durationMs,
    ccErrors: s.ccErrors,
    gaps: s.holes.length,
  }));
}

/** The `recording.manifest` event body for a summary (protocol/messages/events.ts). */
export function manifestEvent(
  summary: RecordingSummary,
  meta: {
    entryId: string;
    nominalStart: string;
    recordingId: string;
    service: string;
    receiverId?: string;
    at: string;
  },
): EventBody {
  return {
    type: 'recording.manifest',
    at: meta.at,
    entryId: meta.entryId,
    nominalStart: meta.nominalStart,
    recordingId: meta.recordingId,
    service: meta.service,
    ...(meta.receiverId ? { receiverId: meta.receiverId } : {}),
    segments: manifestSegments(summary),
    bytes: summary.bytes,
    durationMs: summary.durationMs,
    gapsMs: summary.gapsMs,
    quality: summary.quality,
    outcome: summary.outcome,
    ...(summary.reason ? { reason: summary.reason } : {}),
    clockTrusted: summary.clockTrusted,
  };
}
