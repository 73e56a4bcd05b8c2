/**
 * Issued schedule documents after migration 7 (headend/store/migrations/007-schedule-docs-rowid.ts): a
 * database created by the old schema keeps every version and hash, versions stay unique, the bytes of
 * superseded published versions are dropped while the desired-vs-applied check still knows their hashes
 * (DESIGN.md §4 "alarms if a station reports a version the headend never issued"), and the read caches
 * see writes made by another connection (the CLI) — on the next turn of the event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../headend/store/db.js';
import { openStore } from '../../headend/store/index.js';
import { migrate } from '../../headend/store/migrate.js';
import { MIGRATIONS } from '../../headend/store/migrations/index.js';
import { PRUNE_EVERY } from '../../headend/store/schedules.js';

function tempFile(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-docs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'headend.db');
}

const nextTurn = () => new Promise((r) => setImmediate(r));

t.test('a database of the old schema keeps every version and hash through migration 7', async (t) => {
  const file = tempFile(t);
  const old = openDatabase(file);
  migrate(old, MIGRATIONS.slice(0, 6));
  old
    .prepare(
      "INSERT INTO stations (id, name, county, receivers_json, tags_json, created_at, updated_at) VALUES (?, ?, 'kongtong', '[]', '[]', 'x', 'x')",
    )
    .run('st-a', 'A');
  const ins = old.prepare(
    'INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // Inserted out of order on purpose: the WITHOUT ROWID table kept them by key, the new one by rowid.
  for (const [epoch, n] of [
    [1, 2],
    [1, 1],
    [1, 3],
  ] as const) {
    ins.run(
      'st-a',
      epoch,
      n,
      Buffer.from(`{"v":"${epoch}.${n}"}`),
      `hash-${epoch}.${n}`,
      `2026-01-0${n}T00:00:00Z`,
      null,
    );
  }
  t.equal(
    (
      old.prepare("SELECT sql FROM sqlite_master WHERE name = 'schedule_docs'").get() as { sql: string }
    ).sql.includes('WITHOUT ROWID'),
    true,
    'the old table was WITHOUT ROWID',
  );
  old.close();

  const store = openStore(file);
  t.teardown(() => store.close());
  t.same(store.migration.applied, [7, 8], 'only migrations 7 and 8 ran');
  const sql = (
    store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'schedule_docs'").get() as { sql: string }
  ).sql;
  t.notOk(sql.includes('WITHOUT ROWID'), 'a rowid table now');
  t.same(store.schedules.latest('st-a')?.version, { epoch: 1, n: 3 }, 'newest is still the newest');
  t.equal(store.schedules.latest('st-a')?.doc.toString(), '{"v":"1.3"}', 'bytes kept');
  t.ok(store.schedules.wasIssued('st-a', { epoch: 1, n: 2 }, 'hash-1.2'), 'old versions and hashes kept');
  t.notOk(store.schedules.wasIssued('st-a', { epoch: 1, n: 4 }), 'never issued stays never issued');
  t.same(
    store.schedules.unpublished().map((d) => d.version),
    [{ epoch: 1, n: 3 }],
    'the outbox still has the newest unpublished document',
  );
  t.throws(
    () =>
      store.db
        .prepare(
          "INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at) VALUES ('st-a', 1, 3, x'00', 'h', 'x')",
        )
        .run(),
    /UNIQUE/,
    'a version cannot be issued twice',
  );
  const next = store.schedules.issue('st-a', (v) => JSON.stringify({ version: v }));
  t.same(next.version, { epoch: 1, n: 4 }, 'numbering continues');
});

t.test('superseded bytes are dropped once a newer version is published; their hashes stay', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  store.stations.create({ id: 'st-b', name: 'B', county: 'kongtong' });
  const docs = Array.from({ length: PRUNE_EVERY }, () =>
    store.schedules.issue('st-b', (v) => JSON.stringify({ version: v, pad: 'x'.repeat(500) })),
  );
  const withBytes = () =>
    (
      store.db
        .prepare("SELECT COUNT(*) AS c FROM schedule_docs WHERE station_id = 'st-b' AND doc IS NOT NULL")
        .get() as { c: number }
    ).c;
  for (const d of docs.slice(0, -1)) store.schedules.markPublished('st-b', d.version);
  t.equal(withBytes(), PRUNE_EVERY, `bytes kept until version ${PRUNE_EVERY} is published`);
  const newest = docs[docs.length - 1];
  if (!newest) throw new Error('no documents');
  store.schedules.markPublished('st-b', newest.version);
  t.equal(withBytes(), 1, 'only the newest keeps its bytes');
  t.equal(store.schedules.latest('st-b')?.doc.toString(), newest.doc.toString(), 'the newest is intact');
  const first = docs[0];
  if (!first) throw new Error('no documents');
  t.ok(store.schedules.wasIssued('st-b', first.version, first.sha256), 'the first version is still known');
  t.equal(store.schedules.latestAll().length, 1, 'republish set unchanged');
});

t.test('the read caches see another connection’s commits on the next turn', async (t) => {
  const file = tempFile(t);
  const store = openStore(file);
  t.teardown(() => store.close());
  store.stations.create({ id: 'st-c', name: 'Before', county: 'kongtong' });
  const d1 = store.schedules.issue('st-c', (v) => JSON.stringify({ version: v }));
  t.equal(store.stations.get('st-c')?.name, 'Before');
  t.same(store.schedules.head('st-c')?.version, d1.version);
  t.throws(() => {
    (store.stations.get('st-c') as { name: string }).name = 'mutated';
  }, 'a cached station cannot be changed in place by one caller for the others');

  // The CLI writes the registry and issues through its own connection while the headend runs.
  const cli = openStore(file);
  cli.stations.update('st-c', { name: 'After' });
  const d2 = cli.schedules.issue('st-c', (v) => JSON.stringify({ version: v }));
  cli.close();
  await nextTurn();
  t.equal(store.stations.get('st-c')?.name, 'After', 'registry change seen');
  t.same(store.schedules.head('st-c')?.version, d2.version, 'new version seen');

  // Own writes are seen at once, also the ones of a transaction (not cached until committed).
  store.stations.update('st-c', { name: 'Own' });
  t.equal(store.stations.get('st-c')?.name, 'Own');
  t.throws(() =>
    store.transaction(() => {
      store.stations.update('st-c', { name: 'Rolled back' });
      store.schedules.issue('st-c', (v) => JSON.stringify({ version: v }));
      t.equal(store.stations.get('st-c')?.name, 'Rolled back', 'inside: the uncommitted row');
      throw new Error('abort');
    }),
  );
  t.equal(store.stations.get('st-c')?.name, 'Own', 'a rolled-back write is not cached');
  t.same(store.schedules.head('st-c')?.version, d2.version, 'a rolled-back version is not cached');
});
