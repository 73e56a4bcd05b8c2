// What the planner says a new or edited entry will do, per station, before it is saved (issue 6 "planner
// preview that returns outcomes and reasons before saving"; DESIGN.md §5): the entry's occurrences with
// their outcome and the occurrence that cuts them, a count by outcome, the other occurrences whose outcome
// the change alters (before → after), and the headend's warnings (sun outage, not in the guide).
import { h } from './dom.js';
import { locale, t } from './i18n.js';
import { outcomeCell } from './plan-format.js';
import { fmtDateTime, fmtTime } from './time.js';

/** How many of the entry's occurrences are listed per station (the count covers all of them). */
const SHOWN = 14;

const span = (o, tz) => `${fmtDateTime(o.nominalStart, tz, locale())}–${fmtTime(o.nominalEnd, tz, locale())}`;

/** `4 场：3 正常，1 被截断`. */
function counts(occurrences) {
  const by = new Map();
  for (const o of occurrences) by.set(o.outcome, (by.get(o.outcome) ?? 0) + 1);
  const parts = [...by].map(([k, n]) => `${n} ${t(`outcome.${k}`)}`);
  return t('preview.count', { n: occurrences.length, parts: parts.join(t('entry.listSep')) });
}

/** One station's section. */
function stationSection(r, s, opts) {
  const others = s.changes.filter((c) => c.entryId !== r.entryId);
  return h(
    'section',
    { class: 'station-preview', dataset: { station: s.stationId } },
    h('h3', null, t('record.previewAt', { station: opts.stationName(s.stationId) })),
    s.occurrences.length === 0
      ? h('p', { class: 'muted' }, t('record.noOccurrence'))
      : h('p', { class: 'counts' }, counts(s.occurrences)),
    s.occurrences.length > 0
      ? h(
          'ul',
          { class: 'plain occurrences' },
          s.occurrences
            .slice(0, SHOWN)
            .map((o) =>
              h(
                'li',
                { dataset: { start: o.nominalStart, outcome: o.outcome } },
                h('span', { class: 'when mono' }, span(o, opts.tz)),
                ' ',
                outcomeCell(o, opts.tz),
              ),
            ),
          s.occurrences.length > SHOWN
            ? h('li', { class: 'muted' }, t('preview.more', { n: s.occurrences.length - SHOWN }))
            : null,
        )
      : null,
    others.length > 0
      ? h(
          'div',
          { class: 'affects' },
          h('p', null, t('record.affects')),
          h(
            'ul',
            { class: 'plain' },
            others.map((c) =>
              h(
                'li',
                { dataset: { entry: c.entryId } },
                h('span', { class: 'title' }, c.title),
                ` · ${fmtDateTime(c.nominalStart, opts.tz, locale())} `,
                c.before
                  ? outcomeCell(c.before, opts.tz)
                  : h('small', { class: 'muted' }, t('preview.absent')),
                h('span', { 'aria-hidden': 'true' }, ' → '),
                c.after ? outcomeCell(c.after, opts.tz) : h('small', { class: 'muted' }, t('preview.absent')),
              ),
            ),
          ),
        )
      : null,
    s.warnings.map((w) => h('p', { class: 'warn', dataset: { code: w.code } }, w.message)),
  );
}

/**
 * Renders a preview answer (`POST /entries/preview` or `/entries/{id}/preview`).
 * `opts`: `tz`, `stationName(id)`.
 */
export function renderPreview(r, opts) {
  return h(
    'div',
    { class: 'preview-result', dataset: { from: r.window.from, to: r.window.to } },
    h(
      'p',
      { class: 'muted' },
      t('preview.window', {
        from: fmtDateTime(r.window.from, opts.tz, locale()),
        to: fmtDateTime(r.window.to, opts.tz, locale()),
      }),
    ),
    r.stations.length === 0
      ? h('p', { class: 'muted' }, t('preview.noStation'))
      : r.stations.map((s) => stationSection(r, s, opts)),
  );
}
