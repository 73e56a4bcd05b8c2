// The attendance report of a conference (issue 7): totals per county, then per station the share received
// with lock and stream, the recording and its quality; a CSV download (the same report, for a spreadsheet).
import { get } from '../api.js';
import { pct, reasonCell, statusLabel } from '../conference-format.js';
import { ct } from '../conference-i18n.js';
import { h, replace, stationHref } from '../dom.js';
import { locale } from '../i18n.js';
import { qualityCell } from '../plan-format.js';

/** Loads and shows the report of conference `id` in `slot`. */
export async function renderReport(slot, id, counties, tz) {
  const r = await get(`/conferences/${encodeURIComponent(id)}/report`);
  const name = (cid) => {
    const g = counties.find((x) => x.id === cid);
    return g ? (locale() === 'en' ? g.name : (g.nameZh ?? g.name)) : cid;
  };
  const totals = (label, t, key) =>
    h(
      'tr',
      { dataset: { county: key } },
      h('td', null, label),
      h('td', null, String(t.stations)),
      h('td', null, String(t.full)),
      h('td', null, String(t.partial)),
      h('td', null, String(t.none)),
      h('td', null, pct(t.meanShare)),
      h('td', null, String(t.recordingsMade)),
      h('td', null, String(t.recordingsDamaged)),
    );
  const csvHref = `/api/v1/conferences/${encodeURIComponent(id)}/report.csv`;
  replace(
    slot,
    r.final ? null : h('p', { class: 'muted', 'data-report': 'provisional' }, ct('conf.provisional')),
    h(
      'p',
      null,
      h(
        'a',
        { href: csvHref, download: `attendance-${id}.csv`, 'data-action': 'download-csv' },
        ct('conf.downloadCsv'),
      ),
    ),
    h(
      'table',
      { class: 'counts', 'data-table': 'report-counties' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            ct('conf.county'),
            ct('conf.total'),
            ct('conf.full'),
            ct('conf.partial'),
            ct('conf.noneReceived'),
            ct('conf.meanShare'),
            ct('conf.recordings'),
            ct('conf.damaged'),
          ].map((x) => h('th', null, x)),
        ),
      ),
      h(
        'tbody',
        null,
        r.counties.map((c) => totals(name(c.county), c, c.county)),
        totals(ct('conf.total'), r.totals, 'all'),
      ),
    ),
    h(
      'table',
      { class: 'board', 'data-table': 'report-stations' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            ct('conf.station'),
            ct('conf.county'),
            ct('conf.status'),
            ct('conf.received'),
            ct('conf.recording'),
            ct('conf.quality'),
          ].map((x) => h('th', null, x)),
        ),
      ),
      h(
        'tbody',
        null,
        r.stations.map((s) =>
          h(
            'tr',
            { dataset: { station: s.stationId } },
            h('td', null, h('a', { href: stationHref(s.stationId) }, s.name)),
            h('td', null, name(s.county)),
            h('td', null, statusLabel(s.status), reasonCell(s, tz)),
            h('td', { dataset: { share: s.share === null ? '' : String(s.share) } }, pct(s.share)),
            h('td', null, s.recording === null ? '—' : s.recording.made ? ct('conf.yes') : ct('conf.no')),
            h('td', null, s.recording?.made ? qualityCell(s.recording.quality) : '—'),
          ),
        ),
      ),
    ),
  );
}
