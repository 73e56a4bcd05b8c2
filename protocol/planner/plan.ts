/**
 * The planner (DESIGN.md §5): one pure function from a schedule document and a UTC window to every
 * occurrence `(entryId, nominalStart)` overlapping the window, with its receiver, padded interval, the
 * parts it actually gets, its outcome and a reason naming the occurrence that holds the receiver.
 * The headend's preview and the station's executor call this same function on the same document.
 *
 * Window independence: allocation of an occurrence depends on every occurrence chained to it by
 * overlapping padded intervals, so the planner widens the window to those chains (`considered`) before
 * allocating and returns only what overlaps the window. A 7-day preview and a 14-day execution horizon
 * therefore agree on every occurrence they share (chains longer than `MAX_CONTEXT_MS` beyond the window
 * are cut there — only back-to-back entries running for a week could do that).
 */
import { UtcTimestamp } from '../messages/common.js';
import type { ScheduleDocument } from '../messages/schedule.js';
import { transponderKey } from '../messages/tuning.js';
import { allocate, sortedCuts } from './allocate.js';
import { type Cut, expandEntry, type Occurrence, type PreparedEntry, prepareEntry } from './expand.js';
import { IsoFormatter } from './iso.js';
import { DAY_MS, ZoneClock } from './local-time.js';
import {
  isPlannerVersionSupported,
  type OccurrenceRef,
  PLANNER_VERSION,
  type Plan,
  type PlanCut,
  type PlanInterval,
  type PlannedOccurrence,
  PlannerError,
  type PlanReason,
} from './types.js';

/** Longest window one call plans (the agent plans 14 days, DESIGN.md §5; previews up to a quarter). */
export const MAX_WINDOW_MS = 92 * DAY_MS;
/** How far beyond the window the planner follows chains of overlapping occurrences. */
export const MAX_CONTEXT_MS = 7 * DAY_MS;
/** Instants the planner accepts: 1970 … 9999. */
const MAX_INSTANT = Date.UTC(9999, 11, 31);

/** The window to plan, as UTC timestamps (`from` inclusive, `to` exclusive). */
export interface PlanRequest {
  from: string;
  to: string;
}

function parseWindowEdge(s: string, name: string): number {
  // Date.parse alone would also take "March 7" or a local time; the window is protocol time (UTC `Z`).
  const t = UtcTimestamp.safeParse(s).success ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(t) || t < 0 || t > MAX_INSTANT) {
    throw new PlannerError(
      'invalid-window',
      `window ${name} "${s}" is not a UTC instant between 1970 and 9999`,
    );
  }
  return t;
}

/** Priority order (DESIGN.md §5): class, explicit priority, earlier creation, then id. */
function comparePrepared(a: PreparedEntry, b: PreparedEntry): number {
  const ea = a.entry;
  const eb = b.entry;
  return (
    b.classRank - a.classRank ||
    eb.priority - ea.priority ||
    a.createdAt - b.createdAt ||
    (ea.id < eb.id ? -1 : ea.id > eb.id ? 1 : 0)
  );
}

/** The id of a sharing key's text, added on first sight. */
function intern(k: string, interned: Map<string, number>, keyNames: string[]): number {
  let id = interned.get(k);
  if (id === undefined) {
    id = keyNames.length;
    interned.set(k, id);
    keyNames.push(k);
  }
  return id;
}

// Comparators are module functions, not closures: a plan call must not allocate per comparison site.
function byPaddedStart(a: Occurrence, b: Occurrence): number {
  return a.pStart - b.pStart;
}
function byRankThenStart(a: Occurrence, b: Occurrence): number {
  return a.prep.rank - b.prep.rank || a.start - b.start;
}
function byStartThenEntry(a: Occurrence, b: Occurrence): number {
  return a.start - b.start || (a.prep.entry.id < b.prep.entry.id ? -1 : 1);
}

/** Entries in priority order with their sharing keys interned; `keyNames[id]` is a key's text. */
function prepareAll(doc: ScheduleDocument): { preps: PreparedEntry[]; keyNames: string[] } {
  const receivers = doc.receivers;
  const interned = new Map<string, number>();
  const keyNames: string[] = [];
  const preps: PreparedEntry[] = [];
  for (const e of doc.entries) preps.push(prepareEntry(e));
  const anyTransponder = receivers.some(isTransponderSharing);
  preps.sort(comparePrepared);
  for (let rank = 0; rank < preps.length; rank++) {
    const p = preps[rank]!;
    p.rank = rank;
    const e = p.entry;
    const tuning = Object.hasOwn(doc.tuning, e.service) ? doc.tuning[e.service] : undefined;
    if (tuning === undefined) {
      throw new PlannerError('unknown-service', `entry "${e.id}": service "${e.service}" has no tuning`);
    }
    const tp = anyTransponder ? `transponder:${transponderKey(tuning.transponder)}` : '';
    const sv = `service:${e.service}`;
    const keys: number[] = [];
    let pin = -1;
    for (let r = 0; r < receivers.length; r++) {
      const rx = receivers[r]!;
      keys.push(intern(rx.sharing === 'transponder' ? tp : sv, interned, keyNames));
      if (rx.id === e.receiverId) pin = r;
    }
    p.keys = keys;
    if (e.receiverId !== undefined) {
      if (pin < 0) {
        throw new PlannerError(
          'unknown-receiver',
          `entry "${e.id}": receiver "${e.receiverId}" is not declared`,
        );
      }
      p.pin = pin;
    }
  }
  return { preps, keyNames };
}

function isTransponderSharing(r: { sharing: string }): boolean {
  return r.sharing === 'transponder';
}

function isWeekly(p: PreparedEntry): boolean {
  return p.weekly !== null;
}

function makeZone(timeZone: string): ZoneClock {
  try {
    return new ZoneClock(timeZone);
  } catch {
    throw new PlannerError('invalid-time', `unknown time zone "${timeZone}"`);
  }
}

/**
 * Expands everything chained to `[from, to)` by overlap. Returns the occurrences overlapping the widened
 * range and that range.
 */
function expandWithContext(
  preps: readonly PreparedEntry[],
  zone: ZoneClock,
  from: number,
  to: number,
): { occurrences: Occurrence[]; lo: number; hi: number } {
  const floor = from - MAX_CONTEXT_MS;
  const ceil = to + MAX_CONTEXT_MS;
  let rangeFrom = from - DAY_MS;
  let rangeTo = to + DAY_MS;
  for (;;) {
    // Expanded in priority order (entries are sorted, each entry's occurrences come by start), which is
    // the order allocation needs; the component sweep needs them by padded start, so it sorts a copy.
    const all: Occurrence[] = [];
    for (const p of preps) expandEntry(p, zone, rangeFrom, rangeTo, all);
    const byStart = all.slice().sort(byPaddedStart);
    // Merge padded intervals into connected components (sweep by start); widen [lo, hi) by every
    // component overlapping the window. Components are disjoint, so no further chaining is possible.
    let lo = from;
    let hi = to;
    let cs = 0;
    let ce = Number.NEGATIVE_INFINITY;
    for (let i = 0; i <= byStart.length; i++) {
      const o = byStart[i];
      if (o !== undefined && o.pStart < ce) {
        if (o.pEnd > ce) ce = o.pEnd;
        continue;
      }
      if (cs < to && ce > from) {
        if (cs < lo) lo = cs;
        if (ce > hi) hi = ce;
      }
      if (o !== undefined) {
        cs = o.pStart;
        ce = o.pEnd;
      }
    }
    lo = Math.max(lo, floor);
    hi = Math.min(hi, ceil);
    // Anything not yet expanded that could overlap [lo, hi) lies beyond the expanded range.
    const needFrom = lo < rangeFrom && rangeFrom > floor;
    const needTo = hi > rangeTo && rangeTo < ceil;
    if (!needFrom && !needTo) {
      const occurrences: Occurrence[] = [];
      for (const o of all) if (o.pStart < hi && o.pEnd > lo) occurrences.push(o);
      return { occurrences, lo, hi };
    }
    rangeFrom = Math.max(floor, Math.min(rangeFrom, lo - DAY_MS));
    rangeTo = Math.min(ceil, Math.max(rangeTo, hi + DAY_MS));
  }
}

/** Plans `doc` over `window`. Throws `PlannerError` for a window or document it cannot plan. */
export function plan(doc: ScheduleDocument, window: PlanRequest): Plan {
  if (!isPlannerVersionSupported(doc.plannerVersion)) {
    throw new PlannerError(
      'unsupported-planner-version',
      `document written for planner version ${doc.plannerVersion}; this is version ${PLANNER_VERSION}`,
    );
  }
  const from = parseWindowEdge(window.from, 'from');
  const to = parseWindowEdge(window.to, 'to');
  if (!(to > from)) throw new PlannerError('invalid-window', 'window "to" must be after "from"');
  if (to - from > MAX_WINDOW_MS) {
    throw new PlannerError('invalid-window', `window longer than ${MAX_WINDOW_MS / DAY_MS} days`);
  }
  const { preps, keyNames } = prepareAll(doc);
  // Only weekly rules need the zone (one-off and guide-resolved instants are UTC already).
  const zone = makeZone(preps.some(isWeekly) ? doc.timeZone : 'UTC');
  const { occurrences, lo, hi } = expandWithContext(preps, zone, from, to);

  // Already in priority order but for guide items listed out of order: a near-sorted input sorts in O(n).
  const order = occurrences.slice().sort(byRankThenStart);
  allocate(order, doc.receivers.length);

  const out: Occurrence[] = [];
  for (const o of occurrences) if (o.pStart < to && o.pEnd > from) out.push(o);
  out.sort(byStartThenEntry);
  const iso = new IsoFormatter();
  const planned: PlannedOccurrence[] = [];
  for (const o of out) planned.push(toPlanned(o, doc, iso, keyNames));
  return {
    plannerVersion: PLANNER_VERSION,
    documentVersion: { epoch: doc.version.epoch, n: doc.version.n },
    timeZone: doc.timeZone,
    window: { from: iso.format(from), to: iso.format(to) },
    considered: { from: iso.format(lo), to: iso.format(hi) },
    occurrences: planned,
  };
}

function startIso(o: Occurrence, iso: IsoFormatter): string {
  if (o.startIso === '') o.startIso = iso.format(o.start);
  return o.startIso;
}

/** The reference naming `o`; one object per occurrence, shared by every reason and cut that names it. */
function ref(o: Occurrence, iso: IsoFormatter): OccurrenceRef {
  if (o.ref === null) o.ref = { entryId: o.prep.entry.id, nominalStart: startIso(o, iso), title: o.title };
  return o.ref;
}

/** The padding cut that lost the most time (the earlier on a tie). */
function mainPaddingCut(cuts: readonly Cut[]): Cut | null {
  let best: Cut | null = null;
  for (const c of cuts) if (c.padding && (best === null || c.e - c.s > best.e - best.s)) best = c;
  return best;
}

/** The four instants of an occurrence already printed; most part and cut edges are one of them. */
interface Known {
  ps: string;
  s: string;
  en: string;
  pe: string;
}

function text(o: Occurrence, t: number, k: Known, iso: IsoFormatter): string {
  if (t === o.pStart) return k.ps;
  if (t === o.start) return k.s;
  if (t === o.end) return k.en;
  if (t === o.pEnd) return k.pe;
  return iso.format(t);
}

function toPlanned(
  o: Occurrence,
  doc: ScheduleDocument,
  iso: IsoFormatter,
  keyNames: readonly string[],
): PlannedOccurrence {
  const e = o.prep.entry;
  const s = startIso(o, iso);
  const en = iso.format(o.end);
  const ps = o.pStart === o.start ? s : iso.format(o.pStart);
  const pe = o.pEnd === o.end ? en : iso.format(o.pEnd);
  const known: Known = { ps, s, en, pe };
  const parts: PlanInterval[] = [];
  for (let i = 0; i < o.parts.length; i += 2) {
    parts.push({ start: text(o, o.parts[i]!, known, iso), end: text(o, o.parts[i + 1]!, known, iso) });
  }
  const rawCuts = sortedCuts(o);
  const cuts: PlanCut[] = [];
  for (const c of rawCuts) {
    cuts.push({
      start: text(o, c.s, known, iso),
      end: text(o, c.e, known, iso),
      by: ref(c.by, iso),
      padding: c.padding,
    });
  }
  let outcome: PlannedOccurrence['outcome'] = 'planned';
  let reason: PlanReason | null = null;
  if (o.parts.length === 0) {
    outcome = 'dropped';
    reason = { code: 'dropped-by', by: ref(o.lostTo!, iso) };
  } else if (o.lost > 0) {
    outcome = 'truncated';
    reason = { code: 'truncated-by', by: ref(o.lostTo!, iso) };
  } else if (o.shared > 0) {
    outcome = 'shared';
    reason = { code: 'shared-with', by: ref(o.sharedWith!, iso) };
  } else {
    const pc = mainPaddingCut(rawCuts);
    if (pc !== null) reason = { code: 'padding-cut-by', by: ref(pc.by, iso) };
  }
  const planned: PlannedOccurrence = {
    entryId: e.id,
    rev: e.rev,
    kind: e.kind,
    class: e.class,
    title: o.title,
    service: e.service,
    record: e.record,
    nominalStart: s,
    nominalEnd: en,
    paddedStart: ps,
    paddedEnd: pe,
    receiverId: doc.receivers[o.receiver]!.id,
    sharingKey: keyNames[o.key] ?? '',
    parts,
    outcome,
    reason,
    cuts,
  };
  if (o.programmeId !== undefined) planned.programmeId = o.programmeId;
  return planned;
}
