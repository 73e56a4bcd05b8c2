// Recording entries (issue 6): the list of recordings scheduled for the stations one may see (one-off,
// weekly, guide programme, series), and the form (entry-form.js) to add a manual one or edit and delete
// one — `#/entries`, `#/entries/new`, `#/entries/<id>`. Conferences have their own pages (issue 7).
import { ApiError, del, get, qs } from '../api.js';
import { badge, h, replace, stationHref } from '../dom.js';
import { entryForm } from '../entry-form.js';
import { describeTarget, describeWhen } from '../entry-format.js';
import { errorBox, errorText } from '../errors.js';
import { locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { outcomeCell } from '../plan-format.js';
import { fmtDateTime } from '../time.js';

/** May the user change this entry? (The API decides; this only hides buttons that would answer 403.) */
function mayChange(ctx, e) {
  if (e.kind !== 'recording') return false;
  return ctx.can('entries.control') || (ctx.can('entries.write') && e.class === 'operator');
}

function namesOf(data) {
  return {
    station: (id) => data.stations.find((s) => s.id === id)?.name ?? id,
    county: (id) => {
      const g = data.groups.find((x) => x.id === id);
      return g ? (locale() === 'en' ? g.name : (g.nameZh ?? g.name)) : id;
    },
    service: (key) => data.services.find((s) => s.key === key)?.name ?? key,
  };
}

function entryRow(ctx, e, names, next, reload) {
  const cell = (label, ...content) => h('td', { 'data-label': label }, content);
  const remove = async (ev) => {
    if (!window.confirm(t('station.confirmDelete', { title: e.title }))) return;
    try {
      await del(`/entries/${encodeURIComponent(e.id)}${qs({ expectedRev: e.rev })}`);
      reload();
    } catch (err) {
      ev.target.after(h('small', { class: 'bad block' }, errorText(err)));
    }
  };
  return h(
    'tr',
    { dataset: { entry: e.id, when: e.when.type } },
    cell(
      t('entry.title'),
      h('span', { class: 'title' }, e.title),
      e.class === 'mandated' ? [' ', badge(t('entry.mandated'), 'warn')] : null,
      e.guide?.status === 'not_listed' ? [' ', badge(t('entry.notListed'), 'bad')] : null,
    ),
    cell(t('guide.service'), names.service(e.service)),
    cell(t('entry.when'), h('span', { class: 'when' }, describeWhen(e.when, ctx.tz))),
    cell(t('record.target'), describeTarget(e.target, names)),
    next === undefined
      ? null
      : cell(
          t('entries.next'),
          next
            ? [
                h('span', { class: 'mono' }, fmtDateTime(next.nominalStart, ctx.tz, locale())),
                outcomeCell(next, ctx.tz),
              ]
            : h('span', { class: 'muted' }, '—'),
        ),
    h(
      'td',
      { class: 'actions' },
      mayChange(ctx, e)
        ? [
            h('a', { href: `#/entries/${encodeURIComponent(e.id)}`, 'data-action': 'edit' }, t('entry.edit')),
            ' ',
            h(
              'button',
              { type: 'button', class: 'danger small', 'data-action': 'delete', onclick: remove },
              t('entry.delete'),
            ),
          ]
        : null,
    ),
  );
}

async function listPage(root, ctx, data) {
  const names = namesOf(data);
  const station = ctx.params.station ?? '';
  const stationSel =
    data.stations.length > 1
      ? h(
          'select',
          {
            name: 'station',
            'aria-label': t('record.station'),
            onchange: (e) => ctx.navigate(`#/entries${qs({ station: e.target.value })}`),
          },
          h('option', { value: '' }, t('entries.allStations')),
          data.stations.map((s) => h('option', { value: s.id, selected: s.id === station }, s.name)),
        )
      : null;
  const newHref = `#/entries/new${qs({ station: station || undefined })}`;
  const body = h('div');
  const load = async () => {
    try {
      // With one station in view, each entry also shows its next occurrence there and the planner's
      // outcome for it (DESIGN.md §5), so a cut is seen from the list.
      const one = station || (data.stations.length === 1 ? data.stations[0].id : '');
      const [all, plan] = await Promise.all([
        get(`/entries${qs({ station: station || undefined })}`),
        one
          ? get(`/stations/${encodeURIComponent(one)}/plan${qs({ from: new Date().toISOString() })}`)
          : null,
      ]);
      const list = all.filter((e) => e.kind === 'recording');
      const nextOf = (e) => {
        if (!plan) return undefined;
        return (
          plan.occurrences.find((o) => o.entryId === e.id && Date.parse(o.nominalEnd) > Date.now()) ?? null
        );
      };
      replace(
        body,
        list.length === 0
          ? h('p', { class: 'muted' }, t('entries.none'))
          : h(
              'table',
              { class: 'entries-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['entry.title', 'guide.service', 'entry.when', 'record.target'].map((k) =>
                    h('th', null, t(k)),
                  ),
                  plan ? h('th', null, t('entries.next')) : null,
                  h('th', null),
                ),
              ),
              h(
                'tbody',
                null,
                list.map((e) => entryRow(ctx, e, names, nextOf(e), load)),
              ),
            ),
        all.length > list.length
          ? h(
              'p',
              { class: 'muted' },
              t('entries.conferencesElsewhere'),
              ' ',
              h('a', { href: '#/conferences' }, t('nav.conferences')),
            )
          : null,
      );
    } catch (err) {
      replace(body, errorBox(err));
    }
  };
  replace(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('h1', null, t('entries.title')),
      stationSel,
      ctx.can('entries.write')
        ? h('a', { class: 'button primary', href: newHref, 'data-action': 'new' }, t('entries.new'))
        : null,
    ),
    ctx.params.deleted
      ? h('p', { class: 'ok', role: 'status' }, t('entries.deleted', { title: ctx.params.deleted }))
      : null,
    body,
  );
  await load();
  return onLive('schedule', () => load());
}

function savedBanner(entry, names) {
  return h(
    'div',
    { class: 'saved card', role: 'status' },
    h('p', { class: 'ok' }, t('entries.saved', { rev: entry.rev, n: entry.stations.length })),
    h(
      'p',
      null,
      entry.stations
        .slice(0, 8)
        .map((id) => [
          h(
            'a',
            { href: stationHref(id), 'data-station-link': id },
            t('entries.seePlan', { station: names.station(id) }),
          ),
          ' ',
        ]),
      h('a', { href: '#/entries' }, t('entries.backToList')),
    ),
  );
}

async function formPage(root, ctx, data) {
  const arg = ctx.params.arg;
  let entry = null;
  if (arg !== 'new') {
    try {
      entry = await get(`/entries/${encodeURIComponent(arg)}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
        replace(
          root,
          h('p', { class: 'error', role: 'alert', 'data-error': err.code }, t('entries.notFound')),
        );
        return undefined;
      }
      throw err;
    }
  }
  const names = namesOf(data);
  if (entry && !mayChange(ctx, entry)) {
    replace(
      root,
      h('h1', null, entry.title),
      h('p', null, describeWhen(entry.when, ctx.tz), ' · ', describeTarget(entry.target, names)),
      h(
        'p',
        { class: 'muted' },
        entry.kind === 'conference' ? t('entries.conferencesElsewhere') : t('entries.readOnly'),
      ),
    );
    return undefined;
  }
  const form = entryForm(ctx, {
    entry,
    services: data.services,
    stations: data.stations,
    groups: data.groups,
    defaults: { service: ctx.params.service, station: ctx.params.station },
    onSaved: (r) => ctx.navigate(`#/entries/${encodeURIComponent(r.entry.id)}?saved=${r.entry.rev}`),
    onDeleted: () => ctx.navigate(`#/entries${qs({ deleted: entry?.title })}`),
    onCancel: () => ctx.navigate('#/entries'),
    onReload: () => ctx.navigate(`#/entries/${encodeURIComponent(arg)}?reload=${Date.now()}`),
  });
  replace(
    root,
    h('p', null, h('a', { href: '#/entries' }, `‹ ${t('entries.title')}`)),
    entry && ctx.params.saved === String(entry.rev) ? savedBanner(entry, names) : null,
    form,
  );
  return undefined;
}

export async function render(root, ctx) {
  const [lineup, stations, groups] = await Promise.all([get('/lineup'), get('/stations'), get('/groups')]);
  const data = { services: lineup.services, stations, groups };
  if (ctx.params.arg) {
    if (!ctx.can('entries.write') && ctx.params.arg === 'new') {
      replace(root, h('p', { class: 'error', role: 'alert' }, t('common.forbidden')));
      return undefined;
    }
    return formPage(root, ctx, data);
  }
  return listPage(root, ctx, data);
}
