// Fleet board (issue 6): every station with presence (connected, disconnected since when, offline alarm),
// applied vs desired schedule version and how long it has lagged, signal margin, current activity, alarms;
// filter by county; rows update live from the stream.
import { get } from '../api.js';
import { badge, h, replace, stationHref } from '../dom.js';
import { alarmLabel, locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { fmtDateTime, fmtDuration } from '../time.js';

/** Margin class (DOMAIN.md §2: healthy ≥ 3 dB, warning below 3, alarm below 1). */
export function marginClass(db) {
  if (db === null || db === undefined) return '';
  return db >= 3 ? 'ok' : db >= 1 ? 'warn' : 'bad';
}

export function presenceCell(s, tz) {
  const kind = s.connection === 'online' ? 'ok' : s.connection === 'disconnected' ? 'bad' : 'muted';
  return h(
    'div',
    { class: 'presence' },
    badge(t(`conn.${s.connection ?? 'unknown'}`), kind),
    s.connection !== 'online' && s.since
      ? h('small', null, ' ', t('conn.since', { t: fmtDateTime(s.since, tz, locale()) }))
      : null,
    s.offlineAlarm ? badge(t('conn.offlineAlarm'), 'bad') : null,
  );
}

export function scheduleCell(s) {
  const v = (x) => (x ? `${x.epoch}.${x.n}` : '—');
  const sch = s.schedule;
  const state = sch.rejected
    ? badge(`${sch.rejected.code}`, 'bad')
    : !sch.desired
      ? h('small', { class: 'muted' }, t('fleet.noDoc'))
      : sch.inSync
        ? badge(t('fleet.inSync'), 'ok')
        : badge(t('fleet.lag', { d: fmtDuration(sch.lagMs ?? 0, t) }), 'warn');
  return h('div', null, h('span', { class: 'mono' }, `${v(sch.applied)} / ${v(sch.desired)}`), ' ', state);
}

function row(s, tz) {
  const alarms = s.alarms ?? [];
  return h(
    'tr',
    { dataset: { station: s.id, connection: s.connection ?? 'unknown' } },
    h(
      'td',
      { 'data-label': t('fleet.station') },
      h('a', { href: stationHref(s.id) }, s.name),
      h('small', { class: 'muted block' }, s.id),
    ),
    h('td', { 'data-label': t('fleet.presence') }, presenceCell(s, tz)),
    h('td', { 'data-label': t('fleet.schedule') }, scheduleCell(s)),
    h(
      'td',
      { 'data-label': t('fleet.margin'), class: marginClass(s.marginDb) },
      s.marginDb === null ? '—' : `${s.marginDb.toFixed(1)} dB`,
    ),
    h(
      'td',
      { 'data-label': t('fleet.activity') },
      s.activity.length > 0
        ? badge(t('fleet.recording', { n: s.activity.length }), 'rec')
        : h('small', { class: 'muted' }, t('fleet.idle')),
    ),
    h(
      'td',
      { 'data-label': t('fleet.alarms') },
      alarms.length === 0
        ? '—'
        : alarms.map((a) => badge(alarmLabel(a.kind), a.severity === 'critical' ? 'bad' : 'warn')),
    ),
  );
}

export async function render(root, ctx) {
  const county = ctx.params.county ?? '';
  const [stations, groups] = await Promise.all([
    get(`/stations${county ? `?county=${encodeURIComponent(county)}` : ''}`),
    get('/groups'),
  ]);
  const counties = groups.filter((g) => g.kind === 'county');
  const byId = new Map(stations.map((s) => [s.id, s]));
  const tbody = h('tbody');
  const summary = h('p', { class: 'summary', 'data-summary': '' });
  const draw = () => {
    const list = [...byId.values()];
    const n = (c) => list.filter((s) => (s.connection ?? 'unknown') === c).length;
    summary.textContent = t('fleet.counts', {
      on: n('online'),
      off: n('disconnected'),
      unk: n('unknown'),
      all: list.length,
    });
    replace(
      tbody,
      list.map((s) => row(s, ctx.tz)),
    );
  };
  const select = h(
    'select',
    {
      'aria-label': t('fleet.county'),
      onchange: (e) =>
        ctx.navigate(e.target.value ? `#/fleet?county=${encodeURIComponent(e.target.value)}` : '#/fleet'),
    },
    h('option', { value: '' }, t('fleet.allCounties')),
    counties.map((c) =>
      h(
        'option',
        { value: c.id, selected: c.id === county },
        locale() === 'en' ? c.name : (c.nameZh ?? c.name),
      ),
    ),
  );
  replace(
    root,
    h('div', { class: 'toolbar' }, h('h1', null, t('fleet.title')), select),
    summary,
    h(
      'table',
      { class: 'board' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            'fleet.station',
            'fleet.presence',
            'fleet.schedule',
            'fleet.margin',
            'fleet.activity',
            'fleet.alarms',
          ].map((k) => h('th', null, t(k))),
        ),
      ),
      tbody,
    ),
  );
  draw();
  const offs = [
    onLive('station', (s) => {
      if (county && s.county !== county) return;
      byId.set(s.id, s);
      const existing = tbody.querySelector(`tr[data-station="${CSS.escape(s.id)}"]`);
      if (existing) existing.replaceWith(row(s, ctx.tz));
      else draw();
      const list = [...byId.values()];
      const n = (c) => list.filter((x) => (x.connection ?? 'unknown') === c).length;
      summary.textContent = t('fleet.counts', {
        on: n('online'),
        off: n('disconnected'),
        unk: n('unknown'),
        all: list.length,
      });
    }),
    onLive('resync', async () => {
      const fresh = await get(`/stations${county ? `?county=${encodeURIComponent(county)}` : ''}`).catch(
        () => null,
      );
      if (!fresh) return;
      byId.clear();
      for (const s of fresh) byId.set(s.id, s);
      draw();
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
