/**
 * XMLTV import into a real (temporary) headend database: the real-world-quirks fixture lands at the
 * right UTC instants with the right report; a re-import that moved programmes reports moves, removals,
 * additions and updates; broken XML changes nothing. (DESIGN.md §7, DOMAIN.md §5, issue 5.)
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { importGuide } from '../../headend/guide/guide-import.js';
import { createChannelMapRepo, createGuideReader, listImportRuns } from '../../headend/guide/guide-store.js';
import { GuideImportError, type ImportReport } from '../../headend/guide/import-report.js';
import { openStore, type Store } from '../../headend/store/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'xmltv');
const NOW = Date.parse('2026-11-27T12:00:00Z');
const LINEUP = [
  { key: 'cctv1', name: 'CCTV-1 综合' },
  { key: 'cctv13', name: 'CCTV-13 新闻' },
  { key: 'gstv', name: '甘肃卫视' },
  { key: 'pingliang', name: '平凉综合' },
];

async function freshStore(t: Test): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-'));
  const store = openStore(join(dir, 'headend.db'));
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const map = createChannelMapRepo(store.db);
  map.set({ matchKind: 'id', matchValue: 'pltv', service: 'pingliang' });
  map.set({ matchKind: 'display-name', matchValue: '甘肃卫视', service: 'gstv' });
  return store;
}

function run(store: Store, fixture: string): Promise<ImportReport> {
  return importGuide(store.db, createReadStream(join(FIXTURES, fixture), { highWaterMark: 97 }), {
    source: fixture,
    lineup: LINEUP,
    timeZone: 'Asia/Shanghai',
    now: () => NOW,
  });
}

function rows(store: Store, service: string) {
  return createGuideReader(store.db)
    .byStart(service, 0, Number.MAX_SAFE_INTEGER)
    .map((p) => ({
      id: p.programmeId,
      title: p.title,
      start: new Date(p.startMs).toISOString(),
      stop: new Date(p.stopMs).toISOString(),
      sub: p.subTitle,
      ep: p.episode,
      desc: p.description,
    }));
}

t.test('the quirks fixture: UTC instants, titles, mapping and the report', async (t) => {
  const store = await freshStore(t);
  const report = await run(store, 'quirks.xml');

  const cctv1 = rows(store, 'cctv1');
  t.same(
    cctv1.map((r) => [r.start, r.stop, r.title]),
    [
      ['2026-11-27T22:00:00.000Z', '2026-11-27T23:00:00.000Z', '朝闻天下'],
      ['2026-11-27T23:00:00.000Z', '2026-11-27T23:30:00.000Z', '生活早参考'],
      ['2026-11-27T23:30:00.000Z', '2026-11-28T00:00:00.000Z', '<b>新闻</b> & 天气'],
      ['2026-11-28T00:00:00.000Z', '2026-11-28T01:00:00.000Z', '人与自然 <Nature>'],
      ['2026-11-28T01:00:00.000Z', '2026-11-28T02:00:00.000Z', '电视剧：山海情'],
      ['2026-11-28T02:00:00.000Z', '2026-11-28T03:00:00.000Z', 'Overlap Show'],
      ['2026-11-28T04:00:00.000Z', '2026-11-28T04:30:00.000Z', '新闻30分'],
      ['2026-11-28T11:00:00.000Z', '2026-11-28T11:30:00.000Z', '新闻联播'],
    ],
    '+0800 converted; missing stop filled; markup kept as text; overlap cut; zh preferred over bo/en',
  );
  t.equal(cctv1[0]?.desc, '早间新闻 & 天气 — 新', 'entities and character references decoded');
  t.same([cctv1[4]?.sub, cctv1[4]?.ep], ['第12集', 'S1E12']);
  t.equal(cctv1[7]?.id, 'ev:4711', 'the DVB event id is the programme id');
  t.match(cctv1[0]?.id, /^h:[0-9a-f]{16}$/);
  t.same(
    rows(store, 'cctv13').map((r) => [r.start, r.title]),
    [
      ['2026-11-28T11:00:00.000Z', '新闻直播间'],
      ['2026-11-28T12:00:00.000Z', '世界周刊'],
    ],
    '+0900 converted with its own offset; no offset taken as UTC',
  );
  t.same(
    rows(store, 'gstv').map((r) => r.title),
    ['甘肃新闻'],
  );
  t.same(
    rows(store, 'pingliang').map((r) => r.title),
    ['平凉新闻'],
  );

  t.same(report.totals, {
    programmes: 21,
    imported: 12,
    added: 12,
    moved: 0,
    removed: 0,
    updated: 0,
    unchanged: 0,
    rejected: 7,
    unmapped: 2,
    stopsFilled: 1,
    overlapsTrimmed: 1,
    pruned: 0,
  });
  t.same(report.rejectCounts, {
    MISSING_CHANNEL: 1,
    BAD_START: 1,
    MISSING_TITLE: 1,
    OFFSET_OUT_OF_RANGE: 1,
    DUPLICATE: 1,
    STOP_NOT_AFTER_START: 1,
    MISSING_STOP: 1,
  });
  const reasons = Object.fromEntries(report.rejects.map((r) => [r.code, r]));
  t.match(reasons.DUPLICATE, { channel: 'cctv1.cn', title: '人与自然 <Nature>', line: 32 });
  t.match(reasons.MISSING_STOP, { title: '晚间新闻', message: /no stop time and no following programme/ });
  t.match(reasons.BAD_START, { channel: 'gansu.tv', message: /2026-11-28 10:00/ });
  t.same(report.channels.mapped.map((m) => [m.channel, m.service, m.by]).sort(), [
    ['cctv1.cn', 'cctv1', 'service-name'],
    ['cctv13', 'cctv13', 'service-key'],
    ['gansu.tv', 'gstv', 'mapping-display-name'],
    ['pltv', 'pingliang', 'mapping-id'],
  ]);
  t.match(report.channels.unmapped, [
    { channel: 'unknown.tv', programmes: 2, reason: /no mapping for channel "unknown.tv"/ },
  ]);
  t.same(
    report.suspiciousOffsets.map((o) => [o.channel, o.kind, o.offset, o.expected, o.count]),
    [
      ['cctv13', 'unexpected', '+0900', '+0800', 1],
      ['cctv13', 'missing', null, '+0800', 1],
      ['cctv13', 'out-of-range', '+1500', null, 1],
    ],
  );
  t.same(
    report.services.map((s) => [s.service, s.added, s.changedDates]),
    [
      ['cctv1', 8, ['2026-11-28']],
      ['cctv13', 2, ['2026-11-28']],
      ['gstv', 1, ['2026-11-28']],
      ['pingliang', 1, ['2026-11-28']],
    ],
  );
  const runs = listImportRuns(store.db);
  t.equal(runs[0]?.status, 'ok');
  t.same(JSON.parse(runs[0]?.reportJson ?? '{}').totals, report.totals, 'the report is kept with the run');

  const again = await run(store, 'quirks.xml');
  t.match(again.totals, { imported: 12, added: 0, moved: 0, removed: 0, updated: 0, unchanged: 12 });
  t.same(
    again.services.flatMap((s) => s.changedDates),
    [],
    'nothing to republish',
  );
});

t.test('a re-import that moved programmes: moved, removed, added, updated', async (t) => {
  const store = await freshStore(t);
  const first = await run(store, 'moved-before.xml');
  t.equal(first.totals.added, 8);
  const ids = Object.fromEntries(rows(store, 'cctv1').map((r) => [r.title + (r.sub ?? ''), r.id]));

  const report = await run(store, 'moved-after.xml');
  const s = report.services[0];
  t.match(s, { service: 'cctv1', added: 2, moved: 3, removed: 2, updated: 1, unchanged: 2 });
  t.same(s?.moves.map((m) => [m.title, m.from.start, m.to.start]).sort(), [
    ['天下足球', '2026-11-29T12:00:00Z', '2026-11-29T12:10:00Z'],
    ['山海情', '2026-11-29T02:00:00Z', '2026-11-29T03:00:00Z'],
    ['焦点访谈', '2026-11-29T11:38:00Z', '2026-11-29T11:45:00Z'],
  ]);
  t.same(s?.removals.map((r) => r.title).sort(), ['山海情', '纪录片：长城']);
  t.same(s?.changedDates, ['2026-11-29', '2026-11-30']);

  const after = rows(store, 'cctv1');
  t.same(
    after.map((r) => [r.start.slice(0, 16), r.title, r.sub]),
    [
      ['2026-11-29T01:00', '山海情', '第13集'],
      ['2026-11-29T03:00', '山海情', '第14集'],
      ['2026-11-29T11:45', '焦点访谈', null],
      ['2026-11-29T12:10', '天下足球', null],
      ['2026-11-29T14:00', '动物世界', null],
      ['2026-11-29T15:00', '新节目', null],
      ['2026-11-30T01:00', '山海情', '第15集'],
      ['2026-11-30T06:00', '山海情', '第13集'],
    ],
    'the guide holds exactly the new window',
  );
  t.equal(after.find((r) => r.title === '动物世界')?.desc, '北极冰原', 'details updated in place');
  t.equal(
    after.find((r) => r.title === '焦点访谈')?.id,
    ids.焦点访谈,
    'an event id keeps its programme id through a move',
  );
  t.equal(after.find((r) => r.title === '动物世界')?.id, ids.动物世界);
});

t.test('broken XML changes nothing and says where it broke', async (t) => {
  const store = await freshStore(t);
  await run(store, 'moved-before.xml');
  const before = rows(store, 'cctv1');
  const err = (await run(store, 'malformed.xml').then(
    () => t.fail('should have failed'),
    (e: unknown) => e,
  )) as GuideImportError;
  t.ok(err instanceof GuideImportError);
  t.equal(err.code, 'XML_SYNTAX');
  t.equal(err.line, 12);
  t.match(err.message, /<\/titel> closes <title>/);
  t.same(rows(store, 'cctv1'), before, 'the guide is exactly as before');
  const runs = listImportRuns(store.db);
  t.match(runs[0], { status: 'failed', error: /XML_SYNTAX/ });

  const html = await importGuide(
    store.db,
    [Buffer.from('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>')],
    {
      source: 'proxy',
      lineup: LINEUP,
      timeZone: 'Asia/Shanghai',
    },
  ).catch((e: unknown) => e as GuideImportError);
  t.match(html, { code: 'NOT_XMLTV', message: /root element is <html>/ });
  t.same(rows(store, 'cctv1'), before);
});

t.test('a time-ordered file (channels interleaved) imports exactly like a channel-ordered one', async (t) => {
  const channels = ['cctv1.cn', 'cctv13', 'gansu.tv'];
  const progs: string[][] = channels.map(() => []);
  for (let h = 0; h < 30; h++) {
    channels.forEach((ch, i) => {
      const start = `202611${String(28 + Math.floor(h / 24)).padStart(2, '0')}${String(h % 24).padStart(2, '0')}0000 +0800`;
      const stop =
        h % 7 === 3
          ? ''
          : ` stop="202611${String(28 + Math.floor((h + 1) / 24)).padStart(2, '0')}${String((h + 1) % 24).padStart(2, '0')}0000 +0800"`;
      progs[i]?.push(
        `<programme start="${start}"${stop} channel="${ch}"><title>${ch} ${h}</title></programme>`,
      );
    });
  }
  const head =
    '<channel id="cctv1.cn"><display-name>CCTV-1 综合</display-name></channel>' +
    '<channel id="gansu.tv"><display-name>甘肃卫视</display-name></channel>';
  const byChannel = `<tv>${head}${progs.flat().join('\n')}</tv>`;
  const byTime = `<tv>${head}${progs[0]?.map((_, h) => progs.map((p) => p[h]).join('\n')).join('\n')}</tv>`;
  const results: unknown[] = [];
  for (const doc of [byChannel, byTime]) {
    const store = await freshStore(t);
    const report = await importGuide(store.db, [doc], {
      source: 'x',
      lineup: LINEUP,
      timeZone: 'Asia/Shanghai',
      now: () => NOW,
    });
    results.push({
      totals: report.totals,
      rows: ['cctv1', 'cctv13', 'gstv'].map((s) => rows(store, s)),
    });
  }
  t.match(results[0], { totals: { imported: 90, stopsFilled: 12 } });
  t.same(results[1], results[0]);
});

t.test('programmes that ended long ago are pruned', async (t) => {
  const store = await freshStore(t);
  await run(store, 'moved-before.xml');
  const later = Date.parse('2026-12-20T00:00:00Z');
  const report = await importGuide(
    store.db,
    [
      '<tv><programme start="20261219080000 +0800" stop="20261219090000 +0800" channel="cctv13"><title>x</title></programme></tv>',
    ],
    { source: 'later', lineup: LINEUP, timeZone: 'Asia/Shanghai', now: () => later },
  );
  t.equal(report.totals.pruned, 8, 'older than the 7-day keep');
  t.same(rows(store, 'cctv1'), []);
});
