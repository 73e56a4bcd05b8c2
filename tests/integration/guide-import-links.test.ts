/**
 * Guide-linked entries across a real re-import (issue 5): a recording linked to one programme and a
 * series rule follow their programmes when the next import moves them; a programme that vanished is
 * flagged "not listed", kept at its last time and warned about — never silently dropped. The resolved
 * occurrences are valid schedule-document items.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { importGuide } from '../../headend/guide/guide-import.js';
import {
  createGuideLinkStore,
  type GuideLinkedEntry,
  resolveGuideLinks,
  toScheduleItems,
} from '../../headend/guide/guide-links.js';
import { createGuideReader } from '../../headend/guide/guide-store.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { OccurrencesRule } from '../../protocol/messages/schedule.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'xmltv');
const NOW = Date.parse('2026-11-27T12:00:00Z');

async function importFixture(store: Store, name: string) {
  return importGuide(store.db, createReadStream(join(FIXTURES, name)), {
    source: name,
    lineup: [{ key: 'cctv1', name: 'CCTV-1 综合' }],
    timeZone: 'Asia/Shanghai',
    now: () => NOW,
  });
}

t.test('links follow a re-import that moves their programmes, and flag the vanished', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-links-'));
  const store = openStore(join(dir, 'headend.db'));
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await importFixture(store, 'moved-before.xml');

  // The operator picks programmes from the guide grid: the links remember them as they were.
  const reader = createGuideReader(store.db);
  const pick = (title: string) => {
    const p = reader.overlapping(0, Number.MAX_SAFE_INTEGER, 'cctv1').find((x) => x.title === title);
    if (!p) throw new Error(`no ${title} in the guide`);
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    return {
      kind: 'programme' as const,
      service: 'cctv1',
      programmeId: p.programmeId,
      title: p.title,
      start: iso(p.startMs),
      stop: iso(p.stopMs),
    };
  };
  const entries: GuideLinkedEntry[] = [
    { id: 'rec-football', link: pick('天下足球') },
    { id: 'rec-focus', link: pick('焦点访谈') },
    { id: 'rec-wall', link: pick('纪录片：长城') },
    { id: 'rec-animals', link: pick('动物世界') },
    { id: 'series-shanhai', link: { kind: 'series', service: 'cctv1', title: '山海情' } },
  ];
  const first = Object.fromEntries(resolveGuideLinks(store.db, entries, NOW).map((r) => [r.entryId, r]));
  t.ok(
    Object.values(first).every((r) => r.status === 'listed' && r.changed),
    'all listed on first resolution',
  );
  t.same(
    first['series-shanhai']?.occurrences.map((o) => [o.episode, o.start]),
    [
      ['S1E13', '2026-11-29T01:00:00Z'],
      ['S1E14', '2026-11-29T02:00:00Z'],
      ['S1E16', '2026-11-30T02:00:00Z'],
    ],
    'the repeat of episode 13 is skipped',
  );
  t.equal(first['series-shanhai']?.duplicatesSkipped, 1);

  await importFixture(store, 'moved-after.xml');
  const after = Object.fromEntries(resolveGuideLinks(store.db, entries, NOW).map((r) => [r.entryId, r]));

  const football = after['rec-football'];
  t.match(football, { status: 'listed', changed: true });
  t.same(
    football?.occurrences.map((o) => [o.start, o.end]),
    [['2026-11-29T12:10:00Z', '2026-11-29T13:40:00Z']],
    'moved (new hashed id): followed by title and similar duration',
  );
  t.equal(football?.warnings[0]?.code, 'MOVED');

  t.same(
    after['rec-focus']?.occurrences.map((o) => [o.start, o.programmeId]),
    [['2026-11-29T11:45:00Z', 'ev:100']],
    'moved (DVB event id): followed by id',
  );

  const wall = after['rec-wall'];
  t.match(wall, { status: 'not_listed', changed: true });
  t.same(
    wall?.occurrences.map((o) => [o.start, o.listed]),
    [['2026-11-29T15:00:00Z', false]],
    'vanished: kept at its last known time, flagged',
  );
  t.match(wall?.warnings, [{ code: 'NOT_LISTED', message: /纪录片：长城.*no longer in the guide/ }]);

  t.match(
    after['rec-animals'],
    { status: 'listed', changed: false, warnings: [] },
    'unchanged time: nothing to republish',
  );

  const series = after['series-shanhai'];
  t.equal(series?.status, 'not_listed', 'episode 16 vanished');
  t.same(
    series?.occurrences.map((o) => [o.episode, o.start, o.listed]),
    [
      ['S1E13', '2026-11-29T01:00:00Z', true],
      ['S1E14', '2026-11-29T03:00:00Z', true],
      ['S1E15', '2026-11-30T01:00:00Z', true],
      ['S1E16', '2026-11-30T02:00:00Z', false],
    ],
  );
  t.same(series?.warnings.map((w) => w.code).sort(), ['MOVED', 'NOT_LISTED']);

  // The state is kept: what the UI shows, and what the next resolution follows from.
  const stored = createGuideLinkStore(store.db).get('rec-wall');
  t.equal(stored?.status, 'not_listed');
  t.equal(stored?.warnings[0]?.code, 'NOT_LISTED');

  for (const r of Object.values(after)) {
    const parsed = OccurrencesRule.safeParse({ type: 'occurrences', items: toScheduleItems(r) });
    t.ok(parsed.success, `${r.entryId}: valid schedule items`);
  }
  createGuideLinkStore(store.db).forget('rec-wall');
  t.equal(createGuideLinkStore(store.db).get('rec-wall'), undefined, 'a deleted entry is forgotten');
});
