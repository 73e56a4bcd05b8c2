import fc from 'fast-check';
import t from 'tap';
import {
  authorizeConnect,
  authorizePublish,
  authorizeSubscribe,
  renderMosquittoAcl,
  STATION_ACL,
} from '../../protocol/acl.js';
import { TOPIC_TABLE, topicMatchesFilter, topics } from '../../protocol/topics.js';

const A = 'pl-anguo';
const B = 'pl-baiping';
const tp = topics();

const sub = (filter: string, username = A, root?: string) =>
  authorizeSubscribe(root ? { username, filter, root } : { username, filter });
const pub = (topic: string, retain = false, username = A) => authorizePublish({ username, topic, retain });

t.test('client id must equal username (DESIGN.md §4)', async (t) => {
  t.same(authorizeConnect({ clientId: A, username: A }), { ok: true });
  t.match(authorizeConnect({ clientId: B, username: A }), { ok: false, code: 'CLIENT_ID_MISMATCH' });
  t.match(authorizeConnect({ clientId: undefined, username: A }), { ok: false, code: 'CLIENT_ID_MISMATCH' });
  t.match(authorizeConnect({ clientId: A, username: undefined }), { ok: false, code: 'BAD_USERNAME' });
  t.match(authorizeConnect({ clientId: 'a/+', username: 'a/+' }), { ok: false, code: 'BAD_USERNAME' });
  t.same(authorizeConnect({ clientId: 'Headend', username: 'Headend', headendUsername: 'Headend' }), {
    ok: true,
  });
  t.match(authorizeConnect({ clientId: 'x', username: 'Headend', headendUsername: 'Headend' }), {
    ok: false,
    code: 'CLIENT_ID_MISMATCH',
  });
});

t.test('a station may subscribe to exactly what it must read', async (t) => {
  for (const filter of tp.stationSubscriptions(A)) t.same(sub(filter), { ok: true }, filter);
  t.same(sub(tp.guide('cctv1', '2026-03-06')), { ok: true }, 'one guide day');
  t.same(sub('ruralsat/v1/guide/cctv1/+'), { ok: true }, 'one service, all days');
});

t.test('a station may not read other stations or wildcard beyond its subtree', async (t) => {
  const refused = [
    tp.schedule(B),
    tp.ack(B),
    tp.rpcReq(B),
    tp.state(B),
    tp.events(A),
    tp.telemetry(A),
    tp.rpcRes(A),
    'ruralsat/v1/st/+/schedule',
    'ruralsat/v1/st/+/ack',
    'ruralsat/v1/st/+/rpc/req',
    'ruralsat/v1/st/+/+',
    'ruralsat/v1/st/#',
    `ruralsat/v1/st/${A}/#`,
    `ruralsat/v1/st/${A}/+`,
    'ruralsat/v1/#',
    'ruralsat/v1/+',
    'ruralsat/#',
    '#',
    '+/#',
    '$SYS/#',
    '$SYS/broker/clients/connected',
    'ruralsat/v2/lineup',
  ];
  for (const filter of refused) t.match(sub(filter), { ok: false, code: 'NOT_READABLE' }, filter);
  t.match(sub('ruralsat/v1/guide/#/x'), { ok: false, code: 'INVALID_FILTER' });
  t.match(sub(tp.lineup(), 'A/+'), { ok: false, code: 'BAD_USERNAME' });
  t.match(sub(tp.lineup(), '#'), { ok: false, code: 'BAD_USERNAME' });
});

t.test('a station may publish only its own state, events, telemetry and rpc/res', async (t) => {
  t.same(pub(tp.state(A), true), { ok: true }, 'retained state (presence and Will)');
  t.same(pub(tp.state(A), false), { ok: true });
  for (const topic of [tp.events(A), tp.telemetry(A), tp.rpcRes(A)]) t.same(pub(topic), { ok: true }, topic);
  for (const topic of [tp.events(A), tp.telemetry(A), tp.rpcRes(A)]) {
    t.match(pub(topic, true), { ok: false, code: 'RETAIN_NOT_ALLOWED' }, `retain on ${topic}`);
  }
  for (const topic of [
    tp.state(B),
    tp.events(B),
    tp.telemetry(B),
    tp.rpcRes(B),
    tp.schedule(A),
    tp.ack(A),
    tp.rpcReq(A),
    tp.lineup(),
    tp.headendState(),
    tp.guide('cctv1', '2026-03-06'),
    '$SYS/x',
    'elsewhere',
  ]) {
    t.match(pub(topic), { ok: false, code: 'NOT_WRITABLE' }, topic);
  }
  t.match(pub('ruralsat/v1/st/+/state'), { ok: false, code: 'INVALID_TOPIC' });
});

t.test('with a configured root the rules move with it', async (t) => {
  const root = 'pingliang/v1';
  const tr = topics(root);
  t.same(sub(tr.schedule(A), A, root), { ok: true });
  t.match(sub(tp.schedule(A), A, root), { ok: false });
  t.same(authorizePublish({ username: A, topic: tr.state(A), retain: true, root }), { ok: true });
  t.match(sub(tr.lineup(), A, 'bad/'), { ok: false, code: 'BAD_ROOT' });
});

t.test('the headend user gets everything below the root and nothing outside', async (t) => {
  const h = { headendUsername: 'headend' };
  t.same(authorizeSubscribe({ username: 'headend', filter: 'ruralsat/v1/st/+/events', ...h }), { ok: true });
  t.same(authorizeSubscribe({ username: 'headend', filter: 'ruralsat/v1/#', ...h }), { ok: true });
  t.match(authorizeSubscribe({ username: 'headend', filter: '#', ...h }), { ok: false });
  t.same(authorizePublish({ username: 'headend', topic: tp.schedule(A), retain: true, ...h }), { ok: true });
  t.match(authorizePublish({ username: 'headend', topic: 'other/x', retain: false, ...h }), {
    ok: false,
    code: 'NOT_WRITABLE',
  });
  t.match(
    authorizeSubscribe({ username: 'headend', filter: tp.schedule(A) }),
    { ok: false },
    'not named → a station',
  );
});

t.test('STATION_ACL agrees with the topic table', async (t) => {
  for (const row of TOPIC_TABLE) {
    const rules = STATION_ACL.filter((r) => r.kind === row.kind);
    t.equal(rules.length, 1, `one rule for ${row.kind}`);
    const rule = rules[0];
    t.equal(rule?.access, row.direction === 'station→headend' ? 'write' : 'read', `${row.kind} access`);
    if (rule?.access === 'write') t.equal(rule.retain, row.retained, `${row.kind} retain`);
    const example = row.pattern
      .replace('{id}', A)
      .replace('{service}', 'cctv1')
      .replace('{date}', '2026-03-06');
    t.ok(
      topicMatchesFilter(`ruralsat/v1/${example}`, `ruralsat/v1/${rule?.pattern.replace('%u', A)}`),
      example,
    );
  }
});

t.test('a station can never reach another station, whatever the id pair', async () => {
  const id = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,10}$/);
  const leaf = fc.constantFrom(
    'schedule',
    'ack',
    'rpc/req',
    'state',
    'events',
    'telemetry',
    'rpc/res',
    '#',
    '+',
  );
  fc.assert(
    fc.property(id, id, leaf, fc.boolean(), (me, other, l, retain) => {
      fc.pre(me !== other);
      const topic = `ruralsat/v1/st/${other}/${l}`;
      const s = authorizeSubscribe({ username: me, filter: topic });
      const p = authorizePublish({ username: me, topic, retain });
      return !s.ok && !p.ok;
    }),
    { numRuns: 3000 },
  );
});

t.test('the Mosquitto ACL file carries every rule with %u, and the headend user', async (t) => {
  const text = renderMosquittoAcl('ruralsat/v1', 'headend');
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  t.same(lines, [
    'pattern read ruralsat/v1/lineup',
    'pattern read ruralsat/v1/guide/#',
    'pattern read ruralsat/v1/headend/state',
    'pattern read ruralsat/v1/st/%u/schedule',
    'pattern read ruralsat/v1/st/%u/ack',
    'pattern read ruralsat/v1/st/%u/rpc/req',
    'pattern write ruralsat/v1/st/%u/state',
    'pattern write ruralsat/v1/st/%u/events',
    'pattern write ruralsat/v1/st/%u/telemetry',
    'pattern write ruralsat/v1/st/%u/rpc/res',
    'user headend',
    'topic readwrite ruralsat/v1/#',
  ]);
  t.match(
    renderMosquittoAcl('x/y', 'hq'),
    /pattern write x\/y\/st\/%u\/state\n[\s\S]*user hq\ntopic readwrite x\/y\/#/,
  );
  t.throws(() => renderMosquittoAcl('x/#', 'hq'), TypeError);
  t.throws(() => renderMosquittoAcl('x', 'h q'), TypeError);
});
