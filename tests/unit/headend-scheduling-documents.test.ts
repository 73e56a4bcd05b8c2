/**
 * Compiling and issuing station documents (headend/scheduling, DESIGN.md §5) on a fresh database, no
 * broker: defaults written explicitly, a station's version moves only when its document changes, a
 * service removed from the line-up leaves its entry out with a warning (the document stays valid), a
 * document over the limits refuses the whole change (nothing half-saved), and past one-off entries leave
 * the documents.
 */
import t, { type Test } from 'tap';
import { silentLogger } from '../../headend/log.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { createScheduling } from '../../headend/scheduling/entries.js';
import type { SchedulingError } from '../../headend/scheduling/errors.js';
import { openStore } from '../../headend/store/index.js';
import { MAX_SCHEDULE_ENTRIES, ScheduleDocument } from '../../protocol/messages/schedule.js';
import { defaultTiming } from '../../protocol/timing.js';

const HOUR = 3_600_000;
const carrier = {
  frequencyMHz: 3840,
  polarisation: 'H',
  symbolRateKsps: 27500,
  system: 'DVB-S',
  modulation: 'QPSK',
  fec: '3/4',
  lnbLoMHz: 5150,
} as const;

function rig(t: Test, now = () => new Date('2026-03-01T00:00:00Z')) {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  for (const id of ['doc-a', 'doc-b']) {
    provisionStation(
      { store, iterations: 100, headendUsername: 'headend', actor: 't' },
      { id, name: id, county: 'kongtong' },
    );
  }
  store.lineup.replace({
    transponders: [{ id: 't3840', tuning: carrier }],
    services: [
      { key: 'cctv1', name: 'CCTV-1', serviceId: 101, transponderId: 't3840' },
      { key: 'cctv2', name: 'CCTV-2', serviceId: 102, transponderId: 't3840' },
    ],
  });
  const issued: string[][] = [];
  const scheduling = createScheduling({
    store,
    timing: defaultTiming,
    timeZone: 'Asia/Shanghai',
    logger: silentLogger(),
    now,
    onIssued: (i) => issued.push(i.map((x) => `${x.stationId}@${x.version.epoch}.${x.version.n}`)),
  });
  scheduling.recompile();
  const doc = (id: string) =>
    ScheduleDocument.parse(JSON.parse(store.schedules.latest(id)?.doc.toString() ?? 'null'));
  return { store, scheduling, issued, doc };
}

const once = (startIso: string, hours = 1) => ({
  type: 'once' as const,
  start: startIso,
  end: new Date(Date.parse(startIso) + hours * HOUR).toISOString(),
});

t.test('defaults are written explicitly; offsets are normalised to UTC', async (t) => {
  const { scheduling, doc } = rig(t);
  const r = scheduling.create(
    {
      kind: 'recording',
      title: '新闻',
      service: 'cctv1',
      when: { type: 'once', start: '2026-03-02T19:00:00+08:00', end: '2026-03-02T19:30:00+08:00' },
      target: { type: 'station', stationId: 'doc-a' },
    },
    'op',
  );
  const e = doc('doc-a').entries.find((x) => x.id === r.entry.id);
  t.same(e?.when, { type: 'once', start: '2026-03-02T11:00:00Z', end: '2026-03-02T11:30:00Z' });
  t.equal(
    e?.padBeforeMs,
    defaultTiming.recordingPadBeforeMs,
    'padding before from the profile, in the document',
  );
  t.equal(e?.padAfterMs, defaultTiming.recordingPadAfterMs);
  t.equal(e?.class, 'operator');
  t.same(
    doc('doc-a').receivers,
    [{ id: 'rx1', sharing: 'service' }],
    "the agent's default receiver when none is registered",
  );
  t.same(Object.keys(doc('doc-a').tuning), ['cctv1'], 'tuning of exactly the referenced services');
  const c = scheduling.create(
    {
      kind: 'conference',
      title: '会议',
      service: 'cctv2',
      when: once('2026-03-03T02:00:00Z'),
      target: { type: 'all' },
    },
    'cr',
  );
  const ce = doc('doc-b').entries.find((x) => x.id === c.entry.id);
  t.equal(
    ce?.kind === 'conference' && ce.preRollMs,
    defaultTiming.conferencePreRollMs,
    'conference pre-roll from the profile',
  );
  t.equal(ce?.record, false, 'a conference is shown, not recorded, unless asked');
});

t.test('a version moves only when the document changes', async (t) => {
  const { store, scheduling, issued } = rig(t);
  t.same(issued, [['doc-a@1.1', 'doc-b@1.1']], 'first documents');
  t.same(scheduling.recompile(), [], 'recompiling unchanged stations issues nothing');
  scheduling.create(
    {
      kind: 'recording',
      title: 'x',
      service: 'cctv1',
      when: once('2026-03-02T01:00:00Z'),
      target: { type: 'station', stationId: 'doc-b' },
    },
    'op',
  );
  t.same(issued.at(-1), ['doc-b@1.2'], 'only the targeted station');
  t.same(
    scheduling.recompile(['doc-a'], { force: true }).map((i) => i.version.n),
    [2],
    'force issues anyway',
  );
  t.equal(store.schedules.latest('doc-a')?.version.n, 2);
});

t.test('a service removed from the line-up leaves its entry out with a warning', async (t) => {
  const { store, scheduling, doc } = rig(t);
  const r = scheduling.create(
    {
      kind: 'recording',
      title: 'y',
      service: 'cctv2',
      when: once('2026-03-02T01:00:00Z'),
      target: { type: 'station', stationId: 'doc-a' },
    },
    'op',
  );
  store.lineup.replace({
    transponders: [{ id: 't3840', tuning: carrier }],
    services: [{ key: 'cctv1', name: 'CCTV-1', serviceId: 101, transponderId: 't3840' }],
  });
  const out = scheduling.recompile(['doc-a']);
  t.equal(out.length, 1, 'a new document');
  t.notOk(
    doc('doc-a').entries.some((e) => e.id === r.entry.id),
    'the entry is left out; the document stays valid',
  );
  t.same(Object.keys(doc('doc-a').tuning), [], 'and so is its tuning');
});

t.test('a change that would overflow a document is refused whole', async (t) => {
  const { store, scheduling } = rig(t);
  const insert =
    store.db.prepare(`INSERT INTO entries (id, kind, priority_class, priority, target_json, spec_json, created_by, created_at, updated_at)
    VALUES (?, 'recording', 'operator', 0, ?, ?, 't', ?, ?)`);
  const link = store.db.prepare('INSERT INTO entry_stations (entry_id, station_id) VALUES (?, ?)');
  const spec = {
    kind: 'recording',
    class: 'operator',
    title: 'z',
    service: 'cctv1',
    priority: 0,
    padBeforeMs: 0,
    padAfterMs: 0,
    preRollMs: 0,
    record: true,
    when: once('2026-03-05T00:00:00Z'),
  };
  store.transaction(() => {
    for (let i = 0; i < MAX_SCHEDULE_ENTRIES; i++) {
      insert.run(
        `bulk-${i}`,
        JSON.stringify({ type: 'station', stationId: 'doc-a' }),
        JSON.stringify(spec),
        '2026-03-01T00:00:00Z',
        '2026-03-01T00:00:00Z',
      );
      link.run(`bulk-${i}`, 'doc-a');
    }
  });
  const before = store.schedules.latest('doc-a')?.version;
  try {
    scheduling.create(
      {
        kind: 'recording',
        title: 'one too many',
        service: 'cctv1',
        when: once('2026-03-02T01:00:00Z'),
        target: { type: 'all' },
      },
      'op',
    );
    t.fail('accepted');
  } catch (err) {
    t.equal((err as SchedulingError).code, 'DOCUMENT_TOO_LARGE', (err as Error).message);
    t.match((err as Error).message, /doc-a/, 'names the station');
  }
  t.same(store.schedules.latest('doc-a')?.version, before, 'no document issued');
  t.same(store.schedules.latest('doc-b')?.version, { epoch: 1, n: 1 }, 'not for the other station either');
  t.notOk(
    scheduling.list().some((e) => e.title === 'one too many'),
    'no entry saved',
  );
});

t.test('one-off entries that ended over a day ago leave the documents', async (t) => {
  let now = new Date('2026-03-01T00:00:00Z');
  const { scheduling, doc } = rig(t, () => now);
  const r = scheduling.create(
    {
      kind: 'recording',
      title: 'old',
      service: 'cctv1',
      when: once('2026-03-01T02:00:00Z'),
      target: { type: 'station', stationId: 'doc-a' },
    },
    'op',
  );
  t.ok(doc('doc-a').entries.some((e) => e.id === r.entry.id));
  now = new Date('2026-03-02T04:00:00Z');
  scheduling.recompile();
  t.notOk(
    doc('doc-a').entries.some((e) => e.id === r.entry.id),
    'expired entry pruned',
  );
  t.ok(scheduling.get(r.entry.id), 'the entry itself is kept (history, recordings)');
});

t.test('a receiver pin is checked against the station', async (t) => {
  const { scheduling } = rig(t);
  const pin = (target: object, receiverId: string) => () =>
    scheduling.create(
      {
        kind: 'recording',
        title: 'p',
        service: 'cctv1',
        receiverId,
        when: once('2026-03-02T01:00:00Z'),
        target,
      },
      'op',
    );
  t.throws(pin({ type: 'station', stationId: 'doc-a' }, 'rx9'), { code: 'INVALID_INPUT', message: /rx9/ });
  t.throws(pin({ type: 'all' }, 'rx1'), { code: 'INVALID_INPUT', message: /single-station/ });
  t.doesNotThrow(pin({ type: 'station', stationId: 'doc-a' }, 'rx1'));
});

t.test('a station added later gets the county and fleet entries on refreshTargets', async (t) => {
  const { store, scheduling, doc } = rig(t);
  provisionStation(
    { store, iterations: 100, headendUsername: 'headend', actor: 't' },
    { id: 'doc-h1', name: 'h1', county: 'huating' },
  );
  const all = scheduling.create(
    {
      kind: 'conference',
      title: '全市会议',
      service: 'cctv1',
      when: once('2026-03-02T01:00:00Z'),
      target: { type: 'all' },
    },
    'cr',
  );
  const county = scheduling.create(
    {
      kind: 'recording',
      class: 'mandated',
      title: '县新闻',
      service: 'cctv2',
      when: once('2026-03-02T03:00:00Z'),
      target: { type: 'county', county: 'huating' },
    },
    'cr',
  );
  provisionStation(
    { store, iterations: 100, headendUsername: 'headend', actor: 't' },
    { id: 'doc-new', name: 'new', county: 'huating' },
  );
  const issued = scheduling.refreshTargets('admin');
  t.same(
    issued.map((i) => i.stationId),
    ['doc-new'],
    'only the new station gets a document',
  );
  t.same(
    doc('doc-new')
      .entries.map((e) => e.id)
      .sort(),
    [all.entry.id, county.entry.id].sort(),
    'with both entries',
  );
  t.equal(scheduling.get(all.entry.id)?.rev, 1, 'the entries themselves did not change');
  t.ok(
    store.audit.list({ target: `entry:${all.entry.id}` }).some((a) => a.action === 'entry.retarget'),
    'audited',
  );
});

t.test(
  'content changed back to what another writer replaced is issued again (remembered content is checked by hash)',
  async (t) => {
    // Two writers over one database (the conference service and the scheduling API each remember what the
    // newest documents hold, scheduling/documents.ts `contentKeys`): what one remembers can be outdated.
    const { store, scheduling, issued } = rig(t);
    const other = createScheduling({
      store,
      timing: defaultTiming,
      timeZone: 'Asia/Shanghai',
      logger: silentLogger(),
      now: () => new Date('2026-03-01T00:00:00Z'),
    });
    const rx = (sharing: 'service' | 'transponder') => [{ id: 'rx1', sharing, address: '/dev/ttyUSB0' }];
    store.stations.update('doc-a', { receivers: rx('transponder') });
    scheduling.recompile(['doc-a']);
    t.same(issued.at(-1), ['doc-a@1.2'], 'this writer issued {1, 2} with a transponder-sharing receiver');
    store.stations.update('doc-a', { receivers: rx('service') });
    other.recompile(['doc-a']);
    t.equal(store.schedules.latest('doc-a')?.version.n, 3, 'the other writer issued {1, 3}');
    store.stations.update('doc-a', { receivers: rx('transponder') });
    scheduling.recompile(['doc-a']);
    t.same(issued.at(-1), ['doc-a@1.4'], 'back to the first receivers is a new document, not "unchanged"');
    t.match(store.schedules.latest('doc-a')?.doc.toString(), /"sharing":"transponder"/);
  },
);
