// How planner outcomes and execution states read (DESIGN.md §5: every occurrence carries its outcome and a
// reason naming the occurrence that holds the receiver — "truncated by conference X").
import { badge, h } from './dom.js';
import { locale, t } from './i18n.js';
import { fmtDateTime } from './time.js';

const OUTCOME_KIND = { planned: 'ok', shared: 'ok', truncated: 'warn', dropped: 'bad' };

/** The reason in words, e.g. `被“市政府会议”（11月27日 10:00）截断`. */
export function reasonText(reason, tz) {
  if (!reason) return '';
  return t(`reason.${reason.code}`, {
    title: reason.by.title,
    t: fmtDateTime(reason.by.nominalStart, tz, locale()),
  });
}

/** Outcome badge plus reason. */
export function outcomeCell(o, tz) {
  return h(
    'div',
    { class: 'outcome', dataset: { outcome: o.outcome } },
    badge(t(`outcome.${o.outcome}`), OUTCOME_KIND[o.outcome] ?? ''),
    o.reason ? h('small', { class: 'reason block' }, reasonText(o.reason, tz)) : null,
  );
}

const EXEC_KIND = {
  completed: 'ok',
  completed_with_errors: 'warn',
  failed: 'bad',
  missed: 'bad',
  cancelled: 'muted',
  recording: 'rec',
  showing: 'rec',
};

/** Execution state badge (what the station reported). */
export function executionCell(ex) {
  if (!ex) return h('small', { class: 'muted' }, '—');
  return h(
    'div',
    { dataset: { execution: ex.state } },
    badge(t(`exec.${ex.state}`), EXEC_KIND[ex.state] ?? ''),
    ex.reason ? h('small', { class: 'reason block' }, ex.reason) : null,
  );
}

/** Quality score (DOMAIN.md §4: MythTV marks below 95/100 as damaged). */
export function qualityCell(q) {
  if (q === null || q === undefined) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    { class: q >= 95 ? 'ok' : 'bad' },
    `${Math.round(q)}/100`,
    q < 95 ? ` (${t('rec.damaged')})` : '',
  );
}

/** Bytes for display. */
export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
