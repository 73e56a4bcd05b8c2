/**
 * Canonical UTC timestamps for planner output: `YYYY-MM-DDTHH:MM:SSZ`, with `.sss` only when the instant
 * has milliseconds. One instant always prints the same way, so `(entryId, nominalStart)` identities
 * compare as strings whatever spelling the document used (`…:00Z` vs `…:00.000Z`).
 *
 * `Date#toISOString` costs ~0.9 µs here and a 14-day plan prints tens of thousands of instants (the
 * DESIGN.md §8 budget is 50 ms for 102 stations), so the date prefix is cached per UTC day.
 */
import { civilFromDays, DAY_MS } from './local-time.js';

// Module-local copy: under the tsx loader (tests, `npm run bench`) each use of an imported binding is a
// getter call, which shows in this hot path; compiled ESM has no such cost.
const DAY = DAY_MS;

const TWO: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats instants; one instance per planner call (its caches are not shared between calls). */
export class IsoFormatter {
  private readonly days = new Map<number, string>();
  /** `HH:MM:SSZ` by second of the day: a timestamp is then one concatenation of two cached strings. */
  private readonly times = new Map<number, string>();

  format(instant: number): string {
    const day = Math.floor(instant / DAY) | 0; // a small integer key (V8 Smi) hashes fast
    let prefix = this.days.get(day);
    if (prefix === undefined) {
      const { y, m, d } = civilFromDays(day);
      prefix = `${pad(y, 4)}-${TWO[m]}-${TWO[d]}T`;
      this.days.set(day, prefix);
    }
    const rem = instant - day * DAY;
    const second = Math.floor(rem / 1000) | 0;
    const milli = rem - second * 1000;
    let time = this.times.get(second);
    if (time === undefined) {
      time = `${TWO[Math.floor(second / 3600)]}:${TWO[Math.floor(second / 60) % 60]}:${TWO[second % 60]}Z`;
      this.times.set(second, time);
    }
    return milli === 0 ? prefix + time : `${prefix}${time.slice(0, 8)}.${pad(milli, 3)}Z`;
  }
}

/** One-off canonical formatting (tests, helpers); the planner uses an `IsoFormatter`. */
export function canonicalUtc(instant: number): string {
  return new IsoFormatter().format(instant);
}
