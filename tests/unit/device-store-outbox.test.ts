import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStationStore, type StationStore } from '../../device/store/db.js';
import type { EventBody } from '../../device/store/outbox.js';
import { StationEvent } from '../../protocol/messages/events.js';

function tempDb(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'store-outbox-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'station.db');
}

function open(t: { teardown(fn: () => void): void }, file = tempDb(t)): StationStore {
  const s = openStationStore(file);
  t.teardown(() => s.close());
  return s;
}

const NOMINAL = '2026-03-01T11:00:00.000Z';

function stateEvent(state: 'tuning' | 'recording' | 'completed', at: string): EventBody {
  return { type: 'occurrence.state', at, entryId: 'rec-1', nominalStart: NOMINAL, rev: 1, state };
}

/** A state change as the executor writes it: journal row and event in one transaction. */
function transition(s: StationStore, state: 'tuning' | 'recording' | 'completed', at: string) {
  return s.transaction((tx) => {
    s.journal.append(tx, { entryId: 'rec-1', nominalStart: NOMINAL, state, at });
    return s.outbox.appendEvent(tx, stateEvent(state, at));
  });
}

t.test('events get (storeId, seq) with seq growing from 1, and leave in seq order', async (t) => {
  const s = open(t);
  const a = transition(s, 'tuning', '2026-03-01T10:58:00.000Z');
  const b = transition(s, 'recording', '2026-03-01T10:59:57.000Z');
  const c = transition(s, 'completed', '2026-03-01T12:00:00.000Z');
  t.same([a.seq, b.seq, c.seq], [1, 2, 3]);
  t.equal(a.storeId, s.storeId);
  const rows = s.outbox.pending();
  t.same(
    rows.map((r) => r.seq),
    [1, 2, 3],
  );
  // The stored text is the event exactly, valid against the protocol schema (resend = same bytes).
  const first = JSON.parse(rows[0]!.payload) as unknown;
  t.same(StationEvent.parse(first), a);
  t.equal(rows[0]!.payload, JSON.stringify(a));
  t.same(
    s.outbox.pending({ afterSeq: 2 }).map((r) => r.seq),
    [3],
  );
});

t.test('an event and its journal row commit together: a rollback keeps neither', async (t) => {
  const s = open(t);
  t.throws(() =>
    s.transaction((tx) => {
      s.journal.append(tx, { entryId: 'rec-1', nominalStart: NOMINAL, state: 'recording', at: NOMINAL });
      s.outbox.appendEvent(tx, stateEvent('recording', NOMINAL));
      throw new Error('power cut before commit');
    }),
  );
  t.same(s.outbox.pending(), []);
  t.equal(s.journal.latest('rec-1', NOMINAL), undefined);
  // The seq the rolled-back event took is not burnt: the next event is still 1.
  t.equal(transition(s, 'tuning', NOMINAL).seq, 1);
  t.equal(s.journal.latest('rec-1', NOMINAL)?.state, 'tuning');
});

t.test('an invalid event is a typed error and rolls back the state change with it', async (t) => {
  const s = open(t);
  t.throws(
    () =>
      s.transaction((tx) => {
        s.journal.append(tx, { entryId: 'rec-1', nominalStart: NOMINAL, state: 'recording', at: NOMINAL });
        // A local-time timestamp would be refused by the headend forever.
        s.outbox.appendEvent(tx, { ...stateEvent('recording', NOMINAL), at: '2026-03-01 19:00' });
      }),
    { name: 'StoreError', code: 'INVALID_EVENT' },
  );
  t.equal(s.journal.latest('rec-1', NOMINAL), undefined);
  t.same(s.outbox.pending(), []);
});

t.test('appendEvent and journal.append refuse to run outside a transaction', async (t) => {
  const s = open(t);
  let leaked: Parameters<Parameters<StationStore['transaction']>[0]>[0] | undefined;
  s.transaction((tx) => {
    leaked = tx;
  });
  t.throws(() => s.outbox.appendEvent(leaked!, stateEvent('tuning', NOMINAL)), {
    name: 'StoreError',
    code: 'NOT_IN_TRANSACTION',
  });
  t.throws(
    () =>
      s.journal.append(leaked!, { entryId: 'rec-1', nominalStart: NOMINAL, state: 'tuning', at: NOMINAL }),
    { name: 'StoreError', code: 'NOT_IN_TRANSACTION' },
  );
  t.same(s.outbox.pending(), []);
});

t.test('rows stay until the ack covers them; an ack for another store changes nothing', async (t) => {
  const s = open(t);
  for (const st of ['tuning', 'recording', 'completed'] as const) transition(s, st, NOMINAL);
  t.same(s.outbox.ackUpTo('0123456789abcdef0123456789abcdef', 3), {
    deleted: 0,
    otherStore: true,
    ahead: false,
  });
  t.equal(s.outbox.pending().length, 3);
  t.same(s.outbox.ackUpTo(s.storeId, 2), { deleted: 2, otherStore: false, ahead: false });
  t.same(
    s.outbox.pending().map((r) => r.seq),
    [3],
  );
  t.same(s.outbox.ackUpTo(s.storeId, 2).deleted, 0, 'a repeated ack is harmless');
  t.same(s.outbox.ackUpTo(s.storeId, 9), { deleted: 1, otherStore: false, ahead: true });
  t.same(s.outbox.stats(), { rows: 0, quarantined: 0, oldestAt: null, lastSeq: 3 });
});

t.test('a seq is never reused, even after every row was acked and the database reopened', async (t) => {
  const file = tempDb(t);
  const s = openStationStore(file);
  transition(s, 'tuning', NOMINAL);
  transition(s, 'recording', NOMINAL);
  s.outbox.ackUpTo(s.storeId, 2);
  s.close();
  const again = open(t, file);
  t.equal(again.outbox.lastSeq(), 2);
  t.equal(transition(again, 'completed', NOMINAL).seq, 3);
});

t.test('unacked events survive a restart', async (t) => {
  const file = tempDb(t);
  const s = openStationStore(file);
  const e = transition(s, 'recording', NOMINAL);
  s.close();
  const again = open(t, file);
  t.same(
    again.outbox.pending().map((r) => JSON.parse(r.payload) as unknown),
    [e],
  );
});

t.test('a quarantined row is no longer sent but is kept, reported, and removed by an ack', async (t) => {
  const s = open(t);
  for (const st of ['tuning', 'recording', 'completed'] as const) transition(s, st, NOMINAL);
  t.equal(s.outbox.recordFailure(2), 1);
  t.equal(s.outbox.recordFailure(2), 2);
  s.outbox.quarantine(2, 'disconnected 2 times while publishing', '2026-03-01T11:05:00.000Z');
  t.same(
    s.outbox.pending().map((r) => r.seq),
    [1, 3],
  );
  t.same(
    s.outbox.quarantined().map((r) => [r.seq, r.failures, r.quarantined?.reason]),
    [[2, 2, 'disconnected 2 times while publishing']],
  );
  t.equal(s.outbox.stats().quarantined, 1);
  t.throws(() => s.outbox.recordFailure(99), { name: 'StoreError', code: 'NOT_FOUND' });
  s.outbox.release(2);
  t.same(
    s.outbox.pending().map((r) => r.seq),
    [1, 2, 3],
    'released row is back in order',
  );
  s.outbox.quarantine(2, 'again', NOMINAL);
  s.outbox.ackUpTo(s.storeId, 3);
  t.same(s.outbox.quarantined(), []);
});

t.test('journal keeps every change; unfinished() lists occurrences not in a terminal state', async (t) => {
  const s = open(t);
  s.transaction((tx) => {
    s.journal.append(tx, {
      entryId: 'a',
      nominalStart: NOMINAL,
      state: 'tuning',
      at: '2026-03-01T10:58:00Z',
    });
    s.journal.append(tx, {
      entryId: 'a',
      nominalStart: NOMINAL,
      state: 'recording',
      detail: { recordingId: 7 },
      at: '2026-03-01T10:59:58Z',
    });
    s.journal.append(tx, {
      entryId: 'b',
      nominalStart: NOMINAL,
      state: 'recording',
      at: '2026-03-01T10:59:59Z',
    });
    s.journal.append(tx, {
      entryId: 'b',
      nominalStart: NOMINAL,
      state: 'failed',
      reason: 'disk_full',
      at: '2026-03-01T11:00:30Z',
    });
  });
  t.same(
    s.journal.history('a', NOMINAL).map((e) => e.state),
    ['tuning', 'recording'],
  );
  const open_ = s.journal.unfinished();
  t.same(
    open_.map((e) => [e.entryId, e.state, e.detail]),
    [['a', 'recording', { recordingId: 7 }]],
  );
  t.equal(s.journal.lastAt(), '2026-03-01T11:00:30Z');
  t.equal(s.journal.prune('2026-03-02T00:00:00Z'), 2, 'terminal occurrence b pruned');
  t.equal(s.journal.history('a', NOMINAL).length, 2, 'unfinished occurrence a kept');
});
