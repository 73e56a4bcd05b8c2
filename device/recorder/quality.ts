/**
 * Pure quality accounting of one recording: where it has gaps, a 0–100 score, and the outcome
 * (DOMAIN.md §4: "TVHeadend counts data errors …; MythTV computes a quality score from gaps and CC errors
 * and marks damaged below 95/100. Completed with errors must be a distinct status").
 *
 * The score follows the shape of MythTV's RecordingQuality (libs/libmythtv/recordingquality.cpp): start
 * from 1, subtract each gap's share of the programme weighted by where it falls and how long it is, then
 * scale down by the continuity-error rate. Our weights: a gap in the last tenth counts ×3 (endings —
 * results, conclusions, the score — are what viewers come for), in the first tenth ×2, longer than 5 s
 * ×1.5 (a visible dropout rather than a glitch), longer than 2 min another ×3 (the programme is broken).
 */
import type { RecordingOutcome } from '../../protocol/registry.js';

/** A span of wall-clock time, ms since the epoch, `from ≤ to`. */
export interface Interval {
  from: number;
  to: number;
}

/** Why time is missing. */
export type GapCause =
  /** The first recorded byte came after the planned start. */
  | 'late_start'
  /** Recording stopped before the planned end (ffmpeg died for good, disk full). */
  | 'early_end'
  /** Between two segments: a restart after a stall, a crash or power cut, a PMT change. */
  | 'interruption'
  /** Inside a segment: the input paused for a while and resumed without a restart. */
  | 'stall'
  /** Nothing at all was recorded. */
  | 'no_data';

export interface Gap extends Interval {
  ms: number;
  cause: GapCause;
}

export interface GapInput {
  /** What was asked for: [planned start, planned end]. */
  window: Interval;
  /** What the segments cover. */
  covered: readonly Interval[];
  /** Holes inside segments (input pauses shorter than the stall limit). */
  holes: readonly Interval[];
  /** A late start or early end up to this long is stop/probe latency, not a gap. */
  edgeToleranceMs: number;
  /** Segments closer than this are contiguous (timestamp rounding between consecutive segments). */
  joinToleranceMs: number;
}

function clip(i: Interval, w: Interval): Interval | null {
  const from = Math.max(i.from, w.from);
  const to = Math.min(i.to, w.to);
  return to > from ? { from, to } : null;
}

/** The gaps of a recording inside its window, in time order, overlapping gaps merged. */
export function findGaps(input: GapInput): Gap[] {
  const { window: w } = input;
  if (w.to <= w.from) return [];
  const covered = input.covered
    .map((c) => clip(c, w))
    .filter((c): c is Interval => c !== null)
    .sort((a, b) => a.from - b.from);
  const merged: Interval[] = [];
  for (const c of covered) {
    const last = merged[merged.length - 1];
    if (last && c.from <= last.to + input.joinToleranceMs) last.to = Math.max(last.to, c.to);
    else merged.push({ ...c });
  }
  const gaps: Gap[] = [];
  const push = (from: number, to: number, cause: GapCause) => {
    if (to > from) gaps.push({ from, to, ms: to - from, cause });
  };
  const first = merged[0];
  const last = merged[merged.length - 1];
  if (!first || !last) {
    push(w.from, w.to, 'no_data');
    return gaps;
  }
  if (first.from - w.from > input.edgeToleranceMs) push(w.from, first.from, 'late_start');
  for (let i = 1; i < merged.length; i++) push(merged[i - 1]!.to, merged[i]!.from, 'interruption');
  if (w.to - last.to > input.edgeToleranceMs) push(last.to, w.to, 'early_end');
  for (const h of input.holes) {
    const c = clip(h, w);
    if (c) push(c.from, c.to, 'stall');
  }
  gaps.sort((a, b) => a.from - b.from);
  const out: Gap[] = [];
  for (const g of gaps) {
    const prev = out[out.length - 1];
    if (prev && g.from <= prev.to) {
      prev.to = Math.max(prev.to, g.to);
      prev.ms = prev.to - prev.from;
    } else out.push({ ...g });
  }
  return out;
}

export interface QualityInput {
  window: Interval;
  gaps: readonly Interval[];
  /** Corrupt packets (continuity errors) counted on the recorded programme. */
  ccErrors: number;
  /** TS packets recorded (bytes / 188). */
  packets: number;
}

/** Quality score 0–100 (integer). 100 = nothing missing, no continuity errors. */
export function qualityScore(input: QualityInput): number {
  const length = input.window.to - input.window.from;
  let score = 1;
  if (length <= 0) {
    score = input.gaps.length > 0 ? 0 : 1;
  } else {
    for (const g of input.gaps) {
      const relFrom = (g.from - input.window.from) / length;
      const relTo = (g.to - input.window.from) / length;
      const ms = g.to - g.from;
      // Each part of a gap weighs by where it falls: the first tenth ×2 (the start is lost), the last tenth
      // ×3 (the ending is what viewers miss most); a gap reaching the last 5 % lost the ending, so all of it
      // weighs ×3. Weighing the parts (not the gap's centre) keeps the score monotone: a gap that grows never
      // scores better (a property test checks it).
      const part = (a: number, b: number) => Math.max(0, Math.min(relTo, b) - Math.max(relFrom, a));
      let weight =
        2 * part(Number.NEGATIVE_INFINITY, 0.1) + part(0.1, 0.9) + 3 * part(0.9, Number.POSITIVE_INFINITY);
      if (relTo >= 0.95) weight = Math.max(weight, 3 * (relTo - relFrom));
      if (ms > 5_000) weight *= 1.5;
      if (ms > 120_000) weight *= 3;
      score -= weight;
    }
  }
  if (input.packets > 0 && input.ccErrors > 0) {
    const rate = input.ccErrors / input.packets;
    if (rate >= 0.01) score = Math.min(score * 0.6, 0.5);
    else if (rate >= 0.001) score *= 0.8;
  }
  return Math.round(Math.max(0, Math.min(1, score)) * 100);
}

/** MythTV marks a recording damaged below this score (DOMAIN.md §4). */
export const DAMAGED_BELOW = 95;

/** Less media than this is not a recording (a probe's worth of data before ffmpeg died). */
export const MIN_USABLE_MS = 1_000;

export interface OutcomeInput {
  bytes: number;
  /** Media duration of the verified segments. */
  recordedMs: number;
  verifiedSegments: number;
  /** Segments ffprobe rejected (no programme, no streams, unreadable). */
  damagedSegments: number;
  quality: number;
  gaps: readonly Gap[];
  ccErrors: number;
  /** Why the recording stopped early or never started (a reason code such as `disk_full`). */
  failure?: string;
}

export interface OutcomeResult {
  outcome: RecordingOutcome;
  reason?: string;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * completed: everything asked for is there, verified, without errors. completed_with_errors: usable, but
 * something is missing or damaged (never hidden under completed). failed: nothing usable was recorded.
 */
export function recordingOutcome(i: OutcomeInput): OutcomeResult {
  if (i.verifiedSegments === 0 || i.bytes === 0 || i.recordedMs < MIN_USABLE_MS) {
    const why = i.failure ?? 'no_data';
    return { outcome: 'failed', reason: `${why}: no usable recording` };
  }
  const problems: string[] = [];
  if (i.failure) problems.push(i.failure);
  const gapMs = i.gaps.reduce((sum, g) => sum + g.ms, 0);
  if (i.gaps.length > 0) {
    const causes = [...new Set(i.gaps.map((g) => g.cause))].join(', ');
    problems.push(
      `${seconds(gapMs)} missing in ${i.gaps.length} gap${i.gaps.length > 1 ? 's' : ''} (${causes})`,
    );
  }
  if (i.ccErrors > 0)
    problems.push(`${i.ccErrors} corrupt packet${i.ccErrors > 1 ? 's' : ''} (continuity errors)`);
  if (i.damagedSegments > 0) problems.push(`${i.damagedSegments} segment(s) failed verification`);
  if (i.quality < DAMAGED_BELOW) problems.push(`quality ${i.quality} < ${DAMAGED_BELOW}`);
  if (problems.length === 0) return { outcome: 'completed' };
  return { outcome: 'completed_with_errors', reason: problems.join('; ').slice(0, 500) };
}
