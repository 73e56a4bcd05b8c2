/**
 * What the simulated receiver "sees" on its RF input: C/N per carrier with noise, the signal level, lock
 * and BER, under the conditions the fault script sets (DOMAIN.md §2, §6). Pure: randomness is injected,
 * so a seeded generator gives a reproducible run.
 *
 * The model is deliberately simple and documented, not physics:
 * - Each carrier has a nominal clear-sky C/N (Es/N0) at this station; readings add Gaussian noise.
 * - Snow/ice fade subtracts its depth from C/N and lowers the level with it (DOMAIN.md §2, weather).
 * - Sun outage: the sun's noise swamps the carrier — C/N collapses while the total power (level) RISES,
 *   which is how a technician tells it from a fade on a real receiver's meter (DOMAIN.md §2, sun outage).
 * - LNB short or LNB supply off: no LNB, no signal: level at the floor, no lock (DOMAIN.md §6, LNB fault).
 * - Lock when C/N ≥ the carrier's required C/N; a locked demodulator holds lock down to `lockHysteresisDb`
 *   below it, so noise around the threshold does not flap.
 * - BER (post-Viterbi, DVB-S) falls a decade per half dB of margin from the QEF point 2×10⁻⁴ at 0 dB
 *   (DOMAIN.md §2: failure point); floored at 10⁻⁸, what the RX8200 field can carry.
 */

/** Conditions on the RF path, set by the fault script and the receiver's own settings. */
export interface RfConditions {
  /** Whether the receiver powers the LNB (RX8200 `PWR`). */
  lnbPowerOn: boolean;
  /** LNB or cable short: the receiver's supply trips. */
  lnbShort: boolean;
  /** Fade depth in dB (snow on the dish or feed); 0 = clear sky. */
  fadeDb: number;
  /** The sun is behind the satellite. */
  sunOutage: boolean;
}

/** The carrier a receiver is tuned to, as the model needs it. */
export interface CarrierRef {
  /** Stable carrier key (`transponderKey`) or null when the frequency matches no carrier. */
  key: string | null;
  /** Required C/N (Es/N0, dB) for the carrier's modulation and FEC, implementation loss included. */
  requiredCnDb: number;
}

/** One sampled reading. */
export interface SignalReading {
  /** Es/N0 in dB (what margin is computed from); null when there is nothing to measure. */
  cnDb: number | null;
  /** RX8200-style level 0–255. */
  levelRaw: number;
  locked: boolean;
  /** Post-Viterbi BER; null when unlocked. */
  ber: number | null;
}

export interface SignalModelOptions {
  /** Nominal clear-sky C/N per carrier key; carriers not listed get `defaultCnDb`. */
  carrierCnDb?: ReadonlyMap<string, number>;
  /** Default clear-sky C/N (a 1.8 m dish on a C-band TV carrier, est. 12 dB). */
  defaultCnDb?: number;
  /** Standard deviation of the reading noise, dB. */
  noiseSigmaDb?: number;
  /** How far below the threshold a locked demodulator keeps lock. */
  lockHysteresisDb?: number;
  /** Uniform random in [0, 1); inject a seeded one for reproducible runs. */
  random?: () => number;
}

const LEVEL_FLOOR = 8;
const SUN_OUTAGE_CN_DROP_DB = 18;
const SUN_OUTAGE_LEVEL_RISE = 30;
const QEF_BER = 2e-4;
const BER_FLOOR = 1e-8;

/** mulberry32: a small seeded PRNG, enough for noise that must be reproducible in tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SignalModel {
  private readonly carrierCnDb: ReadonlyMap<string, number>;
  private readonly defaultCnDb: number;
  private readonly noiseSigmaDb: number;
  private readonly lockHysteresisDb: number;
  private readonly random: () => number;

  constructor(options: SignalModelOptions = {}) {
    this.carrierCnDb = options.carrierCnDb ?? new Map();
    this.defaultCnDb = options.defaultCnDb ?? 12;
    this.noiseSigmaDb = options.noiseSigmaDb ?? 0.15;
    this.lockHysteresisDb = options.lockHysteresisDb ?? 0.3;
    this.random = options.random ?? Math.random;
  }

  /** Clear-sky C/N of a carrier at this station. */
  nominalCnDb(key: string): number {
    return this.carrierCnDb.get(key) ?? this.defaultCnDb;
  }

  /**
   * One reading for a receiver tuned to `carrier` (null: not tuned) under `rf`. `wasLocked` is the
   * demodulator's previous state (lock hysteresis); `acquiring` is true during the lock delay after a tune.
   */
  sample(
    carrier: CarrierRef | null,
    rf: RfConditions,
    wasLocked: boolean,
    acquiring: boolean,
  ): SignalReading {
    if (!rf.lnbPowerOn || rf.lnbShort) {
      return { cnDb: null, levelRaw: this.level(LEVEL_FLOOR), locked: false, ber: null };
    }
    if (!carrier || carrier.key === null) {
      // LNB noise only: some level, nothing to lock to.
      return { cnDb: null, levelRaw: this.level(40), locked: false, ber: null };
    }
    let cn = this.nominalCnDb(carrier.key) - rf.fadeDb + this.gaussian() * this.noiseSigmaDb;
    let level = 60 + 8 * (this.nominalCnDb(carrier.key) - rf.fadeDb);
    if (rf.sunOutage) {
      cn -= SUN_OUTAGE_CN_DROP_DB;
      level += SUN_OUTAGE_LEVEL_RISE;
    }
    const threshold = carrier.requiredCnDb - (wasLocked ? this.lockHysteresisDb : 0);
    const locked = !acquiring && cn >= threshold;
    const margin = cn - carrier.requiredCnDb;
    const ber = locked ? Math.max(BER_FLOOR, Math.min(0.5, QEF_BER * 10 ** (-2 * margin))) : null;
    return { cnDb: Math.round(cn * 10) / 10, levelRaw: this.level(level), locked, ber };
  }

  private level(value: number): number {
    const noisy = value + this.gaussian() * 1.5;
    return Math.max(0, Math.min(255, Math.round(noisy)));
  }

  /** Standard normal variate (Box–Muller). */
  private gaussian(): number {
    const u = Math.max(this.random(), Number.EPSILON);
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
