/**
 * Civil-date arithmetic and local-time → UTC conversion for weekly rules (DESIGN.md §3: recurrence is
 * expanded by plain arithmetic in the document's IANA zone, deterministic on both sides and fast).
 *
 * Zone offsets come from the runtime's Intl data. Intl is slow (a formatter costs ~75 µs to build and
 * ~2 µs per call here), so a `ZoneClock` is built once per planner call and caches one offset sample per
 * local day; only the rare day next to a transition takes the exact (slower) path.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible date algorithms"). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of `daysFromCivil`. */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** Day number of a `YYYY-MM-DD` local date (already validated by the schema). */
export function parseLocalDate(s: string): number {
  return daysFromCivil(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10)));
}

/** Minute of the day of an `HH:MM` local time. */
export function parseLocalTime(s: string): number {
  return Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a day number; 1970-01-01 was a Thursday. */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** The largest UTC offset any zone uses (Pacific/Kiritimati, +14 h) and the most western (−12 h). */
const MAX_EAST_MS = 14 * HOUR_MS;
const MAX_WEST_MS = 12 * HOUR_MS;

/**
 * Spacing of the offset samples. Correct as long as a zone changes its offset at most once between two
 * samples. Checked against all 418 zones of this runtime's tzdb for 1970–2045 (sampled every 6 h): the
 * closest two changes of one zone are 7 days apart (America/Boa_Vista 2000, Asia/Gaza 2040).
 */
const SAMPLE_MS = 2 * DAY_MS;

/** Parses the digits of an `en-US` h23 numeric date-time: "3/29/2026, 02:30:00". */
function parseFormatted(s: string): number {
  const f = [0, 0, 0, 0, 0, 0];
  let i = 0;
  let n = 0;
  let digits = false;
  for (let k = 0; k < s.length && i < 6; k++) {
    const c = s.charCodeAt(k);
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits = true;
    } else if (digits) {
      f[i++] = n;
      n = 0;
      digits = false;
    }
  }
  if (digits && i < 6) f[i] = n;
  const [mo = 1, d = 1, y = 1970, h = 0, mi = 0, sec = 0] = f;
  return daysFromCivil(y, mo, d) * DAY_MS + h * HOUR_MS + mi * MINUTE_MS + sec * 1000;
}

/**
 * UTC offsets of one IANA zone, for the duration of one planner call. Not shared between calls (DESIGN.md:
 * no module singletons), so a document's plan never depends on what was planned before it.
 *
 * The offset is sampled from Intl every `SAMPLE_MS` (lazily, only where asked); where two neighbouring
 * samples differ, the change is located to the second by bisection. Between samples the offset is then
 * known without asking Intl again.
 */
export class ZoneClock {
  readonly timeZone: string;
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly utc: boolean;
  private readonly samples = new Map<number, number>();
  private readonly changes = new Map<number, number>();
  /** Per local day: the one offset in force all day, or NaN when an offset change touches the day. */
  private readonly days = new Map<number, number>();

  /** Throws RangeError for a zone the runtime does not know. */
  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.utc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
    // Building a formatter costs ~75 µs here, more than planning a quiet station: build exactly one.
    this.fmt = this.utc
      ? null
      : new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Offset (local − UTC, ms) at an instant, straight from Intl, exact to the second. */
  intlOffsetAt(instant: number): number {
    if (this.fmt === null) return 0;
    const whole = Math.floor(instant / 1000) * 1000;
    return parseFormatted(this.fmt.format(whole)) - whole;
  }

  private sample(k: number): number {
    let o = this.samples.get(k);
    if (o === undefined) {
      o = this.intlOffsetAt(k * SAMPLE_MS);
      this.samples.set(k, o);
    }
    return o;
  }

  /** The first whole second after sample `k` at which the offset is no longer `a`. */
  private change(k: number, a: number): number {
    let at = this.changes.get(k);
    if (at === undefined) {
      let lo = k * SAMPLE_MS;
      let hi = lo + SAMPLE_MS;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (this.intlOffsetAt(mid) === a) lo = mid;
        else hi = mid;
      }
      at = hi;
      this.changes.set(k, at);
    }
    return at;
  }

  /** Offset (local − UTC, ms) in force at a UTC instant. */
  offsetAt(instant: number): number {
    if (this.utc) return 0;
    const k = Math.floor(instant / SAMPLE_MS) | 0; // small integer keys (V8 Smis) hash fast
    const a = this.sample(k);
    const b = this.sample(k + 1);
    if (a === b) return a;
    return instant < this.change(k, a) ? a : b;
  }

  /**
   * The UTC instant of local wall time `minute` (0–1439) on local day `day`, with the same rule as
   * Temporal's `disambiguation: 'compatible'`: a time that occurs twice (clocks go back) is the earlier
   * instant; a time that does not exist (clocks go forward) is read with the offset before the change,
   * i.e. moved later by the gap (Berlin 02:30 on the spring-forward day → 03:30 CEST).
   */
  localToUtc(day: number, minute: number): number {
    const local = day * DAY_MS + minute * MINUTE_MS;
    let whole = this.days.get(day);
    if (whole === undefined) {
      // Every wall time of the day lies in [day start − 14 h, day end + 12 h]; equal offsets at both ends
      // mean no change in between (changes are ≥ 7 days apart, see SAMPLE_MS).
      const first = this.offsetAt(day * DAY_MS - MAX_EAST_MS);
      const last = this.offsetAt((day + 1) * DAY_MS + MAX_WEST_MS);
      whole = first === last ? first : Number.NaN;
      this.days.set(day, whole);
    }
    if (!Number.isNaN(whole)) return local - whole;
    const before = this.offsetAt(local - MAX_EAST_MS);
    const after = this.offsetAt(local + MAX_WEST_MS);
    if (before === after) return local - before;
    const t1 = local - before;
    const t2 = local - after;
    const v1 = this.offsetAt(t1) === before;
    const v2 = this.offsetAt(t2) === after;
    if (v1 && v2) return Math.min(t1, t2);
    if (v2) return t2;
    return t1;
  }
}
