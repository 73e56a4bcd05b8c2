/**
 * Expansion of entries into occurrences (DESIGN.md §5): weekly rules by arithmetic in the document's zone,
 * one-off and guide-resolved entries as given. Checked through `plan()` (what the station executes) and,
 * for local → UTC conversion, against a brute-force Intl oracle over many zones.
 */
import fc from 'fast-check';
import t from 'tap';
import type { WeeklyRule } from '../../protocol/messages/schedule.js';
import { canonicalUtc, isoWeekday, parseLocalDate, plan, ZoneClock } from '../../protocol/planner/index.js';
import { civilFromDays, DAY_MS, daysFromCivil, MINUTE_MS } from '../../protocol/planner/local-time.js';
import { once, recording, scheduleDocument } from '../helpers/golden.js';

type Weekly = Omit<WeeklyRule, 'type'>;

/** Nominal starts (UTC) of one weekly entry over a window. */
function starts(rule: Weekly, window: { from: string; to: string }, timeZone = 'Asia/Shanghai'): string[] {
  const doc = scheduleDocument({
    timeZone,
    entries: [recording({ id: 'w', service: 'cctv1', when: { type: 'weekly', ...rule } })],
  });
  return plan(doc, window).occurrences.map((o) => o.nominalStart);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local wall time of an instant in a zone, `YYYY-MM-DD HH:MM` (independent of the planner). */
function localText(instant: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const p = f.formatToParts(instant);
  const g = (k: string) => p.find((x) => x.type === k)?.value ?? '';
  return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}`;
}

t.test('weekly rules: weekdays, from/until, midnight crossing (Asia/Shanghai, UTC+8)', async (t) => {
  const march = { from: '2026-03-01T16:00:00Z', to: '2026-03-15T16:00:00Z' }; // local 2–15 March
  const cases: { name: string; rule: Weekly; window?: { from: string; to: string }; want: string[] }[] = [
    {
      name: 'Mon–Fri 19:00 over two local weeks: ten evenings, none at the weekend',
      rule: { weekdays: [1, 2, 3, 4, 5], startLocal: '19:00', durationMin: 30, from: '2026-01-01' },
      want: [2, 3, 4, 5, 6, 9, 10, 11, 12, 13].map((d) => `2026-03-${String(d).padStart(2, '0')}T11:00:00Z`),
    },
    {
      name: 'weekday list order does not matter; Sunday is 7',
      rule: { weekdays: [7, 1], startLocal: '08:05', durationMin: 10, from: '2026-01-01' },
      want: ['2026-03-02T00:05:00Z', '2026-03-08T00:05:00Z', '2026-03-09T00:05:00Z', '2026-03-15T00:05:00Z'],
    },
    {
      name: 'from and until are inclusive local dates',
      rule: {
        weekdays: [1, 2, 3, 4, 5, 6, 7],
        startLocal: '12:00',
        durationMin: 60,
        from: '2026-03-05',
        until: '2026-03-07',
      },
      want: ['2026-03-05T04:00:00Z', '2026-03-06T04:00:00Z', '2026-03-07T04:00:00Z'],
    },
    {
      name: 'a rule that starts after the window yields nothing',
      rule: { weekdays: [1, 2, 3, 4, 5, 6, 7], startLocal: '12:00', durationMin: 60, from: '2026-04-01' },
      want: [],
    },
    {
      name: 'a rule that ended before the window yields nothing',
      rule: {
        weekdays: [1, 2, 3, 4, 5, 6, 7],
        startLocal: '12:00',
        durationMin: 60,
        from: '2026-01-01',
        until: '2026-02-28',
      },
      want: [],
    },
    {
      name: 'a 23:30 slot belongs to the local day it starts on; the one running over the window start is included',
      rule: { weekdays: [1], startLocal: '23:30', durationMin: 90, from: '2026-01-01' },
      window: { from: '2026-03-02T16:00:00Z', to: '2026-03-10T16:00:00Z' }, // local Tue 3 → Wed 11 March
      want: ['2026-03-02T15:30:00Z', '2026-03-09T15:30:00Z'],
    },
    {
      name: 'a slot ending exactly at the window start is not in the window (half-open intervals)',
      rule: { weekdays: [1], startLocal: '23:00', durationMin: 60, from: '2026-01-01' },
      window: { from: '2026-03-02T16:00:00Z', to: '2026-03-03T16:00:00Z' },
      want: [],
    },
    {
      name: '00:00 and 24-hour slots',
      rule: { weekdays: [3], startLocal: '00:00', durationMin: 1440, from: '2026-01-01' },
      want: ['2026-03-03T16:00:00Z', '2026-03-10T16:00:00Z'],
    },
  ];
  for (const c of cases) t.same(starts(c.rule, c.window ?? march), c.want, c.name);
});

t.test(
  'weekly rules across DST changes (Europe/Berlin, America/New_York, Australia/Lord_Howe)',
  async (t) => {
    const cases: {
      name: string;
      tz: string;
      rule: Weekly;
      window: { from: string; to: string };
      want: string[];
    }[] = [
      {
        name: 'Berlin spring forward: 19:00 is 18:00Z before and 17:00Z after 2026-03-29',
        tz: 'Europe/Berlin',
        rule: { weekdays: [6, 7, 1], startLocal: '19:00', durationMin: 60, from: '2026-01-01' },
        window: { from: '2026-03-28T00:00:00Z', to: '2026-03-31T00:00:00Z' },
        want: ['2026-03-28T18:00:00Z', '2026-03-29T17:00:00Z', '2026-03-30T17:00:00Z'],
      },
      {
        name: 'Berlin spring forward: 02:30 does not exist on the 29th and moves on by the gap (03:30 CEST)',
        tz: 'Europe/Berlin',
        rule: { weekdays: [6, 7, 1], startLocal: '02:30', durationMin: 30, from: '2026-01-01' },
        window: { from: '2026-03-28T00:00:00Z', to: '2026-03-31T00:00:00Z' },
        want: ['2026-03-28T01:30:00Z', '2026-03-29T01:30:00Z', '2026-03-30T00:30:00Z'],
      },
      {
        name: 'Berlin fall back: 02:30 happens twice on 2026-10-25; the earlier (CEST) is used',
        tz: 'Europe/Berlin',
        rule: { weekdays: [6, 7, 1], startLocal: '02:30', durationMin: 30, from: '2026-01-01' },
        window: { from: '2026-10-24T00:00:00Z', to: '2026-10-27T00:00:00Z' },
        want: ['2026-10-24T00:30:00Z', '2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z'],
      },
      {
        name: 'a slot crossing the change lasts its duration in elapsed time (01:30 + 120 min)',
        tz: 'Europe/Berlin',
        rule: { weekdays: [7], startLocal: '01:30', durationMin: 120, from: '2026-01-01' },
        window: { from: '2026-03-28T00:00:00Z', to: '2026-03-30T00:00:00Z' },
        want: ['2026-03-29T00:30:00Z'],
      },
      {
        name: 'New York springs forward at 02:00 local on 2026-03-08: 02:15 → 03:15 EDT',
        tz: 'America/New_York',
        rule: { weekdays: [6, 7], startLocal: '02:15', durationMin: 15, from: '2026-01-01' },
        window: { from: '2026-03-07T00:00:00Z', to: '2026-03-09T00:00:00Z' },
        want: ['2026-03-07T07:15:00Z', '2026-03-08T07:15:00Z'],
      },
      {
        name: 'Lord Howe Island changes by 30 min (+10:30 → +11) at 02:00 local on 2026-10-04',
        tz: 'Australia/Lord_Howe',
        rule: { weekdays: [6, 7, 1], startLocal: '02:10', durationMin: 15, from: '2026-01-01' },
        window: { from: '2026-10-02T00:00:00Z', to: '2026-10-05T12:00:00Z' },
        want: ['2026-10-02T15:40:00Z', '2026-10-03T15:40:00Z', '2026-10-04T15:10:00Z'],
      },
    ];
    for (const c of cases) t.same(starts(c.rule, c.window, c.tz), c.want, c.name);
  },
);

t.test(
  'every weekly occurrence starts at the local time and weekday asked for (Berlin, a year)',
  async (t) => {
    const rule: Weekly = { weekdays: [2, 4, 7], startLocal: '21:45', durationMin: 50, from: '2026-01-01' };
    const got = starts(rule, { from: '2026-01-01T00:00:00Z', to: '2026-03-31T00:00:00Z' }, 'Europe/Berlin');
    const later = starts(rule, { from: '2026-03-31T00:00:00Z', to: '2026-06-29T00:00:00Z' }, 'Europe/Berlin');
    const all = [...got, ...later];
    t.ok(all.length > 70, `${all.length} occurrences`);
    for (const s of all) {
      const local = localText(Date.parse(s), 'Europe/Berlin');
      const wd = isoWeekday(parseLocalDate(local.slice(0, 10)));
      if (!local.endsWith('21:45') || ![2, 4, 7].includes(wd)) t.fail(`${s} is ${local} (weekday ${wd})`);
    }
    t.equal(new Set(all).size, all.length, 'no occurrence twice');
  },
);

/**
 * Oracle: every minute instant within ±15 h of the wall time whose local rendering equals it; the earliest
 * wins; none (a gap) → read with the offset in force 15 h earlier.
 */
function oracleLocalToUtc(tz: string, day: number, minute: number): number {
  const { y, m, d } = civilFromDays(day);
  const want = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')} ${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  const local = day * DAY_MS + minute * MINUTE_MS;
  for (let off = 15 * 60; off >= -15 * 60; off -= 15) {
    const cand = local - off * MINUTE_MS;
    if (localText(cand, tz) === want) return cand;
  }
  const probe = local - 15 * 3_600_000;
  const [date, time] = localText(probe, tz).split(' ') as [string, string];
  const probeLocal =
    parseLocalDate(date) * DAY_MS + (Number(time.slice(0, 2)) * 60 + Number(time.slice(3))) * MINUTE_MS;
  return local - (probeLocal - probe);
}

t.test('ZoneClock.localToUtc agrees with a brute-force Intl oracle', async (t) => {
  const zones = [
    'Asia/Shanghai',
    'Europe/Berlin',
    'America/New_York',
    'America/Sao_Paulo',
    'Australia/Sydney',
    'Australia/Lord_Howe',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Pacific/Chatham',
    'UTC',
  ];
  // Days around the DST changes of 2026 and random days of 2000–2040.
  const around = [
    '2026-03-08',
    '2026-03-29',
    '2026-04-05',
    '2026-09-27',
    '2026-10-04',
    '2026-10-25',
    '2026-11-01',
  ].map(parseLocalDate);
  const dayArb = fc.oneof(
    fc.constantFrom(...around),
    fc.integer({ min: daysFromCivil(2000, 1, 1), max: daysFromCivil(2040, 12, 31) }),
  );
  const minuteArb = fc.oneof(
    fc.integer({ min: 0, max: 1439 }),
    fc.constantFrom(0, 60, 120, 150, 165, 179, 180),
  );
  fc.assert(
    fc.property(fc.constantFrom(...zones), dayArb, minuteArb, (tz, day, minute) => {
      const got = new ZoneClock(tz).localToUtc(day, minute);
      const want = oracleLocalToUtc(tz, day, minute);
      if (got !== want)
        throw new Error(`${tz} day ${day} minute ${minute}: ${canonicalUtc(got)} ≠ ${canonicalUtc(want)}`);
    }),
    { numRuns: 300, seed: 20260306 },
  );
  t.pass('300 random zone/day/minute triples agree');
});

t.test(
  'one ZoneClock answers consistently over a long span (samples and located changes are reused)',
  async (t) => {
    const zone = new ZoneClock('Europe/Berlin');
    const first = daysFromCivil(2026, 1, 1);
    for (let day = first; day < first + 366; day++) {
      const got = zone.localToUtc(day, 150);
      const fresh = new ZoneClock('Europe/Berlin').localToUtc(day, 150);
      if (got !== fresh) t.fail(`day ${day}: ${canonicalUtc(got)} vs ${canonicalUtc(fresh)}`);
    }
    t.equal(zone.offsetAt(Date.parse('2026-03-29T00:59:59Z')), 3_600_000, 'CET one second before the change');
    t.equal(zone.offsetAt(Date.parse('2026-03-29T01:00:00Z')), 7_200_000, 'CEST at the change');
  },
);

t.test('civil date arithmetic round-trips and knows the weekday', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -800_000, max: 2_900_000 }), (day) => {
      const { y, m, d } = civilFromDays(day);
      return daysFromCivil(y, m, d) === day;
    }),
  );
  t.equal(isoWeekday(0), 4, '1970-01-01 was a Thursday');
  t.equal(isoWeekday(parseLocalDate('2026-03-06')), 5, '2026-03-06 is a Friday');
  t.equal(isoWeekday(parseLocalDate('1969-12-28')), 7, 'before the epoch too');
});

t.test('planner timestamps are canonical: toISOString without a zero fraction', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), (ms) => {
      const want = new Date(ms).toISOString().replace('.000Z', 'Z');
      return canonicalUtc(ms) === want;
    }),
    { numRuns: 2000 },
  );
  const doc = scheduleDocument({
    entries: [
      recording({
        id: 'x',
        service: 'cctv1',
        when: once('2026-03-06T11:00:00.000Z', '2026-03-06T11:30:00.250Z'),
      }),
    ],
  });
  const [o] = plan(doc, { from: '2026-03-06T00:00:00Z', to: '2026-03-07T00:00:00Z' }).occurrences;
  t.equal(
    o?.nominalStart,
    '2026-03-06T11:00:00Z',
    'identity does not depend on how the document spelled the instant',
  );
  t.equal(o?.nominalEnd, '2026-03-06T11:30:00.250Z');
});

t.test(
  'one-off and guide-resolved entries are listed when their padded interval overlaps the window',
  async (t) => {
    const doc = scheduleDocument({
      entries: [
        recording({
          id: 'pad',
          service: 'cctv1',
          padBeforeMs: 5 * MINUTE_MS,
          when: once('2026-03-07T00:02:00Z', '2026-03-07T00:30:00Z'),
        }),
        recording({
          id: 'series',
          service: 'gstv',
          when: {
            type: 'occurrences',
            items: [
              { start: '2026-03-05T10:00:00Z', end: '2026-03-05T11:00:00Z' },
              {
                start: '2026-03-06T10:00:00Z',
                end: '2026-03-06T11:00:00Z',
                title: 'Ep. 2',
                programmeId: 'p2',
              },
            ],
          },
        }),
      ],
    });
    const got = plan(doc, { from: '2026-03-06T00:00:00Z', to: '2026-03-07T00:00:00Z' }).occurrences;
    t.same(
      got.map((o) => [o.entryId, o.nominalStart, o.title, o.programmeId ?? null]),
      [
        ['series', '2026-03-06T10:00:00Z', 'Ep. 2', 'p2'],
        ['pad', '2026-03-07T00:02:00Z', 'pad', null],
      ],
      'padding reaching into the window counts; yesterday’s episode does not',
    );
  },
);
