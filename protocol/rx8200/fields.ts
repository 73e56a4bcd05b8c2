/**
 * Value formats of the RX8200 parameters (manual ST.TS.EXXXXX.1 §4.2, §4.6; DOMAIN.md §3). Each format
 * has a writer and a reader so the driver and the simulator share them. Readers throw
 * `Rx8200CodecError('bad-value')`; writers throw `Rx8200CodecError('out-of-range')`.
 */
import type { FecRate, Modulation } from '../messages/tuning.js';
import { Rx8200CodecError } from './frame.js';

function bad(what: string, value: string): Rx8200CodecError {
  return new Rx8200CodecError('bad-value', `${what}: cannot parse ${JSON.stringify(value)}`);
}

/**
 * FRQ and LNB: `dddddd`, a frequency in 125 kHz steps, 0–19.999 GHz (manual §4.2.1). FRQ is the
 * satellite (RF) frequency and LNB the local oscillator; the IRD tunes its L-band input to the
 * difference (C-band: 5150 − f, DOMAIN.md §2). Values off the 125 kHz raster are rounded to the
 * nearest step, as the front panel does; the tuner's search range (±MHz) covers the difference.
 */
export const FREQ_STEPS_PER_MHZ = 8;
export const MAX_FREQ_MHZ = 19999.875;

export function formatFrequency(mhz: number): string {
  if (!Number.isFinite(mhz) || mhz <= 0 || mhz > MAX_FREQ_MHZ) {
    throw new Rx8200CodecError('out-of-range', `frequency must be in (0, ${MAX_FREQ_MHZ}] MHz, got ${mhz}`);
  }
  return String(Math.round(mhz * FREQ_STEPS_PER_MHZ)).padStart(6, '0');
}

export function parseFrequency(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw bad('frequency (125 kHz steps)', value);
  return Number.parseInt(value, 10) / FREQ_STEPS_PER_MHZ;
}

/**
 * SYM: `dddddd` in units of 100 sym/s, 1.0–48.0 Msym/s (manual §4.2.1), so 27 500 ksym/s is `275000`.
 * (The manual's grouped example `SYM=027500` reads, in these units, as 2.75 Msym/s — an example value,
 * not a contradiction.)
 */
export function formatSymbolRate(ksps: number): string {
  const units = Math.round(ksps * 10);
  if (!Number.isFinite(ksps) || units < 10_000 || units > 480_000) {
    throw new Rx8200CodecError('out-of-range', `symbol rate must be 1000–48000 ksym/s, got ${ksps}`);
  }
  return String(units).padStart(6, '0');
}

export function parseSymbolRate(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw bad('symbol rate (100 sym/s units)', value);
  return Number.parseInt(value, 10) / 10;
}

/** POL: `HOR` / `VER`. */
export type Rx8200Polarisation = 'H' | 'V';

export function formatPolarisation(p: Rx8200Polarisation): string {
  return p === 'H' ? 'HOR' : 'VER';
}

export function parsePolarisation(value: string): Rx8200Polarisation {
  if (value === 'HOR') return 'H';
  if (value === 'VER') return 'V';
  throw bad('polarisation (HOR/VER)', value);
}

/** MOD: `QPS`, `8PS` (also `BPS`, `16Q`, `AUT`, which the project never sends). */
export function formatModulation(m: Modulation): string {
  return m === 'QPSK' ? 'QPS' : '8PS';
}

/** `AUTO` when the IRD reports automatic detection. */
export function parseModulation(value: string): Modulation | 'AUTO' {
  if (value === 'QPS') return 'QPSK';
  if (value === '8PS') return '8PSK';
  if (value === 'AUT') return 'AUTO';
  throw bad('modulation (QPS/8PS/AUT)', value);
}

/**
 * FEC: the manual lists `AUT`, 1/2, 2/3, 3/4, 4/5, 5/6, 6/7, 7/8, 8/9 (§4.2.1). DVB-S2 rates not on
 * that list (1/4, 1/3, 2/5, 3/5, 9/10) are sent as `AUT`: a DVB-S2 demodulator reads the MODCOD from
 * every PLHEADER (EN 302 307 §5.5.2), so it locks without being told.
 */
export const RX8200_FEC_VALUES: ReadonlySet<string> = new Set([
  '1/2',
  '2/3',
  '3/4',
  '4/5',
  '5/6',
  '6/7',
  '7/8',
  '8/9',
]);

export function formatFec(fec: FecRate): string {
  return RX8200_FEC_VALUES.has(fec) ? fec : 'AUT';
}

export function parseFec(value: string): string {
  if (value === 'AUT') return 'AUTO';
  if (RX8200_FEC_VALUES.has(value)) return value;
  throw bad('FEC', value);
}

/**
 * ROL: the manual lists `20`, `25`, `30` (§4.2.1). ASSUMPTION: `35` selects 0.35, the DVB-S/DVB-S2
 * default, which the list omits. The driver only sends ROL for DVB-S2 (DVB-S is always 0.35).
 */
export type Rx8200Rolloff = '0.35' | '0.25' | '0.20';

export function formatRolloff(r: Rx8200Rolloff): string {
  return r.slice(2);
}

export function parseRolloff(value: string): Rx8200Rolloff {
  if (value === '35' || value === '25' || value === '20') return `0.${value}` as Rx8200Rolloff;
  throw bad('roll-off (20/25/35)', value);
}

/** STD: `S1` DVB-S, `S2` DVB-S2. */
export function formatStandard(system: 'DVB-S' | 'DVB-S2'): string {
  return system === 'DVB-S' ? 'S1' : 'S2';
}

export function parseStandard(value: string): 'DVB-S' | 'DVB-S2' {
  if (value === 'S1') return 'DVB-S';
  if (value === 'S2') return 'DVB-S2';
  throw bad('standard (S1/S2)', value);
}

/** PWR: `ON` / `OFF` (LNB supply over the cable). */
export function formatOnOff(on: boolean): string {
  return on ? 'ON' : 'OFF';
}

export function parseOnOff(value: string): boolean {
  if (value === 'ON') return true;
  if (value === 'OFF') return false;
  throw bad('ON/OFF', value);
}

/**
 * RFI: `NO d`, RF input 1–4, "note space" (manual §4.2.1). The manual's checksum example writes
 * `RFI=NO2`, so the reader accepts both.
 */
export function formatRfInput(input: number): string {
  if (!Number.isInteger(input) || input < 1 || input > 4) {
    throw new Rx8200CodecError('out-of-range', `RF input must be 1–4, got ${input}`);
  }
  return `NO ${input}`;
}

export function parseRfInput(value: string): number {
  const m = /^NO ?([1-4])$/.exec(value);
  if (!m) throw bad('RF input (NO d)', value);
  return Number(m[1]);
}

/** SER;SEL: `ddddd`, the DVB service id (programme number), 1–65535 (manual example `SEL=00001`). */
export function formatServiceId(sid: number): string {
  if (!Number.isInteger(sid) || sid < 1 || sid > 65535) {
    throw new Rx8200CodecError('out-of-range', `service id must be an integer 1–65535, got ${sid}`);
  }
  return String(sid).padStart(5, '0');
}

export function parseServiceId(value: string): number {
  const n = /^\d{5}$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw bad('service id (ddddd)', value);
  return n;
}

/** SIG: `ddd`, signal strength 000–255 in nominal units, 255 = full scale (manual §4.6). */
export function formatLevel(level: number): string {
  if (!Number.isInteger(level) || level < 0 || level > 255) {
    throw new Rx8200CodecError('out-of-range', `signal level must be an integer 0–255, got ${level}`);
  }
  return String(level).padStart(3, '0');
}

export function parseLevel(value: string): number {
  const n = /^\d{3}$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!(n >= 0 && n <= 255)) throw bad('signal level (ddd, 0–255)', value);
  return n;
}

/** EBN: `cdd.d`, sign then 00.0–99.9 dB, which the manual calls the "C/N value" (§4.6). */
export function formatCn(db: number): string {
  if (!Number.isFinite(db)) throw new Rx8200CodecError('out-of-range', `C/N must be finite, got ${db}`);
  // Round the magnitude (half away from zero) so −5.25 and +5.25 print symmetrically.
  const magnitude = Math.min(99.9, Math.round(Math.abs(db) * 10) / 10);
  const sign = db < 0 && magnitude > 0 ? '-' : '+';
  return `${sign}${magnitude.toFixed(1).padStart(4, '0')}`;
}

export function parseCn(value: string): number {
  const m = /^([+-]?)(\d{1,2}\.\d)$/.exec(value);
  if (!m) throw bad('C/N (cdd.d)', value);
  const v = Number.parseFloat(m[2] ?? '');
  return m[1] === '-' && v !== 0 ? -v : v;
}

/**
 * BER: `ddE-d`, mantissa 10–99, exponent −1 to −8 (manual §4.6). ASSUMPTION: two significant digits
 * with the decimal point after the first (`25E-7` = 2.5×10⁻⁷), which keeps every value a valid ratio
 * (≤ 0.99); a one-digit mantissa (the manual mentions `1E-8`) is read as written. Writing clamps to
 * what the format can carry: 1.0×10⁻⁸ … 9.9×10⁻¹ (an error-free link reports the floor).
 */
export const BER_FLOOR = 1e-8;

export function formatBer(ber: number): string {
  if (!Number.isFinite(ber) || ber < 0)
    throw new Rx8200CodecError('out-of-range', `BER must be ≥ 0, got ${ber}`);
  const v = Math.min(0.99, Math.max(BER_FLOOR, ber));
  let exp = Math.floor(Math.log10(v));
  let mant = Math.round((v / 10 ** exp) * 10);
  if (mant >= 100) {
    mant = 10;
    exp += 1;
  }
  exp = Math.max(-8, Math.min(-1, exp));
  return `${mant}E${exp}`;
}

export function parseBer(value: string): number {
  const m = /^(\d{1,2})E-([1-8])$/.exec(value);
  if (!m) throw bad('BER (ddE-d)', value);
  const mant = m[1] ?? '';
  const exp = -Number(m[2]);
  const significand = mant.length === 2 ? Number(mant) / 10 : Number(mant);
  return Number((significand * 10 ** exp).toPrecision(2));
}

/** Alarm bitmaps: `hhhh` (16 bit) or `hhhhh` (20 bit), upper-case hex (manual §4.6, §4.15). */
export function formatBitmap(bits: number, digits: 4 | 5): string {
  const max = digits === 4 ? 0xffff : 0xfffff;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new Rx8200CodecError(
      'out-of-range',
      `bitmap must be an integer 0–0x${max.toString(16)}, got ${bits}`,
    );
  }
  return bits.toString(16).toUpperCase().padStart(digits, '0');
}

export function parseBitmap(value: string): number {
  if (!/^[0-9A-Fa-f]{4,5}$/.test(value)) throw bad('alarm bitmap (hhhh/hhhhh)', value);
  return Number.parseInt(value, 16);
}
