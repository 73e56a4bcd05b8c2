/**
 * DOMAIN.md §6 "Receiver forgets settings after power loss: re-apply full desired tuning (idempotent) on
 * every start and reconnect". The executor's receiver control over the real RX8200 driver and a simulated
 * receiver behind a serial-over-IP device server (raw TCP, DOMAIN.md §3): when the device server drops the
 * connection and the transport reopens, the whole tuning is sent again — even when a status poll queued in
 * the meantime already read the receiver back as desired (polls here run every 20 ms, so one always
 * does) — and the receiver ends up tuned and locked on the desired service.
 */
import t from 'tap';
import { ReceiverControl } from '../../device/executor/receiver-control.js';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { shortTiming } from '../../protocol/timing.js';
import { eventually, startSimRig } from '../contract/receiver-harness.js';

t.test('a reconnect re-applies the desired tuning even when a poll already read it back', async (t) => {
  const timing = { ...shortTiming, receiverPollMs: 20 };
  const rig = await startSimRig(t, { via: 'tcp', timing });
  const tcp = rig.tcp;
  if (!tcp) throw new Error('the tcp rig has a line');
  // Count the tunes the receiver took and verified (a full TUN;GRP read back). The recovery ladder's own
  // re-apply during the outage fails on the closed port and is not counted: only a re-apply through the
  // reopened link is.
  const driver = rig.driver;
  const realTune = driver.tune.bind(driver);
  let tunes = 0;
  driver.tune = async (...args) => {
    const status = await realTune(...args);
    tunes += 1;
    return status;
  };
  const rc = new ReceiverControl({ id: 'rx1', driver, clock: systemClock(), logger: silentLogger(), timing });
  t.teardown(() => rc.close());
  const service = rig.lineup[0];
  if (!service) throw new Error('the sample line-up has a service');
  const target = { sharingKey: `service:${service.key}`, tuning: service };

  await rc.ensure(target);
  t.equal(tunes, 1, 'tuned once');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(tunes, 1, 'a healthy, locked receiver is only polled, never re-tuned');
  t.equal(rc.currentKey, target.sharingKey, 'polls confirm the target');

  // The device server reboots: the connection drops and the transport reopens by itself.
  tcp.dropConnection();
  t.ok(await eventually(() => !rc.linkUp, 5000), 'the control link goes down');
  t.ok(await eventually(() => rc.linkUp, 5000), 'the transport reopens');
  t.ok(await eventually(() => tunes >= 2, 5000), 'the whole tuning is sent again after the reconnect');
  t.ok(
    await eventually(() => rc.locked && rc.currentKey === target.sharingKey, 5000),
    'tuned and locked on the desired service again',
  );
  t.equal(rig.sim.snapshot().serviceId, service.serviceId, 'the receiver decodes the desired service');
});
