/**
 * The agent's in-memory log for `logs.tail` (device/diagnostics/log-ring.ts): what a technician reads from
 * the city is the newest lines, filtered by level and module, readable (fields appended), in fixed memory.
 */
import t from 'tap';
import { LogRing, parseLogLine } from '../../device/diagnostics/log-ring.js';
import { createLogger } from '../../device/log.js';
import { RPC_SCHEMAS } from '../../protocol/messages/rpc-methods.js';

const sink = { write: () => undefined };

t.test('lines written through the agent logger are kept and readable', async (t) => {
  const ring = new LogRing(100);
  const log = createLogger({ level: 'debug', name: 'ruralsat-agent', destination: sink, ring });
  const rx = log.child({ module: 'device/receiver', receiverId: 'rx1' });
  rx.info({ service: 'cctv1' }, 'tuned and locked');
  rx.debug('status read');
  log.child({ module: 'device/link' }).warn({ err: new Error('ECONNREFUSED') }, 'broker unreachable');
  const all = ring.tail({ lines: 10 });
  t.ok(RPC_SCHEMAS['logs.tail'].result.safeParse(all).success, 'a valid logs.tail result');
  t.same(
    all.entries.map((e) => [e.level, e.module, e.msg]),
    [
      ['info', 'device/receiver', 'tuned and locked receiverId=rx1 service=cctv1'],
      ['debug', 'device/receiver', 'status read receiverId=rx1'],
      ['warn', 'device/link', 'broker unreachable err=ECONNREFUSED'],
    ],
  );
  t.same(
    ring.tail({ lines: 10, minLevel: 'warn' }).entries.map((e) => e.msg),
    ['broker unreachable err=ECONNREFUSED'],
  );
  t.equal(ring.tail({ lines: 10, module: 'device/receiver' }).entries.length, 2, 'by module prefix');
  const last = ring.tail({ lines: 1 });
  t.equal(last.entries[0]?.level, 'warn', 'the newest line');
  t.equal(last.truncated, true, 'and it says more lines matched');
});

t.test('the ring keeps the newest lines and says it overwrote', async (t) => {
  const ring = new LogRing(3);
  for (let i = 1; i <= 5; i++)
    ring.write(`${JSON.stringify({ level: 30, time: i * 1000, msg: `line ${i}` })}\n`);
  t.same(
    ring.all().map((l) => l.msg),
    ['line 3', 'line 4', 'line 5'],
  );
  t.equal(ring.overwritten, 2);
  t.equal(ring.tail({ lines: 3 }).truncated, true);
});

t.test('lines that are not pino JSON are kept as text, never thrown on', async (t) => {
  t.match(parseLogLine('plain text', 0), { level: 'info', msg: 'plain text' });
  t.equal(parseLogLine('   ', 0), null);
  t.match(parseLogLine('[1,2]', 0), { msg: '[1,2]' });
  t.match(parseLogLine(JSON.stringify({ level: 50, time: 0, msg: 'x'.repeat(5000) }), 0), {
    level: 'error',
    msg: /^x{2000}$/,
  });
});
