/**
 * Power cut (DOMAIN.md §6 "boot after gap → … report the gap"): the run marker a clean stop leaves, and
 * what a start after an unclean stop reports (last sign of life, boot time, gap, work in progress).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { detectPowerCut } from '../../device/executor/recovery.js';
import { openStationStore } from '../../device/store/db.js';

const base = {
  journalLastAt: null,
  bootAt: Date.parse('2026-03-06T04:30:00.000Z'),
  boot: 8,
  inProgress: 0,
  recorders: 0,
};
const running = {
  boot: 7,
  startedAt: '2026-03-05T22:00:00.000Z',
  lastSeenAt: '2026-03-06T04:17:00.000Z',
  stoppedAt: null,
};

t.test('no marker (a new database) and a clean stop are not power cuts', async (t) => {
  t.equal(detectPowerCut({ ...base, previous: null }), null);
  t.equal(detectPowerCut({ ...base, previous: { ...running, stoppedAt: '2026-03-06T04:17:30.000Z' } }), null);
});

t.test('an unclean stop: the gap from the last sign of life to this boot', async (t) => {
  const cut = detectPowerCut({ ...base, previous: running, inProgress: 1, recorders: 1 });
  if (!cut) throw new Error('expected a power cut');
  t.same(cut.evidence, {
    previousBoot: 7,
    previousStartedAt: '2026-03-05T22:00:00.000Z',
    lastSeenAt: '2026-03-06T04:17:00.000Z',
    bootAt: '2026-03-06T04:30:00.000Z',
    boot: 8,
    gapMs: 13 * 60_000,
    occurrencesInProgress: 1,
    recordersLeftRunning: 1,
  });
  t.match(
    cut.message,
    /last sign of life 2026-03-06T04:17:00.000Z, dark for 13 min; 1 occurrence was in progress/,
  );
});

t.test('the journal is a sign of life too; a clock behind it makes the gap unknown', async (t) => {
  const later = detectPowerCut({ ...base, previous: running, journalLastAt: '2026-03-06T04:29:10.000Z' });
  t.equal(later?.evidence.lastSeenAt, '2026-03-06T04:29:10.000Z');
  t.equal(later?.evidence.gapMs, 50_000);
  t.match(later?.message, /dark for 50 s; nothing was recording/);
  // No RTC: after the cut the clock reads 1970 (DESIGN.md §6).
  const behind = detectPowerCut({ ...base, bootAt: 0, previous: running });
  t.equal(behind?.evidence.gapMs, null);
  t.match(behind?.message, /gap unknown/);
  const long = detectPowerCut({ ...base, bootAt: Date.parse('2026-03-06T09:17:00.000Z'), previous: running });
  t.match(long?.message, /dark for 5\.0 h/);
});

t.test('run marker: begin returns what the previous run left; beat and end', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'run-marker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'station.db');
  let store = openStationStore(file);
  t.equal(store.runs.begin(1, '2026-03-06T00:00:00.000Z'), null, 'a new database has no marker');
  store.runs.beat('2026-03-06T00:01:00.000Z');
  store.close(); // no end(): the agent died
  store = openStationStore(file);
  t.same(
    store.runs.begin(2, '2026-03-06T00:05:00.000Z'),
    {
      boot: 1,
      startedAt: '2026-03-06T00:00:00.000Z',
      lastSeenAt: '2026-03-06T00:01:00.000Z',
      stoppedAt: null,
    },
    'survives a reopen: the unclean stop is visible',
  );
  store.runs.end('2026-03-06T00:06:00.000Z');
  store.runs.beat('2026-03-06T00:07:00.000Z');
  store.close();
  store = openStationStore(file);
  t.same(
    store.runs.begin(3, '2026-03-06T00:10:00.000Z'),
    {
      boot: 2,
      startedAt: '2026-03-06T00:05:00.000Z',
      lastSeenAt: '2026-03-06T00:06:00.000Z',
      stoppedAt: '2026-03-06T00:06:00.000Z',
    },
    'a clean stop is recorded, and a late heartbeat does not undo it',
  );
  store.db.prepare("UPDATE meta SET value = '{not json' WHERE key = 'agent_run'").run();
  t.equal(store.runs.read(), null, 'a damaged marker reads as none (no false power cut)');
  store.close();
});
