/**
 * The RX8200 alarm bitmap, as named alarms.
 *
 * The IRD reports alarms as a hex bitmap: `ALR=hhhh` (the 16-bit "Alteia" format) in the `OPR;SRQ`
 * reply and in `SYS;SRA`, and `ALL=hhhhh` (the 20-bit "System 3000" format) in `OPR;SRQ` and `SYS;SRQ`
 * (manual ST.TS.EXXXXX.1 §4.6, §4.15).
 *
 * ASSUMPTION — the bit table: the manual's table of bit meanings (page 37 of 59) was not available when
 * this was written, so the bit positions below are this project's own. The simulator encodes with this
 * same table, so the stack is consistent end to end; before trusting a real receiver, check the table
 * against the manual and correct it HERE (it is the only place that knows bit positions). The alarm
 * *names* are what the rest of the system uses, and they come from DOMAIN.md §2 and §6 (lock flags, LNB
 * supply short / no load, BER and C/N thresholds, missing service, scrambling).
 */
import { Rx8200CodecError } from './frame.js';

/** Named alarm → bit mask in the 16-bit Alteia bitmap (ASSUMED positions, see above). */
export const RX8200_ALARM_BITS = {
  /** Demodulator not locked to a carrier (no signal, wrong tuning, sun outage, dish fault). */
  frontEndUnlocked: 0x0001,
  /** No transport-stream packet sync (188/204) although the carrier may be locked. */
  transportUnlocked: 0x0002,
  /** Post-Viterbi BER above the IRD's BER alarm threshold. */
  berThreshold: 0x0004,
  /** C/N below the IRD's C/N alarm threshold. */
  cnThreshold: 0x0008,
  /** Input signal level below the IRD's level threshold. */
  signalLevelLow: 0x0010,
  /** LNB supply overcurrent: short circuit in the cable or LNB (DOMAIN.md §2, §6). */
  lnbShort: 0x0020,
  /** LNB supply draws no current: open cable, connector or dead LNB (DOMAIN.md §2, §6). */
  lnbNoLoad: 0x0040,
  /** The selected service is not in the multiplex (PAT/SDT). */
  serviceMissing: 0x0080,
  /** The selected service is scrambled and cannot be descrambled (DOMAIN.md §6). */
  scrambled: 0x0100,
  /** Decoder video output lost. */
  videoLoss: 0x0200,
  /** Decoder audio output lost. */
  audioLoss: 0x0400,
  /** Over-temperature or fan failure. */
  temperature: 0x0800,
  /** Internal hardware fault reported by self-test. */
  hardwareFault: 0x1000,
} as const;

export type Rx8200AlarmName = keyof typeof RX8200_ALARM_BITS;
export const RX8200_ALARM_NAMES = Object.keys(RX8200_ALARM_BITS) as Rx8200AlarmName[];

const KNOWN_MASK = RX8200_ALARM_NAMES.reduce((m, n) => m | RX8200_ALARM_BITS[n], 0);

/** Decoded alarm bitmap. */
export interface Rx8200Alarms {
  /** Names of the set bits we know, in table order. */
  active: Rx8200AlarmName[];
  /** Set bits we have no name for (kept so they can be logged, never silently lost). */
  unknownBits: number;
  /** The bitmap as received. */
  raw: number;
}

/** Bitmap → named alarms. */
export function decodeAlarmBitmap(bits: number): Rx8200Alarms {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xfffff) {
    throw new Rx8200CodecError('bad-value', `alarm bitmap out of range: ${bits}`);
  }
  return {
    active: RX8200_ALARM_NAMES.filter((n) => (bits & RX8200_ALARM_BITS[n]) !== 0),
    unknownBits: bits & ~KNOWN_MASK,
    raw: bits,
  };
}

/** Named alarms → bitmap (what the simulator reports). */
export function encodeAlarmBitmap(active: Iterable<Rx8200AlarmName>): number {
  let bits = 0;
  for (const n of active) {
    const mask = RX8200_ALARM_BITS[n];
    if (mask === undefined) throw new Rx8200CodecError('out-of-range', `unknown alarm ${String(n)}`);
    bits |= mask;
  }
  return bits;
}

/** LNB supply status as DOMAIN.md §2 lists it: ok / short / no load / off. */
export type LnbSupplyStatus = 'ok' | 'short' | 'no-load' | 'off';

/**
 * LNB supply status from the alarms and whether the supply is switched on (`TUN;PWR`, read back with
 * `TUN;SRQ`). With the supply off the IRD cannot measure load, so `off` wins.
 */
export function lnbSupplyStatus(alarms: Rx8200Alarms, powerOn: boolean): LnbSupplyStatus {
  if (!powerOn) return 'off';
  if (alarms.active.includes('lnbShort')) return 'short';
  if (alarms.active.includes('lnbNoLoad')) return 'no-load';
  return 'ok';
}

/** Lock flags derived from the alarms. */
export interface Rx8200LockFlags {
  /** Carrier locked (demodulator + FEC). */
  carrier: boolean;
  /** Transport stream in sync. */
  transport: boolean;
  /** Both: the IRD is delivering a stream. */
  locked: boolean;
}

export function lockFlags(alarms: Rx8200Alarms): Rx8200LockFlags {
  const carrier = !alarms.active.includes('frontEndUnlocked');
  const transport = carrier && !alarms.active.includes('transportUnlocked');
  return { carrier, transport, locked: carrier && transport };
}
