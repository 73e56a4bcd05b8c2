import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStationStore } from '../../device/store/db.js';
import { STATION_MIGRATIONS } from '../../device/store/migrations/index.js';
import type { Migration } from '../../device/store/migrations/types.js';

function tempDb(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-mig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'station.db');
}

const addNotes: Migration = {
  version: 2,
  name: 'add-notes',
  up(db) {
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT');
  },
};

t.test('a fresh database is WAL, synchronous=FULL, fully migrated, with a random hex storeId', async (t) => {
  const file = tempDb(t);
  const store = openStationStore(file);
  t.teardown(() => store.close());
  t.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(store.db.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL is 2');
  t.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
  t.same(store.migration, { from: 0, to: STATION_MIGRATIONS.length, applied: [1] });
  t.match(store.storeId, /^[a-f0-9]{32}$/);
  const tables = (
    store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  for (const name of [
    'outbox',
    'journal',
    'recordings',
    'segments',
    'recorder_processes',
    'rpc_rids',
    'counters',
  ]) {
    t.ok(tables.includes(name), `table ${name} exists`);
  }
});

t.test('reopening applies nothing and keeps the storeId; two databases get different ids', async (t) => {
  const file = tempDb(t);
  const first = openStationStore(file);
  const id = first.storeId;
  first.close();
  const again = openStationStore(file);
  t.teardown(() => again.close());
  t.equal(again.storeId, id);
  t.same(again.migration.applied, []);
  const other = openStationStore(tempDb(t));
  t.teardown(() => other.close());
  t.not(other.storeId, id);
});

t.test('a new migration is applied on the next open, once', async (t) => {
  const file = tempDb(t);
  openStationStore(file).close();
  const s = openStationStore(file, { migrations: [...STATION_MIGRATIONS, addNotes] });
  t.same(s.migration, { from: 1, to: 2, applied: [2] });
  s.db.prepare("INSERT INTO notes (text) VALUES ('kept')").run();
  s.close();
  const s2 = openStationStore(file, { migrations: [...STATION_MIGRATIONS, addNotes] });
  t.teardown(() => s2.close());
  t.same(s2.migration.applied, []);
  t.equal(s2.db.pragma('user_version', { simple: true }), 2);
  t.same(s2.db.prepare('SELECT text FROM notes').all(), [{ text: 'kept' }]);
});

t.test('a database written by a newer agent is refused, not downgraded', async (t) => {
  const file = tempDb(t);
  openStationStore(file, { migrations: [...STATION_MIGRATIONS, addNotes] }).close();
  t.throws(() => openStationStore(file), { name: 'StoreError', code: 'DB_TOO_NEW' });
});

t.test('a migration recorded under another name is a mismatch', async (t) => {
  const file = tempDb(t);
  openStationStore(file, { migrations: [...STATION_MIGRATIONS, addNotes] }).close();
  const renamed: Migration = { ...addNotes, name: 'something-else' };
  t.throws(() => openStationStore(file, { migrations: [...STATION_MIGRATIONS, renamed] }), {
    name: 'StoreError',
    code: 'MIGRATION_MISMATCH',
  });
});

t.test('a failing migration rolls back whole and leaves the previous version', async (t) => {
  const file = tempDb(t);
  openStationStore(file).close();
  const broken: Migration = {
    version: 2,
    name: 'broken',
    up(db) {
      db.exec('CREATE TABLE half_done (id INTEGER PRIMARY KEY)');
      db.exec('INSERT INTO no_such_table VALUES (1)');
    },
  };
  t.throws(() => openStationStore(file, { migrations: [...STATION_MIGRATIONS, broken] }), {
    name: 'StoreError',
    code: 'MIGRATION_FAILED',
  });
  const s = openStationStore(file);
  t.teardown(() => s.close());
  t.equal(s.db.pragma('user_version', { simple: true }), 1);
  t.equal(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get(), undefined);
});

t.test('a migration list with a hole is a build error', async (t) => {
  const file = tempDb(t);
  const skipped: Migration = { ...addNotes, version: 3 };
  t.throws(() => openStationStore(file, { migrations: [...STATION_MIGRATIONS, skipped] }), {
    name: 'StoreError',
    code: 'MIGRATION_MISMATCH',
  });
});

t.test('an unopenable path is a typed error', async (t) => {
  t.throws(() => openStationStore('/nonexistent-dir-for-ruralsat/station.db'), {
    name: 'StoreError',
    code: 'OPEN_FAILED',
  });
});
