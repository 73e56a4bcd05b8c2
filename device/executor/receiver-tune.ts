/**
 * One verified tune of a receiver (DOMAIN.md §3): the whole transponder, then the service on a
 * decoder-output receiver, each verified by read-back in the driver (an ACK is not success), then lock.
 * device/executor/receiver-control.ts decides when to tune; this file is what a tune is.
 */
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { type ReceiverDriver, ReceiverError, type ReceiverStatus } from '../receiver/driver.js';
import type { SettingsTarget } from '../receiver/settings-check.js';

/** What one receiver should deliver. */
export interface TuneTarget {
  /** The planner's sharing key (`service:<key>` / `transponder:<key>`). */
  sharingKey: string;
  tuning: ServiceTuning;
}

/**
 * Tunes `driver` to `target` and waits up to `lockTimeoutMs` for lock. Resolves with the locked status;
 * throws `ReceiverError` (NO_LOCK carries the last status in `detail.status`; TIMEOUT, MISMATCH, … from
 * the driver).
 */
export async function tuneAndVerify(
  driver: ReceiverDriver,
  target: TuneTarget,
  lockTimeoutMs: number,
): Promise<ReceiverStatus> {
  let status = await driver.tune(target.tuning.transponder, { waitForLock: true, lockTimeoutMs });
  if (driver.capabilities.output === 'service') {
    await driver.selectService(target.tuning.serviceId);
    status = await driver.status();
  }
  if (!status.locked) throw new ReceiverError('NO_LOCK', `no lock on ${target.tuning.key}`, { status });
  return status;
}

/** The baseline the settings watch compares read-backs with (device/receiver/settings-check.ts). */
export function settingsTarget(t: TuneTarget): SettingsTarget {
  return {
    sharingKey: t.sharingKey,
    service: t.tuning.key,
    tuning: { transponder: t.tuning.transponder, serviceId: t.tuning.serviceId },
  };
}
