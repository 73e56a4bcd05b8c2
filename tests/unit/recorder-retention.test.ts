import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { silentLogger } from '../../device/log.js';
import { DiskGuard, type DiskUsage, shortfall } from '../../device/recorder/disk.js';
import {
  deleteRecording,
  insideRoot,
  planRetention,
  type RetentionItem,
  runRetention,
} from '../../device/recorder/retention.js';
import { openStationStore } from '../../device/store/db.js';

let nextId = 1;
function item(entryId: string, day: number, extra: Partial<RetentionItem> = {}): RetentionItem {
  const d = `2026-03-${String(day).padStart(2, '0')}`;
  return {
    id: nextId++,
    entryId,
    plannedStart: `${d}T11:00:00.000Z`,
    finishedAt: `${d}T12:00:00.000Z`,
    state: 'finished',
    protected: false,
    keep: null,
    bytes: 100,
    ...extra,
  };
}

t.test('space: oldest unprotected finished first; never running, never protected', async (t) => {
  const running = item('live', 1, { state: 'running', finishedAt: null });
  const prot = item('mandated', 2, { protected: true });
  const old = item('news', 3);
  const mid = item('news', 4);
  const young = item('sport', 5);
  const plan = planRetention([young, running, mid, prot, old], { needBytes: 150 });
  t.same(plan.delete, [
    { id: old.id, reason: 'space', bytes: 100 },
    { id: mid.id, reason: 'space', bytes: 100 },
  ]);
  t.same([plan.freedBytes, plan.shortBytes], [200, 0]);
  const all = planRetention([young, running, mid, prot, old], { needBytes: 10_000 });
  t.same(
    all.delete.map((d) => d.id).sort(),
    [old.id, mid.id, young.id].sort(),
    'running and protected never chosen',
  );
  t.equal(all.shortBytes, 10_000 - 300, 'what cannot be found is reported');
  t.same(planRetention([old, mid], { needBytes: 0 }).delete, [], 'no need, no deletion');
});

t.test('keep-N per entry: older recordings beyond the newest N go even without space pressure', async (t) => {
  const n = [1, 2, 3, 4].map((day) => item('series', day, { keep: 2 }));
  const protectedOld = item('series', 0, { keep: 2, protected: true });
  const other = item('news', 1);
  const plan = planRetention([...n, protectedOld, other], { needBytes: 0 });
  t.same(
    plan.delete.map((d) => [d.id, d.reason]),
    [
      [n[1]!.id, 'keep_n'],
      [n[0]!.id, 'keep_n'],
    ],
    'the two newest kept; the protected one counts but stays',
  );
  const overridden = planRetention([...n, other], { needBytes: 0, keepByEntry: { series: null } });
  t.same(overridden.delete, [], 'the current schedule removed the limit');
  const tighter = planRetention([...n, other], { needBytes: 0, keepByEntry: { series: 1, news: 0 } });
  t.equal(tighter.delete.length, 4, 'keep 1 of series, none of news');
});

t.test('properties: never running or protected; frees the need when it can; deterministic', async (t) => {
  const arb = fc.array(
    fc.record({
      entry: fc.constantFrom('a', 'b', 'c'),
      day: fc.integer({ min: 1, max: 28 }),
      running: fc.boolean(),
      protected: fc.boolean(),
      keep: fc.option(fc.integer({ min: 0, max: 3 })),
      bytes: fc.integer({ min: 1, max: 1000 }),
    }),
    { maxLength: 30 },
  );
  fc.assert(
    fc.property(arb, fc.integer({ min: 0, max: 20_000 }), (rows, need) => {
      const items = rows.map((r, i) =>
        item(r.entry, r.day, {
          id: i + 1,
          state: r.running ? 'running' : 'finished',
          finishedAt: r.running ? null : `2026-03-${String(r.day).padStart(2, '0')}T12:00:00.000Z`,
          protected: r.protected,
          keep: r.keep,
          bytes: r.bytes,
        }),
      );
      const plan = planRetention(items, { needBytes: need });
      const chosen = new Set(plan.delete.map((d) => d.id));
      const safe = items.every((i) => !chosen.has(i.id) || (i.state === 'finished' && !i.protected));
      const deletable = items
        .filter((i) => i.state === 'finished' && !i.protected)
        .reduce((n, i) => n + i.bytes, 0);
      const enough = plan.shortBytes === 0 ? plan.freedBytes >= need : plan.freedBytes === deletable;
      const again = planRetention([...items].reverse(), { needBytes: need });
      return (
        safe &&
        enough &&
        JSON.stringify(again.delete.map((d) => d.id).sort()) === JSON.stringify([...chosen].sort())
      );
    }),
  );
  t.pass();
});

t.test('runRetention deletes files then catalogue rows, and never leaves the recordings root', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'retention-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'rec');
  const store = openStationStore(path.join(dir, 'station.db'));
  t.teardown(() => store.close());
  const make = (entryId: string, day: string, recDir: string) => {
    const { recording } = store.recordings.open({
      entryId,
      nominalStart: `${day}T11:00:00.000Z`,
      service: 's',
      serviceId: 1,
      dir: recDir,
      plannedStart: `${day}T11:00:00.000Z`,
      plannedEnd: `${day}T12:00:00.000Z`,
      startedAt: `${day}T11:00:00.000Z`,
      clockTrusted: true,
    });
    store.transaction((tx) =>
      store.recordings.finish(tx, recording.id, {
        outcome: 'completed',
        bytes: 1000,
        durationMs: 1,
        gapsMs: 0,
        quality: 100,
        clockTrusted: true,
        finishedAt: `${day}T12:00:00.000Z`,
      }),
    );
    return recording.id;
  };
  mkdirSync(path.join(root, 'news/a'), { recursive: true });
  writeFileSync(path.join(root, 'news/a/seg-00000.ts'), Buffer.alloc(1000));
  const a = make('news', '2026-03-01', 'news/a');
  const evil = make('evil', '2026-02-01', '../outside');
  mkdirSync(path.join(dir, 'outside'));
  const report = await runRetention(
    { recordings: store.recordings, root, logger: silentLogger() },
    { needBytes: 5000 },
  );
  t.same(
    report.deleted.map((d) => [d.id, d.bytes]),
    [[a, 1000]],
  );
  t.equal(report.freedBytes, 1000);
  t.match(report.errors, [{ id: evil, code: 'BAD_PATH' }], 'a catalogue dir escaping the root is refused');
  t.ok(existsSync(path.join(dir, 'outside')), 'nothing outside the root deleted');
  t.notOk(existsSync(path.join(root, 'news/a')));
  t.equal(store.recordings.get(a), undefined);
  t.equal(insideRoot('/rec', '.'), null);
  t.equal(insideRoot('/rec', '/etc'), null);
  t.equal(insideRoot('/rec', 'a/../../b'), null);
  t.equal(insideRoot('/rec', 'a/b'), '/rec/a/b');
});

const usage = (u: Partial<DiskUsage>): DiskUsage => ({
  usedBytes: 0,
  freeBytes: 1e12,
  totalBytes: 2e12,
  quotaBytes: 0,
  minFreeBytes: 0,
  readOnly: false,
  ...u,
});

t.test('shortfall: quota and free-space floor, whichever is tighter', async (t) => {
  t.equal(shortfall(usage({ usedBytes: 900, quotaBytes: 1000 }), 50), 0);
  t.equal(shortfall(usage({ usedBytes: 900, quotaBytes: 1000 }), 300), 200);
  t.equal(shortfall(usage({ usedBytes: 900, quotaBytes: 0 }), 300), 0, 'no quota');
  t.equal(shortfall(usage({ freeBytes: 1000, minFreeBytes: 800 }), 300), 100, 'floor');
  t.equal(
    shortfall(usage({ usedBytes: 900, quotaBytes: 1000, freeBytes: 1000, minFreeBytes: 800 }), 300),
    200,
  );
});

t.test('DiskGuard: retention first, then disk_full; EROFS is read_only', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStationStore(path.join(dir, 'station.db'));
  t.teardown(() => store.close());
  let view = usage({ usedBytes: 950, quotaBytes: 1000 });
  const guard = new DiskGuard({
    root: dir,
    policy: { quotaBytes: 1000, minFreeBytes: 0 },
    recordings: store.recordings,
    logger: silentLogger(),
    measure: async () => view,
  });
  t.match(await guard.ensureSpace(40), { ok: true, retention: null });
  t.match(
    await guard.ensureSpace(100),
    { ok: false, reason: 'disk_full', shortBytes: 50 },
    'nothing to delete',
  );
  view = usage({ readOnly: true });
  t.match(await guard.ensureSpace(1), { ok: false, reason: 'read_only', message: /read-only/ });
  const real = new DiskGuard({
    root: dir,
    policy: { quotaBytes: 0, minFreeBytes: 0 },
    recordings: store.recordings,
    logger: silentLogger(),
  });
  const u = await real.usage();
  t.ok(u.usedBytes > 0 && u.freeBytes > 0 && u.totalBytes >= u.freeBytes && !u.readOnly, 'real statfs + du');
});

t.test('recordings.delete: files and row go; a running recording or an unknown id is refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'delete-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'rec');
  const store = openStationStore(path.join(dir, 'station.db'));
  t.teardown(() => store.close());
  const open = (entryId: string) =>
    store.recordings.open({
      entryId,
      nominalStart: '2026-03-01T11:00:00.000Z',
      service: 's',
      serviceId: 1,
      dir: `${entryId}/a`,
      plannedStart: '2026-03-01T11:00:00.000Z',
      plannedEnd: '2026-03-01T12:00:00.000Z',
      startedAt: '2026-03-01T11:00:00.000Z',
      clockTrusted: true,
    }).recording;
  const done = open('done');
  const running = open('running');
  for (const r of [done, running]) {
    mkdirSync(path.join(root, r.dir), { recursive: true });
    writeFileSync(path.join(root, r.dir, 'seg-00000.ts'), Buffer.alloc(700));
  }
  store.transaction((tx) =>
    store.recordings.finish(tx, done.id, {
      outcome: 'completed',
      bytes: 700,
      durationMs: 1,
      gapsMs: 0,
      quality: 100,
      clockTrusted: true,
      finishedAt: '2026-03-01T12:00:00.000Z',
    }),
  );
  const deps = { recordings: store.recordings, root };
  t.same(await deleteRecording(deps, done.id), { id: done.id, bytes: 700 });
  t.notOk(existsSync(path.join(root, done.dir)));
  t.equal(store.recordings.get(done.id), undefined);
  await t.rejects(deleteRecording(deps, running.id), { name: 'StoreError', code: 'CONFLICT' });
  t.ok(existsSync(path.join(root, running.dir, 'seg-00000.ts')), 'running recording untouched');
  await t.rejects(deleteRecording(deps, 999), { code: 'NOT_FOUND' });
});
