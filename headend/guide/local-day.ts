/**
 * Local calendar days in an IANA time zone, for the per-day guide documents (`guide/{service}/{date}`,
 * DESIGN.md §4) and for reporting which days an import changed. Uses Intl (no tz database of our own)
 * and caches per 15-minute bucket — every zone offset in use is a multiple of 15 minutes — so tagging
 * tens of thousands of programmes costs a few hundred Intl calls, not tens of thousands.
 */

const BUCKET_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

/** Day arithmetic in one time zone. */
export interface LocalCalendar {
  readonly timeZone: string;
  /** The local date (YYYY-MM-DD) of an instant. */
  dateOf(utcMs: number): string;
  /** [start, end) of a local date as UTC epoch ms (23 or 25 hours long on a DST change). */
  dayRange(date: string): { startMs: number; endMs: number };
  /** Offset of local time from UTC at an instant, minutes east. */
  offsetAt(utcMs: number): number;
}

/** Throws RangeError for an unknown zone (as Intl does). */
export function createLocalCalendar(timeZone: string): LocalCalendar {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  const dates = new Map<number, string>();
  const offsets = new Map<number, number>();
  /** Per UTC day: the offset when it is the same at both ends (DST changes at most once a day), else NaN. */
  const dayOffsets = new Map<number, number>();

  const fields = (utcMs: number) => {
    const parts = fmt.formatToParts(new Date(utcMs));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? Number.NaN);
    return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute') };
  };

  const bucketOffset = (utcMs: number): number => {
    const bucket = Math.floor(utcMs / BUCKET_MS);
    let off = offsets.get(bucket);
    if (off === undefined) {
      const at = bucket * BUCKET_MS;
      const f = fields(at);
      off = Math.round((Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi) - at) / 60_000);
      offsets.set(bucket, off);
    }
    return off;
  };

  const offsetAt = (utcMs: number): number => {
    const day = Math.floor(utcMs / DAY_MS);
    let off = dayOffsets.get(day);
    if (off === undefined) {
      const a = bucketOffset(day * DAY_MS);
      off = a === bucketOffset((day + 1) * DAY_MS - 1) ? a : Number.NaN;
      dayOffsets.set(day, off);
    }
    return Number.isNaN(off) ? bucketOffset(utcMs) : off;
  };

  const dateOf = (utcMs: number): string => {
    const bucket = Math.floor(utcMs / BUCKET_MS);
    let date = dates.get(bucket);
    if (date === undefined) {
      date = new Date(bucket * BUCKET_MS + offsetAt(utcMs) * 60_000).toISOString().slice(0, 10);
      dates.set(bucket, date);
    }
    return date;
  };

  /** UTC instant of a local wall-clock time (the first one when a DST change repeats it). */
  const localToUtc = (localMs: number): number => {
    // Two rounds converge for every real zone: guess with the offset at the guess, then correct.
    let utc = localMs - offsetAt(localMs) * 60_000;
    utc = localMs - offsetAt(utc) * 60_000;
    const earlier = localMs - offsetAt(utc - 3_600_000) * 60_000;
    if (earlier < utc && earlier + offsetAt(earlier) * 60_000 === localMs) utc = earlier;
    return utc;
  };

  const dayRange = (date: string): { startMs: number; endMs: number } => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (m === null) throw new RangeError(`"${date}" is not a YYYY-MM-DD date`);
    const midnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return { startMs: localToUtc(midnight), endMs: localToUtc(midnight + DAY_MS) };
  };

  return { timeZone, dateOf, dayRange, offsetAt };
}

/** `date` plus `days` calendar days (YYYY-MM-DD arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}
