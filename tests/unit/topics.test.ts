import fc from 'fast-check';
import t from 'tap';
import {
  DEFAULT_TOPIC_ROOT,
  filterCoveredBy,
  filterProblem,
  parseTopic,
  TOPIC_KINDS,
  TOPIC_TABLE,
  TopicError,
  topicMatchesFilter,
  topicNameProblem,
  topics,
} from '../../protocol/topics.js';

t.test('builders produce the DESIGN.md §4 topic names under the default root', async (t) => {
  const tp = topics();
  t.equal(tp.root, 'ruralsat/v1');
  t.equal(tp.lineup(), 'ruralsat/v1/lineup');
  t.equal(tp.guide('cctv1', '2026-03-06'), 'ruralsat/v1/guide/cctv1/2026-03-06');
  t.equal(tp.headendState(), 'ruralsat/v1/headend/state');
  t.equal(tp.schedule('pl-anguo'), 'ruralsat/v1/st/pl-anguo/schedule');
  t.equal(tp.ack('pl-anguo'), 'ruralsat/v1/st/pl-anguo/ack');
  t.equal(tp.rpcReq('pl-anguo'), 'ruralsat/v1/st/pl-anguo/rpc/req');
  t.equal(tp.state('pl-anguo'), 'ruralsat/v1/st/pl-anguo/state');
  t.equal(tp.events('pl-anguo'), 'ruralsat/v1/st/pl-anguo/events');
  t.equal(tp.telemetry('pl-anguo'), 'ruralsat/v1/st/pl-anguo/telemetry');
  t.equal(tp.rpcRes('pl-anguo'), 'ruralsat/v1/st/pl-anguo/rpc/res');
  t.equal(tp.guideAll(), 'ruralsat/v1/guide/#');
  t.same(tp.headendSubscriptions(), [
    'ruralsat/v1/st/+/state',
    'ruralsat/v1/st/+/events',
    'ruralsat/v1/st/+/telemetry',
    'ruralsat/v1/st/+/rpc/res',
  ]);
});

t.test('a configured root is used everywhere', async (t) => {
  const tp = topics('pingliang/ruralsat/v2');
  t.equal(tp.state('s01'), 'pingliang/ruralsat/v2/st/s01/state');
  t.equal(tp.allEvents(), 'pingliang/ruralsat/v2/st/+/events');
  t.same(parseTopic('pingliang/ruralsat/v2/st/s01/state', 'pingliang/ruralsat/v2'), {
    ok: true,
    kind: 'state',
    stationId: 's01',
  });
});

t.test('builders refuse ids that would inject topic levels or wildcards', async (t) => {
  const tp = topics();
  for (const bad of ['+', '#', 'a/b', 'A1', '', 'x', '-lead', 'a'.repeat(64)]) {
    t.throws(
      () => tp.state(bad),
      { name: 'TopicError', code: 'BAD_STATION_ID' },
      `station ${JSON.stringify(bad)}`,
    );
  }
  t.throws(() => tp.guide('cctv/1', '2026-03-06'), { code: 'BAD_SERVICE' });
  t.throws(() => tp.guide('#', '2026-03-06'), { code: 'BAD_SERVICE' });
  t.throws(() => tp.guide('cctv1', '2026-02-30'), { code: 'BAD_DATE' });
  t.throws(() => tp.guide('cctv1', '20260306'), { code: 'BAD_DATE' });
  for (const root of ['', '/ruralsat', 'ruralsat/', 'ruralsat//v1', '$SYS', 'a/+/b', 'a/#']) {
    t.throws(() => topics(root), { code: 'BAD_ROOT' }, `root ${JSON.stringify(root)}`);
  }
});

t.test('parseTopic round-trips every builder', async (t) => {
  const tp = topics();
  const cases: Array<[string, object]> = [
    [tp.lineup(), { kind: 'lineup' }],
    [tp.headendState(), { kind: 'headend-state' }],
    [tp.guide('gansu.ws', '2024-02-29'), { kind: 'guide', service: 'gansu.ws', date: '2024-02-29' }],
    [tp.schedule('s01'), { kind: 'schedule', stationId: 's01' }],
    [tp.ack('s01'), { kind: 'ack', stationId: 's01' }],
    [tp.rpcReq('s01'), { kind: 'rpc-req', stationId: 's01' }],
    [tp.state('s01'), { kind: 'state', stationId: 's01' }],
    [tp.events('s01'), { kind: 'events', stationId: 's01' }],
    [tp.telemetry('s01'), { kind: 'telemetry', stationId: 's01' }],
    [tp.rpcRes('s01'), { kind: 'rpc-res', stationId: 's01' }],
  ];
  for (const [topic, expected] of cases) t.same(parseTopic(topic), { ok: true, ...expected }, topic);
  t.equal(new Set(cases.map(([, e]) => (e as { kind: string }).kind)).size, TOPIC_KINDS.length);
});

t.test('parseTopic returns typed errors and never throws', async (t) => {
  const code = (topic: string, root = DEFAULT_TOPIC_ROOT) => {
    const r = parseTopic(topic, root);
    if (r.ok) return 'OK';
    t.type(r.error, TopicError);
    return r.error.code;
  };
  t.equal(code('other/v1/lineup'), 'OUTSIDE_ROOT');
  t.equal(code('ruralsat/v1'), 'OUTSIDE_ROOT');
  t.equal(code('ruralsat/v10/lineup'), 'OUTSIDE_ROOT');
  t.equal(code('ruralsat/v1/lineup/extra'), 'UNKNOWN_TOPIC');
  t.equal(code('ruralsat/v1/st/s01/schedule/x'), 'UNKNOWN_TOPIC');
  t.equal(code('ruralsat/v1/st/s01/rpc'), 'UNKNOWN_TOPIC');
  t.equal(code('ruralsat/v1/st/s01'), 'UNKNOWN_TOPIC');
  t.equal(code('ruralsat/v1/guide/cctv1'), 'UNKNOWN_TOPIC');
  t.equal(code('ruralsat/v1/st/S01/state'), 'BAD_STATION_ID');
  t.equal(code('ruralsat/v1/st//state'), 'BAD_STATION_ID');
  t.equal(code('ruralsat/v1/guide/CCTV1/2026-01-01'), 'BAD_SERVICE');
  t.equal(code('ruralsat/v1/guide/cctv1/2026-13-01'), 'BAD_DATE');
  t.equal(code('ruralsat/v1/st/+/state'), 'INVALID_TOPIC');
  t.equal(code('ruralsat/v1/guide/#'), 'INVALID_TOPIC');
  t.equal(code(''), 'INVALID_TOPIC');
  t.equal(code('ruralsat/v1/lineup', 'bad/'), 'BAD_ROOT');
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('ruralsat', 'v1', 'st', 'a1', '/', '+', '#', 'state', 'x') }),
      (s) => {
        const r = parseTopic(s);
        return r.ok ? TOPIC_KINDS.includes(r.kind) : r.error instanceof TopicError;
      },
    ),
  );
});

t.test('the topic table matches DESIGN.md §4', async (t) => {
  const row = (kind: string) => TOPIC_TABLE.find((r) => r.kind === kind);
  t.same(
    TOPIC_TABLE.map((r) => r.kind),
    [...TOPIC_KINDS],
    'one row per kind',
  );
  t.same(
    TOPIC_TABLE.filter((r) => r.retained).map((r) => r.kind),
    ['lineup', 'guide', 'headend-state', 'schedule', 'ack', 'state'],
    'retained topics',
  );
  t.same(
    TOPIC_TABLE.filter((r) => r.qos === 0).map((r) => r.kind),
    ['telemetry'],
    'only telemetry is QoS 0',
  );
  t.equal(row('events')?.direction, 'station→headend');
  t.equal(row('schedule')?.direction, 'headend→station');
  t.equal(row('guide')?.direction, 'headend→all');
});

t.test('topic names and filters are validated per MQTT 3.1.1 §4.7', async (t) => {
  t.equal(topicNameProblem('a/b'), null);
  t.match(topicNameProblem('a/+'), /wildcards/);
  t.match(topicNameProblem(''), /empty/);
  t.equal(filterProblem('a/+/#'), null);
  t.equal(filterProblem('#'), null);
  t.match(filterProblem('a/#/b'), /#/);
  t.match(filterProblem('a/b#'), /#/);
  t.match(filterProblem('a/b+'), /\+/);
});

t.test('topicMatchesFilter follows MQTT 3.1.1 §4.7 examples', async (t) => {
  const yes: Array<[string, string]> = [
    ['sport/tennis/player1', 'sport/tennis/player1/#'],
    ['sport/tennis/player1/ranking', 'sport/tennis/player1/#'],
    ['sport', 'sport/#'],
    ['sport/tennis', 'sport/+'],
    ['/finance', '+/+'],
    ['/finance', '/+'],
    ['a/b', '#'],
  ];
  const no: Array<[string, string]> = [
    ['sport/tennis/player1', 'sport/+'],
    ['sport', 'sport/+'],
    ['/finance', '+'],
    ['$SYS/broker', '#'],
    ['$SYS/broker', '+/broker'],
    ['a/b', 'a/b/c'],
  ];
  for (const [topic, filter] of yes) t.ok(topicMatchesFilter(topic, filter), `${topic} ~ ${filter}`);
  for (const [topic, filter] of no) t.notOk(topicMatchesFilter(topic, filter), `${topic} !~ ${filter}`);
});

/** Independent oracle: a filter as a regular expression. */
function oracleMatches(topic: string, filter: string): boolean {
  if (topic === '' || filter === '') return false;
  if (topic.startsWith('$') && /^[+#]/.test(filter)) return false;
  let re = filter
    .split('/')
    .map((l) => (l === '+' ? '[^/]*' : l === '#' ? '<#>' : l.replace(/[.*?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  re = re === '<#>' ? '.*' : re.replace(/\/<#>$/, '(/.*)?');
  return new RegExp(`^${re}$`).test(topic);
}

const level = fc.constantFrom('a', 'b', '$s', '');
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '+', '$s', ''), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'));

t.test('topicMatchesFilter agrees with a regular-expression oracle', async () => {
  fc.assert(
    fc.property(
      topicArb,
      filterArb,
      (topic, filter) => topicMatchesFilter(topic, filter) === oracleMatches(topic, filter),
    ),
    { numRuns: 5000 },
  );
});

t.test('filterCoveredBy is sound: a covered filter never matches a topic the pattern does not', async () => {
  fc.assert(
    fc.property(filterArb, filterArb, topicArb, (filter, pattern, topic) => {
      if (!filterCoveredBy(filter, pattern)) return true;
      return !topicMatchesFilter(topic, filter) || topicMatchesFilter(topic, pattern);
    }),
    { numRuns: 20000 },
  );
});

t.test('filterCoveredBy: the cases the ACL depends on', async (t) => {
  t.ok(filterCoveredBy('r/guide/#', 'r/guide/#'));
  t.ok(filterCoveredBy('r/guide/cctv1/+', 'r/guide/#'));
  t.ok(filterCoveredBy('r/guide', 'r/guide/#'), '`a/#` also matches `a`');
  t.ok(filterCoveredBy('r/st/s1/ack', 'r/st/s1/ack'));
  t.notOk(filterCoveredBy('r/st/+/ack', 'r/st/s1/ack'), 'wildcard over other stations');
  t.notOk(filterCoveredBy('r/st/s1/#', 'r/st/s1/ack'));
  t.notOk(filterCoveredBy('r/#', 'r/guide/#'));
  t.notOk(filterCoveredBy('r/guide/#', 'r/guide/+'), '`#` reaches deeper than `+`');
  t.notOk(filterCoveredBy('r/guide/+', 'r/guide'), 'a deeper filter is not covered by a shorter one');
  t.notOk(filterCoveredBy('#', 'r/guide/#'));
  t.notOk(filterCoveredBy('$SYS/#', '#'), '`#` never covers $-topics');
  t.ok(filterCoveredBy('r/a/b', '#'));
});
