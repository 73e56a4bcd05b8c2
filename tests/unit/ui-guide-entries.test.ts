/**
 * The pure parts of the guide grid and the recording form (headend/web/js/guide-grid.js, entry-format.js),
 * table-driven: where a programme sits on the day's axis (clipped at midnight), which channels lead, what
 * a station's plan marks on a programme, and the time arithmetic of the form (an end past midnight is the
 * next day). The browser test (tests/e2e/ui-entries.test.ts) covers the same through the pages.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';

interface Programme {
  service: string;
  start: string;
  stop: string;
}
interface Occurrence {
  service: string;
  kind: string;
  record: boolean;
  nominalStart: string;
  nominalEnd: string;
  outcome: string;
}
interface Grid {
  PX_PER_MIN: number;
  dayBounds(day: string, tz: string): { from: number; to: number };
  orderServices(
    services: { key: string }[],
    preferred: string[],
  ): { services: { key: string }[]; preferred: Set<string> };
  servicesByUse(items: { service: string }[]): string[];
  placement(
    p: Programme,
    from: number,
    to: number,
  ): { left: number; width: number; clippedStart: boolean; clippedEnd: boolean };
  marksFor(p: Programme, occ: Occurrence[]): Occurrence[];
  worstOutcome(marks: { outcome: string }[]): string | null;
  airState(p: Programme, now: number): string;
}
interface Form {
  addMinutesHm(hm: string, minutes: number): string;
  minutesBetween(start: string, end: string): number;
  weekdaysText(days: number[]): string;
  describeWhen(when: Record<string, unknown>, tz: string): string;
  previewWindow(when: Record<string, unknown>, now?: number): { from?: string; to?: string };
}

const load = async <T>(file: string) => (await import(pathToFileURL(path.resolve(file)).href)) as T;
const TZ = 'Asia/Shanghai';
const at = (s: string) => Date.parse(s);

t.test('the grid places programmes on the local day, clipped at its edges', async (t) => {
  const g = await load<Grid>('headend/web/js/guide-grid.js');
  const { from, to } = g.dayBounds('2026-03-06', TZ);
  t.equal(from, at('2026-03-06T00:00:00+08:00'), 'Beijing midnight (DOMAIN.md §1: UTC+8)');
  t.equal(to - from, 24 * 3_600_000);
  const cases: [
    string,
    string,
    string,
    { left: number; width: number; clippedStart: boolean; clippedEnd: boolean },
  ][] = [
    [
      '19:00 for 30 min',
      '2026-03-06T19:00:00+08:00',
      '2026-03-06T19:30:00+08:00',
      {
        left: 19 * 60 * g.PX_PER_MIN,
        width: 30 * g.PX_PER_MIN,
        clippedStart: false,
        clippedEnd: false,
      },
    ],
    [
      'from the evening before',
      '2026-03-05T23:30:00+08:00',
      '2026-03-06T00:45:00+08:00',
      {
        left: 0,
        width: 45 * g.PX_PER_MIN,
        clippedStart: true,
        clippedEnd: false,
      },
    ],
    [
      'into the next day',
      '2026-03-06T23:00:00+08:00',
      '2026-03-07T01:00:00+08:00',
      {
        left: 23 * 60 * g.PX_PER_MIN,
        width: 60 * g.PX_PER_MIN,
        clippedStart: false,
        clippedEnd: true,
      },
    ],
    [
      'a zero-length slot stays clickable',
      '2026-03-06T08:00:00+08:00',
      '2026-03-06T08:00:00+08:00',
      {
        left: 8 * 60 * g.PX_PER_MIN,
        width: 2,
        clippedStart: false,
        clippedEnd: false,
      },
    ],
  ];
  for (const [name, start, stop, want] of cases)
    t.same(g.placement({ service: 'x', start, stop }, from, to), want, name);
});

t.test("the station's channels lead, most used first", async (t) => {
  const g = await load<Grid>('headend/web/js/guide-grid.js');
  const services = ['cctv1', 'cctv7', 'gstv', 'nxtv'].map((key) => ({ key }));
  const byUse = g.servicesByUse([{ service: 'gstv' }, { service: 'cctv7' }, { service: 'gstv' }]);
  t.same(byUse, ['gstv', 'cctv7']);
  const o = g.orderServices(services, [...byUse, 'gone', 'gstv']);
  t.same(
    o.services.map((s) => s.key),
    ['gstv', 'cctv7', 'cctv1', 'nxtv'],
    'then the line-up order; unknown services and repeats ignored',
  );
  t.same([...o.preferred], ['gstv', 'cctv7']);
  t.same(
    g.orderServices(services, []).services.map((s) => s.key),
    ['cctv1', 'cctv7', 'gstv', 'nxtv'],
    'no station: line-up order',
  );
});

t.test("a programme is marked with the station's recordings over it, worst outcome first", async (t) => {
  const g = await load<Grid>('headend/web/js/guide-grid.js');
  const p = { service: 'cctv7', start: '2026-03-06T11:00:00Z', stop: '2026-03-06T12:00:00Z' };
  const occ = (
    service: string,
    s: string,
    e: string,
    outcome = 'planned',
    kind = 'recording',
    record = true,
  ) => ({
    service,
    kind,
    record,
    outcome,
    nominalStart: `2026-03-06T${s}:00Z`,
    nominalEnd: `2026-03-06T${e}:00Z`,
  });
  const list = [
    occ('cctv7', '11:00', '11:30'),
    occ('cctv7', '11:30', '12:30', 'truncated'),
    occ('cctv7', '12:00', '12:30'),
    occ('cctv7', '10:00', '11:00'),
    occ('gstv', '11:00', '12:00'),
    occ('cctv7', '11:00', '12:00', 'planned', 'conference', false),
  ];
  const marks = g.marksFor(p, list);
  t.same(
    marks.map((m) => m.nominalStart.slice(11, 16)),
    ['11:00', '11:30'],
    'overlapping recordings on its service only; adjacent slots and shown-only conferences are not marks',
  );
  t.equal(g.worstOutcome(marks), 'truncated');
  t.equal(
    g.worstOutcome([{ outcome: 'planned' }, { outcome: 'dropped' }, { outcome: 'truncated' }]),
    'dropped',
  );
  t.equal(g.worstOutcome([]), null);
  t.equal(g.airState(p, at('2026-03-06T11:59:59Z')), 'now');
  t.equal(g.airState(p, at('2026-03-06T12:00:00Z')), 'past');
  t.equal(g.airState(p, at('2026-03-06T10:59:59Z')), '');
});

t.test('the form’s times: end and duration, midnight, weekdays in words', async (t) => {
  const f = await load<Form>('headend/web/js/entry-format.js');
  t.equal(f.addMinutesHm('19:00', 30), '19:30');
  t.equal(f.addMinutesHm('23:50', 20), '00:10', 'past midnight');
  t.equal(f.minutesBetween('19:00', '19:45'), 45);
  t.equal(f.minutesBetween('23:30', '00:15'), 45, 'an end before the start is the next day');
  t.equal(f.minutesBetween('19:00', '19:00'), 1440, 'the same time is a whole day');
  t.equal(f.weekdaysText([5, 4, 3, 2, 1]), '周一至周五', 'Chinese by default');
  t.equal(f.weekdaysText([1, 2, 3, 4, 5, 6, 7]), '每天');
  t.equal(f.weekdaysText([7, 6]), '周末');
  t.equal(f.weekdaysText([1, 3]), '周一、周三');
  t.equal(
    f.describeWhen(
      { type: 'weekly', weekdays: [1, 2, 3, 4, 5], startLocal: '19:00', durationMin: 30, from: '2026-03-02' },
      TZ,
    ),
    '周一至周五 19:00–19:30 · 自 2026-03-02 起',
  );
  t.equal(
    f.describeWhen({ type: 'once', start: '2026-03-06T11:00:00Z', end: '2026-03-06T12:30:00Z' }, TZ),
    '2026-03-06 19:00–20:30',
    'in Beijing time',
  );
});

t.test('the preview covers the slots the form describes', async (t) => {
  const f = await load<Form>('headend/web/js/entry-format.js');
  t.same(f.previewWindow({ type: 'once', start: '2026-05-01T11:00:00Z', end: '2026-05-01T12:00:00Z' }), {
    from: '2026-04-30T23:00:00.000Z',
    to: '2026-05-02T00:00:00.000Z',
  });
  const now = at('2026-03-04T02:00:00Z');
  t.same(
    f.previewWindow({ type: 'weekly', fromMs: at('2026-04-01T11:00:00Z') }, now),
    { from: '2026-04-01T11:00:00.000Z', to: '2026-04-08T11:00:00.000Z' },
    'a rule starting later: its first week',
  );
  t.same(
    f.previewWindow({ type: 'weekly', fromMs: at('2026-01-01T11:00:00Z') }, now),
    { from: '2026-03-04T02:00:00.000Z', to: '2026-03-11T02:00:00.000Z' },
    'a running rule: the coming week',
  );
  t.same(f.previewWindow({ type: 'series' }), {}, 'guide-linked: the server default');
});
