/**
 * Transport faults (DOMAIN.md §6: USB-serial renumbered → reopen with backoff; device servers reboot):
 * the adapter disappears and comes back, the TCP device server drops the connection, the port is held by
 * another process, or does not exist. Real serialport binding on socat ptys, real sockets.
 */
import t from 'tap';
import { silentLogger } from '../../device/log.js';
import { ReceiverError } from '../../device/receiver/driver.js';
import { realTimers } from '../../device/receiver/timers.js';
import { SerialTransport } from '../../device/receiver/transports/serial.js';
import { TcpTransport } from '../../device/receiver/transports/tcp.js';
import { openPtyLine } from '../../device/simulator/endpoints.js';
import { shortTiming } from '../../protocol/timing.js';
import { eventually, startSimRig } from '../contract/receiver-harness.js';
import { freeTcpPort } from '../helpers/net.js';
import { createPtyPair } from '../helpers/socat.js';

const deps = {
  timers: realTimers,
  logger: silentLogger(),
  reopenMinMs: shortTiming.transportReopenMinMs,
  reopenMaxMs: shortTiming.transportReopenMaxMs,
};

async function openError(p: Promise<unknown>): Promise<ReceiverError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReceiverError) return err;
    throw err;
  }
  throw new Error('expected the open to fail');
}

t.test('USB-serial adapter unplugged and plugged back: linkDown, reopen, linkUp', async (t) => {
  const rig = await startSimRig(t, { via: 'pty' });
  const pty = rig.pty;
  if (!pty) throw new Error('pty rig without a pty');
  await rig.driver.tune(rig.service('cctv1').transponder);
  const events: string[] = [];
  rig.driver.on('linkDown', (e) => events.push(`down:${e.code}`));
  rig.driver.on('linkUp', () => events.push('up'));

  await pty.unplug();
  // The port hangs up and its path vanishes: PORT_NOT_FOUND when the transport sees the path gone first
  // (what the agent's port watch raises serial_port_missing from), PORT_CLOSED when the hang-up wins.
  const gone = /^down:PORT_(CLOSED|NOT_FOUND)$/;
  t.ok(
    await eventually(() => events.some((e) => gone.test(e)), 3000),
    'linkDown: the port closed or vanished',
  );
  const err = await openError(rig.driver.status());
  t.match(err.code, /^PORT_(CLOSED|NOT_FOUND)$/, 'requests fail at once while the adapter is gone');

  await new Promise((r) => setTimeout(r, 300)); // a few reopen attempts fail meanwhile (backoff)
  await pty.replug();
  rig.sim.attach(await openPtyLine(pty.a, 9600, silentLogger()));
  t.ok(await eventually(() => events.includes('up'), 5000), 'linkUp after the adapter is back');
  const s = await rig.driver.status();
  t.equal(s.tuned?.frequencyMHz, 3840, 'talks to the receiver again');
});

t.test('device server drops the TCP connection: linkDown, reconnect, linkUp', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  const events: string[] = [];
  rig.driver.on('linkDown', () => events.push('down'));
  rig.driver.on('linkUp', () => events.push('up'));
  await rig.driver.identify();
  rig.tcp?.dropConnection();
  t.ok(await eventually(() => events.join() === 'down,up', 5000), `events ${events.join()}`);
  t.equal((await rig.driver.identify()).family, 'rx8200', 'works after reconnecting');
});

t.test('a port held by another process is BUSY, with a hint about the agent', async (t) => {
  const pty = await createPtyPair();
  t.teardown(() => pty.close());
  const first = new SerialTransport({ path: pty.b, baudRate: 9600 }, deps);
  await first.open();
  t.teardown(() => first.close());
  const second = new SerialTransport({ path: pty.b, baudRate: 9600 }, deps);
  const err = await openError(second.open());
  t.equal(err.code, 'BUSY');
  t.match(err.message, /in use/);
});

t.test('a missing port is PORT_NOT_FOUND, naming the path', async (t) => {
  const path = '/dev/serial/by-id/usb-ruralsat-test-no-such-adapter';
  const err = await openError(new SerialTransport({ path, baudRate: 9600 }, deps).open());
  t.equal(err.code, 'PORT_NOT_FOUND');
  t.match(err.message, path);
});

t.test('nobody listening on the TCP port: PORT_CLOSED saying the connection was refused', async (t) => {
  const port = await freeTcpPort();
  const err = await openError(new TcpTransport({ host: '127.0.0.1', port }, deps).open());
  t.equal(err.code, 'PORT_CLOSED');
  t.match(err.message, /refused/);
});

t.test('start() keeps trying until the adapter appears (agent boot before the USB adapter)', async (t) => {
  const pty = await createPtyPair();
  t.teardown(() => pty.close());
  await pty.unplug();
  const transport = new SerialTransport({ path: pty.b, baudRate: 9600 }, deps);
  t.teardown(() => transport.close());
  let up = false;
  transport.on('up', () => {
    up = true;
  });
  transport.start();
  await new Promise((r) => setTimeout(r, 400));
  t.equal(transport.isOpen, false, 'not open while the path is missing');
  await pty.replug();
  t.ok(await eventually(() => up, 3000), 'opened once the path exists');
});
