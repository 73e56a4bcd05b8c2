/**
 * The retained publisher's ordering rule (headend/scheduling/retained-queue.ts, DESIGN.md §4 "retained
 * documents are the truth"): the LAST message on a topic always carries the newest content, a failed
 * publish is retried until the broker accepts, and nothing is sent while disconnected.
 */
import t from 'tap';
import { silentLogger } from '../../headend/log.js';
import { RetainedQueue } from '../../headend/scheduling/retained-queue.js';

interface Sent {
  topic: string;
  payload: string;
  settle: (ok: boolean) => void;
}

function rig(opts: { connected?: boolean } = {}) {
  const sent: Sent[] = [];
  const state = { connected: opts.connected ?? true };
  const queue = new RetainedQueue({
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        sent.push({
          topic,
          payload: payload.toString(),
          settle: (ok) => (ok ? resolve() : reject(new Error('no PUBACK'))),
        });
      }),
    connected: () => state.connected,
    logger: silentLogger(),
    retryMinMs: 5,
    retryMaxMs: 20,
  });
  return { sent, state, queue };
}

const flush = () => new Promise((r) => setImmediate(r));

t.test(
  'the newest content is sent last; intermediate versions are skipped, never sent after a newer one',
  async (t) => {
    const { sent, queue } = rig();
    let content = 'v1';
    const accepted: string[] = [];
    const want = () => {
      const at = content;
      queue.want('st/a/schedule', () => ({
        payload: Buffer.from(content),
        onAccepted: () => accepted.push(at),
      }));
    };
    want();
    t.same(
      sent.map((s) => s.payload),
      ['v1'],
      'v1 in flight',
    );
    content = 'v2';
    want();
    content = 'v3';
    want();
    t.equal(sent.length, 1, 'one publish per topic in flight');
    sent[0]?.settle(true);
    await flush();
    t.same(
      sent.map((s) => s.payload),
      ['v1', 'v3'],
      'read at send time: v3 follows v1, v2 never goes out',
    );
    sent[1]?.settle(true);
    await queue.idle();
    t.equal(accepted.length, 2, 'each accepted publish is recorded');
  },
);

t.test('a refused publish is retried until accepted', async (t) => {
  const { sent, queue } = rig();
  let accepted = 0;
  queue.want('st/b/schedule', () => ({ payload: Buffer.from('doc'), onAccepted: () => accepted++ }));
  sent[0]?.settle(false);
  while (sent.length < 2) await new Promise((r) => setTimeout(r, 5));
  t.equal(accepted, 0, 'not accepted yet');
  sent[1]?.settle(false);
  while (sent.length < 3) await new Promise((r) => setTimeout(r, 5));
  sent[2]?.settle(true);
  await queue.idle();
  t.equal(accepted, 1, 'accepted once, after the broker acknowledged');
  t.equal(queue.stats().failures, 2);
});

t.test('nothing is sent while disconnected; everything waiting goes out on resume', async (t) => {
  const { sent, state, queue } = rig({ connected: false });
  queue.want('a', () => ({ payload: Buffer.from('1') }));
  queue.want('b', () => ({ payload: Buffer.from('2') }));
  queue.want('a', () => ({ payload: Buffer.from('3') }));
  t.equal(sent.length, 0);
  state.connected = true;
  queue.resume();
  t.same(
    sent.map((s) => [s.topic, s.payload]),
    [
      ['b', '2'],
      ['a', '3'],
    ],
    'one publish per topic, the newest, in the order last asked',
  );
  for (const s of sent) s.settle(true);
  await queue.idle();
  t.same(queue.stats(), { pending: 0, inFlight: 0, accepted: 2, failures: 0, lastError: null });
});

t.test('a topic with nothing to publish is skipped; a throwing reader is logged, not fatal', async (t) => {
  const { sent, queue } = rig();
  queue.want('empty', () => null);
  queue.want('broken', () => {
    throw new Error('disk I/O error');
  });
  queue.want('ok', () => ({ payload: Buffer.from('x') }));
  t.same(
    sent.map((s) => s.topic),
    ['ok'],
  );
});
