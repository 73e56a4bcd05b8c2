/**
 * A station that disconnects DURING a call (issue 8: "a disconnected station answers 'disconnected since …'
 * at once instead of hanging"): presence's Will makes the control plane fail that station's pending calls
 * with DISCONNECTED at once, not after the ttl; other stations' calls keep waiting for their answers.
 */
import pino from 'pino';
import t from 'tap';
import { createRpcClient } from '../../headend/mqtt/rpc-client.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { topics } from '../../protocol/topics.js';

function client() {
  const sent: { topic: string; payload: string }[] = [];
  const presence = new Map<string, { connection: 'online' | 'disconnected'; since: string }>([
    ['st-001', { connection: 'online', since: '2026-11-27T02:00:00.000Z' }],
    ['st-002', { connection: 'online', since: '2026-11-27T02:00:00.000Z' }],
  ]);
  const rpc = createRpcClient({
    transport: {
      connected: true,
      publish: async (topic, payload) => {
        sent.push({ topic, payload });
      },
    },
    topics: topics(),
    presenceOf: (id) => presence.get(id),
    timing: { rpcDefaultTtlMs: 60_000, clockExchangeMs: D.clockExchangeMs },
    logger: pino({ level: 'silent' }),
  });
  return { rpc, sent, presence };
}

t.test('a call pending when its station drops fails at once with DISCONNECTED and since when', async (t) => {
  const { rpc, sent, presence } = client();
  t.teardown(() => rpc.stop());
  const call = rpc.call('st-001', 'receiver.status', {});
  const other = rpc.call('st-002', 'receiver.status', {});
  await new Promise((r) => setImmediate(r));
  t.equal(sent.length, 2, 'both requests published');
  const since = '2026-11-27T02:05:00.000Z';
  presence.set('st-001', { connection: 'disconnected', since });
  const t0 = performance.now();
  t.equal(rpc.failStation('st-001', `st-001 is disconnected since ${since}`), 1);
  const answer = await call;
  t.ok(performance.now() - t0 < 1000, 'answered well before the 60 s ttl');
  t.match(answer, {
    ok: false,
    error: { code: 'DISCONNECTED', message: `st-001 is disconnected since ${since}` },
  });
  t.equal(rpc.stats().pending, 1, "the other station's call still waits");
  const rid = (JSON.parse(sent[1]?.payload ?? '{}') as { rid: string }).rid;
  rpc.handleResponse(
    'st-002',
    Buffer.from(JSON.stringify({ rid, ok: false, error: { code: 'BUSY', message: 'busy' } })),
  );
  t.match(await other, { ok: false, error: { code: 'BUSY' } }, 'and gets its own answer');
  t.equal(rpc.failStation('st-001', 'again'), 0, 'nothing left to fail');
});
