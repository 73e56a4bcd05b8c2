// The "record" dialog of the guide (issue 6): record this programme, the series, or this slot every weekday,
// for one's own station (operators) or any station, a county or all (control room, optionally mandated).
// It previews the planner's outcome at every station BEFORE saving, then saves.
import { get, post } from './api.js';
import { h, modal, replace, stationHref } from './dom.js';
import { errorBox } from './errors.js';
import { locale, t } from './i18n.js';
import { outcomeCell } from './plan-format.js';
import { fmtDateTime, localDate, localHm, partsOf } from './time.js';

/** The entry's `when` for a mode. */
export function whenOf(mode, p, tz) {
  const start = Date.parse(p.start);
  const stop = Date.parse(p.stop);
  if (mode === 'this') return { type: 'programme', programmeId: p.programmeId };
  if (mode === 'series') return { type: 'series', title: p.title, dedupe: 'episode' };
  return {
    type: 'weekly',
    weekdays: [1, 2, 3, 4, 5],
    startLocal: localHm(start, tz),
    durationMin: Math.max(1, Math.round((stop - start) / 60000)),
    from: localDate(start, tz),
  };
}

function describe(mode, p, tz) {
  if (mode === 'series') return t('record.series', { title: p.title });
  if (mode === 'weekdays') {
    const m = Math.round((Date.parse(p.stop) - Date.parse(p.start)) / 60000);
    return t('record.weekdays', { t: localHm(Date.parse(p.start), tz), m });
  }
  return t('record.once', { t: fmtDateTime(p.start, tz, locale()), title: p.title });
}

/** Opens the dialog for programme `p` and `mode` (`this` | `series` | `weekdays`). */
export async function recordDialog(ctx, p, mode) {
  const control = ctx.can('entries.control');
  const [stations, groups] = await Promise.all([
    get('/stations'),
    control ? get('/groups') : Promise.resolve([]),
  ]);
  return modal(t('record.title'), (close) => {
    const stationSel = h(
      'select',
      { name: 'station' },
      stations.map((s) => h('option', { value: s.id }, `${s.name} (${s.id})`)),
    );
    const targetType = h(
      'select',
      { name: 'targetType' },
      h('option', { value: 'station' }, t('record.target.station')),
      h('option', { value: 'county' }, t('record.target.county')),
      h('option', { value: 'all' }, t('record.target.all')),
    );
    const countySel = h(
      'select',
      { name: 'county', hidden: true },
      groups
        .filter((g) => g.kind === 'county')
        .map((g) => h('option', { value: g.id }, locale() === 'en' ? g.name : (g.nameZh ?? g.name))),
    );
    const mandated = h('input', { type: 'checkbox', name: 'mandated' });
    targetType.addEventListener('change', () => {
      stationSel.hidden = targetType.value !== 'station';
      countySel.hidden = targetType.value !== 'county';
    });
    const out = h('div', { class: 'preview', 'aria-live': 'polite' });
    const body = () => {
      const target =
        targetType.value === 'county'
          ? { type: 'county', county: countySel.value }
          : targetType.value === 'all'
            ? { type: 'all' }
            : { type: 'station', stationId: stationSel.value };
      return {
        kind: 'recording',
        class: control && mandated.checked ? 'mandated' : 'operator',
        title: p.title,
        service: p.service,
        when: whenOf(mode, p, ctx.tz),
        target,
      };
    };
    const saveBtn = h(
      'button',
      { type: 'button', class: 'primary', 'data-action': 'save', disabled: true },
      t('record.save'),
    );
    const previewBtn = h('button', { type: 'button', 'data-action': 'preview' }, t('record.preview'));
    const showPreview = (r) => {
      replace(
        out,
        r.stations.map((s) =>
          h(
            'section',
            { class: 'station-preview', dataset: { station: s.stationId } },
            h(
              'h3',
              null,
              t('record.previewAt', {
                station: stations.find((x) => x.id === s.stationId)?.name ?? s.stationId,
              }),
            ),
            s.occurrences.length === 0
              ? h('p', { class: 'muted' }, t('record.noOccurrence'))
              : h(
                  'ul',
                  { class: 'plain' },
                  s.occurrences
                    .slice(0, 10)
                    .map((o) =>
                      h(
                        'li',
                        null,
                        h('span', { class: 'when' }, fmtDateTime(o.nominalStart, ctx.tz, locale())),
                        ' ',
                        outcomeCell(o, ctx.tz),
                      ),
                    ),
                ),
            s.changes.filter((c) => c.entryId !== r.entryId).length > 0
              ? h(
                  'div',
                  null,
                  h('p', null, t('record.affects')),
                  h(
                    'ul',
                    { class: 'plain' },
                    s.changes
                      .filter((c) => c.entryId !== r.entryId && c.after)
                      .map((c) =>
                        h(
                          'li',
                          null,
                          `${c.title} · ${fmtDateTime(c.nominalStart, ctx.tz, locale())} `,
                          outcomeCell(c.after, ctx.tz),
                        ),
                      ),
                  ),
                )
              : null,
            s.warnings.map((w) => h('p', { class: 'warn' }, w.message)),
          ),
        ),
      );
    };
    previewBtn.addEventListener('click', async () => {
      previewBtn.disabled = true;
      try {
        showPreview(await post('/entries/preview', body()));
        saveBtn.disabled = false;
      } catch (err) {
        replace(out, errorBox(err));
      } finally {
        previewBtn.disabled = false;
      }
    });
    saveBtn.addEventListener('click', async () => {
      saveBtn.disabled = true;
      try {
        const b = body();
        const r = await post('/entries', b);
        const first = r.entry.stations[0];
        replace(
          out,
          h('p', { class: 'ok', role: 'status' }, t('record.saved')),
          first
            ? h(
                'a',
                { href: stationHref(first), onclick: () => close(r) },
                stations.find((x) => x.id === first)?.name ?? first,
              )
            : null,
        );
      } catch (err) {
        saveBtn.disabled = false;
        replace(out, errorBox(err));
      }
    });
    const partsNow = partsOf(Date.now(), ctx.tz);
    return h(
      'form',
      { class: 'record', onsubmit: (e) => e.preventDefault(), dataset: { year: String(partsNow.year) } },
      h('p', { class: 'what' }, h('strong', null, p.title), h('br'), describe(mode, p, ctx.tz)),
      control ? h('label', null, t('record.target'), targetType) : null,
      h('label', { class: 'station-label' }, t('record.station'), stationSel),
      control ? countySel : null,
      control ? h('label', { class: 'check' }, mandated, t('record.mandated')) : null,
      h(
        'div',
        { class: 'buttons' },
        previewBtn,
        saveBtn,
        h('button', { type: 'button', onclick: () => close(undefined) }, t('record.cancel')),
      ),
      out,
    );
  });
}
