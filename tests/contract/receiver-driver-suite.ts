/**
 * The ONE contract every `ReceiverDriver` must meet (STYLE.md §3; modelled on MQTT.js's abstract store
 * and node-serialport's suite run against the mock and real hardware). It only uses the interface, so it
 * runs unchanged against the simulator (pty and TCP) and against a real receiver on a port.
 */
import type { Test } from 'tap';
import { type ReceiverDriver, ReceiverError, type ReceiverStatus } from '../../device/receiver/driver.js';
import { requiredCnDb } from '../../protocol/link-budget.js';
import type { ServiceTuning, Transponder } from '../../protocol/messages/tuning.js';

/** One receiver to run the contract against, freshly opened for each test. */
export interface ContractRig {
  driver: ReceiverDriver;
  /** A service the receiver can lock to. */
  service: ServiceTuning;
  /** A service on another carrier (switching carriers), or null to skip that test. */
  otherService: ServiceTuning | null;
  /** A carrier with nothing on it (expect no lock), or null to skip that test. */
  emptyTransponder: Transponder | null;
  /** A harmless query in the family's raw syntax (e.g. `OPR;QUA`). */
  rawQuery: string;
  /** Lock wait for tunes in this suite. */
  lockTimeoutMs: number;
  close(): Promise<void>;
}

export type OpenRig = (t: Test) => Promise<ContractRig>;

async function expectCode(
  t: Test,
  p: Promise<unknown>,
  code: ReceiverError['code'],
  what: string,
): Promise<ReceiverError | null> {
  try {
    await p;
    t.fail(`${what}: expected ${code}, but it succeeded`);
    return null;
  } catch (err) {
    t.type(err, ReceiverError, `${what}: a ReceiverError`);
    t.equal((err as ReceiverError).code, code, `${what}: code ${code}`);
    return err as ReceiverError;
  }
}

async function statusUntil(
  driver: ReceiverDriver,
  pred: (s: ReceiverStatus) => boolean,
  timeoutMs: number,
): Promise<ReceiverStatus> {
  const deadline = Date.now() + timeoutMs;
  let s = await driver.status();
  while (!pred(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    s = await driver.status();
  }
  return s;
}

/** Register the contract's tests on `t` for one target. */
export function receiverDriverContract(t: Test, open: OpenRig): void {
  t.test('capabilities name the sharing key and what the receiver can do', async (t) => {
    const { driver } = await open(t);
    t.match(driver.capabilities.output, /^(service|transponder)$/);
    t.ok(driver.capabilities.systems.length > 0, 'receives at least one delivery system');
    t.ok(driver.capabilities.inputs >= 1, 'has an RF input');
  });

  t.test('identify answers with the family and the address it was reached on', async (t) => {
    const { driver } = await open(t);
    const id = await driver.identify();
    t.equal(id.family, driver.capabilities.family);
    t.ok(id.model.length > 0, 'reports a model string');
    t.ok(Number.isInteger(id.address), 'reports its address');
  });

  t.test('tune is verified by read-back, locks, and reports margin for the carrier', async (t) => {
    const rig = await open(t);
    const tp = rig.service.transponder;
    const status = await rig.driver.tune(tp, { lockTimeoutMs: rig.lockTimeoutMs });
    t.equal(status.locked, true, 'locked');
    t.equal(status.tuned?.frequencyMHz, tp.frequencyMHz, 'reads back the frequency');
    t.equal(status.tuned?.symbolRateKsps, tp.symbolRateKsps, 'reads back the symbol rate');
    t.equal(status.lnb, 'ok', 'LNB supply ok');
    t.type(status.cnDb, 'number', 'reports C/N while locked');
    t.ok((status.levelRaw ?? 0) > 0, 'reports a signal level');
    const expected = (status.cnDb ?? 0) - requiredCnDb(tp);
    t.ok(
      Math.abs((status.marginDb ?? Number.NaN) - expected) <= 0.11,
      `margin ${status.marginDb} = C/N − required (${expected.toFixed(2)})`,
    );
  });

  t.test('select service reads back the selected programme', async (t) => {
    const rig = await open(t);
    await rig.driver.tune(rig.service.transponder, { lockTimeoutMs: rig.lockTimeoutMs });
    await rig.driver.selectService(rig.service.serviceId);
    const status = await rig.driver.status();
    t.equal(status.serviceId, rig.service.serviceId);
  });

  t.test('tuning the same carrier twice is idempotent', async (t) => {
    const rig = await open(t);
    const a = await rig.driver.tune(rig.service.transponder, { lockTimeoutMs: rig.lockTimeoutMs });
    const b = await rig.driver.tune(rig.service.transponder, { lockTimeoutMs: rig.lockTimeoutMs });
    t.equal(a.locked && b.locked, true);
    t.same(b.tuned, a.tuned, 'same read-back');
  });

  t.test('switching to another carrier locks to it', async (t) => {
    const rig = await open(t);
    if (!rig.otherService) {
      t.plan(0, 'no second carrier configured for this target');
      return;
    }
    await rig.driver.tune(rig.service.transponder, { lockTimeoutMs: rig.lockTimeoutMs });
    const other = rig.otherService.transponder;
    const s = await rig.driver.tune(other, { lockTimeoutMs: rig.lockTimeoutMs });
    t.equal(s.locked, true);
    t.equal(s.tuned?.frequencyMHz, other.frequencyMHz);
  });

  t.test('a carrier with nothing on it ends in NO_LOCK with the last status', async (t) => {
    const rig = await open(t);
    if (!rig.emptyTransponder) {
      t.plan(0, 'no empty carrier configured for this target');
      return;
    }
    const err = await expectCode(
      t,
      rig.driver.tune(rig.emptyTransponder, { lockTimeoutMs: 1000 }),
      'NO_LOCK',
      'empty carrier',
    );
    t.equal(err?.detail.status?.locked, false, 'the error carries the unlocked status');
  });

  t.test('LNB power off is read back, loses lock (event), and on regains it (event)', async (t) => {
    const rig = await open(t);
    if (!rig.driver.capabilities.lnbPower) {
      await expectCode(t, rig.driver.setLnbPower(false), 'UNSUPPORTED', 'LNB power');
      return;
    }
    await rig.driver.tune(rig.service.transponder, { lockTimeoutMs: rig.lockTimeoutMs });
    const events: string[] = [];
    rig.driver.on('lockLost', () => events.push('lost'));
    rig.driver.on('lockRegained', () => events.push('regained'));
    await rig.driver.setLnbPower(false);
    const off = await rig.driver.status();
    t.equal(off.lnb, 'off', 'LNB reads back off');
    t.equal(off.locked, false, 'no lock without the LNB');
    await rig.driver.setLnbPower(true);
    const on = await statusUntil(rig.driver, (s) => s.locked, rig.lockTimeoutMs);
    t.equal(on.locked, true, 'locks again');
    t.same(events, ['lost', 'regained'], 'lockLost then lockRegained');
  });

  t.test('reset either works or says UNSUPPORTED, as the capability says', async (t) => {
    const { driver } = await open(t);
    if (driver.capabilities.reset) {
      await driver.reset();
      t.pass('reset accepted');
    } else {
      await expectCode(t, driver.reset(), 'UNSUPPORTED', 'reset');
    }
  });

  t.test('raw mode returns the reply line as received', async (t) => {
    const { driver, rawQuery } = await open(t);
    const id = await driver.identify();
    const line = await driver.raw(rawQuery);
    t.match(
      line,
      new RegExp(`^\\\\${String(id.address).padStart(3, '0')}:`),
      'a reply frame from the receiver',
    );
  });

  t.test('after close every call fails with PORT_CLOSED', async (t) => {
    const rig = await open(t);
    await rig.close();
    await expectCode(t, rig.driver.status(), 'PORT_CLOSED', 'status after close');
  });
}
