/**
 * Link arithmetic: the C/N (Es/N0) a carrier needs, the margin a station has, and the margin policy
 * with hysteresis (DOMAIN.md §2, "Signal quality and thresholds"). Pure; hold times (how long a level
 * must persist before an alarm is raised or cleared) belong to the callers, which read them from the
 * timing profile (`alarmRaiseHoldMs`, `alarmClearHoldMs`).
 *
 * Sources of the thresholds (DOMAIN.md §2):
 * - DVB-S, EN 300 421 Table 2: required Eb/N0 for QEF (post-Viterbi BER 2×10⁻⁴). Those figures are
 *   referred to the useful bit rate — 188-byte packets, before the RS(204,188) outer code — and already
 *   include a modem implementation margin of 0.8 dB. Converting to Es/N0 therefore uses the useful
 *   bits per symbol: Es/N0 = Eb/N0 + 10·log10(2 · R · 188/204). QPSK 3/4: 5.5 + 1.41 = 6.91 dB, the
 *   ≈ 6.9 dB DOMAIN.md quotes. (Without the 188/204 factor it would be 7.26 dB.)
 * - DVB-S2, EN 302 307 Table 13: required Es/N0 for QEF (PER 10⁻⁷), ideal AWGN, normal FECFRAME.
 *   These are ideal: a real demodulator needs ~0.5–1 dB more.
 * So `implementationLossDb` is the receiver's total loss against the IDEAL figure: all of it is added to
 * DVB-S2, and only what exceeds the 0.8 dB already inside the DVB-S table is added to DVB-S.
 */
import type { DeliverySystem, FecRate, Modulation } from './messages/tuning.js';

/** Typed error of this module. */
export class LinkBudgetError extends Error {
  override readonly name = 'LinkBudgetError';
  constructor(
    readonly code: 'unsupported-modcod' | 'bad-policy' | 'bad-value',
    message: string,
  ) {
    super(message);
  }
}

/** EN 300 421 Table 2: required Eb/N0 (dB) for QEF, QPSK, including a 0.8 dB modem margin. */
export const DVBS_REQUIRED_EBN0_DB: Readonly<Partial<Record<FecRate, number>>> = {
  '1/2': 4.5,
  '2/3': 5.0,
  '3/4': 5.5,
  '5/6': 6.0,
  '7/8': 6.4,
};

/** The implementation margin already inside EN 300 421's figures. */
export const DVBS_TABLE_IMPLEMENTATION_MARGIN_DB = 0.8;

/** EN 302 307 Table 13: required Es/N0 (dB) for QEF, ideal AWGN, normal FECFRAME. */
export const DVBS2_REQUIRED_ESN0_DB: Readonly<
  Record<Modulation, Readonly<Partial<Record<FecRate, number>>>>
> = {
  QPSK: {
    '1/4': -2.35,
    '1/3': -1.24,
    '2/5': -0.3,
    '1/2': 1.0,
    '3/5': 2.23,
    '2/3': 3.1,
    '3/4': 4.03,
    '4/5': 4.68,
    '5/6': 5.18,
    '8/9': 6.2,
    '9/10': 6.42,
  },
  '8PSK': { '3/5': 5.5, '2/3': 6.62, '3/4': 7.91, '5/6': 9.35, '8/9': 10.69, '9/10': 11.03 },
};

/** Default receiver implementation loss against the ideal figure (DOMAIN.md §2: ~0.5–1 dB). */
export const DEFAULT_IMPLEMENTATION_LOSS_DB = 0.8;

/** A carrier's modulation and coding (a subset of `Transponder`). */
export interface ModCod {
  system: DeliverySystem;
  modulation: Modulation;
  fec: FecRate;
}

/** Options of the required-C/N calculation. */
export interface RequiredCnOptions {
  /** Receiver implementation loss against the ideal AWGN figure, dB (default 0.8). */
  implementationLossDb?: number;
}

function codeRate(fec: FecRate): number {
  const [n, d] = fec.split('/').map(Number);
  return (n ?? Number.NaN) / (d ?? Number.NaN);
}

const RS_RATIO = 188 / 204;

/**
 * Required Es/N0 (dB) as the standard tables give it, before any extra implementation loss: for DVB-S
 * this includes the 0.8 dB modem margin of EN 300 421; for DVB-S2 it is the ideal figure.
 */
export function tableRequiredCnDb(c: ModCod): number {
  if (c.system === 'DVB-S') {
    const ebn0 = c.modulation === 'QPSK' ? DVBS_REQUIRED_EBN0_DB[c.fec] : undefined;
    if (ebn0 === undefined) throw unsupported(c);
    return ebn0 + 10 * Math.log10(2 * codeRate(c.fec) * RS_RATIO);
  }
  const esn0 = DVBS2_REQUIRED_ESN0_DB[c.modulation]?.[c.fec];
  if (esn0 === undefined) throw unsupported(c);
  return esn0;
}

function unsupported(c: ModCod): LinkBudgetError {
  return new LinkBudgetError(
    'unsupported-modcod',
    `${c.system} ${c.modulation} ${c.fec} is not a defined mode`,
  );
}

/** Required C/N (Es/N0, dB) a real receiver needs for this carrier: table figure + implementation loss. */
export function requiredCnDb(c: ModCod, options: RequiredCnOptions = {}): number {
  const loss = options.implementationLossDb ?? DEFAULT_IMPLEMENTATION_LOSS_DB;
  if (!Number.isFinite(loss) || loss < 0 || loss > 10) {
    throw new LinkBudgetError('bad-value', `implementation loss must be 0–10 dB, got ${loss}`);
  }
  const extra = c.system === 'DVB-S' ? Math.max(0, loss - DVBS_TABLE_IMPLEMENTATION_MARGIN_DB) : loss;
  return tableRequiredCnDb(c) + extra;
}

/** Margin = measured C/N − required C/N (DOMAIN.md §2). 0 dB means about to fail. */
export function marginDb(measuredCnDb: number, c: ModCod, options: RequiredCnOptions = {}): number {
  if (!Number.isFinite(measuredCnDb)) {
    throw new LinkBudgetError('bad-value', `measured C/N must be finite, got ${measuredCnDb}`);
  }
  return measuredCnDb - requiredCnDb(c, options);
}

/** Margin levels, best to worst. */
export const MARGIN_LEVELS = ['healthy', 'warning', 'alarm'] as const;
export type MarginLevel = (typeof MARGIN_LEVELS)[number];

/** The margin policy. DOMAIN.md §2 marks the levels *(est.)*: engineering estimates, configurable. */
export interface MarginPolicy {
  /** Below this margin (dB) the level is at least `warning` (default 3). */
  warningBelowDb: number;
  /** Below this margin (dB) the level is `alarm` (default 1). */
  alarmBelowDb: number;
  /** A level improves only once the margin is this far (dB) above its threshold (default 0.5). */
  hysteresisDb: number;
}

export const DEFAULT_MARGIN_POLICY: Readonly<MarginPolicy> = {
  warningBelowDb: 3,
  alarmBelowDb: 1,
  hysteresisDb: 0.5,
};

function checkPolicy(p: MarginPolicy): void {
  const ok =
    Number.isFinite(p.warningBelowDb) &&
    Number.isFinite(p.alarmBelowDb) &&
    Number.isFinite(p.hysteresisDb) &&
    p.alarmBelowDb < p.warningBelowDb &&
    p.hysteresisDb >= 0;
  if (!ok) {
    throw new LinkBudgetError(
      'bad-policy',
      `margin policy needs alarmBelow < warningBelow and hysteresis ≥ 0: ${JSON.stringify(p)}`,
    );
  }
}

const rank = (l: MarginLevel) => MARGIN_LEVELS.indexOf(l);

/**
 * The level of one margin sample, without memory. `null` = no measurement because the carrier is not
 * locked: that is below any margin, so `alarm`.
 */
export function classifyMargin(
  margin: number | null,
  policy: MarginPolicy = DEFAULT_MARGIN_POLICY,
): MarginLevel {
  checkPolicy(policy);
  if (margin === null) return 'alarm';
  if (Number.isNaN(margin)) throw new LinkBudgetError('bad-value', 'margin is NaN');
  if (margin < policy.alarmBelowDb) return 'alarm';
  if (margin < policy.warningBelowDb) return 'warning';
  return 'healthy';
}

/**
 * Next level given the current one and a new sample, with hysteresis so a margin hovering at a
 * threshold does not flap (DOMAIN.md §2): getting worse takes effect at the threshold, getting better
 * only `hysteresisDb` above it. Callers add the hold time before raising or clearing an alarm.
 */
export function nextMarginLevel(
  current: MarginLevel,
  margin: number | null,
  policy: MarginPolicy = DEFAULT_MARGIN_POLICY,
): MarginLevel {
  const raw = classifyMargin(margin, policy);
  if (rank(raw) >= rank(current) || margin === null) return raw;
  // Improving: credit a better level only past its threshold plus the hysteresis band.
  const h = policy.hysteresisDb;
  if (margin >= policy.warningBelowDb + h) return 'healthy';
  if (margin >= policy.alarmBelowDb + h) return rank(current) > rank('warning') ? 'warning' : current;
  return current;
}
