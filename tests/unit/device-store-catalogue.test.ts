import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStationStore, type StationStore } from '../../device/store/db.js';

function open(t: { teardown(fn: () => void): void }): { s: StationStore; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-cat-'));
  const file = path.join(dir, 'station.db');
  const s = openStationStore(file);
  t.teardown(() => {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { s, file };
}

const doc = (n: number, epoch = 1) => Buffer.from(JSON.stringify({ version: { epoch, n }, entries: [] }));

t.test('a schedule applies only when newer; the hash is SHA-256 of the exact bytes', async (t) => {
  const { s, file } = open(t);
  t.equal(s.schedule.applied(), null);
  const r1 = s.transaction((tx) =>
    s.schedule.apply(tx, { bytes: doc(3), version: { epoch: 1, n: 3 }, appliedAt: 'a1' }),
  );
  t.same(r1, { ok: true, hash: createHash('sha256').update(doc(3)).digest('hex'), previous: null });
  const stale = s.transaction((tx) =>
    s.schedule.apply(tx, { bytes: doc(2), version: { epoch: 1, n: 2 }, appliedAt: 'a2' }),
  );
  t.same(stale, { ok: false, reason: 'not_newer', current: { epoch: 1, n: 3 } });
  const equal = s.transaction((tx) =>
    s.schedule.apply(tx, { bytes: doc(3), version: { epoch: 1, n: 3 }, appliedAt: 'a3' }),
  );
  t.equal(equal.ok, false, 'an equal version is ignored (idempotent)');
  // A restored headend starts a new epoch; its n restarts low but it is newer.
  const epoch = s.transaction((tx) =>
    s.schedule.apply(tx, { bytes: doc(1, 2), version: { epoch: 2, n: 1 }, appliedAt: 'a4' }),
  );
  t.match(epoch, { ok: true, previous: { epoch: 1, n: 3 } });
  const applied = s.schedule.applied();
  t.same(applied?.version, { epoch: 2, n: 1 });
  t.ok(applied?.bytes.equals(doc(1, 2)), 'exact bytes kept');
  t.equal(applied?.appliedAt, 'a4');
  s.close();
  const again = openStationStore(file);
  t.teardown(() => again.close());
  t.same(again.schedule.applied()?.version, { epoch: 2, n: 1 }, 'survives a restart');
});

t.test('a rejection is kept beside the applied document until a newer one applies', async (t) => {
  const { s } = open(t);
  s.transaction((tx) => s.schedule.apply(tx, { bytes: doc(1), version: { epoch: 1, n: 1 }, appliedAt: 'x' }));
  s.transaction((tx) =>
    s.schedule.reject(tx, {
      version: { epoch: 1, n: 2 },
      bytes: doc(2),
      code: 'INVALID',
      reason: 'bad entry',
      at: 'y',
    }),
  );
  t.match(s.schedule.rejection(), { version: { epoch: 1, n: 2 }, code: 'INVALID', reason: 'bad entry' });
  t.same(s.schedule.applied()?.version, { epoch: 1, n: 1 }, 'the previous schedule stays in force');
  s.transaction((tx) => s.schedule.apply(tx, { bytes: doc(3), version: { epoch: 1, n: 3 }, appliedAt: 'z' }));
  t.equal(s.schedule.rejection(), null);
  t.throws(
    () => s.schedule.apply({} as never, { bytes: doc(4), version: { epoch: 1, n: 4 }, appliedAt: 'w' }),
    {
      code: 'NOT_IN_TRANSACTION',
    },
  );
});

const newRec = (entryId: string, nominalStart: string) => ({
  entryId,
  nominalStart,
  service: 'cctv1',
  serviceId: 101,
  dir: `${entryId}/${nominalStart.slice(0, 10)}`,
  plannedStart: nominalStart,
  plannedEnd: '2026-03-01T12:00:00.000Z',
  startedAt: nominalStart,
  clockTrusted: true,
});

t.test('one recording per occurrence; a resume adds segments to the same one', async (t) => {
  const { s } = open(t);
  const first = s.recordings.open({ ...newRec('news', '2026-03-01T11:00:00.000Z'), keep: 3, title: 'News' });
  t.equal(first.resumed, false);
  t.match(first.recording, { state: 'running', keep: 3, protected: false, title: 'News' });
  const seg1 = s.recordings.addSegment(first.recording.id, {
    file: 'news/a/seg-00000.ts',
    start: '2026-03-01T11:00:00.000Z',
  });
  s.recordings.updateSegment(seg1.id, {
    bytes: 5000,
    end: '2026-03-01T11:10:00.000Z',
    durationMs: 600000,
    state: 'verified',
    probe: { ok: true },
  });
  const again = s.recordings.open(newRec('news', '2026-03-01T11:00:00.000Z'));
  t.equal(again.resumed, true);
  t.equal(again.recording.id, first.recording.id);
  s.recordings.addSegment(first.recording.id, {
    file: 'news/a/seg-00001.ts',
    start: '2026-03-01T11:10:40.000Z',
    gapBeforeMs: 40000,
  });
  const segs = s.recordings.segments(first.recording.id);
  t.same(
    segs.map((x) => [x.file, x.state, x.gapBeforeMs]),
    [
      ['news/a/seg-00000.ts', 'verified', 0],
      ['news/a/seg-00001.ts', 'writing', 40000],
    ],
  );
  t.same(segs[0]?.probe, { ok: true });
  t.same(s.recordings.usage(), { bytes: 5000, recordings: 1 });
});

t.test('finish records the outcome in a transaction; a finished recording is not reopened', async (t) => {
  const { s } = open(t);
  const { recording } = s.recordings.open(newRec('news', '2026-03-01T11:00:00.000Z'));
  t.throws(
    () => s.recordings.remove(recording.id),
    { code: 'CONFLICT' },
    'a running recording cannot be removed',
  );
  s.recordings.setPlannedEnd(recording.id, '2026-03-01T12:30:00.000Z');
  const done = s.transaction((tx) =>
    s.recordings.finish(tx, recording.id, {
      outcome: 'completed_with_errors',
      reason: 'gap of 40 s (stream stalled)',
      bytes: 10,
      durationMs: 20,
      gapsMs: 40000,
      quality: 91.6,
      clockTrusted: false,
      finishedAt: '2026-03-01T12:30:00.000Z',
    }),
  );
  t.match(done, {
    state: 'finished',
    outcome: 'completed_with_errors',
    quality: 92,
    clockTrusted: false,
    plannedEnd: '2026-03-01T12:30:00.000Z',
  });
  t.throws(() => s.recordings.open(newRec('news', '2026-03-01T11:00:00.000Z')), { code: 'CONFLICT' });
  t.throws(() => s.recordings.setPlannedEnd(recording.id, '2026-03-01T13:00:00.000Z'), { code: 'CONFLICT' });
  t.equal(s.recordings.setProtected(recording.id, true).protected, true);
  t.throws(() => s.recordings.setProtected(999, true), { code: 'NOT_FOUND' });
  s.recordings.remove(recording.id);
  t.equal(s.recordings.get(recording.id), undefined);
  t.same(s.recordings.segments(recording.id), []);
});

t.test('list filters by entry and state, newest first', async (t) => {
  const { s } = open(t);
  s.recordings.open(newRec('a', '2026-03-01T09:00:00.000Z'));
  s.recordings.open(newRec('a', '2026-03-02T09:00:00.000Z'));
  s.recordings.open(newRec('b', '2026-03-01T10:00:00.000Z'));
  t.same(
    s.recordings.list({ entryId: 'a' }).map((r) => r.nominalStart),
    ['2026-03-02T09:00:00.000Z', '2026-03-01T09:00:00.000Z'],
  );
  t.equal(s.recordings.list({ state: 'finished' }).length, 0);
  t.equal(s.recordings.list({ limit: 2 }).length, 2);
});

t.test('recorder processes are journalled until marked ended', async (t) => {
  const { s } = open(t);
  const row = s.processes.register({
    pid: 4242,
    startTicks: 123456,
    bootId: 'b-1',
    cmdline: 'ffmpeg\0-i\0udp://x',
    recordingId: 1,
    entryId: 'news',
    nominalStart: '2026-03-01T11:00:00.000Z',
    startedAt: '2026-03-01T10:59:57.000Z',
  });
  t.same(
    s.processes.live().map((p) => [p.pid, p.startTicks, p.cmdline]),
    [[4242, 123456, 'ffmpeg\0-i\0udp://x']],
  );
  s.processes.markEnded(row.id, '2026-03-01T12:00:00.000Z', 'exited 0');
  t.same(s.processes.live(), []);
  t.equal(s.processes.ofRecording(1)[0]?.endReason, 'exited 0');
  t.equal(s.processes.prune('2026-03-02T00:00:00.000Z'), 1);
});
