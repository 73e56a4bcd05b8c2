/** Registry repos: stations, groups (the 7 counties + free-form), line-up, schedule documents, catalogue. */
import t, { type Test } from 'tap';
import { openStore, type Store } from '../../headend/store/index.js';

function setup(t: Test): Store {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  return store;
}

t.test('stations: created with receivers and tags, validated, edited, revoked', async (t) => {
  const store = setup(t);
  const s = store.stations.create({
    id: 'jingchuan-wangcun',
    name: '王村镇',
    county: 'jingchuan',
    lat: 35.33,
    lon: 107.37,
    dishM: 1.8,
    receivers: [{ id: 'rx1', address: '/dev/serial/by-id/usb-FTDI-if00-port0', sharing: 'transponder' }],
    tags: ['pilot', '山区'],
  });
  t.match(s, { name: '王村镇', dishM: 1.8, hasCredential: false, revokedAt: null });
  t.same(s.receivers[0], {
    id: 'rx1',
    family: 'rx8200',
    sharing: 'transponder',
    transport: 'serial',
    address: '/dev/serial/by-id/usb-FTDI-if00-port0',
    busAddress: 2,
  });
  t.throws(() => store.stations.create({ id: 'jingchuan-wangcun', name: 'x', county: 'jingchuan' }), {
    code: 'ALREADY_EXISTS',
  });
  const bad = (() => {
    try {
      store.stations.create({ id: 'Bad Id', name: '', county: 'atlantis', lat: 95 });
    } catch (err) {
      return err as Error & { code: string };
    }
  })();
  t.equal(bad?.code, 'INVALID_INPUT');
  t.match(bad?.message, /id:.*name:.*lat:/s, 'every field error is listed');
  t.throws(() => store.stations.create({ id: 'ok-id', name: 'x', county: 'atlantis' }), {
    code: 'INVALID_INPUT',
  });
  t.match(store.stations.update(s.id, { name: 'Wangcun', lat: null }), {
    name: 'Wangcun',
    lat: null,
    lon: 107.37,
  });
  store.stations.setCredential(s.id, '$7$1000$c2FsdA==$x');
  t.same(store.stations.credentialOf(s.id), { hash: '$7$1000$c2FsdA==$x', revoked: false });
  store.stations.revoke(s.id);
  t.same(
    store.stations.credentialOf(s.id),
    { hash: null, revoked: true },
    'the hash goes with the revocation',
  );
  t.same(store.stations.list(), [], 'revoked stations are hidden by default');
  t.equal(store.stations.list({ includeRevoked: true }).length, 1, 'but kept');
  t.throws(
    () => store.stations.setCredential(s.id, '$7$x'),
    { code: 'CONFLICT' },
    'no new credential once revoked',
  );
});

t.test('groups: 7 counties seeded; free-form groups hold any stations', async (t) => {
  const store = setup(t);
  const counties = store.groups.list().filter((g) => g.kind === 'county');
  t.same(
    counties.map((g) => g.nameZh).sort(),
    ['华亭市', '崆峒区', '崇信县', '庄浪县', '泾川县', '灵台县', '静宁县'].sort(),
  );
  store.stations.create({ id: 'kongtong-anguo', name: 'Anguo', county: 'kongtong' });
  store.stations.create({ id: 'jingning-weirong', name: 'Weirong', county: 'jingning' });
  store.stations.create({ id: 'jingning-chengchuan', name: 'Chengchuan', county: 'jingning' });
  t.same(
    store.groups.members('jingning'),
    ['jingning-chengchuan', 'jingning-weirong'],
    'county members = its stations',
  );
  store.groups.create({ id: 'conference-pilot', name: 'Conference pilot', nameZh: '会议试点' });
  store.groups.addMembers('conference-pilot', ['kongtong-anguo', 'jingning-weirong']);
  t.same(store.groups.members('conference-pilot'), ['jingning-weirong', 'kongtong-anguo']);
  t.same(store.groups.groupsOf('kongtong-anguo'), ['conference-pilot']);
  t.throws(() => store.groups.addMembers('conference-pilot', ['nobody']), { code: 'NOT_FOUND' });
  t.same(store.groups.members('conference-pilot').length, 2, 'a failed add changes nothing');
  t.throws(
    () => store.groups.addMembers('kongtong', ['jingning-weirong']),
    { code: 'CONFLICT' },
    'counties are not edited',
  );
  t.throws(() => store.groups.remove('kongtong'), { code: 'CONFLICT' });
  store.stations.revoke('jingning-weirong');
  t.same(store.groups.members('conference-pilot'), ['kongtong-anguo'], 'revoked stations are not targeted');
  store.groups.remove('conference-pilot');
  t.same(store.groups.groupsOf('kongtong-anguo'), []);
});

const cctv = {
  frequencyMHz: 3840,
  polarisation: 'H' as const,
  symbolRateKsps: 27500,
  system: 'DVB-S' as const,
  modulation: 'QPSK' as const,
  fec: '3/4' as const,
  lnbLoMHz: 5150,
};

t.test('line-up: replaced atomically, versioned, round-trips', async (t) => {
  const store = setup(t);
  t.equal(store.lineup.version(), 0);
  const input = {
    transponders: [{ id: 'cs6b-3840h', tuning: cctv }],
    services: [
      { key: 'cctv1', name: 'CCTV-1 综合', serviceId: 1, transponderId: 'cs6b-3840h' },
      { key: 'cctv7', name: 'CCTV-7 国防军事 农业', serviceId: 7, transponderId: 'cs6b-3840h' },
    ],
  };
  t.equal(store.lineup.replace(input), 1);
  const snap = store.lineup.snapshot();
  t.equal(snap.version, 1);
  t.same(
    snap.services.map((s) => [s.key, s.transponder.frequencyMHz, s.transponder.rolloff]),
    [
      ['cctv1', 3840, '0.35'],
      ['cctv7', 3840, '0.35'],
    ],
  );
  t.match(store.lineup.export(), { services: input.services });
  t.throws(
    () =>
      store.lineup.replace({
        transponders: [],
        services: [{ key: 'cctv1', name: 'x', serviceId: 1, transponderId: 'missing' }],
      }),
    { code: 'INVALID_INPUT', message: /unknown transponder/ },
  );
  t.equal(store.lineup.snapshot().services.length, 2, 'a refused line-up changes nothing');
  t.equal(store.lineup.version(), 1);
});

t.test('schedule documents: {epoch, n} grows, bytes and hash kept, outbox flag', async (t) => {
  const store = setup(t);
  store.stations.create({ id: 'chongxin-huanghua', name: 'Huanghua', county: 'chongxin' });
  store.stations.create({ id: 'chongxin-xinyao', name: 'Xinyao', county: 'chongxin' });
  const d1 = store.schedules.issue('chongxin-huanghua', (v) => JSON.stringify({ version: v }));
  const d2 = store.schedules.issue('chongxin-huanghua', (v) => JSON.stringify({ version: v }));
  store.schedules.issue('chongxin-xinyao', (v) => JSON.stringify({ version: v }));
  t.same(
    [d1.version, d2.version],
    [
      { epoch: 1, n: 1 },
      { epoch: 1, n: 2 },
    ],
  );
  t.equal(d2.doc.toString(), '{"version":{"epoch":1,"n":2}}', 'the exact bytes');
  t.match(d2.sha256, /^[0-9a-f]{64}$/);
  t.same(
    store.schedules.unpublished().map((d) => [d.stationId, d.version.n]),
    [
      ['chongxin-huanghua', 2],
      ['chongxin-xinyao', 1],
    ],
    'only the newest document per station waits for the broker',
  );
  store.schedules.markPublished('chongxin-huanghua', d2.version);
  t.same(
    store.schedules.unpublished().map((d) => d.stationId),
    ['chongxin-xinyao'],
  );
  t.equal(store.schedules.latestAll().length, 2, 'republish set: one per station');
  t.ok(store.schedules.wasIssued('chongxin-huanghua', { epoch: 1, n: 1 }, d1.sha256));
  t.notOk(store.schedules.wasIssued('chongxin-huanghua', { epoch: 1, n: 1 }, d2.sha256), 'wrong hash');
  t.notOk(store.schedules.wasIssued('chongxin-huanghua', { epoch: 1, n: 9 }), 'never issued');
  t.throws(() => store.schedules.issue('nobody', () => '{}'), { code: 'NOT_FOUND' });
  t.throws(
    () =>
      store.schedules.issue('chongxin-huanghua', () => {
        throw new Error('compile failed');
      }),
    /compile failed/,
  );
  t.same(
    store.schedules.nextVersion('chongxin-huanghua'),
    { epoch: 1, n: 3 },
    'a failed build burns no version',
  );
});

t.test('recordings catalogue: newest state wins; state history; audit', async (t) => {
  const store = setup(t);
  store.stations.create({ id: 'zhuanglang-nanhu', name: 'Nanhu', county: 'zhuanglang' });
  const base = {
    stationId: 'zhuanglang-nanhu',
    recordingId: 'rec-1',
    entryId: 'e1',
    occurrenceStart: '2026-11-27T11:00:00.000Z',
    manifest: { segments: 3 },
  };
  t.ok(
    store.recordings.upsert({
      ...base,
      status: 'completed',
      quality: 98,
      updatedAt: '2026-11-27T12:00:00.000Z',
    }),
  );
  t.notOk(
    store.recordings.upsert({ ...base, status: 'recording', updatedAt: '2026-11-27T11:30:00.000Z' }),
    'a late, older manifest does not overwrite',
  );
  t.match(store.recordings.get('zhuanglang-nanhu', 'rec-1'), {
    status: 'completed',
    quality: 98,
    manifest: { segments: 3 },
  });
  t.throws(() => store.recordings.upsert({ ...base, status: 'done', updatedAt: 'x' } as never), {
    code: 'INVALID_INPUT',
  });

  store.stateHistory.append({
    stationId: 'zhuanglang-nanhu',
    online: true,
    boot: { n: 3, conn: 7 },
    payload: '{}',
    at: '2026-11-26T00:00:00.000Z',
  });
  store.stateHistory.append({
    stationId: 'zhuanglang-nanhu',
    online: false,
    boot: { n: 3, conn: 7 },
    payload: '{}',
    at: '2026-11-27T00:00:00.000Z',
  });
  t.match(store.stateHistory.latest('zhuanglang-nanhu'), { online: false, boot: { n: 3, conn: 7 } });
  t.equal(store.stateHistory.prune('2026-11-28T00:00:00.000Z'), 1, 'prune keeps the latest');
  t.equal(store.stateHistory.history('zhuanglang-nanhu').length, 1);

  store.audit.record({
    actor: 'cli:root',
    action: 'station.revoke',
    target: 'zhuanglang-nanhu',
    details: { reason: 'stolen' },
  });
  t.match(store.audit.list({ target: 'zhuanglang-nanhu' }), [
    { actor: 'cli:root', details: { reason: 'stolen' } },
  ]);
});
