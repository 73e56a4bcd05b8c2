/**
 * Each scripted receiver fault (DOMAIN.md §6) produces the typed error or event the agent acts on, and
 * the link recovers once the fault ends. Real parts: the simulated RX8200 over TCP or a socat pty, the
 * real driver and link, shortTiming.
 */
import t from 'tap';
import { ReceiverError, type ReceiverErrorCode } from '../../device/receiver/driver.js';
import type { Transponder } from '../../protocol/messages/tuning.js';
import { eventually, startSimRig } from '../contract/receiver-harness.js';

async function rejectsWith(p: Promise<unknown>, code: ReceiverErrorCode): Promise<ReceiverError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReceiverError && err.code === code) return err;
    throw new Error(`expected ${code}, got ${err instanceof ReceiverError ? err.code : String(err)}`);
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

t.test('hang: TIMEOUT naming the command after the retries, then the link answers again', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  await rig.driver.tune(rig.service('cctv1').transponder);
  rig.sim.faults.inject({ kind: 'hang' });
  const err = await rejectsWith(rig.driver.status(), 'TIMEOUT');
  t.match(err.message, /OPR;QUA/, 'the message names the command');
  t.equal(err.detail.attempts, 2, '1 + receiverRetries attempts');
  rig.sim.faults.clear('hang');
  const s = await rig.driver.status();
  t.equal(s.locked, true, 'answers and is still locked once the hang ends');
});

t.test('wrong address: the receiver stays silent, the driver times out', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp', simAddress: 2, driverAddress: 5 });
  const err = await rejectsWith(rig.driver.identify(), 'TIMEOUT');
  t.match(err.message, /SYS;SRS/);
  t.equal(
    rig.driver.linkStats.unsolicitedFrames,
    0,
    'nothing at all came back (not a reply from address 002)',
  );
});

t.test('garbage on the line: the parser resyncs and every request still succeeds (pty)', async (t) => {
  const rig = await startSimRig(t, { via: 'pty' });
  await rig.driver.tune(rig.service('cctv1').transponder);
  rig.sim.faults.inject({ kind: 'garbage', bytes: 64 });
  for (let i = 0; i < 4; i++) {
    const s = await rig.driver.status();
    t.equal(s.locked, true, `status ${i + 1} through the noise`);
  }
  t.equal(rig.driver.linkStats.timeouts, 0, 'no request needed a timeout to get through');
});

t.test('corrupted replies: CHECKSUM after the retries, then good replies are read again', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  rig.sim.faults.inject({ kind: 'corrupt' });
  const err = await rejectsWith(rig.driver.identify(), 'CHECKSUM');
  t.match(err.message, /SYS;SRS/);
  t.ok(rig.driver.linkStats.corruptReplies >= 2, 'each attempt got a corrupted reply');
  rig.sim.faults.clear('corrupt');
  t.equal((await rig.driver.identify()).family, 'rx8200');
});

t.test('ACK but not acted on: tune and select report MISMATCH from the read-back', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  await rig.driver.tune(rig.service('cctv1').transponder);
  rig.sim.faults.inject({ kind: 'deaf' });
  const err = await rejectsWith(rig.driver.tune(rig.service('gansu').transponder), 'MISMATCH');
  t.match(err.message, /frequency|polarisation/, 'says what differs');
  await rejectsWith(rig.driver.selectService(201), 'MISMATCH');
});

t.test('out-of-range value: NAK naming the command', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  // IF 5150 − 2850 = 2300 MHz is beyond the L-band input (950–2150, DOMAIN.md §2). Built by hand:
  // the line-up schema would refuse it, a receiver must too.
  const outOfRange: Transponder = { ...rig.service('cctv1').transponder, frequencyMHz: 2850 };
  const err = await rejectsWith(rig.driver.tune(outOfRange), 'NAK');
  t.equal(err.detail.command, 'TUN;GRP');
  t.match(await rig.driver.raw('TUN;SYM=999999'), /NAK_/, 'raw mode shows the NAK as sent');
});

t.test('LNB short: status shows the short, lock is lost (event)', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  await rig.driver.tune(rig.service('cctv1').transponder);
  const lost: boolean[] = [];
  rig.driver.on('lockLost', (s) => lost.push(s.locked));
  rig.sim.faults.inject({ kind: 'lnb-short' });
  const s = await rig.driver.status();
  t.equal(s.lnb, 'short');
  t.ok(s.alarms.includes('lnbShort'), 'alarm lnbShort');
  t.equal(s.locked, false);
  t.same(lost, [false], 'one lockLost event');
});

t.test('snow fade: margin drops with the depth; a deep fade loses lock and it comes back', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  const clear = await rig.driver.tune(rig.service('cctv1').transponder);
  rig.sim.faults.inject({ kind: 'fade', depthDb: 3 });
  const faded = await rig.driver.status();
  t.equal(faded.locked, true, 'a 3 dB fade keeps lock (clear-sky margin ≈ 5 dB)');
  t.ok(
    (clear.marginDb ?? 0) - (faded.marginDb ?? 0) > 2.3,
    `margin ${clear.marginDb} → ${faded.marginDb} dB`,
  );
  const events: string[] = [];
  rig.driver.on('lockLost', () => events.push('lost'));
  rig.driver.on('lockRegained', () => events.push('regained'));
  rig.sim.faults.inject({ kind: 'fade', depthDb: 7 });
  t.equal((await rig.driver.status()).locked, false, 'a 10 dB fade loses lock');
  rig.sim.faults.clear('fade');
  t.ok(
    await eventually(async () => (await rig.driver.status()).locked, 3000),
    'locks again when the snow is gone',
  );
  t.same(events, ['lost', 'regained']);
});

t.test('sun outage: no lock while the signal level RISES (the sun is a noise source)', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  const before = await rig.driver.tune(rig.service('cctv1').transponder);
  rig.sim.faults.inject({ kind: 'sun-outage', durationMs: 2000 });
  const during = await rig.driver.status();
  t.equal(during.locked, false);
  t.ok((during.levelRaw ?? 0) > (before.levelRaw ?? 0) + 10, `level ${before.levelRaw} → ${during.levelRaw}`);
  t.ok(
    await eventually(async () => (await rig.driver.status()).locked, 5000),
    'locks again after the window',
  );
});

t.test('power cut: silence while off, then the receiver has forgotten its tuning', async (t) => {
  const rig = await startSimRig(t, { via: 'tcp' });
  await rig.driver.tune(rig.service('cctv1').transponder);
  await rig.driver.selectService(101);
  rig.sim.faults.inject({ kind: 'power-cut', durationMs: 1200 });
  await rejectsWith(rig.driver.status(), 'TIMEOUT');
  await new Promise((r) => setTimeout(r, 1300));
  const after = await rig.driver.status();
  t.not(after.tuned?.frequencyMHz, 3840, 'tuning forgotten (factory settings)');
  t.equal(after.serviceId, null, 'service selection forgotten');
  t.equal(after.locked, false);
});
