/**
 * Planner invariants (DESIGN.md §5) over random documents (fast-check): a reason names the occurrence that
 * really holds the receiver at the lost/shared time; one sharing key per receiver at a time; a higher class
 * is never cut by a lower one; time is accounted for; same input → same output (entries shuffled too); an
 * edit that only moves an end keeps identities; the window asked for does not change the answer.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import type {
  ScheduleDocument,
  ScheduleDocumentInput,
  ScheduleEntry,
} from '../../protocol/messages/schedule.js';
import { occurrenceKey, type Plan, plan } from '../../protocol/planner/index.js';
import { classRank } from '../../protocol/registry.js';
import { conference, recording, scheduleDocument } from '../helpers/golden.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Saturday before Berlin's 2026 spring-forward, so weekly rules in Europe/Berlin cross a DST change. */
const BASE = Date.parse('2026-03-27T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const FULL = { from: iso(BASE - 24 * HOUR), to: iso(BASE + 5 * 24 * HOUR) };
type EntryInput = ScheduleDocumentInput['entries'][number];

const whenArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({ at: fc.integer({ min: 0, max: 2 * 288 }), dur: fc.integer({ min: 1, max: 48 }) })
      .map(({ at, dur }) => ({
        type: 'once' as const,
        start: iso(BASE + at * 5 * MIN),
        end: iso(BASE + (at + dur) * 5 * MIN),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        weekdays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        minute: fc.integer({ min: 0, max: 287 }),
        dur: fc.integer({ min: 1, max: 36 }),
      })
      .map(({ weekdays, minute, dur }) => ({
        type: 'weekly' as const,
        weekdays,
        startLocal: `${String(Math.floor(minute / 12)).padStart(2, '0')}:${String((minute % 12) * 5).padStart(2, '0')}`,
        durationMin: dur * 5,
        from: '2026-03-01',
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .uniqueArray(fc.integer({ min: 0, max: 2 * 288 }), { minLength: 1, maxLength: 3 })
      .chain((starts) =>
        fc.tuple(...starts.map(() => fc.integer({ min: 1, max: 36 }))).map((durs) => ({
          type: 'occurrences' as const,
          items: starts.map((s, i) => ({
            start: iso(BASE + s * 5 * MIN),
            end: iso(BASE + (s + durs[i]!) * 5 * MIN),
            title: `ep ${i}`,
          })),
        })),
      ),
  },
);

const entryArb = fc.record({
  kind: fc.constantFrom('conference', 'mandated', 'operator', 'operator', 'operator'),
  priority: fc.integer({ min: -1, max: 1 }),
  createdDay: fc.integer({ min: 1, max: 3 }),
  service: fc.constantFrom('cctv1', 'cctv2', 'gstv'),
  padBefore: fc.constantFrom(0, 2, 5, 10),
  padAfter: fc.constantFrom(0, 5, 10),
  preRoll: fc.constantFrom(0, 5),
  pin: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 4 }),
  when: whenArb,
});

const docArb = fc
  .record({
    receivers: fc.array(fc.constantFrom('service' as const, 'transponder' as const), {
      minLength: 1,
      maxLength: 3,
    }),
    timeZone: fc.constantFrom('Asia/Shanghai', 'Europe/Berlin'),
    entries: fc.array(entryArb, { minLength: 1, maxLength: 14 }),
  })
  .map(({ receivers, timeZone, entries }) =>
    scheduleDocument({
      timeZone,
      receivers: receivers.map((sharing, i) => ({ id: `r${i + 1}`, sharing })),
      entries: entries.map((e, i): EntryInput => {
        const common = {
          id: `e${String(i).padStart(2, '0')}`,
          title: `Entry ${i}`,
          priority: e.priority,
          createdAt: `2026-02-0${e.createdDay}T00:00:00Z`,
          service: e.service,
          padBeforeMs: e.padBefore * MIN,
          padAfterMs: e.padAfter * MIN,
          when: e.when,
          ...(e.pin !== null && e.pin < receivers.length ? { receiverId: `r${e.pin + 1}` } : {}),
        };
        return e.kind === 'conference'
          ? conference({ ...common, preRollMs: e.preRoll * MIN })
          : recording(common, e.kind);
      }),
    }),
  );

type Span = [number, number];
const spans = (o: { parts: { start: string; end: string }[] }): Span[] =>
  o.parts.map((p) => [Date.parse(p.start), Date.parse(p.end)]);
const overlap = (a: Span, b: Span) => Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
const overlapAny = (xs: Span[], y: Span) => xs.some((x) => overlap(x, y) > 0);
const covered = (xs: Span[], y: Span) => xs.reduce((sum, x) => sum + overlap(x, y), 0) === y[1] - y[0];

/** Priority order of DESIGN.md §5, written again here independently of the planner. */
function ranksBefore(a: ScheduleEntry, aStart: string, b: ScheduleEntry, bStart: string): boolean {
  const ka = [-classRank(a.class), -a.priority, Date.parse(a.createdAt)];
  const kb = [-classRank(b.class), -b.priority, Date.parse(b.createdAt)];
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]!;
  if (a.id !== b.id) return a.id < b.id;
  return Date.parse(aStart) < Date.parse(bStart);
}

/**
 * Every invariant of one plan; throws a message naming the occurrence that breaks it. A reason may name an
 * occurrence outside the window (an occurrence just before it, still holding the receiver), so names are
 * looked up in the plan of `p.considered`, which holds every occurrence chained to the window.
 */
function checkPlan(doc: ScheduleDocument, p: Plan): void {
  const seen = new Set<string>();
  for (const o of p.occurrences) {
    if (seen.has(occurrenceKey(o))) throw new Error(`${occurrenceKey(o)} listed twice`);
    seen.add(occurrenceKey(o));
  }
  const context = plan(doc, p.considered);
  const byKey = new Map(context.occurrences.map((o) => [occurrenceKey(o), o]));
  const entry = new Map(doc.entries.map((e) => [e.id, e]));
  const holder = (by: { entryId: string; nominalStart: string }, who: string) => {
    const h = byKey.get(occurrenceKey(by));
    if (h === undefined) throw new Error(`${who}: names ${occurrenceKey(by)}, which is not planned at all`);
    return h;
  };
  for (const o of p.occurrences) {
    const who = occurrenceKey(o);
    const nominal: Span = [Date.parse(o.nominalStart), Date.parse(o.nominalEnd)];
    const ps = spans(o);
    ps.forEach(([s, e], i) => {
      if (!(s < e)) throw new Error(`${who}: empty part`);
      if (s < Date.parse(o.paddedStart) || e > Date.parse(o.paddedEnd))
        throw new Error(`${who}: part outside padding`);
      if (i > 0 && s <= ps[i - 1]![1]) throw new Error(`${who}: parts overlap, touch or are out of order`);
    });
    const hard = o.cuts.filter((c) => !c.padding).map((c): Span => [Date.parse(c.start), Date.parse(c.end)]);
    const kept = ps.reduce((sum, s) => sum + overlap(s, nominal), 0);
    const lost = hard.reduce((sum, c) => sum + overlap(c, nominal), 0);
    if (kept + lost !== nominal[1] - nominal[0])
      throw new Error(`${who}: kept ${kept} + lost ${lost} ≠ nominal time`);
    if ((o.outcome === 'dropped') !== (ps.length === 0)) throw new Error(`${who}: dropped iff no parts`);
    if ((o.outcome === 'truncated' || o.outcome === 'dropped') !== lost > 0)
      throw new Error(`${who}: cut iff time lost`);
    for (const c of o.cuts) {
      const h = holder(c.by, who);
      const span: Span = [Date.parse(c.start), Date.parse(c.end)];
      if (h.receiverId !== o.receiverId || h.sharingKey === o.sharingKey) {
        throw new Error(
          `${who}: cut by ${occurrenceKey(h)} which is not on ${o.receiverId} with another key`,
        );
      }
      // A lost programme interval is held by the named occurrence throughout; lost padding at least in part.
      if (c.padding ? !overlapAny(spans(h), span) : !covered(spans(h), span)) {
        throw new Error(`${who}: ${occurrenceKey(h)} does not hold ${c.start}–${c.end}`);
      }
      const he = entry.get(h.entryId)!;
      const oe = entry.get(o.entryId)!;
      if (classRank(he.class) < classRank(oe.class))
        throw new Error(`${who} (${oe.class}) cut by a lower class`);
      if (!c.padding && !ranksBefore(he, h.nominalStart, oe, o.nominalStart)) {
        throw new Error(`${who}: programme time taken by ${occurrenceKey(h)}, which ranks lower`);
      }
    }
    const r = o.reason;
    if (r === null) {
      if (o.outcome !== 'planned' || o.cuts.length > 0)
        throw new Error(`${who}: ${o.outcome} without a reason`);
      if (!isDeepStrictEqual(o.parts, [{ start: o.paddedStart, end: o.paddedEnd }]))
        throw new Error(`${who}: not whole`);
      continue;
    }
    const h = holder(r.by, who);
    if (h.receiverId !== o.receiverId)
      throw new Error(`${who}: reason names an occurrence on another receiver`);
    if (o.outcome === 'shared') {
      if (r.code !== 'shared-with' || h.sharingKey !== o.sharingKey)
        throw new Error(`${who}: bad shared reason`);
      const mine = ps
        .map((s): Span => [Math.max(s[0], nominal[0]), Math.min(s[1], nominal[1])])
        .filter((s) => s[0] < s[1]);
      if (!mine.some((m) => overlapAny(spans(h), m)))
        throw new Error(`${who}: shares with ${occurrenceKey(h)} but never overlaps it`);
    } else if (o.outcome === 'planned') {
      if (r.code !== 'padding-cut-by' || lost > 0) throw new Error(`${who}: planned with reason ${r.code}`);
      if (!o.cuts.some((c) => c.padding && occurrenceKey(c.by) === occurrenceKey(h)))
        throw new Error(`${who}: reason not a cut`);
    } else {
      if (r.code !== `${o.outcome}-by`) throw new Error(`${who}: ${o.outcome} with ${r.code}`);
      if (!hard.some((c) => overlapAny(spans(h), c)))
        throw new Error(`${who}: ${occurrenceKey(h)} holds none of the lost time`);
    }
  }
  // One sharing key per receiver at any instant.
  const byRx = new Map<string, [number, number, string, string][]>();
  for (const o of context.occurrences) {
    for (const [s, e] of spans(o)) {
      const list = byRx.get(o.receiverId) ?? [];
      list.push([s, e, o.sharingKey, occurrenceKey(o)]);
      byRx.set(o.receiverId, list);
    }
  }
  for (const [rx, list] of byRx) {
    list.sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]![0] < list[i]![1]; j++) {
        if (list[j]![2] !== list[i]![2])
          throw new Error(`${rx}: ${list[i]![3]} and ${list[j]![3]} overlap on two keys`);
      }
    }
  }
}

const RUNS = 250;

t.test('reasons name the real holder; one key per receiver; classes respected; time accounted', async (t) => {
  fc.assert(
    fc.property(docArb, (doc) => {
      checkPlan(doc, plan(doc, FULL));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} random documents`);
});

t.test('same input → same output, whatever the order of the entries', async (t) => {
  fc.assert(
    fc.property(docArb, fc.integer(), (doc, seed) => {
      const a = plan(doc, FULL);
      const shuffled = doc.entries
        .map((e, i) => ({ e, k: (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 }))
        .sort((x, y) => x.k - y.k)
        .map((x) => x.e);
      const b = plan({ ...doc, entries: shuffled }, FULL);
      const c = plan(structuredClone(doc), FULL);
      return isDeepStrictEqual(a, b) && JSON.stringify(a) === JSON.stringify(c);
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} shuffles`);
});

/** The same entry with every occurrence's end moved to `start + minutes` and a new revision. */
function moveEnd(e: ScheduleEntry, minutes: number): ScheduleEntry {
  const w = e.when;
  const end = (start: string) => iso(Date.parse(start) + minutes * MIN);
  const when: ScheduleEntry['when'] =
    w.type === 'once'
      ? { ...w, end: end(w.start) }
      : w.type === 'weekly'
        ? { ...w, durationMin: minutes }
        : { ...w, items: w.items.map((it) => ({ ...it, end: end(it.start) })) };
  return { ...e, rev: e.rev + 1, when };
}

t.test('an edit that only moves an entry’s end keeps every occurrence’s identity', async (t) => {
  fc.assert(
    fc.property(docArb, fc.nat(), fc.integer({ min: 1, max: 600 }), (doc, pick, minutes) => {
      const i = pick % doc.entries.length;
      const edited = { ...doc, entries: doc.entries.map((e, j) => (j === i ? moveEnd(e, minutes) : e)) };
      // Occurrences starting a day into the window are in it whatever their length.
      const late = (p: Plan) =>
        p.occurrences
          .filter((o) => Date.parse(o.nominalStart) >= BASE)
          .map((o) => [occurrenceKey(o), o.paddedStart]);
      const before = plan(doc, FULL);
      const after = plan(edited, FULL);
      if (!isDeepStrictEqual(late(before), late(after))) return false;
      const id = doc.entries[i]!.id;
      return after.occurrences
        .filter((o) => o.entryId === id)
        .every((o) => o.rev === doc.entries[i]!.rev + 1);
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} edits`);
});

t.test('planning a sub-window gives exactly the full plan’s occurrences in that window', async (t) => {
  fc.assert(
    fc.property(
      docArb,
      fc.integer({ min: 0, max: 4 * 288 }),
      fc.integer({ min: 1, max: 2 * 288 }),
      (doc, a, len) => {
        const from = BASE - 24 * HOUR + a * 5 * MIN;
        const to = from + len * 5 * MIN;
        const part = plan(doc, { from: iso(from), to: iso(to) });
        const whole = plan(doc, FULL).occurrences.filter(
          (o) => Date.parse(o.paddedStart) < to && Date.parse(o.paddedEnd) > from,
        );
        if (!isDeepStrictEqual(part.occurrences, whole)) {
          throw new Error(`window ${iso(from)}–${iso(to)} differs from the full plan`);
        }
      },
    ),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} windows`);
});
