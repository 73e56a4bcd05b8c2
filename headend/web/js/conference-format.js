// How conferences and attendance statuses read on the conference pages (issue 7). Every value from the
// server is put in the page as text (dom.js `h`), never as HTML.

import { ct } from './conference-i18n.js';
import { badge, h } from './dom.js';
import { locale } from './i18n.js';
import { fmtDateTime, fmtTime } from './time.js';

/** The conference pages' stylesheet, added once (the shell's app.css has the rest). */
export function ensureConferenceStyles() {
  if (document.querySelector('link[data-conference-css]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/conference.css', 'data-conference-css': '' }));
}

const PHASE_KIND = { scheduled: 'muted', 'pre-roll': 'warn', live: 'ok', ended: '', cancelled: 'muted' };

export function phaseBadge(phase) {
  return badge(ct(`conf.phase.${phase}`), PHASE_KIND[phase] ?? '');
}

/** `11月27日 10:00–11:30` in the headend's time zone. */
export function whenText(c, tz) {
  return `${fmtDateTime(c.start, tz, locale())}–${fmtTime(c.end, tz, locale())}`;
}

/** "all 102 stations" / "Kongtong, Jingning" / "5 stations". */
export function targetText(c, counties) {
  const name = (id) => {
    const g = counties.find((x) => x.id === id);
    return g ? (locale() === 'en' ? g.name : (g.nameZh ?? g.name)) : id;
  };
  if (c.target.type === 'all') return ct('conf.allStations', { n: c.stations.length });
  if (c.target.type === 'counties') return c.target.counties.map(name).join('、');
  return ct('conf.nStations', { n: c.stations.length });
}

/** A station's attendance status as a coloured label. */
export function statusLabel(status) {
  return h('span', { class: `att-status att-${status}`, 'data-status': status }, ct(`st.${status}`));
}

/** The reason of a row: translated code, then the station's own words (a time in the headend's zone). */
export function reasonCell(row, tz) {
  if (!row.reasonCode && !row.detail)
    return row.streaming === true ? h('small', { class: 'ok' }, ct('conf.streaming')) : '';
  const isTime = row.detail && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(row.detail);
  const detail = isTime ? ct('conf.since', { t: fmtDateTime(row.detail, tz, locale()) }) : row.detail;
  return h(
    'div',
    null,
    row.reasonCode ? h('span', { 'data-reason': row.reasonCode }, ct(`rc.${row.reasonCode}`)) : null,
    detail ? h('small', { class: 'reason block' }, detail) : null,
  );
}

/** Margin with the DOMAIN.md §2 colours (healthy ≥ 3 dB, warning below 3, alarm below 1). */
export function marginCell(db) {
  if (db === null || db === undefined) return h('span', { class: 'muted' }, '—');
  return h('span', { class: db >= 3 ? 'ok' : db >= 1 ? 'warn' : 'bad' }, `${db.toFixed(1)} dB`);
}

export function pct(x) {
  return x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10}%`;
}
