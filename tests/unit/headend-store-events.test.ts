/**
 * Event log (DESIGN.md §4 "Events are exactly-once"): insert on (station, storeId, seq); same key + same
 * payload = duplicate, different payload = conflict kept aside; the ack covers only contiguous committed seqs.
 */
import t, { type Test } from 'tap';
import { openStore, type Store } from '../../headend/store/index.js';

const STORE = 'a1b2c3d4e5f60718';

function setup(t: Test): Store {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  store.stations.create({ id: 'kongtong-anguo', name: 'Anguo', county: 'kongtong' });
  return store;
}

const ev = (seq: number, payload = `{"seq":${seq},"type":"occurrence.started"}`) => ({
  stationId: 'kongtong-anguo',
  storeId: STORE,
  seq,
  type: 'occurrence.started',
  at: '2026-11-27T11:00:00.000Z',
  payload,
});

t.test('a resent event is a duplicate, stored once', async (t) => {
  const store = setup(t);
  t.equal(store.events.insert(ev(1)), 'inserted');
  t.equal(store.events.insert(ev(1)), 'duplicate');
  t.equal(store.events.list('kongtong-anguo').length, 1, 'one row');
  t.same(store.events.conflicts(), [], 'no conflict');
});

t.test('same key with a different payload is a conflict, never merged', async (t) => {
  const store = setup(t);
  store.events.insert(ev(1));
  t.equal(store.events.insert(ev(1, '{"seq":1,"type":"occurrence.failed"}')), 'conflict');
  const rows = store.events.list('kongtong-anguo');
  t.equal(rows.length, 1);
  t.match(rows[0]?.payload, /started/, 'the first payload stays');
  const conflicts = store.events.conflicts('kongtong-anguo');
  t.equal(conflicts.length, 1, 'the conflicting payload is kept aside for the alarm');
  t.match(conflicts[0]?.payload, /failed/);
});

t.test('reordered events: the ack advances only over contiguous committed seqs', async (t) => {
  const store = setup(t);
  const r1 = store.events.ingest([ev(2), ev(3)]);
  t.same(r1.outcomes, ['inserted', 'inserted']);
  t.equal(store.events.ack('kongtong-anguo', STORE).seq, 0, 'seq 1 missing: ack stays at 0');
  t.equal([...r1.acks.values()][0]?.seq, 0);
  const r2 = store.events.ingest([ev(1), ev(5)]);
  t.equal([...r2.acks.values()][0]?.seq, 3, 'after 1 arrives the ack covers 1–3, not 5');
  store.events.ingest([ev(4)]);
  t.equal(store.events.ack('kongtong-anguo', STORE).seq, 5, 'then 4 closes the gap');
  const again = store.events.ingest([ev(3), ev(4)]);
  t.same(again.outcomes, ['duplicate', 'duplicate'], 'resends from the ack are duplicates');
  t.equal(
    store.events.advanceAck('kongtong-anguo', STORE).moved,
    false,
    'ack does not move without new events',
  );
});

t.test('the ack walks past long contiguous runs', async (t) => {
  const store = setup(t);
  const batch = Array.from({ length: 1203 }, (_, i) => ev(i + 1));
  store.events.ingest(batch.reverse());
  t.equal(store.events.ack('kongtong-anguo', STORE).seq, 1203);
});

t.test('acks are per station store', async (t) => {
  const store = setup(t);
  store.events.ingest([
    ev(1),
    { ...ev(1), storeId: 'ffffffffffffffff' },
    { ...ev(2), storeId: 'ffffffffffffffff' },
  ]);
  t.same(
    store.events
      .acks('kongtong-anguo')
      .map((a) => [a.storeId, a.seq])
      .sort(),
    [
      [STORE, 1],
      ['ffffffffffffffff', 2],
    ],
  );
});

t.test('a bad seq is refused, not stored', async (t) => {
  const store = setup(t);
  t.throws(() => store.events.insert(ev(0)), RangeError);
  t.throws(() => store.events.insert(ev(1.5)), RangeError);
  t.equal(store.events.list('kongtong-anguo').length, 0);
});
