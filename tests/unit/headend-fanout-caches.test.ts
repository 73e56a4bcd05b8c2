/**
 * What a fleet-wide push leans on to stay within its budget (DESIGN.md §8, 5 000 stations) must never show
 * a state the database does not hold:
 * - the heads of documents just committed are served from the cache, but a rolled-back transaction leaves
 *   nothing behind (headend/store/schedules.ts `committed`);
 * - a head's `published_at` is kept across the outbox flag only once the flag's batch committed
 *   (`markPublished` + `publishedCommitted`, run by the write batch's after-commit hooks);
 * - the publisher sends handed-over bytes only while they are the station's newest document.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { createWriteBatch } from '../../headend/fleet/write-batch.js';
import { createPublisher } from '../../headend/scheduling/publisher.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { topics } from '../../protocol/topics.js';

const log = pino({ level: 'silent' });

function fixture(t: Test): Store {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-fanout-caches-'));
  const store = openStore(path.join(dir, 'headend.db'));
  t.teardown(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  store.stations.create({ id: 'st-a', name: 'A', county: 'kongtong' });
  return store;
}

const issue = (store: Store, text: string) =>
  store.schedules.insertIssued({
    stationId: 'st-a',
    version: store.schedules.nextVersion('st-a'),
    doc: Buffer.from(text),
    sha256: `${text.length}`.padStart(64, '0'),
  });

t.test('heads of committed documents are current; a rolled-back one never shows', async (t) => {
  const store = fixture(t);
  const first = store.transaction(() => issue(store, 'one'));
  store.schedules.committed([first]);
  t.same(store.schedules.head('st-a')?.version, { epoch: first.version.epoch, n: 1 });

  // A caller's transaction that rolls back: `committed` inside it must not prime the cache.
  t.throws(() =>
    store.transaction(() => {
      const d = issue(store, 'two');
      store.schedules.committed([d]);
      throw new Error('rolled back');
    }),
  );
  t.equal(store.schedules.head('st-a')?.version.n, 1, 'the rolled-back version is not the head');
  t.equal(store.schedules.latest('st-a')?.doc.toString(), 'one');
});

t.test('published_at is cached only after the outbox batch committed', async (t) => {
  const store = fixture(t);
  const d = store.transaction(() => issue(store, 'one'));
  store.schedules.committed([d]);
  t.equal(store.schedules.head('st-a')?.publishedAt, null);

  // A batch that fails after the mark: the table has no published_at, nor may the cache.
  t.throws(() =>
    store.transaction(() => {
      store.schedules.markPublished('st-a', d.version);
      throw new Error('disk full');
    }),
  );
  t.equal(store.schedules.head('st-a')?.publishedAt, null, 'rolled back: still unpublished');

  const batch = createWriteBatch(store, log, 'test');
  batch.add(
    () => store.schedules.markPublished('st-a', d.version),
    () => store.schedules.publishedCommitted('st-a', d.version),
  );
  batch.flush();
  const row = store.db
    .prepare('SELECT published_at AS at FROM schedule_docs WHERE station_id = ? AND n = ?')
    .get('st-a', d.version.n) as { at: string | null };
  t.type(row.at, 'string');
  t.equal(store.schedules.head('st-a')?.publishedAt, row.at, 'the head says what the row says');
});

t.test('a mark committed without its after-commit hook is read again, not served stale', async (t) => {
  const store = fixture(t);
  const d = store.transaction(() => issue(store, 'one'));
  store.schedules.committed([d]);
  t.equal(store.schedules.head('st-a')?.publishedAt, null);
  // The cached head is kept through the mark's transaction (schedules.ts `markPublished`); if the commit
  // is not followed by `publishedCommitted`, the next read must still give what the table holds.
  store.transaction(() => store.schedules.markPublished('st-a', d.version));
  const row = store.db
    .prepare('SELECT published_at AS at FROM schedule_docs WHERE station_id = ? AND n = ?')
    .get('st-a', d.version.n) as { at: string | null };
  t.type(row.at, 'string');
  t.equal(store.schedules.head('st-a')?.publishedAt, row.at, 'the head says what the row says');
  t.equal(
    store.db.transaction(() => store.schedules.heads(['st-a']).get('st-a')?.publishedAt)(),
    row.at,
    'so do the bulk heads',
  );
});

t.test('a failed batch runs no after-commit hook', async (t) => {
  const store = fixture(t);
  const batch = createWriteBatch(store, log, 'test');
  const ran: string[] = [];
  batch.add(
    () => {
      throw new Error('constraint');
    },
    () => ran.push('failed batch'),
  );
  batch.flush();
  batch.add(
    () => undefined,
    () => ran.push('good batch'),
  );
  batch.flush();
  t.same(ran, ['good batch']);
});

t.test('the publisher sends handed-over bytes only while they are the newest document', async (t) => {
  const store = fixture(t);
  const sent: string[] = [];
  let release: (() => void) | null = null;
  const publisher = createPublisher({
    store,
    topics: topics(),
    logger: log,
    timing: { reconnectMinMs: 50, reconnectMaxMs: 100 },
    timeZone: 'Asia/Shanghai',
    transport: {
      connected: true,
      publish: (_topic, payload) => {
        sent.push(payload.toString());
        return new Promise<void>((r) => {
          release = r;
        });
      },
    },
  });
  t.teardown(() => publisher.close());

  const one = store.transaction(() => issue(store, 'one'));
  store.schedules.committed([one]);
  // Handed bytes that differ from the table's would show if they were sent unchecked.
  publisher.kickSchedules(['st-a'], [{ ...one, doc: Buffer.from('one (handed)') }]);
  t.same(sent, ['one (handed)'], 'the committed head: handed bytes go out as they are');

  // While "one" is in flight a newer document commits; the stale hand-over of "one" must not be sent.
  const two = store.transaction(() => issue(store, 'two'));
  store.schedules.committed([two]);
  publisher.kickSchedules(['st-a'], [{ ...one, doc: Buffer.from('one again (stale)') }]);
  (release as (() => void) | null)?.();
  for (let i = 0; i < 5 && sent.length < 2; i++) await new Promise((r) => setImmediate(r));
  t.same(sent, ['one (handed)', 'two'], 'the newest document is read from the table');
  (release as (() => void) | null)?.();
  await publisher.idle();
});
