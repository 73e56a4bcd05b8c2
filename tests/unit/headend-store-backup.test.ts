/**
 * Online backup and restore (DESIGN.md §7): a backup taken while the store is open is a consistent copy;
 * a restore brings back exactly that state and starts a NEW schedule epoch, so the next document of every
 * station is newer than anything a station has applied (DESIGN.md §4 "Desired state").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { backupDatabase, inspectBackup, restoreDatabase } from '../../headend/store/backup.js';
import { openStore } from '../../headend/store/index.js';
import { claimDataDir } from '../../headend/store/lock.js';
import { MIGRATIONS } from '../../headend/store/migrations/index.js';
import { compareVersions } from '../../protocol/messages/common.js';

function dataDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-bak-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('backup → edits → restore: the backed-up state returns under a new epoch', async (t) => {
  const dir = dataDir(t);
  const dbFile = path.join(dir, 'headend.db');
  let store = openStore(dbFile);
  store.stations.create({ id: 'kongtong-anguo', name: 'Anguo', county: 'kongtong' });
  const v1 = store.schedules.issue('kongtong-anguo', (v) => JSON.stringify({ version: v, entries: [] }));
  t.same(v1.version, { epoch: 1, n: 1 });
  const backup = await backupDatabase(store.db, path.join(dir, 'backups', 'b1.db'));
  t.equal(backup.scheduleEpoch, 1);
  t.equal(backup.schemaVersion, MIGRATIONS.length);

  // After the backup: more edits the restore must undo, and versions stations have already applied.
  store.stations.create({ id: 'huating-shangguan', name: 'Shangguan', county: 'huating' });
  const v3 = [2, 3].map(() =>
    store.schedules.issue('kongtong-anguo', (v) => JSON.stringify({ version: v })),
  )[1];
  t.same(v3?.version, { epoch: 1, n: 3 });
  store.close();

  const result = await restoreDatabase({
    dbFile,
    backupFile: backup.file,
    migrations: MIGRATIONS,
    actor: 'test',
  });
  t.equal(result.scheduleEpoch, 2, 'a new epoch');
  t.ok(result.previous && fs.existsSync(result.previous), 'the replaced database is kept beside it');

  store = openStore(dbFile);
  t.teardown(() => store.close());
  t.same(
    store.stations.list().map((s) => s.id),
    ['kongtong-anguo'],
    'the station added after the backup is gone',
  );
  t.same(
    store.schedules.latest('kongtong-anguo')?.version,
    { epoch: 1, n: 1 },
    'document history as backed up',
  );
  t.same(
    store.schedules.staleEpochStations(),
    ['kongtong-anguo'],
    'its newest document is from the old epoch',
  );
  const next = store.schedules.issue('kongtong-anguo', (v) => JSON.stringify({ version: v }));
  t.same(next.version, { epoch: 2, n: 1 });
  t.equal(
    compareVersions(next.version, v3!.version),
    1,
    'newer than the {1,3} the station applied before the restore',
  );
  t.equal(store.audit.list({ limit: 1 })[0]?.action, 'store.restore', 'audited');
});

t.test('the new epoch exceeds the replaced database even when the backup is older', async (t) => {
  const dir = dataDir(t);
  const dbFile = path.join(dir, 'headend.db');
  const store = openStore(dbFile);
  const backup = await backupDatabase(store.db, path.join(dir, 'old.db'));
  store.meta.bumpScheduleEpoch();
  store.meta.bumpScheduleEpoch();
  t.equal(store.meta.scheduleEpoch(), 3, 'live database went through two restores since');
  store.close();
  const r = await restoreDatabase({ dbFile, backupFile: backup.file, migrations: MIGRATIONS, actor: 'test' });
  t.equal(r.scheduleEpoch, 4, 'max(live 3, backup 1) + 1');
});

t.test('backup is online: taken while a writer keeps its connection open', async (t) => {
  const dir = dataDir(t);
  const store = openStore(path.join(dir, 'headend.db'));
  t.teardown(() => store.close());
  store.stations.create({ id: 'lingtai-xinkai', name: 'Xinkai', county: 'lingtai' });
  const b = await backupDatabase(store.db, path.join(dir, 'b.db'));
  store.stations.create({ id: 'lingtai-dukou', name: 'Dukou', county: 'lingtai' });
  const copy = openStore(b.file);
  t.teardown(() => copy.close());
  t.same(
    copy.stations.list().map((s) => s.id),
    ['lingtai-xinkai'],
  );
  await t.rejects(backupDatabase(store.db, b.file), { code: 'ALREADY_EXISTS' }, 'never overwrites a backup');
});

t.test('restore refuses garbage and a running headend', async (t) => {
  const dir = dataDir(t);
  const dbFile = path.join(dir, 'headend.db');
  openStore(dbFile).close();
  const junk = path.join(dir, 'junk.db');
  fs.writeFileSync(junk, 'this is not sqlite at all, just text padded out '.repeat(200));
  await t.rejects(restoreDatabase({ dbFile, backupFile: junk, migrations: MIGRATIONS, actor: 't' }), {
    code: 'NOT_A_BACKUP',
  });
  t.throws(() => inspectBackup(path.join(dir, 'missing.db')), { code: 'NOT_A_BACKUP' });

  const good = path.join(dir, 'good.db');
  const s = openStore(dbFile);
  await backupDatabase(s.db, good);
  s.close();
  // A live headend (a real other process) holds the data dir.
  const { spawn } = await import('node:child_process');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  t.teardown(() => other.kill('SIGKILL'));
  fs.writeFileSync(path.join(dir, 'headend.pid'), `${other.pid}\n`);
  await t.rejects(restoreDatabase({ dbFile, backupFile: good, migrations: MIGRATIONS, actor: 't' }), {
    code: 'HEADEND_RUNNING',
  });
  other.kill('SIGKILL');
  await new Promise((r) => other.once('exit', r));
  const r = await restoreDatabase({ dbFile, backupFile: good, migrations: MIGRATIONS, actor: 't' });
  t.equal(r.scheduleEpoch, 2, 'a stale pid file does not block');
  const release = claimDataDir(dir);
  t.equal(fs.readFileSync(path.join(dir, 'headend.pid'), 'utf8').trim(), String(process.pid));
  release();
  t.notOk(fs.existsSync(path.join(dir, 'headend.pid')), 'released');
});
