/**
 * XMLTV times: `YYYYMMDDhhmmss ±hhmm` (DOMAIN.md §5). No offset means UTC. Seconds may be left out
 * (`YYYYMMDDhhmm`), as the XMLTV DTD allows truncation; anything coarser than minutes cannot place a
 * recording and is refused. Real feeds get offsets wrong, so besides converting, this module says when
 * an offset is impossible (outside UTC−12..UTC+14: the programme is rejected) or merely suspicious (a
 * feed for China that is not +0800, or that gives no offset at all).
 */

/** Why a time string was refused. */
export type XmltvTimeErrorCode = 'BAD_FORMAT' | 'BAD_DATE' | 'OFFSET_OUT_OF_RANGE';

export type XmltvTimeResult =
  | {
      ok: true;
      /** The instant, UTC epoch milliseconds. */
      utcMs: number;
      /** The offset written in the file in minutes east of UTC, or null when none was given (= UTC). */
      offsetMinutes: number | null;
    }
  | { ok: false; code: XmltvTimeErrorCode; message: string };

// Fixed-width digits, then an optional offset `+0800`, `+08:00`, `Z`, `UTC` or `GMT`.
const TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?\s*(?:([+-])(\d{2}):?(\d{2})|Z|UTC|GMT)?$/;

/** Offsets in use on Earth: UTC−12:00 (Baker Island) to UTC+14:00 (Line Islands). */
export const MIN_OFFSET_MINUTES = -12 * 60;
export const MAX_OFFSET_MINUTES = 14 * 60;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The common exact shape `YYYYMMDDhhmmss ±hhmm` without a regex or a Date object (tens of thousands of
 * times per import); anything else goes the general way. Null = not this shape.
 */
function fastPath(s: string): XmltvTimeResult | null {
  if (s.length !== 20 || s.charCodeAt(14) !== 32) return null;
  const sign = s.charCodeAt(15);
  if (sign !== 43 && sign !== 45) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 4, 2);
  const day = digits(s, 6, 2);
  const hour = digits(s, 8, 2);
  const minute = digits(s, 10, 2);
  const second = digits(s, 12, 2);
  const oh = digits(s, 16, 2);
  const om = digits(s, 18, 2);
  if (
    year < 1000 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    oh < 0 ||
    om < 0
  ) {
    return null;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const dim = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > dim || hour > 23 || minute > 59 || second > 59) return null;
  const offset = (sign === 45 ? -1 : 1) * (oh * 60 + om);
  if (om > 59 || offset < MIN_OFFSET_MINUTES || offset > MAX_OFFSET_MINUTES) return null;
  return {
    ok: true,
    utcMs: Date.UTC(year, month - 1, day, hour, minute, second) - offset * 60_000,
    offsetMinutes: offset,
  };
}

/** Parses one XMLTV time attribute. Never throws. */
export function parseXmltvTime(input: string): XmltvTimeResult {
  const fast = fastPath(input);
  if (fast !== null) return fast;
  const s = input.trim();
  const m = TIME_RE.exec(s);
  if (m === null) {
    return {
      ok: false,
      code: 'BAD_FORMAT',
      message: `"${input.slice(0, 40)}" is not an XMLTV time (YYYYMMDDhhmm[ss] [±hhmm])`,
    };
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(local);
  if (
    month < 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day
  ) {
    return { ok: false, code: 'BAD_DATE', message: `"${s}" is not a real date and time` };
  }
  if (m[7] === undefined) {
    // No offset, or an explicit Z/UTC/GMT: UTC (DOMAIN.md §5). Only a missing offset is reported as null.
    const explicitUtc = /(Z|UTC|GMT)$/.test(s);
    return { ok: true, utcMs: local, offsetMinutes: explicitUtc ? 0 : null };
  }
  const oh = Number(m[8]);
  const om = Number(m[9]);
  const offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om);
  if (om > 59 || offset < MIN_OFFSET_MINUTES || offset > MAX_OFFSET_MINUTES) {
    return {
      ok: false,
      code: 'OFFSET_OUT_OF_RANGE',
      message: `offset ${m[7]}${m[8]}${m[9]} in "${s}" is outside UTC−12:00..UTC+14:00`,
    };
  }
  return { ok: true, utcMs: local - offset * 60_000, offsetMinutes: offset };
}

/** `+0800` / `-0330` for an offset in minutes east of UTC. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

/** Parses `+0800`, `+08:00`, `-0330` to minutes east of UTC; null if it is not an offset. */
export function parseOffset(s: string): number | null {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(s.trim());
  if (m === null) return null;
  const v = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return Number(m[3]) > 59 || v < MIN_OFFSET_MINUTES || v > MAX_OFFSET_MINUTES ? null : v;
}

/**
 * Is an accepted offset worth a warning? `missing` when the file gave none although the feed is
 * expected to carry one (it was taken as UTC, which for a Chinese feed is usually 8 hours wrong);
 * `unexpected` when it differs from the expected offset. Null when fine or when nothing is expected.
 */
export function offsetSuspicion(
  offsetMinutes: number | null,
  expectedMinutes: number | null,
): 'missing' | 'unexpected' | null {
  if (expectedMinutes === null) return null;
  if (offsetMinutes === null) return 'missing';
  return offsetMinutes === expectedMinutes ? null : 'unexpected';
}

/** `20261127110000 +0000` for an instant: how tests and the generator write XMLTV times. */
export function formatXmltvTime(utcMs: number, offsetMinutes = 0): string {
  const d = new Date(utcMs + offsetMinutes * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())} ${formatOffset(offsetMinutes)}`
  );
}
