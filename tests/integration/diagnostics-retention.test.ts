/**
 * The retention remedy on the station (device/diagnostics/retention-service.ts; DOMAIN.md §6 "Disk full:
 * retention policy"): a policy change survives a restart; a sweep deletes what is older than the max age,
 * beyond keep-N per entry, then the oldest until the quota holds — never a protected or running recording;
 * and the same sweep runs by itself every `retentionSweepMs`, so a technician's policy change takes effect
 * without a recording having to run short of space. Real station store, real files.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import t from 'tap';
import { RetentionService } from '../../device/diagnostics/retention-service.js';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { type DiskPolicy, measureDisk } from '../../device/recorder/disk.js';
import { openStationStore, type StationStore } from '../../device/store/db.js';
import { until } from '../helpers/agent-harness.js';

const DAY = 86_400_000;

function fixture(t: Test) {
  const dir = mkdtempSync(path.join(tmpdir(), 'retention-svc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'recordings');
  mkdirSync(root, { recursive: true });
  const store = openStationStore(path.join(dir, 'station.db'));
  t.teardown(() => store.close());
  return { dir, root, store };
}

/** A finished recording `ageDays` old with one 1000-byte file. */
function recording(
  store: StationStore,
  root: string,
  entryId: string,
  ageDays: number,
  o: { protect?: boolean } = {},
) {
  const end = Date.now() - ageDays * DAY;
  const iso = (ms: number) => new Date(ms).toISOString();
  const dir = `${entryId}/${ageDays}`;
  mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, dir, 'seg-00000.ts'), Buffer.alloc(1000));
  const { recording: r } = store.recordings.open({
    entryId,
    nominalStart: iso(end - 3_600_000),
    service: 'cctv1',
    serviceId: 101,
    dir,
    plannedStart: iso(end - 3_600_000),
    plannedEnd: iso(end),
    startedAt: iso(end - 3_600_000),
    clockTrusted: true,
  });
  store.transaction((tx) =>
    store.recordings.finish(tx, r.id, {
      outcome: 'completed',
      bytes: 1000,
      durationMs: 3_600_000,
      gapsMs: 0,
      quality: 100,
      clockTrusted: true,
      finishedAt: iso(end),
    }),
  );
  if (o.protect) store.recordings.setProtected(r.id, true);
  return { id: r.id, file: path.join(root, dir) };
}

function service(dir: string, root: string, store: StationStore, disk: DiskPolicy) {
  return new RetentionService({
    recordings: store.recordings,
    root,
    disk,
    usage: () => measureDisk(root, disk),
    dataDir: dir,
    clock: systemClock(),
    now: Date.now,
    logger: silentLogger(),
  });
}

t.test('max age, keep-N, quota; protected recordings stay; the policy survives a restart', async (t) => {
  const { dir, root, store } = fixture(t);
  const disk: DiskPolicy = { quotaBytes: 0, minFreeBytes: 0 };
  const old = recording(store, root, 'news', 40);
  const oldProtected = recording(store, root, 'news', 50, { protect: true });
  const series = [1, 2, 3, 4].map((d) => recording(store, root, 'series', d));
  const svc = service(dir, root, store, disk);
  t.same(svc.policy(), { maxAgeDays: null, quotaBytes: null, minFreeBytes: 0, keepPerEntry: null });

  const nothing = await svc.sweep();
  t.equal(nothing.deleted, 0, 'no policy, no pressure: nothing deleted');

  await svc.setPolicy({ maxAgeDays: 30, keepPerEntry: 2 });
  const r = await svc.sweep();
  t.same(r.byReason, { age: 1, keep_n: 2, space: 0 }, 'one too old, two beyond keep-2');
  t.notOk(existsSync(old.file), 'the 40-day-old recording is gone');
  t.ok(existsSync(oldProtected.file), 'the protected one stays, however old');
  t.same(
    series.map((s) => existsSync(s.file)),
    [true, true, false, false],
    'the newest two of the series stay',
  );

  // A quota below what is left: the oldest unprotected goes.
  await svc.setPolicy({ quotaBytes: 2500 });
  t.equal(disk.quotaBytes, 2500, "the recorder's disk guard sees the new quota");
  const q = await svc.sweep();
  t.same(q.byReason, { age: 0, keep_n: 0, space: 1 });
  t.same(
    series.map((s) => existsSync(s.file)),
    [true, false, false, false],
  );

  // A new agent on the same data dir reads the saved policy.
  const disk2: DiskPolicy = { quotaBytes: 0, minFreeBytes: 0 };
  const again = service(dir, root, store, disk2);
  await again.load();
  t.same(again.policy(), { maxAgeDays: 30, quotaBytes: 2500, minFreeBytes: 0, keepPerEntry: 2 });
  t.equal(disk2.quotaBytes, 2500);
});

t.test('the sweep runs by itself on its period', async (t) => {
  const { dir, root, store } = fixture(t);
  const disk: DiskPolicy = { quotaBytes: 0, minFreeBytes: 0 };
  const old = recording(store, root, 'news', 10);
  const svc = service(dir, root, store, disk);
  await svc.setPolicy({ maxAgeDays: 7 });
  svc.start(200);
  t.teardown(() => svc.stop());
  const report = await until(() => svc.lastAuto, 'an automatic sweep', 5000);
  t.match(report, { deleted: 1, byReason: { age: 1 } });
  t.notOk(existsSync(old.file), 'the automatic sweep deleted the old recording');
});

t.test('under a quota the sweep keeps the headroom free, oldest first (maintain free space)', async (t) => {
  const { dir, root, store } = fixture(t);
  // Five 1000-byte recordings under a 5600-byte quota: 600 bytes free = 11 %, inside the headend's
  // disk_low line (10 % + 3 % hysteresis). A 20 % headroom needs 1120 free: one recording, the oldest, goes.
  const disk: DiskPolicy = { quotaBytes: 5600, minFreeBytes: 0, headroomRatio: 0.2 };
  const recs = [5, 4, 3, 2, 1].map((age) => recording(store, root, `talk-${age}`, age));
  const svc = service(dir, root, store, disk);
  const r = await svc.sweep();
  t.same(r.byReason, { age: 0, keep_n: 0, space: 1 }, 'freed for space, nothing else');
  t.same(
    recs.map((x) => existsSync(x.file)),
    [false, true, true, true, true],
    'the oldest went, the rest stay',
  );
  const after = await measureDisk(root, disk);
  t.ok(after.quotaBytes - after.usedBytes >= 0.2 * disk.quotaBytes, 'the headroom is free again');
  const again = await svc.sweep();
  t.equal(again.deleted, 0, 'a second sweep finds nothing to do: it frees the headroom, not everything');

  disk.headroomRatio = 0;
  recording(store, root, 'talk-0', 0);
  t.equal((await svc.sweep()).deleted, 0, 'without headroom only the quota itself counts');
});
