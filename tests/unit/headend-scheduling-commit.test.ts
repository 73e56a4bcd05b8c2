/**
 * Saving with a short write transaction (headend/scheduling/commit.ts, DESIGN.md §7): the change is
 * compiled from a snapshot and written in a separate transaction; when another connection commits in
 * between, the change is prepared again from what is now there, so no version is issued twice or skipped,
 * and the change and its documents still commit together (or not at all).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { silentLogger } from '../../headend/log.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { commitPrepared, MAX_PREPARE_ATTEMPTS } from '../../headend/scheduling/commit.js';
import { createScheduling } from '../../headend/scheduling/entries.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { ScheduleDocument } from '../../protocol/messages/schedule.js';
import { defaultTiming } from '../../protocol/timing.js';

const NOW = new Date('2026-03-01T00:00:00Z');

function rig(t: Test) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ruralsat-commit-'));
  const file = path.join(dir, 'headend.db');
  const store = openStore(file, { now: () => NOW });
  t.teardown(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const id of ['cm-a', 'cm-b', 'cm-c']) {
    provisionStation(
      { store, iterations: 100, headendUsername: 'headend', actor: 't' },
      { id, name: id, county: 'kongtong' },
    );
  }
  store.lineup.replace({
    transponders: [
      {
        id: 't3840',
        tuning: {
          frequencyMHz: 3840,
          polarisation: 'H',
          symbolRateKsps: 27500,
          system: 'DVB-S',
          modulation: 'QPSK',
          fec: '3/4',
          lnbLoMHz: 5150,
        },
      },
    ],
    services: [{ key: 'cctv1', name: 'CCTV-1', serviceId: 101, transponderId: 't3840' }],
  });
  const scheduling = createScheduling({
    store,
    timing: defaultTiming,
    timeZone: 'Asia/Shanghai',
    logger: silentLogger(),
    now: () => NOW,
  });
  scheduling.recompile();
  /** Another connection to the same file (the CLI, the XMLTV worker). */
  const other = (): Store => {
    const s = openStore(file, { now: () => NOW });
    t.teardown(() => {
      if (s.db.open) s.close();
    });
    return s;
  };
  return { store, scheduling, other };
}

const conference = (hours: number) => ({
  kind: 'conference' as const,
  title: '全市视频会议',
  service: 'cctv1',
  when: {
    type: 'once' as const,
    start: '2026-03-02T02:00:00Z',
    end: new Date(Date.parse('2026-03-02T02:00:00Z') + hours * 3_600_000).toISOString(),
  },
  target: { type: 'all' as const },
});

const entriesIn = (store: Store, id: string) =>
  ScheduleDocument.parse(JSON.parse(store.schedules.latest(id)?.doc.toString() ?? 'null')).entries;

t.test(
  'a save compiles outside its write transaction and commits the change with its documents',
  async (t) => {
    const { store, scheduling } = rig(t);
    const saved = scheduling.create(conference(1), 'control');
    t.equal(saved.issued.length, 3, 'every station got a document');
    t.equal(saved.timing.inline, false, 'compiled from a snapshot, written separately');
    t.equal(saved.timing.attempts, 1);
    for (const id of ['cm-a', 'cm-b', 'cm-c']) {
      t.same(store.schedules.latest(id)?.version, { epoch: 1, n: 2 }, `${id} at n=2`);
      t.same(
        entriesIn(store, id).map((e) => [e.id, e.rev]),
        [[saved.entry.id, 1]],
        `${id}'s document carries the entry as saved`,
      );
    }
    const edited = scheduling.update(saved.entry.id, { when: conference(2).when }, 'control');
    t.equal(edited.entry.rev, 2);
    const [e] = entriesIn(store, 'cm-b');
    t.equal(e?.rev, 2, 'the document carries the new revision');
    t.equal(scheduling.get(saved.entry.id)?.rev, 2, 'and the entry row has it: they committed together');
  },
);

t.test('another connection committing between the phases makes the change prepare again', async (t) => {
  const { store, scheduling, other } = rig(t);
  const saved = scheduling.create(conference(1), 'control');
  const cli = other();
  let prepares = 0;
  const { result, timing } = commitPrepared(
    store,
    () => {
      prepares++;
      const seen = store.schedules.latest('cm-a')?.version.n ?? 0;
      // The CLI issues cm-a's next document after our snapshot was read, the first time only.
      if (prepares === 1) cli.schedules.issue('cm-a', (v) => JSON.stringify({ version: v }));
      return seen;
    },
    (seen) =>
      store.schedules.insertIssued({
        stationId: 'cm-a',
        version: { epoch: 1, n: seen + 1 },
        doc: Buffer.from('{}'),
        sha256: 'h',
      }),
  );
  t.equal(timing.attempts, 2, 'prepared again');
  t.equal(prepares, 2);
  t.same(result.version, { epoch: 1, n: 4 }, 'numbered after the other connection’s n=3, not over it');
  t.same(store.schedules.latest('cm-a')?.version, { epoch: 1, n: 4 });
  t.ok(saved.issued.length > 0);
});

t.test(
  'a writer that commits every time cannot starve a change: it is prepared under the write lock',
  async (t) => {
    const { store, other } = rig(t);
    const cli = other();
    let prepares = 0;
    const { result, timing } = commitPrepared(
      store,
      () => {
        prepares++;
        if (prepares <= MAX_PREPARE_ATTEMPTS) cli.stations.update('cm-c', { name: `busy ${prepares}` });
        return store.stations.get('cm-c')?.name;
      },
      (name) => name,
    );
    t.equal(timing.inline, true, 'fell back to one transaction');
    t.equal(timing.attempts, MAX_PREPARE_ATTEMPTS + 1);
    t.equal(result, `busy ${MAX_PREPARE_ATTEMPTS}`, 'and read what was committed last');
  },
);

t.test('a change that fails in its write phase leaves neither the change nor any document', async (t) => {
  const { store, scheduling } = rig(t);
  const saved = scheduling.create(conference(1), 'control');
  const before = store.schedules.latest('cm-a')?.version;
  // cm-b's next version is taken behind the scheduler's back inside the same write: the unique index
  // refuses the scheduler's insert, and the whole change rolls back.
  const trigger = `CREATE TEMP TRIGGER steal AFTER INSERT ON entries BEGIN
    INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at) VALUES ('cm-b', 1, 3, x'00', 'x', 'x');
  END`;
  store.db.exec(trigger.replace('AFTER INSERT ON entries', 'AFTER UPDATE ON entries'));
  t.throws(() => scheduling.update(saved.entry.id, { title: 'renamed' }, 'control'), /already issued/);
  store.db.exec('DROP TRIGGER steal');
  t.equal(scheduling.get(saved.entry.id)?.title, '全市视频会议', 'entry unchanged');
  t.equal(scheduling.get(saved.entry.id)?.rev, 1);
  t.same(store.schedules.latest('cm-a')?.version, before, 'no document of the change was kept');
  t.same(store.schedules.latest('cm-b')?.version, before, 'not even the stolen one');
});
