/**
 * Per-service validation of an imported window and the diff against what the guide already holds.
 * Pure functions (STYLE.md 4), table-tested.
 *
 * Validation (issue 5): a missing stop becomes the next programme's start, or the programme is dropped
 * with a warning when nothing follows it; stop must be after start; the same programme twice (same start
 * and title) is a duplicate; two different programmes at the same start keep the first in the file; a
 * programme running into the next one is cut at the next one's start (feeds overlap by a few minutes);
 * a programme over the maximum duration is refused. Each refusal names the line of the file.
 */
import type { LangText } from './xmltv-parse.js';
import { baseProgrammeId, type NormalizedProgramme, type Reject, titleKey } from './xmltv-programme.js';

/** A programme as the guide stores it (table `guide_programmes`). */
export interface GuideProgramme {
  service: string;
  /** Stable id: `ev:`, `ep:` or `h:` (see baseProgrammeId), unique within the service. */
  programmeId: string;
  startMs: number;
  stopMs: number;
  eventId: string | null;
  title: string;
  subTitle: string | null;
  episode: string | null;
  description: string | null;
  category: string | null;
  lang: string | null;
  titles: LangText[] | null;
}

/** Options of {@link validateServiceWindow}. */
export interface ValidateOptions {
  /** Longest programme accepted; longer ones are refused as TOO_LONG. Default 24 h. */
  maxDurationMs?: number;
}

/** Result of validating one service's programmes from one file. */
export interface ValidatedWindow {
  programmes: GuideProgramme[];
  /** The input behind each accepted programme (same order as `programmes`). */
  sources: NormalizedProgramme[];
  rejects: Reject[];
  /** The input behind each reject (same order as `rejects`). */
  rejectedSources: NormalizedProgramme[];
  /** Programmes whose stop was cut back to the next programme's start. */
  overlapsTrimmed: number;
  /** Programmes whose missing stop was taken from the next programme's start. */
  stopsFilled: number;
  /** [first start, last stop) of the accepted programmes; null when none was accepted. */
  window: { startMs: number; endMs: number } | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function rejectOf(p: NormalizedProgramme, code: Reject['code'], message: string): Reject {
  return { code, message, channel: p.channel, line: p.line, title: p.title, start: iso(p.startMs) };
}

/** Validates one service's programmes (any order) into a clean, ordered, non-overlapping window. */
export function validateServiceWindow(
  service: string,
  input: readonly NormalizedProgramme[],
  options: ValidateOptions = {},
): ValidatedWindow {
  const maxDuration = options.maxDurationMs ?? 24 * 3_600_000;
  const sorted = [...input].sort((a, b) => a.startMs - b.startMs || a.line - b.line);
  const rejects: Reject[] = [];
  const rejectedSources: NormalizedProgramme[] = [];
  const refuse = (p: NormalizedProgramme, code: Reject['code'], message: string) => {
    rejects.push(rejectOf(p, code, message));
    rejectedSources.push(p);
  };

  // Same start: keep the first in the file; the same title again is a duplicate, another title a clash.
  const distinct: NormalizedProgramme[] = [];
  for (const p of sorted) {
    const prev = distinct[distinct.length - 1];
    if (prev !== undefined && prev.startMs === p.startMs) {
      if (titleKey(prev.title) === titleKey(p.title)) {
        refuse(p, 'DUPLICATE', `same start and title as line ${prev.line}`);
      } else {
        refuse(p, 'OVERLAP', `starts at the same time as "${prev.title}" (line ${prev.line})`);
      }
      continue;
    }
    distinct.push(p);
  }

  let stopsFilled = 0;
  const timed: { p: NormalizedProgramme; stopMs: number }[] = [];
  for (let i = 0; i < distinct.length; i++) {
    const p = distinct[i] as NormalizedProgramme;
    let stop = p.stopMs;
    if (stop === null) {
      const next = distinct[i + 1];
      if (next === undefined) {
        refuse(p, 'MISSING_STOP', 'no stop time and no following programme to end it');
        continue;
      }
      stop = next.startMs;
      stopsFilled++;
    }
    if (stop <= p.startMs) {
      refuse(p, 'STOP_NOT_AFTER_START', `stop ${iso(stop)} is not after start`);
      continue;
    }
    if (stop - p.startMs > maxDuration) {
      const hours = ((stop - p.startMs) / 3_600_000).toFixed(1);
      refuse(p, 'TOO_LONG', `lasts ${hours} h, more than ${maxDuration / 3_600_000} h`);
      continue;
    }
    timed.push({ p, stopMs: stop });
  }

  let overlapsTrimmed = 0;
  for (let i = 0; i + 1 < timed.length; i++) {
    const cur = timed[i] as (typeof timed)[number];
    const next = timed[i + 1] as (typeof timed)[number];
    if (cur.stopMs > next.p.startMs) {
      cur.stopMs = next.p.startMs;
      overlapsTrimmed++;
    }
  }

  const seen = new Map<string, number>();
  const programmes: GuideProgramme[] = [];
  const sources: NormalizedProgramme[] = [];
  let endMs = Number.NEGATIVE_INFINITY;
  for (const { p, stopMs } of timed) {
    const base = baseProgrammeId(p);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    programmes.push({
      service,
      programmeId: n === 1 ? base : `${base}#${n}`,
      startMs: p.startMs,
      stopMs,
      eventId: p.eventId,
      title: p.title,
      subTitle: p.subTitle,
      episode: p.episode,
      description: p.description,
      category: p.category,
      lang: p.lang,
      titles: p.titles,
    });
    sources.push(p);
    if (stopMs > endMs) endMs = stopMs;
  }
  const first = programmes[0];
  return {
    programmes,
    sources,
    rejects,
    rejectedSources,
    overlapsTrimmed,
    stopsFilled,
    window: first === undefined ? null : { startMs: first.startMs, endMs },
  };
}

/** How a moved programme is recognised, by the import report and by guide-linked entries. */
export interface MoveMatchOptions {
  /** How far a programme may move and still be recognised by title. Default 12 h. */
  moveWindowMs?: number;
  /** Durations are similar when they differ by at most this share… Default 0.25. */
  durationTolerance?: number;
  /** …or by at most this many milliseconds. Default 10 min. */
  durationSlackMs?: number;
}

/** Are two durations "similar" (DOMAIN.md §5: title within a window and similar duration)? */
export function similarDuration(a: number, b: number, o: MoveMatchOptions = {}): boolean {
  const tol = o.durationTolerance ?? 0.25;
  const slack = o.durationSlackMs ?? 10 * 60_000;
  return Math.abs(a - b) <= Math.max(slack, tol * Math.max(a, b));
}

/** The fields move-pairing looks at. */
export type MoveCandidate = Pick<
  GuideProgramme,
  'programmeId' | 'title' | 'subTitle' | 'episode' | 'startMs' | 'stopMs'
>;

/**
 * Hashed ids change when the start changes, so an import sees the old showing vanish and a new one
 * appear. Pairs each appeared programme with a vanished one of the same title, sub-title and episode
 * within the move window and of similar length (nearest start wins), so the report says "moved" rather
 * than "removed + added". Returns the pairs and what stays unpaired.
 */
export function pairMoves<T extends MoveCandidate>(
  vanished: readonly T[],
  appeared: readonly T[],
  options: MoveMatchOptions = {},
): { moved: { from: T; to: T }[]; removed: T[]; added: T[] } {
  const moveWindow = options.moveWindowMs ?? 12 * 3_600_000;
  const gone = new Set(vanished);
  const byTitle = new Map<string, T[]>();
  for (const g of vanished) {
    const k = titleKey(g.title);
    const list = byTitle.get(k);
    if (list) list.push(g);
    else byTitle.set(k, [g]);
  }
  const moved: { from: T; to: T }[] = [];
  const added: T[] = [];
  for (const p of appeared) {
    let best: T | undefined;
    let bestDelta = Number.POSITIVE_INFINITY;
    for (const g of byTitle.get(titleKey(p.title)) ?? []) {
      const delta = Math.abs(g.startMs - p.startMs);
      if (
        gone.has(g) &&
        delta <= moveWindow &&
        delta < bestDelta &&
        g.episode === p.episode &&
        g.subTitle === p.subTitle &&
        similarDuration(g.stopMs - g.startMs, p.stopMs - p.startMs, options)
      ) {
        best = g;
        bestDelta = delta;
      }
    }
    if (best === undefined) added.push(p);
    else {
      gone.delete(best);
      moved.push({ from: best, to: p });
    }
  }
  return { moved, removed: [...gone], added };
}
