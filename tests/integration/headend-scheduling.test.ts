/**
 * Scheduling through the real headend (issue 5 "Scheduling" tests): an entry targeted at a county
 * republishes exactly that county's stations with n + 1; after backup → more edits → restore, stations
 * accept the new epoch's documents; the planner golden vectors give the same plan through the headend's
 * preview path (stored document bytes → plan); a preview shows conflicts with reasons before saving and
 * saves nothing; bad input is a typed error naming the field.
 */
import path from 'node:path';
import t from 'tap';
import { importGuide } from '../../headend/guide/guide-import.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { SchedulingError } from '../../headend/scheduling/errors.js';
import { backupDatabase, restoreDatabase } from '../../headend/store/backup.js';
import { MIGRATIONS } from '../../headend/store/migrations/index.js';
import { topics } from '../../protocol/topics.js';
import { SimStation } from '../../scripts/load/sim-station.js';
import { goldenView, loadPlannerVectors } from '../helpers/golden.js';
import { startFleetHeadend } from '../helpers/headend-fleet.js';
import { connectPeer, Inbox } from '../helpers/mqtt-peers.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** A whole hour at least two hours ahead, so nothing is about to start while the test runs. */
const slot = (hoursAhead: number, lengthH = 1) => {
  const start = Math.ceil(Date.now() / HOUR) * HOUR + hoursAhead * HOUR;
  return { type: 'once' as const, start: iso(start), end: iso(start + lengthH * HOUR) };
};

t.test('editing a county entry republishes exactly that county with n + 1', async (t) => {
  const stations = [
    { id: 'jn-01', county: 'jingning' },
    { id: 'jn-02', county: 'jingning' },
    { id: 'jn-03', county: 'jingning' },
    { id: 'kt-01', county: 'kongtong' },
    { id: 'kt-02', county: 'kongtong' },
    { id: 'ht-01', county: 'huating' },
  ];
  const fleet = await startFleetHeadend(t, { stations });
  const cp = fleet.running.controlPlane;
  const sims = new Map(await Promise.all(stations.map(async (s) => [s.id, await fleet.sim(s.id)] as const)));
  // Every station starts with its (empty) first document.
  for (const sim of sims.values()) await sim.waitApplied({ epoch: 1, n: 1 });
  const others = ['kt-01', 'kt-02', 'ht-01'];
  const county = ['jn-01', 'jn-02', 'jn-03'];
  const receivedBefore = new Map(others.map((id) => [id, sims.get(id)?.schedulesReceived ?? -1]));

  const when = slot(2);
  const created = cp.scheduling.create(
    {
      kind: 'conference',
      title: '县乡镇视频会议',
      service: 'cctv1',
      when,
      target: { type: 'county', county: 'jingning' },
    },
    'test:control-room',
  );
  t.same(
    created.issued.map((i) => [i.stationId, i.version.n]),
    county.map((id) => [id, 2]),
    'the conference issues n = 2 to the county only',
  );
  for (const id of county) await sims.get(id)?.waitApplied({ epoch: 1, n: 2 });

  const extended = { ...when, end: iso(Date.parse(when.end) + HOUR / 2) };
  const edited = cp.scheduling.update(
    created.entry.id,
    { when: extended, expectedRev: 1 },
    'test:control-room',
  );
  t.same(
    edited.issued.map((i) => [i.stationId, i.version]),
    county.map((id) => [id, { epoch: 1, n: 3 }]),
    'the edit issues n + 1 to exactly the county',
  );
  for (const id of county) {
    const applied = await sims.get(id)?.waitApplied({ epoch: 1, n: 3 });
    const entry = applied?.doc.entries.find((e) => e.id === created.entry.id);
    t.equal(entry?.rev, 2, `${id} applied revision 2 of the entry`);
    t.same(entry?.when, extended, `${id} has the extended end`);
  }
  for (const id of others) {
    t.same(fleet.running.store.schedules.latest(id)?.version, { epoch: 1, n: 1 }, `${id} keeps version 1.1`);
    t.equal(sims.get(id)?.applied?.version.n, 1, `${id} still applies 1.1`);
    t.equal(sims.get(id)?.schedulesReceived, receivedBefore.get(id), `${id} received no schedule message`);
  }
  // The headend sees every county station in sync with what it issued.
  await waitFor(() => county.every((id) => cp.tracker.status(id).inSync), 'county stations in sync');
  t.ok(cp.tracker.status('jn-02').applied, 'applied version known from the station state');
});

t.test('after backup → more edits → restore, stations accept the new epoch', async (t) => {
  const fleet = await startFleetHeadend(t, {
    stations: [
      { id: 'st-a', county: 'lingtai' },
      { id: 'st-b', county: 'lingtai' },
    ],
  });
  const a = await fleet.sim('st-a');
  const b = await fleet.sim('st-b');
  let cp = fleet.running.controlPlane;
  const created = cp.scheduling.create(
    {
      kind: 'recording',
      title: '农业技术讲座',
      service: 'cctv7',
      when: slot(3),
      target: { type: 'station', stationId: 'st-a' },
    },
    'test:operator',
  );
  await a.waitApplied({ epoch: 1, n: 2 });
  const backup = path.join(fleet.dataDir, 'backups', 'before-edits.db');
  await backupDatabase(fleet.running.store.db, backup);

  cp.scheduling.update(created.entry.id, { title: '农业技术讲座（重播）' }, 'test:operator');
  cp.scheduling.update(created.entry.id, { priority: 5 }, 'test:operator');
  await a.waitApplied({ epoch: 1, n: 4 });

  await fleet.stop();
  const restored = await restoreDatabase({
    dbFile: path.join(fleet.dataDir, 'headend.db'),
    backupFile: backup,
    migrations: MIGRATIONS,
    actor: 'test:admin',
  });
  t.equal(restored.scheduleEpoch, 2, 'the restore starts epoch 2');
  const running = await fleet.restart();
  cp = running.controlPlane;

  // n starts again at 1, below the 1.4 the station applied: only the new epoch makes it newer.
  const applied = await a.waitApplied({ epoch: 2, n: 1 });
  t.same(applied.version, { epoch: 2, n: 1 });
  const entry = applied.doc.entries.find((e) => e.id === created.entry.id);
  t.equal(entry?.title, '农业技术讲座', 'the restored (backed-up) revision is what the station now runs');
  t.equal(entry?.rev, 1);
  t.same(
    (await b.waitApplied({ epoch: 2, n: 1 })).version,
    { epoch: 2, n: 1 },
    'every station gets the new epoch',
  );
  await waitFor(
    () => cp.tracker.status('st-a').inSync && cp.tracker.status('st-b').inSync,
    'in sync after restore',
  );
  t.notOk(
    cp.alarms.active('schedule_unknown_version', 'st-a'),
    'the new documents are known to the restored headend',
  );

  // Editing after the restore continues within the new epoch.
  cp.scheduling.update(created.entry.id, { priority: 9 }, 'test:operator');
  t.same((await a.waitApplied({ epoch: 2, n: 2 })).version, { epoch: 2, n: 2 });
});

t.test('after a restart every retained document is republished from SQLite', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'rp-01', county: 'huating' }] });
  const T = topics();
  const first = await fleet.sim('rp-01', { reconnect: false });
  await first.waitApplied({ epoch: 1, n: 1 });
  const ev = (seq: number) =>
    JSON.stringify({
      storeId: first.storeId,
      seq,
      at: '2026-03-06T10:00:00Z',
      type: 'clock.jump',
      deltaMs: 5,
      offsetMs: null,
      source: 'ntp',
    });
  await first.publishRaw(T.events('rp-01'), ev(1));
  await first.publishRaw(T.events('rp-01'), ev(2));
  await first.waitAck(2);
  await first.stop(true);
  // The embedded broker goes down with the headend: every retained message is gone.
  await fleet.restart();
  const secret = fleet.stations[0]?.secret ?? '';
  const fresh = new SimStation({
    id: 'rp-01',
    password: secret,
    url: fleet.brokerUrl,
    storeId: first.storeId,
    boot: { n: 2, conn: 0 },
  });
  t.teardown(() => fresh.stop(true));
  await fresh.connect();
  t.same(
    (await fresh.waitApplied({ epoch: 1, n: 1 })).version,
    { epoch: 1, n: 1 },
    'the schedule document, unchanged version',
  );
  await fresh.waitAck(2);
  t.same(fresh.ack, { storeId: first.storeId, seq: 2 }, 'the committed ack');
  await fresh.stop(true);
  const peer = await connectPeer(fleet.brokerUrl, { clientId: 'rp-01', username: 'rp-01', password: secret });
  t.teardown(() => peer.endAsync(true));
  const inbox = new Inbox(peer);
  await peer.subscribeAsync([T.lineup(), T.headendState()], { qos: 1 });
  const lineup = JSON.parse((await inbox.waitFor((m) => m.topic === T.lineup(), 'retained line-up')).payload);
  t.ok(
    lineup.services.some((x: { key: string }) => x.key === 'cctv13'),
    'the line-up',
  );
  const state = JSON.parse(
    (await inbox.waitFor((m) => m.topic === T.headendState(), 'headend state')).payload,
  );
  t.equal(state.online, true, 'the headend state, online');
});

t.test('a station provisioned while the headend runs gets its document on first connect', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'old-01', county: 'kongtong' }] });
  const { store, controlPlane: cp } = fleet.running;
  const conf = cp.scheduling.create(
    { kind: 'conference', title: '全市会议', service: 'cctv1', when: slot(5), target: { type: 'all' } },
    'test:control-room',
  );
  // As `cli provision` does: straight into the registry, the running headend is not told.
  const { secret } = provisionStation(
    { store, iterations: 100, headendUsername: 'headend', actor: 'cli:root' },
    { id: 'new-01', name: 'new-01', county: 'kongtong' },
  );
  fleet.stations.push({ id: 'new-01', county: 'kongtong', secret });
  const sim = await fleet.sim('new-01');
  const applied = await sim.waitApplied({ epoch: 1, n: 1 });
  t.ok(
    applied.doc.entries.some((e) => e.id === conf.entry.id),
    'the fleet-wide conference is in its first document',
  );
});

t.test('planner golden vectors plan identically through the preview path', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'gold-01', county: 'chongxin' }] });
  const { store, controlPlane: cp } = fleet.running;
  for (const { name, vector } of loadPlannerVectors()) {
    // The bytes go through SQLite exactly as a published document does.
    store.schedules.issue('gold-01', () => JSON.stringify(vector.document));
    const plan = cp.preview.stationPlan('gold-01', vector.window);
    t.same(plan && goldenView(plan), vector.expected, name);
  }
});

t.test('a preview shows conflicts with reasons before saving, and saves nothing', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'pv-01', county: 'zhuanglang' }] });
  const { store, controlPlane: cp } = fleet.running;
  const when = slot(4, 2);
  const rec = cp.scheduling.create(
    {
      kind: 'recording',
      title: '新闻联播',
      service: 'cctv1',
      padBeforeMs: 0,
      padAfterMs: 0,
      when,
      target: { type: 'station', stationId: 'pv-01' },
    },
    'test:operator',
  );
  const versionBefore = store.schedules.latest('pv-01')?.version;
  const entriesBefore = cp.scheduling.list().length;
  const confWhen = {
    type: 'once' as const,
    start: iso(Date.parse(when.start) + HOUR),
    end: iso(Date.parse(when.end) + HOUR),
  };
  const conference = {
    id: 'conf-city-1',
    kind: 'conference',
    title: '全市视频会议',
    service: 'gansu',
    preRollMs: 0,
    when: confWhen,
    target: { type: 'all' },
  };
  const preview = cp.preview.previewChange({ op: 'create', input: conference }, 'test:control-room');
  const st = preview.stations.find((s) => s.stationId === 'pv-01');
  const change = st?.changes.find((c) => c.entryId === rec.entry.id);
  t.equal(change?.before?.outcome, 'planned', 'the recording was planned');
  t.equal(change?.after?.outcome, 'truncated', 'the conference would truncate it');
  t.match(change?.after?.text ?? '', /truncated \(by "全市视频会议" at /, 'the reason names the conference');
  t.ok(
    st?.conflicts.some((c) => c.entryId === rec.entry.id),
    'listed as a conflict',
  );
  t.same(store.schedules.latest('pv-01')?.version, versionBefore, 'no document issued by the preview');
  t.equal(cp.scheduling.list().length, entriesBefore, 'no entry saved by the preview');

  cp.scheduling.create(conference, 'test:control-room');
  const plan = cp.preview.stationPlan('pv-01', preview.window);
  const after = plan?.occurrences.find((o) => o.entryId === rec.entry.id);
  t.equal(after?.outcome, 'truncated', 'after saving, the station plan says what the preview said');
  t.same(after?.reason, change?.after?.reason);
});

t.test('bad input is a typed error naming the field', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'bad-01', county: 'jingchuan' }] });
  const cp = fleet.running.controlPlane;
  const target = { type: 'station', stationId: 'bad-01' };
  const expectError = (fn: () => unknown, code: string, pathRe: RegExp, what: string) => {
    try {
      fn();
      t.fail(`${what}: accepted`);
    } catch (err) {
      t.ok(err instanceof SchedulingError, `${what}: a SchedulingError`);
      t.equal((err as SchedulingError).code, code, `${what}: ${code}`);
      t.match((err as SchedulingError).message, pathRe, `${what}: names the field`);
    }
  };
  const s = slot(2);
  expectError(
    () => cp.scheduling.create({ kind: 'recording', title: 'x', service: 'nosuch', when: s, target }, 'u'),
    'INVALID_INPUT',
    /service/,
    'unknown service',
  );
  expectError(
    () =>
      cp.scheduling.create(
        { kind: 'recording', title: 'x', service: 'cctv1', when: { ...s, end: s.start }, target },
        'u',
      ),
    'INVALID_INPUT',
    /when\.end/,
    'end before start',
  );
  expectError(
    () =>
      cp.scheduling.create(
        {
          kind: 'conference',
          title: 'x',
          service: 'cctv1',
          when: s,
          target: { type: 'county', county: 'atlantis' },
        },
        'u',
      ),
    'NOT_FOUND',
    /atlantis/,
    'unknown county',
  );
  expectError(
    () => cp.scheduling.create('not an object', 'u'),
    'INVALID_INPUT',
    /entry|kind/,
    'not an object',
  );
  const ok = cp.scheduling.create({ kind: 'recording', title: 'x', service: 'cctv1', when: s, target }, 'u');
  cp.scheduling.update(ok.entry.id, { title: 'y' }, 'u');
  expectError(
    () => cp.scheduling.update(ok.entry.id, { title: 'z', expectedRev: 1 }, 'u'),
    'CONFLICT',
    /revision 2/,
    'stale revision',
  );
  cp.scheduling.remove(ok.entry.id, 'u');
  expectError(
    () => cp.scheduling.update(ok.entry.id, { title: 'z' }, 'u'),
    'CONFLICT',
    /deleted/,
    'edit after delete',
  );
  t.same(
    fleet.running.store.audit.list({ target: `entry:${ok.entry.id}` }).map((a) => a.action),
    ['entry.delete', 'entry.update', 'entry.create'],
    'every action audited',
  );
});

/** XMLTV time `YYYYMMDDhhmmss +0800` of a UTC instant. */
function xmltvTime(ms: number): string {
  const d = new Date(ms + 8 * HOUR);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}00 +0800`;
}

/**
 * A small XMLTV feed for cctv1: `[title, episode (1-based) or null, start ms, minutes]`, between two fixed
 * programmes so every import covers the same window (an import replaces the service's window it covers).
 */
function feed(items: [string, number | null, number, number][], base: number): string {
  const all: [string, number | null, number, number][] = [
    ['早间新闻', null, base - 2 * HOUR, 60],
    ...items,
    ['晚间新闻', null, base + 60 * HOUR, 30],
  ];
  const progs = all.map(([title, ep, start, min]) => {
    const epXml = ep === null ? '' : `<episode-num system="xmltv_ns">0.${ep - 1}.</episode-num>`;
    return `<programme start="${xmltvTime(start)}" stop="${xmltvTime(start + min * 60_000)}" channel="cctv1"><title lang="zh">${title}</title>${epXml}</programme>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?><tv><channel id="cctv1"><display-name>CCTV-1 综合</display-name></channel>${progs.join('')}</tv>`;
}

t.test('guide-linked entries follow the guide: a programme and a series, moved and vanished', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'gd-01', county: 'jingning' }] });
  const { store, controlPlane: cp } = fleet.running;
  const sim = await fleet.sim('gd-01');
  const base = Math.ceil(Date.now() / HOUR) * HOUR + 3 * HOUR;
  const lineup = [{ key: 'cctv1', name: 'CCTV-1 综合' }];
  const load = async (xml: string) => {
    const report = await importGuide(store.db, [xml], { source: 'test', lineup, timeZone: 'Asia/Shanghai' });
    cp.guideImported(report);
  };
  await load(
    feed(
      [
        ['天气预报', null, base, 15],
        ['山海情', 1, base + HOUR, 45],
        ['山海情', 2, base + 25 * HOUR, 45],
        ['山海情', 1, base + 49 * HOUR, 45], // a repeat of episode 1: recorded once
      ],
      base,
    ),
  );
  const weather = store.db
    .prepare("SELECT programme_id AS id FROM guide_programmes WHERE title = '天气预报'")
    .get() as { id: string };
  const target = { type: 'station', stationId: 'gd-01' };
  const one = cp.scheduling.create(
    {
      kind: 'recording',
      title: '天气预报',
      service: 'cctv1',
      when: { type: 'programme', programmeId: weather.id },
      target,
    },
    'test:operator',
  );
  const series = cp.scheduling.create(
    {
      kind: 'recording',
      title: '山海情',
      service: 'cctv1',
      when: { type: 'series', title: '山海情' },
      target,
    },
    'test:operator',
  );
  const itemsOf = (
    doc: { entries: { id: string; when: { type: string; items?: { start: string }[] } }[] },
    id: string,
  ) => doc.entries.find((e) => e.id === id)?.when.items?.map((i) => i.start);
  let applied = await sim.waitApplied({ epoch: 1, n: 3 });
  t.same(itemsOf(applied.doc, one.entry.id), [iso(base)], 'the programme resolved to its showing');
  t.same(
    itemsOf(applied.doc, series.entry.id),
    [iso(base + HOUR), iso(base + 25 * HOUR)],
    'the series, the repeat skipped',
  );

  // Re-import: the weather forecast moved by 30 min, episode 2 moved a day, episode 3 appeared.
  await load(
    feed(
      [
        ['天气预报', null, base + HOUR / 2, 15],
        ['山海情', 1, base + HOUR, 45],
        ['山海情', 2, base + 26 * HOUR, 45],
        ['山海情', 3, base + 50 * HOUR, 45],
      ],
      base,
    ),
  );
  applied = await sim.waitApplied({ epoch: 1, n: 4 });
  t.same(itemsOf(applied.doc, one.entry.id), [iso(base + HOUR / 2)], 'the programme followed its move');
  t.same(
    itemsOf(applied.doc, series.entry.id),
    [iso(base + HOUR), iso(base + 26 * HOUR), iso(base + 50 * HOUR)],
    'the series followed the move and took the new episode',
  );

  // Re-import without the forecast: it is kept at its last known time and flagged, never dropped silently.
  await load(feed([['山海情', 1, base + HOUR, 45]], base));
  const view = cp.scheduling.get(one.entry.id);
  t.equal(view?.guide?.status, 'not_listed', 'flagged "not listed"');
  t.ok(
    view?.guide?.warnings.some((w) => w.code === 'NOT_LISTED'),
    'with a warning',
  );
  const latest = JSON.parse(store.schedules.latest('gd-01')?.doc.toString() ?? '{}');
  t.same(
    itemsOf(latest, one.entry.id),
    [iso(base + HOUR / 2)],
    'still in the document at its last known time',
  );
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
