import t from 'tap';
import { GuideDay } from '../../protocol/messages/guide.js';
import { Lineup } from '../../protocol/messages/lineup.js';

const transponder = {
  frequencyMHz: 3840,
  polarisation: 'H',
  symbolRateKsps: 27500,
  system: 'DVB-S',
  modulation: 'QPSK',
  fec: '3/4',
  lnbLoMHz: 5150,
};
const service = (key: string, serviceId: number, tp: object = transponder) => ({
  key,
  name: key.toUpperCase(),
  serviceId,
  transponder: tp,
});
const lineup = (services: object[], extra: object = {}) => ({
  version: 1,
  issuedAt: '2026-03-01T00:00:00Z',
  services,
  ...extra,
});
const issues = (v: unknown) => Lineup.safeParse(v).error?.issues.map((i) => i.message) ?? [];

t.test('a line-up with services on shared carriers', async (t) => {
  const ok = Lineup.safeParse(
    lineup([service('cctv1', 101), service('cctv7', 107)], {
      transponderLabels: { '3840H27500': 'CCTV mux' },
    }),
  );
  t.ok(ok.success);
  t.equal(ok.data?.services[0]?.transponder.rolloff, '0.35', 'transponder defaults applied');
});

t.test(
  'line-up consistency: unique keys, one programme number per carrier, labels for used carriers',
  async (t) => {
    t.match(issues(lineup([service('cctv1', 101), service('cctv1', 102)])), [/duplicate service key cctv1/]);
    t.match(issues(lineup([service('cctv1', 101), service('cctv2', 101)])), [/service id 101 on 3840H27500/]);
    const other = { ...transponder, frequencyMHz: 3880 };
    t.same(
      issues(lineup([service('cctv1', 101), service('cctv2', 101, other)])),
      [],
      'same sid on another carrier',
    );
    t.match(issues(lineup([service('cctv1', 101)], { transponderLabels: { '4000V1000': 'x' } })), [
      /no service uses/,
    ]);
    t.notOk(Lineup.safeParse(lineup([service('CCTV1', 101)])).success, 'service keys are lower-case');
    t.notOk(Lineup.safeParse(lineup([], { version: -1 })).success);
    t.notOk(Lineup.safeParse({ ...lineup([]), extra: 1 }).success, 'strict');
  },
);

const day = (programmes: object[], over: object = {}) => ({
  service: 'cctv7',
  date: '2026-03-06',
  timeZone: 'Asia/Shanghai',
  issuedAt: '2026-03-05T20:00:00Z',
  programmes,
  ...over,
});
const prog = (id: string, start: string, stop: string, over: object = {}) => ({
  programmeId: id,
  start,
  stop,
  title: '每日农经',
  ...over,
});
const dayIssues = (v: unknown) => GuideDay.safeParse(v).error?.issues.map((i) => i.message) ?? [];

t.test('a guide day holds the programmes starting on that local day', async (t) => {
  // 2026-03-05T16:00Z is 00:00 on 6 March in Asia/Shanghai (UTC+8, DOMAIN.md §1).
  const v = day([
    prog('p1', '2026-03-05T16:00:00Z', '2026-03-05T17:00:00Z'),
    prog('p2', '2026-03-06T15:30:00Z', '2026-03-06T16:30:00Z', {
      subTitle: 'x',
      episode: { episode: 3 },
      category: ['农业'],
      desc: '',
    }),
  ]);
  t.same(dayIssues(v), [], 'a programme may run past midnight');
});

t.test('guide day consistency', async (t) => {
  t.match(dayIssues(day([prog('p1', '2026-03-05T15:59:00Z', '2026-03-05T17:00:00Z')])), [
    /starts on 2026-03-05/,
  ]);
  t.match(dayIssues(day([prog('p1', '2026-03-06T16:00:00Z', '2026-03-06T17:00:00Z')])), [
    /starts on 2026-03-07/,
  ]);
  t.same(
    dayIssues(
      day([prog('p1', '2026-03-05T23:00:00Z', '2026-03-06T00:00:00Z')], { timeZone: 'Europe/Berlin' }),
    ),
    [],
    'the zone decides the day',
  );
  t.match(
    dayIssues(
      day([
        prog('p1', '2026-03-06T02:00:00Z', '2026-03-06T03:00:00Z'),
        prog('p2', '2026-03-06T01:00:00Z', '2026-03-06T02:00:00Z'),
      ]),
    ),
    [/not sorted/],
  );
  t.match(
    dayIssues(
      day([
        prog('p1', '2026-03-06T01:00:00Z', '2026-03-06T02:00:00Z'),
        prog('p1', '2026-03-06T02:00:00Z', '2026-03-06T03:00:00Z'),
      ]),
    ),
    [/duplicate programmeId/],
  );
  t.match(dayIssues(day([prog('p1', '2026-03-06T02:00:00Z', '2026-03-06T02:00:00Z')])), [
    /stop must be after start/,
  ]);
  t.match(dayIssues(day([], { timeZone: 'Mars/Olympus' })), [/time zone/]);
  t.match(dayIssues(day([], { date: '2026-02-30' })), [/calendar date/]);
  t.notOk(
    GuideDay.safeParse(day([prog('p1', '2026-03-06T02:00:00Z', '2026-03-06T03:00:00Z', { episode: {} })]))
      .success,
  );
  t.notOk(
    GuideDay.safeParse(day([prog('p1', '2026-03-06T02:00:00+08:00', '2026-03-06T03:00:00Z')])).success,
    'UTC Z only',
  );
});
