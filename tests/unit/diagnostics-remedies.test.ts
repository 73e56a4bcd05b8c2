/**
 * Remedies offered next to alarms (headend/diagnostics/remedies.ts; issue 8 "Remote remedies where they
 * exist"): a reset only for a receiver that has one (the RX8200 has none), and retention only for a
 * recording that failed for lack of space.
 */
import t from 'tap';
import { remediesFor } from '../../headend/diagnostics/remedies.js';

const alarm = (
  kind: 'receiver_unresponsive' | 'stream_frozen' | 'recording_failed',
  row = 'stream-stall',
) => ({
  kind,
  subject: kind === 'recording_failed' ? '' : 'rx1',
  evidence: { facts: {} },
  cause: { row },
});
const rx8200 = { receiverFamily: () => 'rx8200' };

for (const kind of ['receiver_unresponsive', 'stream_frozen'] as const) {
  t.test(
    `${kind} on an RX8200: no reset offered; retune and LNB cycle first, site visit named`,
    async (t) => {
      const list = remediesFor(alarm(kind), rx8200);
      t.notOk(
        list.some((r) => r.method === 'receiver.reset'),
        'no receiver.reset: the RX8200 has no remote reset',
      );
      t.same(
        list.map((r) => r.method),
        ['receiver.retune', 'receiver.lnb', 'stream.probe'],
      );
      t.match(list[0]?.why, /no remote reset: .*site visit/);
      t.same(list[1]?.params, { receiverId: 'rx1', power: 'cycle' });
    },
  );
}

t.test('a receiver family the headend does not know gets no reset either', async (t) => {
  const list = remediesFor(alarm('stream_frozen'));
  t.notOk(list.some((r) => r.method === 'receiver.reset'));
  t.equal(list[0]?.method, 'receiver.retune');
});

t.test('run retention only for a recording that failed for lack of space', async (t) => {
  t.equal(remediesFor(alarm('recording_failed', 'disk-full'))[0]?.method, 'recordings.retention');
  for (const row of ['stream-stall', 'snow-ice-fade', 'scrambled-service', 'clock-drift']) {
    const list = remediesFor(alarm('recording_failed', row));
    t.notOk(
      list.some((r) => r.method === 'recordings.retention'),
      `${row}: retention would not help`,
    );
    t.ok(list.length > 0, `${row}: still offers checks`);
  }
});
