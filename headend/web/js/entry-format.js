// How recording entries read (issue 6): weekdays, slots and targets in words, in the UI's language and the
// headend's time zone (DOMAIN.md §1), and the time arithmetic of the form (an end at or before the start is
// on the next day). Pure: no DOM, so tests/unit/ui-guide-entries.test.ts runs it in Node.
import { locale, t } from './i18n.js';
import { localDate, localHm } from './time.js';

const DAY = 86_400_000;

/** Quick choices of weekdays (ISO: 1 = Monday … 7 = Sunday). */
export const WEEKDAY_PRESETS = { weekdays: [1, 2, 3, 4, 5], daily: [1, 2, 3, 4, 5, 6, 7], weekend: [6, 7] };

/** A weekday's short name in the UI's language (2024-01-01 was a Monday). */
export function weekdayName(n, loc = locale()) {
  return new Intl.DateTimeFormat(loc, { weekday: 'short', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2024, 0, n)),
  );
}

/** `周一至周五` / `每天` / `周末` / `周一、周三`. */
export function weekdaysText(days) {
  const key = JSON.stringify([...days].sort((a, b) => a - b));
  for (const [name, set] of Object.entries(WEEKDAY_PRESETS))
    if (JSON.stringify(set) === key) return t(`entry.days.${name}`);
  return days.map((d) => weekdayName(d)).join(t('entry.listSep'));
}

/** `HH:MM` plus minutes, wrapping past midnight. */
export function addMinutesHm(hm, minutes) {
  const [hh, mm] = hm.split(':').map(Number);
  const total = (((hh * 60 + mm + minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

/** Minutes from `start` to `end` (`HH:MM`); an end at or before the start is on the next day. */
export function minutesBetween(start, end) {
  const [sh, sm] = start.split(':').map(Number);
  const [eh, em] = end.split(':').map(Number);
  const d = eh * 60 + em - (sh * 60 + sm);
  return d <= 0 ? d + 1440 : d;
}

/** When an entry records, in words (lists and the form). */
export function describeWhen(w, tz) {
  const fmt = (ms) => `${localDate(ms, tz)} ${localHm(ms, tz)}`;
  if (w.type === 'once') return `${fmt(Date.parse(w.start))}–${localHm(Date.parse(w.end), tz)}`;
  if (w.type === 'programme')
    return t('entry.when.programme', { t: fmt(Date.parse(w.start)), title: w.title });
  if (w.type === 'series') return t('record.series', { title: w.title });
  const range = w.until
    ? t('entry.when.range', { from: w.from, until: w.until })
    : t('entry.when.from', { from: w.from });
  return `${weekdaysText(w.weekdays)} ${w.startLocal}–${addMinutesHm(w.startLocal, w.durationMin)} · ${range}`;
}

/** Who an entry reaches, in words. */
export function describeTarget(target, names) {
  if (target.type === 'station') return names.station(target.stationId);
  if (target.type === 'stations') return target.stationIds.map(names.station).join(t('entry.listSep'));
  if (target.type === 'county') return names.county(target.county);
  if (target.type === 'group') return names.county(target.groupId);
  return t('record.target.all');
}

/** The preview window for a schedule: around a one-off, a week from the first weekly slot. */
export function previewWindow(when, now = Date.now()) {
  const iso = (ms) => new Date(ms).toISOString();
  if (when.type === 'once')
    return {
      from: iso(Date.parse(when.start) - 12 * 3_600_000),
      to: iso(Date.parse(when.end) + 12 * 3_600_000),
    };
  if (when.type === 'weekly' && when.fromMs !== undefined) {
    const from = Math.max(now, when.fromMs);
    return { from: iso(from), to: iso(from + 7 * DAY) };
  }
  return {};
}
