// Station page (issue 6): live state, the plan for the next days with each occurrence's outcome and reason
// ("truncated by conference X") and what actually ran, the entries scheduled for it, its recordings with
// quality, recent events, and remote diagnostics for technicians. Times are in the station's time zone.
import { ApiError, del, get, qs } from '../api.js';
import { badge, debounce, h, replace } from '../dom.js';
import { errorBox, errorText } from '../errors.js';
import { alarmLabel, locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { executionCell, outcomeCell, qualityCell } from '../plan-format.js';
import { recordingTable } from '../recording-list.js';
import { technicianSections } from '../station-technician.js';
import { fmtDateTime, fmtDay, fmtTime, localDate } from '../time.js';
import { marginClass, presenceCell, scheduleCell } from './fleet.js';

function headerOf(s) {
  return h(
    'section',
    { class: 'station-head card', dataset: { connection: s.connection ?? 'unknown' } },
    h('h1', null, s.name, ' ', h('small', { class: 'muted' }, s.id)),
    h(
      'div',
      { class: 'facts' },
      presenceCell(s, s.timeZone),
      scheduleCell(s),
      h('small', { class: 'muted' }, t('station.timeZone', { tz: s.timeZone })),
    ),
    s.receivers.length > 0
      ? h(
          'ul',
          { class: 'plain receivers' },
          s.receivers.map((r) =>
            h(
              'li',
              null,
              h('span', { class: 'mono' }, r.id),
              ' ',
              badge(r.locked ? 'LOCK' : 'NO LOCK', r.locked ? 'ok' : 'bad'),
              ' ',
              r.service ?? '',
              ' ',
              h(
                'span',
                { class: marginClass(r.marginDb) },
                r.marginDb === null ? '' : `${r.marginDb.toFixed(1)} dB`,
              ),
              r.lnb !== 'ok' ? badge(`LNB ${r.lnb}`, 'warn') : null,
            ),
          ),
        )
      : null,
    s.alarms.length > 0
      ? h(
          'ul',
          { class: 'plain alarms' },
          s.alarms.map((a) =>
            h(
              'li',
              null,
              badge(alarmLabel(a.kind), a.severity === 'critical' ? 'bad' : 'warn'),
              ' ',
              a.message,
            ),
          ),
        )
      : null,
    s.agentVersion ? h('small', { class: 'muted block' }, `${t('station.agent')}: ${s.agentVersion}`) : null,
  );
}

function planTable(plan, tz) {
  if (plan.occurrences.length === 0) return h('p', { class: 'muted' }, t('station.noPlan'));
  const byDay = new Map();
  for (const o of plan.occurrences) {
    const d = localDate(Date.parse(o.nominalStart), tz);
    if (!byDay.has(d)) byDay.set(d, []);
    byDay.get(d).push(o);
  }
  return h(
    'div',
    { class: 'plan' },
    [...byDay].map(([d, list]) =>
      h(
        'section',
        { dataset: { day: d } },
        h('h3', null, fmtDay(d, locale())),
        h(
          'table',
          null,
          h(
            'tbody',
            null,
            list.map((o) =>
              h(
                'tr',
                { dataset: { entry: o.entryId, start: o.nominalStart, outcome: o.outcome } },
                h(
                  'td',
                  { class: 'mono', 'data-label': t('station.when') },
                  `${fmtTime(o.nominalStart, tz, locale())}–${fmtTime(o.nominalEnd, tz, locale())}`,
                ),
                h(
                  'td',
                  { 'data-label': t('station.what') },
                  h('span', { class: 'title' }, o.title),
                  h(
                    'small',
                    { class: 'muted' },
                    ` · ${o.service}${o.kind === 'conference' ? ` · ${t('kind.conference')}` : ''}`,
                  ),
                ),
                h('td', { 'data-label': t('station.outcome') }, outcomeCell(o, tz)),
                h(
                  'td',
                  { 'data-label': t('station.execution') },
                  executionCell(o.execution),
                  o.recording ? qualityCell(o.recording.quality) : null,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function describeWhen(e, tz) {
  const w = e.when;
  if (w.type === 'once' || w.type === 'programme') return fmtDateTime(w.start, tz, locale());
  if (w.type === 'weekly')
    return `${w.weekdays.join(',')} ${w.startLocal} · ${w.durationMin} min · ${w.from}${w.until ? `–${w.until}` : ''}`;
  return `series “${w.title}”`;
}

function entriesList(ctx, entries, reload) {
  if (entries.length === 0) return h('p', { class: 'muted' }, t('common.none'));
  const mayChange = (e) =>
    ctx.can('entries.control') ||
    (ctx.can('entries.write') && e.class === 'operator' && e.kind === 'recording');
  return h(
    'ul',
    { class: 'plain entries' },
    entries.map((e) =>
      h(
        'li',
        { dataset: { entry: e.id } },
        h('span', { class: 'title' }, e.title),
        h('small', { class: 'muted' }, ` · ${e.service} · ${e.class} · ${describeWhen(e, ctx.tz)}`),
        e.guide?.status === 'not_listed' ? badge('not listed', 'warn') : null,
        mayChange(e)
          ? h(
              'button',
              {
                type: 'button',
                class: 'danger small',
                onclick: async (ev) => {
                  if (!window.confirm(t('station.confirmDelete', { title: e.title }))) return;
                  try {
                    await del(`/entries/${encodeURIComponent(e.id)}${qs({ expectedRev: e.rev })}`);
                    reload();
                  } catch (err) {
                    ev.target.after(h('small', { class: 'bad' }, errorText(err)));
                  }
                },
              },
              t('station.deleteEntry'),
            )
          : null,
      ),
    ),
  );
}

function eventText(e) {
  const d = e.data ?? {};
  const bits = [e.type];
  for (const k of ['state', 'outcome', 'kind', 'severity', 'message', 'reason', 'entryId'])
    if (d[k] !== undefined) bits.push(String(d[k]));
  return bits.join(' · ');
}

export async function render(root, ctx) {
  const id = ctx.params.arg;
  let station;
  try {
    station = await get(`/stations/${encodeURIComponent(id ?? '')}`);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 404 || err.status === 400)) {
      replace(root, h('p', { class: 'error', role: 'alert', 'data-error': err.code }, t('station.notFound')));
      return undefined;
    }
    throw err;
  }
  const tz = station.timeZone;
  const head = h('div', null, headerOf(station));
  const planBox = h('div', { 'data-section': 'plan' });
  const entriesBox = h('div', { 'data-section': 'entries' });
  const recBox = h('div', { 'data-section': 'recordings' });
  const eventsBox = h('ul', { class: 'plain events', 'data-section': 'events' });
  const enc = encodeURIComponent(id);
  const loadPlan = async () => {
    try {
      replace(planBox, planTable(await get(`/stations/${enc}/plan`), tz));
    } catch (err) {
      replace(planBox, errorBox(err));
    }
  };
  const loadEntries = async () => {
    try {
      replace(
        entriesBox,
        entriesList({ ...ctx, tz }, await get(`/entries${qs({ station: id })}`), reloadAll),
      );
    } catch (err) {
      replace(entriesBox, errorBox(err));
    }
  };
  const loadRecordings = async () => {
    try {
      replace(
        recBox,
        recordingTable({ ...ctx, tz }, await get(`/recordings${qs({ station: id, limit: 50 })}`), {
          onChanged: () => loadRecordings(),
        }),
      );
    } catch (err) {
      replace(recBox, errorBox(err));
    }
  };
  const loadEvents = async () => {
    try {
      const events = await get(`/stations/${enc}/events?limit=30`);
      replace(
        eventsBox,
        events.length === 0
          ? h('li', { class: 'muted' }, t('common.none'))
          : events.map((e) =>
              h(
                'li',
                null,
                h('span', { class: 'mono' }, fmtDateTime(e.at ?? e.receivedAt, tz, locale())),
                ' ',
                eventText(e),
              ),
            ),
      );
    } catch (err) {
      replace(eventsBox, errorBox(err));
    }
  };
  const reloadAll = () => Promise.all([loadPlan(), loadEntries(), loadRecordings(), loadEvents()]);
  // Alarms with causes, signal chart, sun-outage calendar, diagnostics (station-technician.js, issue 8).
  const tech = technicianSections(station, ctx);
  replace(
    root,
    head,
    h('section', null, h('h2', null, t('station.plan')), planBox),
    h('section', null, h('h2', null, t('station.entries')), entriesBox),
    h('section', null, h('h2', null, t('station.recordings')), recBox),
    h('section', null, h('h2', null, t('station.events')), eventsBox),
    ...tech.elements,
  );
  await reloadAll();
  const later = debounce(() => {
    loadPlan();
    loadEvents();
    loadRecordings();
  }, 300);
  const offs = [
    onLive('station', (s) => {
      if (s.id === id) replace(head, headerOf(s));
    }),
    onLive('schedule', (m) => {
      if (m.stations.includes(id)) {
        loadPlan();
        loadEntries();
      }
    }),
    onLive('event', (e) => {
      if (e.stationId === id) later();
    }),
    onLive('resync', () => reloadAll()),
  ];
  return () => {
    for (const off of offs) off();
    tech.cleanup();
  };
}
