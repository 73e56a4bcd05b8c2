/**
 * Canonical UTC timestamps for planner output: `YYYY-MM-DDTHH:MM:SSZ`, with `.sss` only when the instant
 * has milliseconds. One instant always prints the same way, so `(entryId, nominalStart)` identities
 * compare as strings whatever spelling the document used (`…:00Z` vs `…:00.000Z`).
 *
 * `Date#toISOString` costs ~0.9 µs here and a 14-day plan prints tens of thousands of instants (the
 * DESIGN.md §8 budget is 50 ms for 102 stations), so the date prefix is cached per UTC day.
 */
import { civilFromDays, DAY_MS } from './local-time.js';

const TWO: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats instants; one instance per planner call (its cache is not shared between calls). */
export class IsoFormatter {
  private readonly days = new Map<number, string>();

  format(instant: number): string {
    const day = Math.floor(instant / DAY_MS) | 0; // a small integer key (V8 Smi) hashes fast
    let prefix = this.days.get(day);
    if (prefix === undefined) {
      const { y, m, d } = civilFromDays(day);
      prefix = `${pad(y, 4)}-${TWO[m]}-${TWO[d]}T`;
      this.days.set(day, prefix);
    }
    let rem = instant - day * DAY_MS;
    const h = Math.floor(rem / 3_600_000);
    rem -= h * 3_600_000;
    const mi = Math.floor(rem / 60_000);
    rem -= mi * 60_000;
    const s = Math.floor(rem / 1000);
    const milli = rem - s * 1000;
    return milli === 0
      ? `${prefix}${TWO[h]}:${TWO[mi]}:${TWO[s]}Z`
      : `${prefix}${TWO[h]}:${TWO[mi]}:${TWO[s]}.${pad(milli, 3)}Z`;
  }
}

/** One-off canonical formatting (tests, helpers); the planner uses an `IsoFormatter`. */
export function canonicalUtc(instant: number): string {
  return new IsoFormatter().format(instant);
}
