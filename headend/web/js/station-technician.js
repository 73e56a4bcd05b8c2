// The technician's part of the station page (issue 8): the station's alarms with cause, evidence,
// acknowledgement and the remedies that fit; the signal chart (24 h / 7 days); the sun-outage calendar;
// and the remote diagnostics panel for those who may run it.

import { alarmCard } from './alarm-format.js';
import { get, qs } from './api.js';
import { diagnosticsPanel, techCss } from './diagnostics-panel.js';
import { h, replace } from './dom.js';
import { errorBox } from './errors.js';
import { locale } from './i18n.js';
import { onLive } from './live.js';
import { signalChart } from './signal-chart.js';
import { tt } from './tech-i18n.js';
import { fmtDateTime, fmtTime, localDate } from './time.js';

function sunCalendar(stationId, tz) {
  const box = h(
    'section',
    { class: 'sun-calendar', 'data-section': 'sun-calendar' },
    h('h2', null, tt('sun.title')),
  );
  const body = h('div');
  box.append(body);
  (async () => {
    try {
      const c = await get(`/stations/${encodeURIComponent(stationId)}/sun-outages`);
      if (!c.ok) {
        replace(body, h('p', { class: 'muted' }, tt('sun.unknown')));
        return;
      }
      if (c.windows.length === 0) {
        replace(body, h('p', { class: 'muted' }, tt('sun.none')));
        return;
      }
      const day = (w) =>
        tt('sun.day', {
          date: localDate(Date.parse(w.start), tz),
          from: fmtTime(w.start, tz, locale()),
          to: fmtTime(w.end, tz, locale()),
          min: Math.max(1, Math.round(w.durationS / 60)),
        });
      replace(
        body,
        c.next
          ? h(
              'p',
              { class: 'next' },
              tt('sun.next', {
                start: fmtDateTime(c.next.start, tz, locale()),
                end: fmtTime(c.next.end, tz, locale()),
              }),
            )
          : null,
        h(
          'details',
          null,
          h('summary', null, tt('sun.show', { n: c.windows.length })),
          h(
            'ul',
            { class: 'plain sun-days' },
            c.windows.map((w) => h('li', { class: 'mono' }, day(w))),
          ),
        ),
      );
    } catch (err) {
      replace(body, errorBox(err));
    }
  })();
  return box;
}

/**
 * The sections, and a cleanup. `ctx` is the view context (`can`, `tz`); `station` the station view.
 */
export function technicianSections(station, ctx) {
  techCss();
  const tz = station.timeZone ?? ctx.tz;
  const alarmsBox = h('div', { class: 'alarm-list', 'data-section': 'station-alarms' });
  const loadAlarms = async () => {
    try {
      const list = await get(`/alarms${qs({ station: station.id })}`);
      replace(
        alarmsBox,
        list.length === 0
          ? h('p', { class: 'muted' }, tt('alarms.none'))
          : list.map((a) => alarmCard(a, { tz, canAck: ctx.can('alarms.ack'), onChanged: loadAlarms })),
      );
    } catch (err) {
      replace(alarmsBox, errorBox(err));
    }
  };
  loadAlarms();
  const chart = signalChart(station.id, tz);
  const diag = h('div', { 'data-section': 'diagnostics-slot' });
  if (ctx.can('diagnostics.run')) {
    diagnosticsPanel(station, tz).then((p) => {
      if (p) replace(diag, p);
    });
  }
  const off = onLive('alarm', (a) => {
    if (a.stationId === station.id) loadAlarms();
  });
  return {
    elements: [
      h('section', null, h('h2', null, tt('alarms.title')), alarmsBox),
      chart.element,
      sunCalendar(station.id, tz),
      diag,
    ],
    cleanup: off,
  };
}
