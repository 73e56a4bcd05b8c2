// Guide grid (issue 6): a service's programmes for a local day (the headend's time zone), or a search
// across services; each programme can be recorded, as a series, or as this slot every weekday.
import { get, qs } from '../api.js';
import { h, replace } from '../dom.js';
import { errorBox } from '../errors.js';
import { locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { recordDialog } from '../record.js';
import { addDays, fmtDay, fmtTime, localDate, zonedToUtc } from '../time.js';

function programmeRow(ctx, p, withService) {
  const now = Date.now();
  const onNow = Date.parse(p.start) <= now && now < Date.parse(p.stop);
  const actions = ctx.can('entries.write')
    ? h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', 'data-action': 'record-this', onclick: () => recordDialog(ctx, p, 'this') },
          t('guide.recordThis'),
        ),
        h(
          'button',
          { type: 'button', 'data-action': 'record-series', onclick: () => recordDialog(ctx, p, 'series') },
          t('guide.recordSeries'),
        ),
        h(
          'button',
          {
            type: 'button',
            'data-action': 'record-weekdays',
            onclick: () => recordDialog(ctx, p, 'weekdays'),
          },
          t('guide.recordWeekdays'),
        ),
      )
    : null;
  return h(
    'li',
    { class: `programme${onNow ? ' now' : ''}`, dataset: { programme: p.programmeId, service: p.service } },
    h(
      'div',
      { class: 'time mono' },
      `${fmtTime(p.start, ctx.tz, locale())}–${fmtTime(p.stop, ctx.tz, locale())}`,
    ),
    h(
      'div',
      { class: 'info' },
      h('span', { class: 'title' }, p.title),
      withService ? h('small', { class: 'muted' }, ` · ${p.service}`) : null,
      p.subTitle || p.episode
        ? h('small', { class: 'block muted' }, [p.subTitle, p.episode].filter(Boolean).join(' · '))
        : null,
      onNow ? h('span', { class: 'badge rec' }, t('guide.now')) : null,
    ),
    actions,
  );
}

export async function render(root, ctx) {
  const lineup = await get('/lineup');
  const services = lineup.services;
  const service = ctx.params.service ?? services[0]?.key ?? '';
  const today = localDate(Date.now(), ctx.tz);
  const day = ctx.params.day ?? today;
  const q = ctx.params.q ?? '';
  const go = (params) => {
    const next = { service, day, ...params };
    ctx.navigate(`#/guide${qs(next)}`);
  };
  const serviceSel = h(
    'select',
    {
      name: 'service',
      'aria-label': t('guide.service'),
      onchange: (e) => go({ service: e.target.value, q: undefined }),
    },
    services.map((s) => h('option', { value: s.key, selected: s.key === service }, s.name)),
  );
  const daySel = h(
    'select',
    { name: 'day', 'aria-label': t('guide.day'), onchange: (e) => go({ day: e.target.value, q: undefined }) },
    Array.from({ length: 8 }, (_, i) => addDays(today, i - 1)).map((d) =>
      h('option', { value: d, selected: d === day }, fmtDay(d, locale())),
    ),
  );
  const search = h('input', { type: 'search', name: 'q', placeholder: t('guide.search'), value: q });
  const form = h(
    'form',
    {
      class: 'toolbar',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        go({ q: search.value.trim() || undefined });
      },
    },
    h('h1', null, t('guide.title')),
    serviceSel,
    daySel,
    search,
  );
  const list = h('ul', { class: 'guide' });
  const load = async () => {
    try {
      let data;
      if (q) {
        data = await get(
          `/guide${qs({ q, from: new Date().toISOString(), to: new Date(Date.now() + 48 * 3600_000).toISOString() })}`,
        );
      } else {
        const from = zonedToUtc(day, '00:00', ctx.tz);
        const to = zonedToUtc(addDays(day, 1), '00:00', ctx.tz);
        data = await get(
          `/guide${qs({ service, from: new Date(from).toISOString(), to: new Date(to).toISOString() })}`,
        );
      }
      replace(
        list,
        data.programmes.length === 0
          ? h('li', { class: 'muted' }, t('guide.none'))
          : data.programmes.map((p) => programmeRow(ctx, p, Boolean(q))),
      );
    } catch (err) {
      replace(list, errorBox(err));
    }
  };
  replace(root, form, list);
  await load();
  const off = onLive('guide', () => load());
  return off;
}
