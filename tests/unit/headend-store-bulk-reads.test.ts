/**
 * The bulk reads a fleet-wide change compiles from (headend/store/stations.ts `getMany`, schedules.ts
 * `heads`): inside the change's read transaction they may answer from the repos' caches only while nothing
 * can have changed them — another connection's commit (the CLI, the XMLTV worker) must always be seen,
 * or a document would be compiled from a stale registry row or numbered from a stale head.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../headend/store/db.js';
import { COUNTY_IDS } from '../../headend/store/groups.js';
import { openStore, type Store } from '../../headend/store/index.js';
import { BULK_HEADS_FROM } from '../../headend/store/schedules.js';
import { BULK_READ_FROM } from '../../headend/store/stations.js';

function fleet(t: Test, count: number): { store: Store; file: string; ids: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-reads-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'headend.db');
  const store = openStore(file);
  t.teardown(() => store.close());
  const ids = Array.from({ length: count }, (_, i) => `st-${String(i).padStart(4, '0')}`);
  store.transaction(() => {
    for (const [i, id] of ids.entries()) {
      store.stations.create({
        id,
        name: id,
        county: COUNTY_IDS[i % COUNTY_IDS.length] as string,
        receivers: [{ id: 'rx1', sharing: 'service', address: '/dev/ttyUSB0' }],
      });
    }
  });
  return { store, file, ids };
}

const doc = (n: number) => ({ doc: Buffer.from(`{"n":${n}}`), sha256: String(n).padStart(64, '0') });

for (const count of [3, BULK_READ_FROM + 6]) {
  t.test(
    `${count} stations: getMany sees another connection's registry change inside a transaction`,
    async (t) => {
      const { store, file, ids } = fleet(t, count);
      for (const id of ids) store.stations.get(id); // fills the row cache, as the live views do
      const inTx = () => store.db.transaction(() => store.stations.getMany([...ids, 'no-such-station']))();
      const before = inTx();
      t.equal(before.size, count, 'every registered station, the unknown one left out');
      t.same(
        before.get(ids[0] as string)?.receivers.map((r) => r.sharing),
        ['service'],
      );

      // The CLI edits a station through its own connection.
      const cli = openDatabase(file);
      cli
        .prepare('UPDATE stations SET receivers_json = ? WHERE id = ?')
        .run(
          JSON.stringify([
            { id: 'rx1', family: 'rx8200', sharing: 'transponder', transport: 'serial', address: '/dev/x' },
          ]),
          ids[0],
        );
      cli.close();
      const after = inTx();
      t.same(
        after.get(ids[0] as string)?.receivers.map((r) => r.sharing),
        ['transponder'],
        'the new receivers',
      );
      t.same(
        after.get(ids[1] as string)?.receivers.map((r) => r.sharing),
        ['service'],
        'the others as they were',
      );
    },
  );
}

t.test('getMany sees a write of its own transaction (the registry row cache does not answer)', async (t) => {
  const { store, ids } = fleet(t, BULK_READ_FROM + 1);
  for (const id of ids) store.stations.get(id);
  const seen = store.db.transaction(() => {
    store.stations.update(ids[2] as string, {
      receivers: [{ id: 'rx9', sharing: 'transponder', address: '/dev/ttyUSB1' }],
    });
    return store.stations
      .getMany(ids)
      .get(ids[2] as string)
      ?.receivers.map((r) => r.id);
  })();
  t.same(seen, ['rx9']);
});

t.test(
  'heads: the newest version of each station, including one another connection just issued',
  async (t) => {
    const { store, file, ids } = fleet(t, BULK_HEADS_FROM + 4);
    const issued = store.transaction(() =>
      ids.map((id) =>
        store.schedules.insertIssued({ stationId: id, version: { epoch: 1, n: 1 }, ...doc(1) }),
      ),
    );
    store.schedules.committed(issued); // the heads cache now holds every station's {1, 1}
    const inTx = () => store.db.transaction(() => store.schedules.heads(ids))();
    t.equal(inTx().get(ids[5] as string)?.version.n, 1);

    const other = openDatabase(file);
    other
      .prepare(
        'INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at) VALUES (?, 1, 2, ?, ?, ?)',
      )
      .run(ids[5], doc(2).doc, doc(2).sha256, new Date().toISOString());
    other.close();
    const heads = inTx();
    t.equal(heads.get(ids[5] as string)?.version.n, 2, 'the version the other connection issued');
    t.equal(heads.get(ids[5] as string)?.sha256, doc(2).sha256);
    t.equal(heads.get(ids[6] as string)?.version.n, 1, 'the others unchanged');
    t.equal(heads.size, ids.length);

    // A station without any document has no head; a few ids are read one by one with the same answer.
    const fresh = store.transaction(() =>
      store.stations.create({ id: 'st-new', name: 'n', county: COUNTY_IDS[0] as string }),
    );
    t.equal(store.schedules.heads([fresh.id, ids[5] as string]).get(fresh.id), undefined);
    t.equal(store.schedules.heads([ids[5] as string]).get(ids[5] as string)?.version.n, 2);
  },
);
