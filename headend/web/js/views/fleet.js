// Fleet board (issue 6): every station with presence (connected, disconnected since when, offline alarm),
// applied vs desired schedule version and how long it has lagged, signal margin, current activity, alarms;
// filter by county; rows update live from the stream. Issue 8: active fleet alarms ("carrier lost at 37
// stations — upstream or satellite") as a banner above the grid, and stations with alarms marked with their
// worst severity and the probable cause in the UI's language (cause-i18n.js).
import { get } from '../api.js';
import { alarmLine, alarmTexts } from '../cause-i18n.js';
import { badge, debounce, h, replace, stationHref } from '../dom.js';
import { alarmLabel, locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { tt } from '../tech-i18n.js';
import { fmtDateTime, fmtDuration } from '../time.js';

const RANK = { critical: 3, warning: 2, info: 1 };

/** The worst severity among a station's alarms, or null. */
export function worstSeverity(alarms) {
  let best = null;
  for (const a of alarms ?? []) if (!best || (RANK[a.severity] ?? 0) > (RANK[best] ?? 0)) best = a.severity;
  return best;
}

/** The banner of active fleet alarms (empty when there are none). */
function fleetBanner(list, tz) {
  if (list.length === 0) return [];
  return h(
    'div',
    { class: 'fleet-banner', role: 'alert' },
    h('strong', null, tt('alarms.banner')),
    list.map((a) =>
      h(
        'p',
        {
          class: `alarm-banner sev-${a.severity}`,
          dataset: { alarm: a.id, kind: a.kind, severity: a.severity },
        },
        badge(tt(`alarms.sev.${a.severity}`), a.severity === 'critical' ? 'bad' : 'warn'),
        ' ',
        alarmLine(a, tz),
      ),
    ),
    h('a', { href: '#/alarms' }, tt('alarms.bannerMore')),
  );
}

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

function row(s, tz, details) {
  const alarms = s.alarms ?? [];
  const worst = worstSeverity(alarms);
  // The probable cause of the worst alarm (from /alarms, which carries cause and evidence).
  const top = (details ?? [])
    .filter((a) => a.linkedTo === null)
    .sort((a, b) => (RANK[b.severity] ?? 0) - (RANK[a.severity] ?? 0))[0];
  return h(
    'tr',
    {
      class: worst ? `sev-${worst}` : '',
      dataset: { station: s.id, connection: s.connection ?? 'unknown', alarmSeverity: worst ?? 'none' },
    },
    h(
      'td',
      { 'data-label': t('fleet.station') },
      worst ? h('span', { class: `sev-dot sev-${worst}`, title: tt(`alarms.sev.${worst}`) }) : null,
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
        : [
            alarms.map((a) => {
              const b = badge(alarmLabel(a.kind), a.severity === 'critical' ? 'bad' : 'warn');
              b.dataset.kind = a.kind;
              b.dataset.severity = a.severity;
              b.title = `${tt(`alarms.sev.${a.severity}`)} · ${a.message ?? ''}`;
              return b;
            }),
            top
              ? h(
                  'small',
                  { class: 'block cause', 'data-row': top.cause.row },
                  alarmTexts(top, tz).cause.text,
                )
              : null,
          ],
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
  const banner = h('section', {
    class: 'fleet-alarms',
    'data-section': 'fleet-alarms',
    'aria-live': 'polite',
  });
  /** Active alarms with cause and evidence, by station (station alarms) and the fleet's. */
  let details = new Map();
  const rowOf = (s) => row(s, ctx.tz, details.get(s.id));
  const draw = () => {
    const list = [...byId.values()];
    const n = (c) => list.filter((s) => (s.connection ?? 'unknown') === c).length;
    summary.textContent = t('fleet.counts', {
      on: n('online'),
      off: n('disconnected'),
      unk: n('unknown'),
      all: list.length,
    });
    replace(tbody, list.map(rowOf));
  };
  const loadAlarms = async () => {
    let list;
    try {
      list = await get('/alarms');
    } catch {
      return; // the board still shows presence and the stations' own alarm badges
    }
    const next = new Map();
    for (const a of list) {
      if (a.scope !== 'station' || !a.station) continue;
      if (!next.has(a.station)) next.set(a.station, []);
      next.get(a.station).push(a);
    }
    details = next;
    replace(
      banner,
      fleetBanner(
        list.filter((a) => a.scope === 'fleet'),
        ctx.tz,
      ),
    );
    draw();
  };
  const alarmsLater = debounce(() => loadAlarms(), 500);
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
    banner,
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
  await loadAlarms();
  // Station and fleet alarms both arrive on the live stream (a fleet alarm as `{scope: 'fleet'}`).
  const offs = [
    onLive('alarm', alarmsLater),
    onLive('station', (s) => {
      if (county && s.county !== county) return;
      byId.set(s.id, s);
      const existing = tbody.querySelector(`tr[data-station="${CSS.escape(s.id)}"]`);
      if (existing) existing.replaceWith(rowOf(s));
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
      alarmsLater();
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
