/**
 * Expansion: entries → concrete occurrences over a UTC range (DESIGN.md §5). Weekly rules are expanded by
 * arithmetic on local day numbers in the document's zone (DESIGN.md §3); one-off and guide-resolved
 * entries are already concrete. Instants are epoch milliseconds inside the planner.
 */
import type { ScheduleEntry } from '../messages/schedule.js';
import { classRank } from '../registry.js';
import {
  DAY_MS,
  HOUR_MS,
  isoWeekday,
  MINUTE_MS,
  parseLocalDate,
  parseLocalTime,
  type ZoneClock,
} from './local-time.js';
import { type OccurrenceRef, PlannerError } from './types.js';

/** An entry with everything expansion and allocation need, computed once per planner call. */
export interface PreparedEntry {
  readonly entry: ScheduleEntry;
  /** Position in priority order (0 = highest): class, then priority, then earlier creation, then id. */
  rank: number;
  /** Soft time before the nominal start: padding, or for conferences the larger of padding and pre-roll. */
  readonly lead: number;
  readonly padAfter: number;
  readonly createdAt: number;
  /** `classRank` of the entry's class (higher wins). */
  readonly classRank: number;
  /** Interned sharing key of this entry's service on each receiver (by receiver index); set by the caller. */
  keys: number[];
  /** Index of the pinned receiver, or −1; set by the caller. */
  pin: number;
  /** Concrete instants of `once`/`occurrences` entries: [start, end, itemIndex] triples. */
  readonly fixed: readonly number[] | null;
  /** Weekly rule, pre-parsed. */
  readonly weekly: {
    readonly mask: number;
    readonly minute: number;
    readonly duration: number;
    readonly fromDay: number;
    readonly untilDay: number;
  } | null;
}

/** One occurrence while it is being planned. Mutable: allocation writes its results here. */
export interface Occurrence {
  readonly prep: PreparedEntry;
  readonly start: number;
  readonly end: number;
  readonly pStart: number;
  readonly pEnd: number;
  readonly title: string;
  readonly programmeId: string | undefined;
  /** Receiver index chosen by allocation (−1 before). */
  receiver: number;
  /** Interned sharing key on that receiver. */
  key: number;
  /** Held intervals as flat [start, end, start, end, …], in order, merged. */
  parts: number[];
  /** Lost intervals, or null when nothing was lost. */
  cuts: Cut[] | null;
  /** Canonical text of `start`, once printed. */
  startIso: string;
  /** The output reference naming this occurrence, once built. */
  ref: OccurrenceRef | null;
  /** Nominal time lost / shared, for the outcome. */
  lost: number;
  shared: number;
  /** Holder that took / shared the most nominal time (ties: the earlier interval). */
  lostTo: Occurrence | null;
  sharedWith: Occurrence | null;
}

/** A lost interval and the occurrence holding the receiver then. */
export interface Cut {
  s: number;
  e: number;
  by: Occurrence;
  padding: boolean;
}

function parseInstant(s: string, entryId: string, field: string): number {
  const t = Date.parse(s);
  if (!Number.isFinite(t)) {
    throw new PlannerError('invalid-time', `entry "${entryId}" ${field}: "${s}" is not an instant`);
  }
  return t;
}

/** Pre-parses one entry. `rank` is filled in by the caller once all entries are sorted. */
export function prepareEntry(entry: ScheduleEntry): PreparedEntry {
  const lead = entry.kind === 'conference' ? Math.max(entry.padBeforeMs, entry.preRollMs) : entry.padBeforeMs;
  const createdAt = parseInstant(entry.createdAt, entry.id, 'createdAt');
  const rank = classRank(entry.class);
  const w = entry.when;
  if (w.type === 'weekly') {
    let mask = 0;
    for (const d of w.weekdays) mask |= 1 << d;
    const duration = w.durationMin * MINUTE_MS;
    return {
      entry,
      rank: 0,
      lead,
      padAfter: entry.padAfterMs,
      createdAt,
      classRank: rank,
      keys: [],
      pin: -1,
      fixed: null,
      weekly: {
        mask,
        minute: parseLocalTime(w.startLocal),
        duration,
        fromDay: parseLocalDate(w.from),
        untilDay: w.until === undefined ? Number.POSITIVE_INFINITY : parseLocalDate(w.until),
      },
    };
  }
  const fixed: number[] = [];
  const items = w.type === 'once' ? [w] : w.items;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const s = parseInstant(it.start, entry.id, 'start');
    const e = parseInstant(it.end, entry.id, 'end');
    if (!(e > s))
      throw new PlannerError(
        'invalid-time',
        `entry "${entry.id}": end ${it.end} is not after start ${it.start}`,
      );
    fixed.push(s, e, i);
  }
  return {
    entry,
    rank: 0,
    lead,
    padAfter: entry.padAfterMs,
    createdAt,
    classRank: rank,
    keys: [],
    pin: -1,
    fixed,
    weekly: null,
  };
}

function makeOccurrence(
  prep: PreparedEntry,
  start: number,
  end: number,
  title: string,
  programmeId: string | undefined,
): Occurrence {
  return {
    prep,
    start,
    end,
    pStart: start - prep.lead,
    pEnd: end + prep.padAfter,
    title,
    programmeId,
    receiver: -1,
    key: -1,
    startIso: '',
    ref: null,
    parts: [],
    cuts: null,
    lost: 0,
    shared: 0,
    lostTo: null,
    sharedWith: null,
  };
}

// Module-local copy: under the tsx loader (tests, `npm run bench`) each call of an imported function goes
// through a getter, which shows in this per-day loop; compiled ESM has no such cost.
const weekday = isoWeekday;

/** The widest offset span any zone can add to a local day (−12 h … +14 h) plus one day of slack. */
const ZONE_SLACK_MS = 14 * HOUR_MS + DAY_MS;

/**
 * Appends to `out` every occurrence of `prep` whose padded interval overlaps `[from, to)`.
 * Weekly slots belong to the local date they start on, so a slot starting 23:30 crosses midnight.
 */
export function expandEntry(
  prep: PreparedEntry,
  zone: ZoneClock,
  from: number,
  to: number,
  out: Occurrence[],
): void {
  const title = prep.entry.title;
  if (prep.fixed !== null) {
    const items = prep.entry.when.type === 'occurrences' ? prep.entry.when.items : null;
    const f = prep.fixed;
    for (let i = 0; i < f.length; i += 3) {
      const s = f[i]!;
      const e = f[i + 1]!;
      if (s - prep.lead >= to || e + prep.padAfter <= from) continue;
      const item = items?.[f[i + 2]!];
      out.push(makeOccurrence(prep, s, e, item?.title ?? title, item?.programmeId));
    }
    return;
  }
  const w = prep.weekly!;
  // `| 0` keeps day numbers small integers (V8 Smis): they key the zone's per-day cache.
  const first =
    Math.max(w.fromDay, Math.floor((from - w.duration - prep.padAfter - ZONE_SLACK_MS) / DAY_MS)) | 0;
  const last = Math.min(w.untilDay, Math.floor((to + prep.lead + ZONE_SLACK_MS) / DAY_MS)) | 0;
  for (let day = first; day <= last; day++) {
    if ((w.mask & (1 << weekday(day))) === 0) continue;
    const s = zone.localToUtc(day, w.minute);
    const e = s + w.duration;
    if (s - prep.lead >= to || e + prep.padAfter <= from) continue;
    out.push(makeOccurrence(prep, s, e, title, undefined));
  }
}
