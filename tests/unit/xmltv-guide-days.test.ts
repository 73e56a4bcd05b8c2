/**
 * Per-service, per-local-day guide documents (headend/guide/guide-days.ts, local-day.ts): which
 * programmes a day holds in the headend's time zone (also across a DST change), and that every document
 * passes the protocol's GuideDay schema.
 */
import t from 'tap';
import {
  buildGuideDay,
  clearExpiredGuideDays,
  episodeOf,
  toProgramme,
} from '../../headend/guide/guide-days.js';
import type { GuideReader } from '../../headend/guide/guide-store.js';
import type { GuideProgramme } from '../../headend/guide/guide-validate.js';
import { addDays, createLocalCalendar } from '../../headend/guide/local-day.js';
import { GuideDay } from '../../protocol/messages/guide.js';
import { topics } from '../../protocol/topics.js';

function gp(
  service: string,
  startIso: string,
  stopIso: string,
  title: string,
  over: Partial<GuideProgramme> = {},
): GuideProgramme {
  return {
    service,
    programmeId: `h:${startIso}`,
    startMs: Date.parse(startIso),
    stopMs: Date.parse(stopIso),
    eventId: null,
    title,
    subTitle: null,
    episode: null,
    description: null,
    category: null,
    lang: null,
    titles: null,
    ...over,
  };
}

function reader(programmes: GuideProgramme[]): GuideReader {
  return {
    byStart: (s, f, to) => programmes.filter((p) => p.service === s && p.startMs >= f && p.startMs < to),
    overlapping: () => [],
    get: () => undefined,
    services: () => [],
    count: () => 0,
  };
}

t.test('local days in Asia/Shanghai', async (t) => {
  const cal = createLocalCalendar('Asia/Shanghai');
  t.equal(cal.dateOf(Date.parse('2026-11-27T15:59:59Z')), '2026-11-27');
  t.equal(cal.dateOf(Date.parse('2026-11-27T16:00:00Z')), '2026-11-28', 'local midnight is 16:00 UTC');
  t.same(cal.dayRange('2026-11-28'), {
    startMs: Date.parse('2026-11-27T16:00:00Z'),
    endMs: Date.parse('2026-11-28T16:00:00Z'),
  });
  t.equal(cal.offsetAt(Date.now()), 480);
  t.equal(addDays('2026-12-31', 1), '2027-01-01');
  t.throws(() => cal.dayRange('28/11/2026'), RangeError);
  t.throws(() => createLocalCalendar('Mars/Olympus'), RangeError);
});

t.test('local days across a DST change (Europe/Berlin): 23 and 25 hour days', async (t) => {
  const cal = createLocalCalendar('Europe/Berlin');
  const spring = cal.dayRange('2026-03-29');
  t.equal((spring.endMs - spring.startMs) / 3_600_000, 23);
  t.equal(spring.startMs, Date.parse('2026-03-28T23:00:00Z'));
  const autumn = cal.dayRange('2026-10-25');
  t.equal((autumn.endMs - autumn.startMs) / 3_600_000, 25);
  t.equal(cal.dateOf(Date.parse('2026-10-25T22:59:00Z')), '2026-10-25');
  t.equal(cal.dateOf(Date.parse('2026-10-25T23:00:00Z')), '2026-10-26');
  const kathmandu = createLocalCalendar('Asia/Kathmandu');
  t.equal(kathmandu.dayRange('2026-11-28').startMs, Date.parse('2026-11-27T18:15:00Z'), '+05:45 zones too');
});

t.test('a guide day holds the programmes that start on that local day, and passes the schema', async (t) => {
  const cal = createLocalCalendar('Asia/Shanghai');
  const r = reader([
    gp('cctv1', '2026-11-27T15:30:00Z', '2026-11-27T16:30:00Z', 'starts the day before'),
    gp('cctv1', '2026-11-27T16:00:00Z', '2026-11-27T17:00:00Z', '午夜剧场', {
      episode: 'S2E5.P1',
      subTitle: '第五集',
      description: '长'.repeat(5000),
      category: '电视剧',
    }),
    gp('cctv1', '2026-11-28T15:00:00Z', '2026-11-28T17:00:00Z', 'crosses midnight'),
    gp('cctv2', '2026-11-28T01:00:00Z', '2026-11-28T02:00:00Z', 'another service'),
  ]);
  const day = buildGuideDay(
    r,
    cal,
    { service: 'cctv1', date: '2026-11-28' },
    new Date('2026-11-27T12:00:00.123Z'),
  );
  t.same(
    day.programmes.map((p) => p.title),
    ['午夜剧场', 'crosses midnight'],
  );
  t.equal(day.issuedAt, '2026-11-27T12:00:00Z');
  t.same(day.programmes[0]?.episode, { season: 2, episode: 5, part: 1 });
  t.equal(day.programmes[0]?.desc?.length, 4000, 'clipped to the schema limit');
  t.same(day.programmes[0]?.category, ['电视剧']);
  t.ok(GuideDay.safeParse(JSON.parse(JSON.stringify(day))).success, 'a station accepts it');
  const empty = buildGuideDay(r, cal, { service: 'cctv9', date: '2026-11-28' }, new Date());
  t.same(empty.programmes, [], 'a day without programmes is a valid, empty day');
});

t.test('episode keys map to the protocol Episode', async (t) => {
  t.same(episodeOf('E12'), { episode: 12 });
  t.same(episodeOf('S1E2'), { season: 1, episode: 2 });
  t.same(episodeOf('Finale'), { onScreen: 'Finale' });
  t.equal(episodeOf(null), undefined);
  t.same(toProgramme(gp('s', '2026-11-28T01:00:00Z', '2026-11-28T02:00:00Z', 'x')), {
    programmeId: 'h:2026-11-28T01:00:00Z',
    start: '2026-11-28T01:00:00Z',
    stop: '2026-11-28T02:00:00Z',
    title: 'x',
  });
});

t.test('expired days are cleared with empty retained payloads', async (t) => {
  const sent: [string, number][] = [];
  const n = await clearExpiredGuideDays(
    { topics: topics(), publish: async (topic, payload) => void sent.push([topic, payload.length]) },
    ['cctv1'],
    '2026-11-20',
    2,
  );
  t.equal(n, 2);
  t.same(sent, [
    ['ruralsat/v1/guide/cctv1/2026-11-18', 0],
    ['ruralsat/v1/guide/cctv1/2026-11-19', 0],
  ]);
});
