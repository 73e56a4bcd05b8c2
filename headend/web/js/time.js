// Times in a given IANA time zone (issue 6: "times in the station's time zone"), with Intl only.

const cache = new Map();
function fmt(locale, tz, opts) {
  const key = `${locale}|${tz}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: tz, hourCycle: 'h23', ...opts });
    cache.set(key, f);
  }
  return f;
}

/** Calendar parts of an instant in a zone. */
export function partsOf(ms, tz) {
  const out = {};
  for (const p of fmt('en-US', tz, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'short',
  }).formatToParts(new Date(ms))) {
    out[p.type] = p.value;
  }
  const weekdays = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour) % 24,
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: weekdays[out.weekday] ?? 1,
  };
}

/** `YYYY-MM-DD` of an instant in a zone. */
export function localDate(ms, tz) {
  const p = partsOf(ms, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** `HH:MM` of an instant in a zone. */
export function localHm(ms, tz) {
  const p = partsOf(ms, tz);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/** The UTC instant of a local wall time in a zone (two fixed-point steps handle DST edges). */
export function zonedToUtc(date, hm, tz) {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = hm.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall;
  for (let i = 0; i < 3; i++) {
    const p = partsOf(guess, tz);
    const asWall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += wall - asWall;
  }
  return guess;
}

/** Adds days to a `YYYY-MM-DD` date. */
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return t.toISOString().slice(0, 10);
}

/** Date and time for display, e.g. `11月27日 19:00` / `Nov 27, 19:00`. */
export function fmtDateTime(iso, tz, locale) {
  if (!iso) return '—';
  return fmt(locale, tz, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}

/** Time only. */
export function fmtTime(iso, tz, locale) {
  if (!iso) return '—';
  return fmt(locale, tz, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** A day heading, e.g. `11月27日 星期五`. */
export function fmtDay(date, locale) {
  return fmt(locale, 'UTC', { month: 'long', day: 'numeric', weekday: 'long' }).format(
    new Date(`${date}T12:00:00Z`),
  );
}

/** "5 min" / "2 h 3 min" / "3 d" for a duration in ms. */
export function fmtDuration(ms, t) {
  if (ms < 60000) return t('dur.lt1');
  const min = Math.round(ms / 60000);
  if (min < 60) return t('dur.min', { n: min });
  const hours = Math.floor(min / 60);
  if (hours < 48) return t('dur.hmin', { h: hours, m: min % 60 });
  return t('dur.d', { n: Math.floor(hours / 24) });
}
