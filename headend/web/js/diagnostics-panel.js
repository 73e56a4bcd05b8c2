// The station page's remote diagnostics (issue 8): one button per method the user may run, each result
// shown readably (tables and badges, not raw JSON), remedies (retune, reset, LNB power cycle, retention)
// confirmed before they run. Every call goes through the API, which audits it.
import { get, post } from './api.js';
import { badge, h, replace } from './dom.js';
import { errorText } from './errors.js';
import { locale } from './i18n.js';
import { tt } from './tech-i18n.js';
import { fmtDateTime } from './time.js';

/** Loads the technician stylesheet once (kept beside the modules that use it). */
export function techCss() {
  if (document.querySelector('link[data-tech-css]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: '/tech.css', 'data-tech-css': '' }));
}

const db = (x) => (x === null || x === undefined ? '–' : `${Number(x).toFixed(1)} dB`);
const mbit = (bps) => `${(bps / 1e6).toFixed(2)} Mbit/s`;
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

/** Margin colour (DOMAIN.md §2: healthy ≥ 3 dB, warning below 3, alarm below 1). */
const marginKind = (m) => (m === null || m === undefined ? 'muted' : m < 1 ? 'bad' : m < 3 ? 'warn' : 'ok');

function facts(rows) {
  return h(
    'dl',
    { class: 'facts-list' },
    rows.filter(Boolean).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

function table(head, rows) {
  return h(
    'table',
    { class: 'diag-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((x) => h('th', null, x)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          null,
          r.map((c, i) => h('td', { 'data-label': head[i] }, c)),
        ),
      ),
    ),
  );
}

/** A recording outcome in the UI's language; an outcome this page does not know is shown as sent. */
function outcomeText(outcome) {
  const said = tt(`rec.${outcome}`);
  return said === `rec.${outcome}` ? outcome : said;
}

const RENDER = {
  'receiver.status': (r) =>
    table(
      [
        tt('diag.receiver'),
        tt('diag.service'),
        tt('diag.level'),
        tt('diag.cn'),
        tt('diag.margin'),
        tt('diag.ber'),
        tt('diag.lnb'),
        tt('diag.alarms'),
      ],
      r.receivers.map((x) => [
        h(
          'span',
          null,
          h('span', { class: 'mono' }, x.id),
          ' ',
          badge(x.locked ? tt('diag.locked') : tt('diag.unlocked'), x.locked ? 'ok' : 'bad'),
          x.link === 'down' ? badge(`${tt('diag.link')} ✗`, 'bad') : null,
        ),
        x.service ?? '–',
        x.level ? `${x.level.value} ${x.level.unit === 'raw' ? '/255' : x.level.unit}` : '–',
        db(x.cnDb),
        h('span', { class: marginKind(x.marginDb), 'data-margin': x.marginDb ?? '' }, db(x.marginDb)),
        x.ber === null ? '–' : x.ber.toExponential(1),
        badge(x.lnb, x.lnb === 'ok' ? 'ok' : x.lnb === 'unknown' ? 'muted' : 'bad'),
        x.alarms.length ? x.alarms.join(', ') : '–',
      ]),
    ),
  'receiver.info': (r) =>
    h(
      'div',
      null,
      r.receivers.map((x) =>
        facts([
          [tt('diag.receiver'), h('span', { class: 'mono' }, x.id)],
          [tt('diag.info.family'), x.family],
          [tt('diag.info.model'), x.model ?? '–'],
          [tt('diag.info.firmware'), x.firmware ?? '–'],
          [tt('diag.info.serial'), x.serial ?? '–'],
          [
            tt('diag.info.link'),
            `${x.transport} ${x.endpoint}${x.address === null ? '' : ` @${String(x.address).padStart(3, '0')}`}`,
          ],
          [tt('diag.info.output'), x.outputs],
        ]),
      ),
    ),
  'stream.probe': (r) =>
    h(
      'div',
      null,
      r.packets === 0
        ? h('p', { class: 'bad' }, tt('diag.noData', { s: Math.round((r.capturedMs ?? 0) / 1000) }))
        : null,
      facts([
        [tt('diag.bitrate'), mbit(r.bitrateBps)],
        [tt('diag.cc'), h('span', { class: r.ccErrors > 0 ? 'warn' : 'ok' }, String(r.ccErrors))],
        r.patPresent === undefined
          ? null
          : [
              tt('diag.pat'),
              badge(r.patPresent ? tt('diag.present') : tt('diag.missing'), r.patPresent ? 'ok' : 'bad'),
            ],
        r.packets === undefined ? null : [tt('diag.packets'), String(r.packets)],
        r.syncLossBytes ? [tt('diag.syncLoss'), h('span', { class: 'warn' }, String(r.syncLossBytes))] : null,
      ]),
      table(
        ['SID', tt('diag.service'), tt('diag.col.access'), tt('diag.pmt'), tt('diag.streams')],
        r.services.map((s) => [
          h('span', { class: 'mono', 'data-sid': String(s.serviceId) }, String(s.serviceId)),
          s.name ?? '–',
          badge(s.scrambled ? tt('diag.scrambled') : tt('diag.clear'), s.scrambled ? 'bad' : 'ok'),
          s.pmtPresent === false ? badge(tt('diag.missing'), 'bad') : tt('diag.present'),
          s.streams.map((e) => `${e.type} ${e.codec ?? '?'} (PID ${e.pid})`).join(', '),
        ]),
      ),
    ),
  'logs.tail': (r, tz) =>
    h(
      'ol',
      { class: 'log-lines plain' },
      r.entries.map((e) =>
        h(
          'li',
          { class: `log-${e.level}` },
          h('span', { class: 'mono muted' }, fmtDateTime(e.at, tz, locale())),
          ' ',
          badge(
            e.level,
            e.level === 'error' || e.level === 'fatal' ? 'bad' : e.level === 'warn' ? 'warn' : 'muted',
          ),
          ' ',
          e.module ? h('span', { class: 'muted' }, `${e.module} `) : null,
          e.msg,
        ),
      ),
    ),
  'disk.usage': (r) =>
    h(
      'div',
      null,
      h('meter', { min: 0, max: r.totalBytes || 1, value: r.totalBytes - r.freeBytes, class: 'disk' }),
      facts([
        [tt('diag.free'), `${bytes(r.freeBytes)} / ${bytes(r.totalBytes)}`],
        [tt('diag.recordings'), bytes(r.recordingsBytes)],
        [tt('diag.quota'), r.quotaBytes === null ? tt('diag.none') : bytes(r.quotaBytes)],
        ['', badge(r.readOnly ? tt('diag.readOnly') : tt('diag.writable'), r.readOnly ? 'bad' : 'ok')],
        [tt('diag.path'), h('span', { class: 'mono' }, r.path)],
      ]),
    ),
  'recordings.retention': (r) =>
    h(
      'div',
      null,
      r.swept
        ? h('p', { class: 'ok' }, tt('diag.deleted', { n: r.swept.deleted, size: bytes(r.swept.freedBytes) }))
        : null,
      facts([
        [
          tt('diag.policy'),
          [
            r.policy.maxAgeDays === null ? null : tt('diag.maxAge', { d: r.policy.maxAgeDays }),
            r.policy.keepPerEntry === null ? null : tt('diag.keep', { n: r.policy.keepPerEntry }),
          ]
            .filter(Boolean)
            .join(' · ') || tt('diag.none'),
        ],
        [tt('diag.quota'), r.policy.quotaBytes === null ? tt('diag.none') : bytes(r.policy.quotaBytes)],
        [tt('diag.free'), `≥ ${bytes(r.policy.minFreeBytes)}`],
      ]),
    ),
  'receiver.retune': (r) =>
    facts([
      [tt('diag.receiver'), r.receiverId],
      [tt('diag.service'), r.service ?? '–'],
      ['', badge(r.locked ? tt('diag.locked') : tt('diag.unlocked'), r.locked ? 'ok' : 'bad')],
      [tt('diag.margin'), h('span', { class: marginKind(r.marginDb) }, db(r.marginDb))],
    ]),
  'receiver.reset': (r) =>
    facts([
      [tt('diag.receiver'), r.receiverId],
      ['', badge(r.lockedAfter ? tt('diag.locked') : tt('diag.unlocked'), r.lockedAfter ? 'ok' : 'bad')],
      ['', tt('diag.tookMs', { ms: r.tookMs })],
    ]),
  'receiver.lnb': (r) =>
    facts([
      [tt('diag.receiver'), r.receiverId],
      [tt('diag.lnb'), badge(`${r.power} · ${r.lnb}`, r.lnb === 'ok' ? 'ok' : 'bad')],
    ]),
  'recordings.list': (r, tz) =>
    table(
      [tt('diag.col.start'), tt('diag.col.title'), tt('diag.col.outcome'), tt('diag.col.size')],
      r.recordings.map((x) => [
        fmtDateTime(x.start, tz, locale()),
        x.title,
        `${outcomeText(x.outcome)} · ${Math.round(x.quality)}`,
        bytes(x.bytes),
      ]),
    ),
  'plan.explain': (r, tz) =>
    r.plan === null
      ? h('p', { class: 'muted' }, tt('diag.none'))
      : table(
          [tt('diag.col.start'), tt('diag.col.title'), tt('diag.col.plan'), tt('diag.receiver')],
          r.plan.occurrences.map((o) => [
            fmtDateTime(o.nominalStart, tz, locale()),
            o.title,
            o.outcome,
            o.receiverId,
          ]),
        ),
};

/** Params each button sends (the receiver-specific ones take the receiver chosen in the panel). */
function paramsOf(method, receiverId) {
  switch (method) {
    case 'receiver.retune':
    case 'receiver.reset':
      return { receiverId };
    case 'receiver.lnb':
      return { receiverId, power: 'cycle' };
    case 'stream.probe':
      return { durationMs: 5000, ...(receiverId ? { receiverId } : {}) };
    case 'logs.tail':
      return { lines: 100 };
    case 'recordings.list':
      return { limit: 50 };
    case 'recordings.retention':
      return { sweep: true };
    case 'plan.explain': {
      const now = Date.now();
      const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return { from: iso(now), to: iso(now + 86_400_000) };
    }
    default:
      return {};
  }
}

/**
 * Runs one method and renders its result into `out`. Side-effecting methods ask first. Resolves to the
 * API's answer (or null when cancelled or failed).
 */
export async function runMethod(out, stationId, method, params, { sideEffects, tz }) {
  if (
    sideEffects &&
    !window.confirm(tt('diag.confirm', { station: stationId, method: tt(`diag.m.${method}`) }))
  )
    return null;
  out.dataset.state = 'running';
  out.dataset.result = method;
  replace(out, h('p', { class: 'muted' }, `${tt(`diag.m.${method}`)} · ${tt('diag.running')}`));
  try {
    const r = await post(`/stations/${encodeURIComponent(stationId)}/diagnostics/${method}`, params);
    const render = RENDER[method];
    replace(
      out,
      h(
        'h3',
        null,
        tt(`diag.m.${method}`),
        ' ',
        h('small', { class: 'muted' }, tt('diag.took', { ms: r.tookMs })),
      ),
      render ? render(r.result, tz) : facts(Object.entries(r.result).map(([k, v]) => [k, JSON.stringify(v)])),
    );
    out.dataset.state = 'done';
    return r;
  } catch (err) {
    replace(out, h('p', { class: 'error', role: 'alert' }, errorText(err)));
    out.dataset.state = 'failed';
    return null;
  }
}

/** The panel for one station. `station.receivers` gives the receiver for receiver-specific methods. */
export async function diagnosticsPanel(station, tz) {
  techCss();
  const out = h('div', { class: 'diag-out card', 'aria-live': 'polite', 'data-section': 'diag-result' });
  let methods = [];
  try {
    methods = await get('/diagnostics/methods');
  } catch {
    methods = [];
  }
  if (methods.length === 0) return null;
  // Receiver-specific methods act on the chosen receiver; with several, the technician picks one (never
  // silently the first: a reset of the wrong receiver interrupts a recording that was fine).
  const receivers = (station.receivers ?? []).map((r) => r.id).filter(Boolean);
  const picker =
    receivers.length > 1
      ? h(
          'label',
          { class: 'receiver-pick' },
          `${tt('diag.pick')} `,
          h(
            'select',
            { name: 'receiver', 'data-receiver': '' },
            receivers.map((id) => h('option', { value: id }, id)),
          ),
        )
      : null;
  const rx = () => picker?.querySelector('select')?.value ?? receivers[0] ?? 'rx1';
  const button = (m) =>
    h(
      'button',
      {
        type: 'button',
        class: m.sideEffects ? 'remedy' : '',
        title: m.summary,
        'data-method': m.method,
        onclick: () =>
          runMethod(out, station.id, m.method, paramsOf(m.method, rx()), { sideEffects: m.sideEffects, tz }),
      },
      tt(`diag.m.${m.method}`),
    );
  return h(
    'section',
    { class: 'diagnostics', 'data-section': 'diagnostics' },
    h('h2', null, tt('diag.title')),
    picker,
    h('div', { class: 'buttons' }, methods.filter((m) => !m.sideEffects).map(button)),
    h('div', { class: 'buttons remedies' }, methods.filter((m) => m.sideEffects).map(button)),
    out,
  );
}
