/**
 * Guide-linked entries (headend/guide/guide-links.ts, DESIGN.md §5, DOMAIN.md §5) resolved against an
 * in-memory guide: one programme or a series by title with duplicate detection; they follow moved
 * programmes, and a vanished one is kept, flagged "not listed" and warned about.
 */
import t from 'tap';
import {
  type GuideLink,
  type LinkOccurrence,
  resolveGuideLink,
  toScheduleItems,
} from '../../headend/guide/guide-links.js';
import type { GuideReader } from '../../headend/guide/guide-store.js';
import type { GuideProgramme } from '../../headend/guide/guide-validate.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 0, 0); // 08:00 in Shanghai
const NOW = T0 - 24 * H;

function gp(
  id: string,
  title: string,
  s: number,
  e: number,
  over: Partial<GuideProgramme> = {},
): GuideProgramme {
  return {
    service: 'cctv1',
    programmeId: id,
    startMs: T0 + s * H,
    stopMs: T0 + e * H,
    eventId: null,
    title,
    subTitle: null,
    episode: null,
    description: null,
    category: null,
    lang: 'zh',
    titles: null,
    ...over,
  };
}

function reader(programmes: GuideProgramme[]): GuideReader {
  const sorted = [...programmes].sort((a, b) => a.startMs - b.startMs);
  return {
    byStart: (s, f, to) => sorted.filter((p) => p.service === s && p.startMs >= f && p.startMs < to),
    overlapping: (f, to, s) =>
      sorted.filter((p) => (s === undefined || p.service === s) && p.startMs < to && p.stopMs > f),
    get: (s, id) => sorted.find((p) => p.service === s && p.programmeId === id),
    services: () => [...new Set(sorted.map((p) => p.service))],
    count: (s, f, to) => sorted.filter((p) => p.service === s && p.startMs >= f && p.startMs < to).length,
  };
}

const iso = (h: number) => new Date(T0 + h * H).toISOString().replace('.000Z', 'Z');

const football: GuideLink = {
  kind: 'programme',
  service: 'cctv1',
  programmeId: 'h:aaa',
  title: '天下足球',
  start: iso(12),
  stop: iso(13.5),
};

t.test('a programme link resolves to the programme', async (t) => {
  const r = resolveGuideLink(reader([gp('h:aaa', '天下足球', 12, 13.5)]), football, undefined, NOW);
  t.equal(r.status, 'listed');
  t.same(r.occurrences, [
    { start: iso(12), end: iso(13.5), programmeId: 'h:aaa', title: '天下足球', listed: true },
  ]);
  t.same(r.warnings, []);
});

t.test('it follows a move by id (event id survives a move)', async (t) => {
  const link: GuideLink = { ...football, programmeId: 'ev:100' };
  const r = resolveGuideLink(reader([gp('ev:100', '天下足球', 14, 15.5)]), link, undefined, NOW);
  t.equal(r.occurrences[0]?.start, iso(14));
  t.equal(r.warnings[0]?.code, 'MOVED');
});

t.test('it follows a move by title near the old time with a similar duration', async (t) => {
  const guide = reader([
    gp('h:far', '天下足球', 40, 41.5), // too far away
    gp('h:short', '天下足球', 12, 12.25), // not a similar duration
    gp('h:new', '天下足球', 12.5, 14), // moved 30 min: this one
    gp('h:x', '其他', 12, 13.5),
  ]);
  const r = resolveGuideLink(guide, football, undefined, NOW);
  t.equal(r.status, 'listed');
  t.equal(r.occurrences[0]?.programmeId, 'h:new');
  t.match(r.warnings[0]?.message, /moved from .* to /);
  // The next resolution starts from the last known place, so a second move is followed too.
  const again = resolveGuideLink(reader([gp('h:newer', '天下足球', 13, 14.5)]), football, r.occurrences, NOW);
  t.equal(again.occurrences[0]?.programmeId, 'h:newer');
});

t.test('a vanished programme is kept at its last known time, flagged and warned about', async (t) => {
  const r = resolveGuideLink(reader([gp('h:x', '其他', 12, 13.5)]), football, undefined, NOW);
  t.equal(r.status, 'not_listed');
  t.same(r.occurrences, [
    { start: iso(12), end: iso(13.5), programmeId: 'h:aaa', title: '天下足球', listed: false },
  ]);
  t.equal(r.warnings[0]?.code, 'NOT_LISTED');
  t.match(r.warnings[0]?.message, /no longer in the guide/);
  const past = resolveGuideLink(reader([]), football, undefined, T0 + 20 * H);
  t.equal(past.status, 'listed', 'once over, a programme pruned from the guide is not a problem');
});

const series: GuideLink = { kind: 'series', service: 'cctv1', title: '山海情' };

function ep(id: string, s: number, n: number | null, sub: string | null = null): GuideProgramme {
  return gp(id, '山海情', s, s + 0.75, { episode: n === null ? null : `S1E${n}`, subTitle: sub });
}

t.test('a series takes each episode once, the first showing', async (t) => {
  const guide = reader([
    ep('a', 1, 13),
    ep('b', 2, 14),
    ep('c', 30, 13),
    ep('d', 31, 15),
    gp('z', '山海情续集', 3, 4),
  ]);
  const r = resolveGuideLink(guide, series, undefined, NOW);
  t.same(
    r.occurrences.map((o) => o.programmeId),
    ['a', 'b', 'd'],
  );
  t.equal(r.duplicatesSkipped, 1);
  t.equal(r.status, 'listed');
});

t.test(
  'without episode numbers, title + sub-title decide; without those, every showing counts',
  async (t) => {
    const guide = reader([
      ep('a', 1, null, '第一集'),
      ep('b', 2, null, '第一集'),
      ep('c', 3, null, '第二集'),
      ep('d', 4, null),
      ep('e', 5, null),
    ]);
    const r = resolveGuideLink(guide, series, undefined, NOW);
    t.same(
      r.occurrences.map((o) => o.programmeId),
      ['a', 'c', 'd', 'e'],
    );
    const all = resolveGuideLink(guide, { ...series, dedupe: 'none' }, undefined, NOW);
    t.equal(all.occurrences.length, 5);
  },
);

t.test('a series follows a moved episode and flags one that vanished', async (t) => {
  const before = resolveGuideLink(
    reader([ep('a', 1, 13), ep('b', 2, 14), ep('c', 26, 16)]),
    series,
    undefined,
    NOW,
  );
  t.equal(before.occurrences.length, 3);
  const after = resolveGuideLink(
    reader([ep('a', 1, 13), ep('b2', 3, 14), ep('e', 25, 15)]),
    series,
    before.occurrences,
    NOW,
  );
  const byEpisode = Object.fromEntries(after.occurrences.map((o) => [o.episode, o]));
  t.equal(byEpisode.S1E14?.start, iso(3), 'episode 14 followed to its new time');
  t.equal(byEpisode.S1E15?.listed, true, 'a new episode is picked up');
  t.equal(byEpisode.S1E16?.listed, false, 'episode 16 vanished: kept, flagged');
  t.equal(after.status, 'not_listed');
  t.same(after.warnings.map((w) => w.code).sort(), ['MOVED', 'NOT_LISTED']);
});

t.test('episodes already recorded are not recorded again', async (t) => {
  const recorded: LinkOccurrence[] = [
    {
      start: iso(-30),
      end: iso(-29.25),
      programmeId: 'old',
      title: '山海情',
      episode: 'S1E13',
      listed: true,
    },
  ];
  const r = resolveGuideLink(reader([ep('rerun', 5, 13), ep('n', 6, 14)]), series, recorded, T0);
  t.same(
    r.occurrences.map((o) => o.programmeId),
    ['old', 'n'],
  );
  t.equal(r.duplicatesSkipped, 1);
});

t.test('schedule items: one per start, ready for the schedule document', async (t) => {
  const items = toScheduleItems({
    occurrences: [
      { start: iso(1), end: iso(2), programmeId: 'a', title: 'x'.repeat(300), listed: true },
      { start: iso(1), end: iso(2), programmeId: 'b', title: 'dup start', listed: false },
    ],
  });
  t.equal(items.length, 1);
  t.equal(items[0]?.title.length, 200);
});
