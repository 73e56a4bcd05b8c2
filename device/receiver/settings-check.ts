/**
 * "Receiver forgets settings after power loss: read-back ≠ desired → re-apply full desired tuning on every
 * start and reconnect" (DOMAIN.md §6). The re-apply is the recovery ladder's first rung; this is the
 * evidence a technician needs to tell it happened: which fields the receiver reported against what this
 * agent had applied and verified. Pure (STYLE.md §4).
 *
 * A difference counts as "forgotten" only when nobody here changed the receiver since it was verified:
 * the caller keeps the verified target and forgets it whenever this agent (a retune, a reset, an LNB
 * power change, a technician's command or maintenance hold) touches the receiver, so a read-back against
 * it can only differ because the receiver itself changed.
 */
import type { Logger } from 'pino';
import type { DesiredTuning, ReceiverStatus } from './driver.js';
import { classifyStatus } from './recovery.js';

type Evidence = Record<string, number | string | boolean | null>;

export interface SettingsLoss {
  /** Names of the fields that differ, e.g. `['frequencyMHz', 'serviceId']`. */
  differs: string[];
  /** `desired.<field>` and `readBack.<field>` for every compared field. */
  evidence: Evidence;
  /** One line for the alarm message. */
  summary: string;
}

export interface SettingsCheckInput {
  /** The tuning last applied AND verified by read-back on this receiver (null: nothing verified yet). */
  verified: SettingsTarget | null;
  /** The key the executor wants now (null: nothing holds the receiver). */
  desiredKey: string | null;
  /** A maintenance hold is active: the receiver is the technician's (DESIGN.md §6). */
  held: boolean;
  /** The read-back. */
  status: ReceiverStatus;
}

const pol = (p: string) => (p === 'L' ? 'H' : p === 'R' ? 'V' : p);

/**
 * The loss, or null: nothing was verified yet (first start), we are retuning (the desired key moved), a
 * technician holds the receiver, or the read-back matches (a mere lock loss or LNB fault is not a loss of
 * settings).
 */
export function detectSettingsLoss(i: SettingsCheckInput): SettingsLoss | null {
  const v = i.verified;
  if (!v || i.held || i.desiredKey !== v.sharingKey) return null;
  if (classifyStatus(i.status, v.tuning) !== 'mismatch') return null;
  const want = v.tuning.transponder;
  const got = i.status.tuned;
  const pairs: [string, number | string | boolean | null, number | string | boolean | null, boolean][] = [
    [
      'frequencyMHz',
      want.frequencyMHz,
      got?.frequencyMHz ?? null,
      !!got && Math.abs(got.frequencyMHz - want.frequencyMHz) > 0.0625,
    ],
    [
      'lnbLoMHz',
      want.lnbLoMHz,
      got?.lnbLoMHz ?? null,
      !!got && Math.abs(got.lnbLoMHz - want.lnbLoMHz) > 0.0625,
    ],
    [
      'polarisation',
      pol(want.polarisation),
      got?.polarisation ?? null,
      !!got && got.polarisation !== pol(want.polarisation),
    ],
    [
      'symbolRateKsps',
      want.symbolRateKsps,
      got?.symbolRateKsps ?? null,
      !!got && Math.abs(got.symbolRateKsps - want.symbolRateKsps) > 0.05,
    ],
    ['system', want.system, got?.system ?? null, !!got && got.system !== null && got.system !== want.system],
    [
      'lnbPower',
      want.lnbPower,
      got?.lnbPower ?? null,
      !!got && got.lnbPower !== null && got.lnbPower !== want.lnbPower,
    ],
  ];
  if (v.tuning.serviceId !== undefined) {
    const s = i.status.serviceId;
    pairs.push(['serviceId', v.tuning.serviceId, s, s !== null && s !== v.tuning.serviceId]);
  }
  const evidence: Evidence = { service: v.service };
  const differs: string[] = [];
  for (const [name, desired, readBack, differ] of pairs) {
    evidence[`desired.${name}`] = desired;
    evidence[`readBack.${name}`] = readBack;
    if (differ) differs.push(name);
  }
  evidence.differs = differs.join(',');
  const summary = differs
    .map((n) => `${n} ${String(evidence[`readBack.${n}`])} (want ${String(evidence[`desired.${n}`])})`)
    .join(', ');
  return { differs, evidence, summary };
}

/** A target as the settings watch needs it. */
export interface SettingsTarget {
  sharingKey: string;
  /** Line-up key of the service (for the evidence). */
  service: string;
  tuning: DesiredTuning;
}

export interface SettingsWatchDeps {
  receiverId: string;
  logger: Logger;
  /** `lost` with desired vs read-back; `restored` once a re-apply is verified (or the target released). */
  report?: (what: 'lost' | 'restored', message: string, evidence: Evidence) => void;
}

/**
 * The verified baseline of one receiver and the one loss reported against it (the thin shell around
 * `detectSettingsLoss`). The owner calls `forget()` whenever it changes the receiver itself.
 */
export class SettingsWatch {
  private verified: SettingsTarget | null = null;
  /** The loss reported and not yet fixed. */
  lost: SettingsLoss | null = null;

  constructor(private readonly deps: SettingsWatchDeps) {}

  /** The key of the verified baseline, or null. */
  get verifiedKey(): string | null {
    return this.verified?.sharingKey ?? null;
  }

  /** Something here is changing the receiver: what reads back next is ours, not a loss. */
  forget(): void {
    this.verified = null;
  }

  /** A read-back before re-applying `desiredKey` could reveal a loss (worth one request). */
  wantsReadBack(desiredKey: string | null): boolean {
    return this.verified !== null && this.lost === null && desiredKey === this.verified.sharingKey;
  }

  /** Checks one read-back; reports a loss once. */
  check(status: ReceiverStatus, desiredKey: string | null, held: boolean): void {
    if (this.lost) return;
    const loss = detectSettingsLoss({ verified: this.verified, desiredKey, held, status });
    if (!loss) return;
    this.lost = loss;
    const id = this.deps.receiverId;
    this.deps.logger.warn(
      { receiverId: id, ...loss.evidence },
      'receiver forgot its settings: re-applying the desired tuning',
    );
    this.deps.report?.(
      'lost',
      `receiver ${id} forgot its settings: ${loss.summary}; re-applying the desired tuning`,
      { ...loss.evidence, receiverId: id },
    );
  }

  /** The receiver reads back as `target`: the new baseline; a reported loss is fixed. */
  verifiedOn(target: SettingsTarget, how: string): void {
    this.verified = target;
    const lost = this.lost;
    if (!lost) return;
    this.lost = null;
    this.deps.logger.info(
      { receiverId: this.deps.receiverId, service: target.service },
      'settings re-applied and verified',
    );
    this.deps.report?.(
      'restored',
      `receiver ${this.deps.receiverId}: ${target.service} re-applied and verified (${how})`,
      { service: target.service, differed: lost.differs.join(','), resolution: how },
    );
  }

  /** Nothing holds the receiver any more: a pending loss ends unverified (said so in the evidence). */
  released(): void {
    if (!this.lost) return;
    this.lost = null;
    this.deps.report?.(
      'restored',
      `receiver ${this.deps.receiverId} released before the re-apply was verified`,
      {
        resolution: 'released',
      },
    );
  }
}
