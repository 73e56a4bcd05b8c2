/**
 * Retained guide days on the embedded broker (DESIGN.md §4 `guide/{service}/{date}`): after an import the
 * headend publishes the days the report names; a station subscribing later gets each day as a retained
 * document that passes the protocol schema; a re-import republishes only what changed; passed days are
 * cleared.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import t from 'tap';
import {
  changedGuideDays,
  clearExpiredGuideDays,
  type GuideDayPublishDeps,
  guideDaysInWindow,
  guideWindow,
  publishGuideDays,
} from '../../headend/guide/guide-days.js';
import { importGuide } from '../../headend/guide/guide-import.js';
import { createGuideReader } from '../../headend/guide/guide-store.js';
import { createLocalCalendar } from '../../headend/guide/local-day.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { GuideDay } from '../../protocol/messages/guide.js';
import { topics } from '../../protocol/topics.js';
import { startTestBroker } from '../helpers/aedes.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'xmltv');
const NOW = Date.parse('2026-11-28T00:00:00Z');

/** Collects the retained guide days a fresh subscriber receives. */
async function retainedDays(
  url: string,
  user: { username: string; password: string },
): Promise<Map<string, Buffer>> {
  const c: MqttClient = await connectAsync(url, {
    ...user,
    clientId: `${user.username}`,
    protocolVersion: 4,
    clean: true,
  });
  const got = new Map<string, Buffer>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, payload);
  });
  await c.subscribeAsync(topics().guideAll(), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await c.endAsync();
  return got;
}

t.test('guide days are published retained, valid, and only changed days are republished', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ruralsat-guide-days-'));
  const store: Store = openStore(join(dir, 'headend.db'));
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const { url, headend } = await startTestBroker(t);
  const pub = await connectAsync(url, {
    ...headend,
    clientId: headend.username,
    protocolVersion: 4,
    clean: true,
  });
  t.teardown(() => pub.endAsync());
  const published: string[] = [];
  const deps: GuideDayPublishDeps = {
    reader: createGuideReader(store.db),
    calendar: createLocalCalendar('Asia/Shanghai'),
    topics: topics(),
    now: () => new Date(NOW),
    publish: async (topic, payload) => {
      published.push(topic);
      await pub.publishAsync(topic, payload, { qos: 1, retain: true });
    },
  };
  const run = (name: string) =>
    importGuide(store.db, createReadStream(join(FIXTURES, name)), {
      source: name,
      lineup: [{ key: 'cctv1', name: 'CCTV-1 综合' }],
      timeZone: 'Asia/Shanghai',
      now: () => NOW,
    });

  const first = await run('moved-before.xml');
  await publishGuideDays(deps, changedGuideDays(first));
  t.same(published, ['ruralsat/v1/guide/cctv1/2026-11-29', 'ruralsat/v1/guide/cctv1/2026-11-30']);

  const days = await retainedDays(url, headend);
  t.same([...days.keys()].sort(), published);
  const day29 = GuideDay.parse(
    JSON.parse(days.get('ruralsat/v1/guide/cctv1/2026-11-29')?.toString() ?? '{}'),
  );
  t.equal(day29.timeZone, 'Asia/Shanghai');
  t.same(
    day29.programmes.map((p) => [p.start, p.title, p.episode?.episode ?? null]),
    [
      ['2026-11-29T01:00:00Z', '山海情', 13],
      ['2026-11-29T02:00:00Z', '山海情', 14],
      ['2026-11-29T11:38:00Z', '焦点访谈', null],
      ['2026-11-29T12:00:00Z', '天下足球', null],
      ['2026-11-29T14:00:00Z', '动物世界', null],
      ['2026-11-29T15:00:00Z', '纪录片：长城', null],
    ],
  );

  // A re-import with the same content changes no day: nothing to republish.
  published.length = 0;
  await publishGuideDays(deps, changedGuideDays(await run('moved-before.xml')));
  t.same(published, []);

  // After the moves, only the changed days go out, and a new subscriber sees the new day.
  await publishGuideDays(deps, changedGuideDays(await run('moved-after.xml')));
  t.same(published, ['ruralsat/v1/guide/cctv1/2026-11-29', 'ruralsat/v1/guide/cctv1/2026-11-30']);
  const again = await retainedDays(url, headend);
  const new29 = GuideDay.parse(
    JSON.parse(again.get('ruralsat/v1/guide/cctv1/2026-11-29')?.toString() ?? '{}'),
  );
  t.ok(new29.programmes.some((p) => p.title === '新节目'));
  t.notOk(new29.programmes.some((p) => p.title === '纪录片：长城'));

  // Start-up republishes every day in the window from SQLite (DESIGN.md §4).
  const window = guideWindow(deps.calendar, NOW, 1, 14);
  t.same(window, { from: '2026-11-27', to: '2026-12-12' });
  t.same(guideDaysInWindow(deps.reader, deps.calendar, window), [
    { service: 'cctv1', date: '2026-11-29' },
    { service: 'cctv1', date: '2026-11-30' },
  ]);

  // Days that passed are cleared: a later subscriber no longer receives them.
  await clearExpiredGuideDays(deps, ['cctv1'], '2026-12-01', 3);
  const cleared = await retainedDays(url, headend);
  t.same([...cleared.keys()], [], 'empty retained payloads removed the passed days');
});
