/**
 * "USB-serial renumbered: port missing → by-id paths; reopen with backoff" (DOMAIN.md §6): the hold before
 * `serial_port_missing`, what counts as missing, and the evidence on raise (the path, what it was) and on
 * clear (what the path resolves to now). Pure decisions, then the watch on a fake transport and fake clock.
 */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import t from 'tap';
import { ReceiverError } from '../../device/receiver/driver.js';
import { decidePort, initialPortState, PortWatch } from '../../device/receiver/port-presence.js';
import type { TransportEvents } from '../../device/receiver/transports/transport.js';
import { FakeClock } from '../helpers/agent-fake-clock.js';

const HOLD = 1000;
const missing = (at: number) =>
  ({ kind: 'failed', at, code: 'PORT_NOT_FOUND', message: '/dev/serial/by-id/x does not exist' }) as const;

t.test('decidePort: raised only after the path has been missing for the hold', async (t) => {
  let d = decidePort(
    initialPortState,
    { kind: 'failed', at: 0, code: 'PORT_CLOSED', message: 'went away' },
    HOLD,
  );
  t.equal(d.action, 'none', 'a lost port is not yet a missing one');
  t.equal(d.checkAt, null);
  d = decidePort(d.state, missing(100), HOLD);
  t.equal(d.action, 'none');
  t.equal(d.checkAt, 1000, 'the hold counts from when the port went down');
  d = decidePort(d.state, { kind: 'tick', at: 999 }, HOLD);
  t.equal(d.action, 'none');
  d = decidePort(d.state, { kind: 'tick', at: 1000 }, HOLD);
  t.equal(d.action, 'raise');
  d = decidePort(d.state, missing(1500), HOLD);
  t.equal(d.action, 'none', 'raised once, not once per reopen attempt');
  d = decidePort(d.state, { kind: 'open', at: 3000 }, HOLD);
  t.equal(d.action, 'clear');
  t.same(d.state, initialPortState);
});

t.test('decidePort: a re-plug within the hold pages nobody; other failures are not "missing"', async (t) => {
  let d = decidePort(initialPortState, missing(0), HOLD);
  d = decidePort(d.state, { kind: 'open', at: 600 }, HOLD);
  t.equal(d.action, 'none', 'back within the hold: nothing raised, nothing to clear');
  for (const code of ['BUSY', 'PORT_CLOSED'] as const) {
    let e = decidePort(initialPortState, { kind: 'failed', at: 0, code, message: code }, HOLD);
    e = decidePort(e.state, { kind: 'tick', at: 60_000 }, HOLD);
    t.equal(e.action, 'none', `${code} is not a missing port`);
  }
  let m = decidePort(initialPortState, missing(0), HOLD);
  m = decidePort(m.state, { kind: 'failed', at: 500, code: 'BUSY', message: 'in use' }, HOLD);
  t.equal(m.checkAt, null, 'the path came back but is held by another process: no longer missing');
});

class FakeTransport extends EventEmitter<TransportEvents> {
  isOpen = true;
}

t.test('PortWatch: raise with the last device, clear with the new one', async (t) => {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  let target = '/dev/pts/3';
  const raised: [string, Record<string, unknown>][] = [];
  const cleared: [string, Record<string, unknown>][] = [];
  const path = '/tmp/serial/by-id/usb-FTDI_FT232R_USB_UART_A1B2C3-if00-port0';
  const watch = new PortWatch({
    transport,
    path,
    holdMs: HOLD,
    timers: clock,
    logger: pino({ level: 'silent' }),
    realpath: async () => {
      if (!target) throw new Error('ENOENT');
      return target;
    },
    onRaise: (m, e) => raised.push([m, e]),
    onClear: (m, e) => cleared.push([m, e]),
  });
  await new Promise((r) => setImmediate(r));
  transport.emit('down', new ReceiverError('PORT_CLOSED', `${path} went away (the path no longer exists)`));
  target = '';
  clock.advance(100);
  transport.emit('unavailable', new ReceiverError('PORT_NOT_FOUND', `${path} does not exist`));
  t.ok(watch.missing, 'missing at once');
  clock.advance(800);
  t.equal(raised.length, 0, 'not before the hold');
  clock.advance(200);
  t.equal(raised.length, 1, 'raised when the hold ends, without waiting for another attempt');
  const [msg, ev] = raised[0] ?? ['', {}];
  t.match(msg, /control port .*usb-FTDI.* missing for 1 s \(it was \/dev\/pts\/3\)/);
  t.equal(ev.path, path);
  t.equal(ev.lastDevice, '/dev/pts/3');
  t.equal(ev.missingMs, 1000);
  transport.emit('unavailable', new ReceiverError('PORT_NOT_FOUND', `${path} does not exist`));
  clock.advance(5000);
  t.equal(raised.length, 1, 'once per outage');
  target = '/dev/pts/7';
  transport.emit('up');
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  t.equal(cleared.length, 1);
  const [cmsg, cev] = cleared[0] ?? ['', {}];
  t.match(cmsg, /is back as \/dev\/pts\/7/);
  t.equal(cev.device, '/dev/pts/7', 'what the by-id path points to now');
  t.equal(cev.previousDevice, '/dev/pts/3');
  t.equal(cev.missingMs, 6100, 'from the moment the port went down');
  t.notOk(watch.missing);
  watch.close();
});

t.test('PortWatch: a brief unplug raises nothing and clears nothing', async (t) => {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const calls: string[] = [];
  const watch = new PortWatch({
    transport,
    path: '/dev/ttyUSB0',
    holdMs: HOLD,
    timers: clock,
    logger: pino({ level: 'silent' }),
    realpath: async (p) => p,
    onRaise: () => calls.push('raise'),
    onClear: () => calls.push('clear'),
  });
  transport.emit('unavailable', new ReceiverError('PORT_NOT_FOUND', 'missing'));
  clock.advance(500);
  transport.emit('up');
  clock.advance(5000);
  await new Promise((r) => setImmediate(r));
  t.same(calls, []);
  watch.close();
});
