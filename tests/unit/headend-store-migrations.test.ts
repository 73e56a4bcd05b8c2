/** Migrations runner (headend/store/migrate.ts): idempotent, ordered, refuses a newer or different schema. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../headend/store/db.js';
import { openStore } from '../../headend/store/index.js';
import { type Migration, migrate, schemaVersion } from '../../headend/store/migrate.js';
import { MIGRATIONS } from '../../headend/store/migrations/index.js';

function tempDb(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-mig-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'headend.db');
}

t.test('a new database gets every migration once; reopening applies nothing', async (t) => {
  const file = tempDb(t);
  const first = openStore(file);
  t.same(
    first.migration.applied,
    MIGRATIONS.map((m) => m.version),
    'all applied on first open',
  );
  t.equal(first.migration.to, MIGRATIONS.length);
  first.stations.create({ id: 'kongtong-anguo', name: 'Anguo', county: 'kongtong' });
  first.close();
  const second = openStore(file);
  t.same(second.migration.applied, [], 'nothing applied the second time');
  t.equal(second.stations.list().length, 1, 'data kept');
  t.equal(
    second.groups.list().filter((g) => g.kind === 'county').length,
    7,
    'counties seeded once, not twice',
  );
  second.close();
});

t.test('the database is in WAL mode with a busy timeout and foreign keys', async (t) => {
  const db = openDatabase(tempDb(t));
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000, 'busy_timeout set');
  t.equal(db.pragma('foreign_keys', { simple: true }), 1);
});

t.test('a failing migration leaves no trace and the next run retries it', async (t) => {
  const db = openDatabase(':memory:');
  t.teardown(() => db.close());
  const good: Migration = { version: 1, name: 'one', up: 'CREATE TABLE a (x INTEGER);' };
  const bad: Migration = {
    version: 2,
    name: 'two',
    up: 'CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1);',
  };
  t.throws(() => migrate(db, [good, bad]), /no such table: nope/);
  t.equal(schemaVersion(db), 1, 'first migration committed, the failing one not');
  t.notOk(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get(), 'partial DDL rolled back');
  const fixed: Migration = { version: 2, name: 'two', up: 'CREATE TABLE b (y INTEGER);' };
  t.same(migrate(db, [good, fixed]).applied, [2]);
});

t.test('refuses a database newer than the code, or with different history', async (t) => {
  const db = openDatabase(':memory:');
  t.teardown(() => db.close());
  const one: Migration = { version: 1, name: 'one', up: 'CREATE TABLE a (x INTEGER);' };
  const two: Migration = { version: 2, name: 'two', up: 'CREATE TABLE b (x INTEGER);' };
  migrate(db, [one, two]);
  t.throws(() => migrate(db, [one]), { code: 'SCHEMA_TOO_NEW' });
  t.throws(() => migrate(db, [one, { ...two, name: 'other' }]), { code: 'MIGRATION_MISMATCH' });
  t.throws(
    () => migrate(openDatabase(':memory:'), [two]),
    { code: 'BAD_MIGRATIONS' },
    'versions must start at 1',
  );
});
