// One conference (issue 7): what it is, the control room's actions (start now, extend, end now, cancel),
// sun-outage warnings, the LIVE attendance board — counts per county and one row per target station
// coloured by status, updated from the stream within seconds — and the attendance report with its CSV.
import { ApiError, get, post } from '../api.js';
import {
  ensureConferenceStyles,
  marginCell,
  phaseBadge,
  reasonCell,
  statusLabel,
  targetText,
  whenText,
} from '../conference-format.js';
import { ct } from '../conference-i18n.js';
import { h, replace, stationHref } from '../dom.js';
import { errorBox } from '../errors.js';
import { locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { fmtDateTime, fmtTime } from '../time.js';
import { renderReport } from './conference-report.js';

const STATUSES = [
  'offline',
  'not_applied',
  'scheduled',
  'tuning',
  'ready',
  'receiving',
  'failed',
  'ended',
  'cancelled',
];

/** The phase now (the server's answer ages; the page keeps it current). */
function phaseOf(c, now = Date.now()) {
  if (c.cancelledAt) return 'cancelled';
  if (now >= Date.parse(c.end)) return 'ended';
  if (now >= Date.parse(c.start)) return 'live';
  return now >= Date.parse(c.start) - c.preRollMs ? 'pre-roll' : 'scheduled';
}

function head(ctx, c, counties) {
  const item = (k, v) => [h('dt', null, ct(k)), h('dd', null, v)];
  return h(
    'section',
    { class: 'card conf-head' },
    h(
      'dl',
      null,
      item('conf.field.organiser', c.organiser),
      item('conf.field.service', c.serviceName ? `${c.serviceName} (${c.service})` : c.service),
      item('conf.col.when', whenText(c, ctx.tz)),
      item('conf.col.targets', targetText(c, counties)),
      item('conf.recording', c.record ? ct('conf.recorded') : ct('conf.showOnly')),
      c.notes ? item('conf.field.notes', c.notes) : null,
    ),
  );
}

function actions(ctx, c, reload) {
  if (!ctx.can('entries.control')) return null;
  const phase = phaseOf(c);
  const out = h('div', { 'aria-live': 'polite' });
  const run = async (path, body, confirmText) => {
    if (confirmText && !window.confirm(confirmText)) return;
    try {
      await post(`/conferences/${encodeURIComponent(c.id)}/${path}`, body);
      await reload();
    } catch (err) {
      replace(out, errorBox(err));
    }
  };
  const btn = (key, action, onclick, params, cls) =>
    h('button', { type: 'button', class: cls ?? '', 'data-action': action, onclick }, ct(key, params));
  const open = phase !== 'ended' && phase !== 'cancelled';
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'conf-actions' },
      phase === 'scheduled' || phase === 'pre-roll'
        ? btn('conf.startNow', 'start-now', () => run('start-now'), null, 'primary')
        : null,
      open
        ? [5, 15, 30].map((m) =>
            btn('conf.extend', `extend-${m}`, () => run('extend', { minutes: m }), { m }),
          )
        : null,
      phase === 'live'
        ? btn('conf.endNow', 'end-now', () =>
            run('end-now', undefined, ct('conf.confirmEnd', { title: c.title })),
          )
        : null,
      open
        ? btn(
            'conf.cancel',
            'cancel',
            () => run('cancel', undefined, ct('conf.confirmCancel', { title: c.title })),
            null,
            'danger',
          )
        : null,
    ),
    out,
  );
}

function warnings(ctx, c, stationNames) {
  if (c.warnings.length === 0) return null;
  const n = new Set(c.warnings.map((w) => w.stationId)).size;
  return h(
    'div',
    { class: 'sun-warning', 'data-warning': 'sun-outage' },
    h('strong', null, ct('conf.sunWarning', { n })),
    h(
      'ul',
      { class: 'plain' },
      c.warnings.slice(0, 20).map((w) =>
        h(
          'li',
          null,
          ct('conf.sunAt', {
            station: stationNames.get(w.stationId) ?? w.stationId,
            from: fmtDateTime(w.start, ctx.tz, locale()),
            to: fmtTime(w.end, ctx.tz, locale()),
          }),
        ),
      ),
    ),
  );
}

function countsTable(rows, counties) {
  const name = (id) => {
    const g = counties.find((x) => x.id === id);
    return g ? (locale() === 'en' ? g.name : (g.nameZh ?? g.name)) : id;
  };
  const by = new Map();
  const total = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const r of rows) {
    const c = by.get(r.county) ?? Object.fromEntries(STATUSES.map((s) => [s, 0]));
    c[r.status]++;
    total[r.status]++;
    by.set(r.county, c);
  }
  const line = (county, label, c) =>
    h(
      'tr',
      { dataset: { county } },
      h('td', null, label),
      STATUSES.map((s) => h('td', { class: c[s] === 0 ? 'zero' : '', dataset: { status: s } }, String(c[s]))),
      h('td', { dataset: { status: 'total' } }, String(STATUSES.reduce((a, s) => a + c[s], 0))),
    );
  return h(
    'table',
    { class: 'counts', 'data-table': 'counts' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, ct('conf.county')),
        STATUSES.map((s) => h('th', null, statusLabel(s))),
        h('th', null, ct('conf.total')),
      ),
    ),
    h(
      'tbody',
      null,
      [...by.keys()].sort().map((county) => line(county, name(county), by.get(county))),
      line('all', ct('conf.total'), total),
    ),
  );
}

function stationRow(r, counties, tz) {
  const county = counties.find((g) => g.id === r.county);
  return h(
    'tr',
    {
      class: `att-row att-row-${r.status}`,
      dataset: { station: r.stationId, status: r.status, county: r.county },
    },
    h(
      'td',
      { 'data-label': ct('conf.station') },
      h('a', { href: stationHref(r.stationId) }, r.name),
      h('small', { class: 'muted block' }, r.stationId),
    ),
    h(
      'td',
      { 'data-label': ct('conf.county') },
      county ? (locale() === 'en' ? county.name : (county.nameZh ?? county.name)) : r.county,
    ),
    h('td', { 'data-label': ct('conf.status') }, statusLabel(r.status)),
    h('td', { 'data-label': ct('conf.margin') }, marginCell(r.marginDb)),
    h('td', { 'data-label': ct('conf.reason') }, reasonCell(r, tz)),
    h(
      'td',
      { 'data-label': ct('conf.state') },
      r.state ? h('small', { 'data-state': r.state }, t(`exec.${r.state}`)) : '—',
    ),
  );
}

export async function render(root, ctx) {
  ensureConferenceStyles();
  const id = ctx.params.arg ?? '';
  const groups = await get('/groups');
  const counties = groups.filter((g) => g.kind === 'county');
  let board;
  try {
    board = await get(`/conferences/${encodeURIComponent(id)}/attendance`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      replace(root, h('p', { class: 'error' }, err.message));
      return undefined;
    }
    throw err;
  }
  let conf = board.conference;
  const rows = new Map(board.rows.map((r) => [r.stationId, r]));
  const names = new Map(board.rows.map((r) => [r.stationId, r.name]));
  const filters = { county: ctx.params.county ?? '', status: ctx.params.status ?? '' };
  const headSlot = h('div');
  const countsSlot = h('div', { class: 'card' });
  const tbody = h('tbody');
  const reportSlot = h('div');
  const phaseSlot = h('span');

  let drawnPhase = null;
  const drawHead = () => {
    drawnPhase = phaseOf(conf);
    replace(phaseSlot, phaseBadge(drawnPhase));
    replace(headSlot, head(ctx, conf, counties), actions(ctx, conf, reloadAll), warnings(ctx, conf, names));
  };
  const visible = (r) =>
    (!filters.county || r.county === filters.county) && (!filters.status || r.status === filters.status);
  const drawRows = () => {
    const list = [...rows.values()].sort(
      (a, b) => a.county.localeCompare(b.county) || a.stationId.localeCompare(b.stationId),
    );
    replace(countsSlot, h('h2', null, ct('conf.counts')), countsTable(list, counties));
    replace(
      tbody,
      list.filter(visible).map((r) => stationRow(r, counties, ctx.tz)),
    );
  };
  async function reloadAll() {
    const fresh = await get(`/conferences/${encodeURIComponent(id)}/attendance`);
    conf = fresh.conference;
    rows.clear();
    for (const r of fresh.rows) rows.set(r.stationId, r);
    drawHead();
    drawRows();
  }
  const select = (name, options) =>
    h(
      'select',
      {
        name,
        'aria-label': ct(name === 'county' ? 'conf.county' : 'conf.status'),
        onchange: (e) => {
          filters[name] = e.target.value;
          drawRows();
        },
      },
      options.map(([v, label]) => h('option', { value: v, selected: v === filters[name] }, label)),
    );
  const reportButton = h(
    'button',
    {
      type: 'button',
      'data-action': 'report',
      onclick: () =>
        renderReport(reportSlot, id, counties, ctx.tz).catch((err) => replace(reportSlot, errorBox(err))),
    },
    ct('conf.showReport'),
  );
  replace(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('h1', { 'data-title': '' }, conf.title),
      phaseSlot,
      h('a', { href: '#/conferences' }, ct('conf.title')),
    ),
    headSlot,
    countsSlot,
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', null, ct('conf.board')),
        select('county', [
          ['', ct('conf.allCounties')],
          ...counties.map((g) => [g.id, locale() === 'en' ? g.name : (g.nameZh ?? g.name)]),
        ]),
        select('status', [['', ct('conf.allStatuses')], ...STATUSES.map((s) => [s, ct(`st.${s}`)])]),
      ),
      h(
        'table',
        { class: 'board', 'data-table': 'attendance' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['conf.station', 'conf.county', 'conf.status', 'conf.margin', 'conf.reason', 'conf.state'].map(
              (k) => h('th', null, ct(k)),
            ),
          ),
        ),
        tbody,
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'toolbar' }, h('h2', null, ct('conf.report')), reportButton),
      reportSlot,
    ),
  );
  drawHead();
  drawRows();
  if (phaseOf(conf) === 'ended') await renderReport(reportSlot, id, counties, ctx.tz).catch(() => undefined);

  let pending = false;
  const redrawSoon = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawRows();
    });
  };
  // The phase changes with the clock (scheduled → pre-roll → live → ended): the actions follow it.
  const phaseTimer = setInterval(() => {
    if (phaseOf(conf) !== drawnPhase) drawHead();
  }, 1000);
  const offs = [
    onLive('conference', (m) => {
      if (m.conferenceId !== id) return;
      if (m.row) {
        rows.set(m.row.stationId, m.row);
        redrawSoon();
      } else if (m.op) reloadAll().catch(() => undefined);
    }),
    onLive('resync', () => reloadAll().catch(() => undefined)),
  ];
  return () => {
    clearInterval(phaseTimer);
    for (const off of offs) off();
  };
}
