// A small hand-written SVG chart for the station page's signal history (issue 8: "plots the last 24 h /
// 7 days"; no CDN, nothing downloaded). Each panel draws a min–max band and the average line of one
// series (`[t, min, avg, max]` points from `/stations/:id/signal`), gaps where there is no data, the
// margin thresholds (DOMAIN.md §2: warning 3 dB, alarm 1 dB) and the predicted sun-outage windows.
import { get } from './api.js';
import { h, replace } from './dom.js';
import { errorBox } from './errors.js';
import { locale } from './i18n.js';
import { tt } from './tech-i18n.js';
import { fmtTime, localDate } from './time.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 720;
const H = 120;
const PAD = { l: 44, r: 8, t: 8, b: 18 };

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs ?? {}))
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

/** Splits points into runs without gaps (a gap = more than 2.5 buckets without data). */
function runs(points, bucketMs) {
  const out = [];
  let cur = [];
  for (const p of points) {
    const prev = cur[cur.length - 1];
    if (prev && p[0] - prev[0] > bucketMs * 2.5) {
      out.push(cur);
      cur = [];
    }
    cur.push(p);
  }
  if (cur.length) out.push(cur);
  return out;
}

function niceRange(points, fixed) {
  if (fixed) return fixed;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p[1]);
    hi = Math.max(hi, p[3]);
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi - lo < 1e-9) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

/**
 * One panel. `opts`: `{label, unit, scale (value → shown), fixed [lo, hi], lines [{y, label, kind}],
 * fromMs, toMs, bucketMs, outages [{start, end}], tz}`.
 */
export function chartPanel(points, opts) {
  const scale = opts.scale ?? ((v) => v);
  const pts = points.map((p) => [p[0], scale(p[1]), scale(p[2]), scale(p[3])]);
  const [lo, hi] = niceRange(pts, opts.fixed);
  const x = (t) => PAD.l + ((t - opts.fromMs) / (opts.toMs - opts.fromMs)) * (W - PAD.l - PAD.r);
  const y = (v) => PAD.t + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': opts.label,
    'data-chart': opts.key,
    'data-points': pts.length,
    preserveAspectRatio: 'none',
  });
  for (const o of opts.outages ?? []) {
    const a = Math.max(opts.fromMs, Date.parse(o.start));
    const b = Math.min(opts.toMs, Date.parse(o.end));
    if (b > a)
      svg.append(
        s(
          'rect',
          { x: x(a), y: PAD.t, width: Math.max(1, x(b) - x(a)), height: H - PAD.t - PAD.b, class: 'sun' },
          s('title', null, tt('chart.sun')),
        ),
      );
  }
  // Axes: min/max labels and a few time ticks (local time of the station).
  svg.append(
    s('line', { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: 'axis' }),
    s(
      'text',
      { x: PAD.l - 4, y: PAD.t + 8, class: 'tick', 'text-anchor': 'end' },
      document.createTextNode(fmtNum(hi)),
    ),
    s(
      'text',
      { x: PAD.l - 4, y: H - PAD.b, class: 'tick', 'text-anchor': 'end' },
      document.createTextNode(fmtNum(lo)),
    ),
  );
  const span = opts.toMs - opts.fromMs;
  const step = span > 2 * 86_400_000 ? 86_400_000 : 4 * 3_600_000;
  for (let t = Math.ceil(opts.fromMs / step) * step; t < opts.toMs; t += step) {
    const label =
      step >= 86_400_000
        ? localDate(t, opts.tz).slice(5)
        : fmtTime(new Date(t).toISOString(), opts.tz, locale());
    svg.append(
      s('line', { x1: x(t), y1: PAD.t, x2: x(t), y2: H - PAD.b, class: 'grid' }),
      s(
        'text',
        { x: x(t), y: H - 4, class: 'tick', 'text-anchor': 'middle' },
        document.createTextNode(label),
      ),
    );
  }
  for (const l of opts.lines ?? []) {
    if (l.y < lo || l.y > hi) continue;
    svg.append(
      s(
        'line',
        { x1: PAD.l, y1: y(l.y), x2: W - PAD.r, y2: y(l.y), class: `threshold ${l.kind}` },
        s('title', null, l.label),
      ),
    );
  }
  for (const run of runs(pts, opts.bucketMs)) {
    const top = run.map((p) => `${x(p[0]).toFixed(1)},${y(p[3]).toFixed(1)}`);
    const bottom = run.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).reverse();
    svg.append(
      s('polygon', { points: [...top, ...bottom].join(' '), class: 'band' }),
      s('polyline', {
        points: run.map((p) => `${x(p[0]).toFixed(1)},${y(p[2]).toFixed(1)}`).join(' '),
        class: 'avg',
      }),
    );
    if (run.length === 1) svg.append(s('circle', { cx: x(run[0][0]), cy: y(run[0][2]), r: 2, class: 'dot' }));
  }
  const last = pts[pts.length - 1];
  return h(
    'figure',
    { class: 'chart-panel' },
    h(
      'figcaption',
      null,
      opts.label,
      last ? h('span', { class: 'muted' }, ` · ${fmtNum(last[2])}${opts.unit ?? ''}`) : null,
    ),
    pts.length ? svg : h('p', { class: 'muted' }, tt('chart.empty')),
  );
}

function fmtNum(v) {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The signal history section: a range switch and one panel per series of the first receiver. */
export function signalChart(stationId, tz) {
  const body = h('div', { class: 'charts', 'data-section': 'signal-chart' });
  let range = '24h';
  const load = async () => {
    body.dataset.state = 'loading';
    try {
      const r = await get(`/stations/${encodeURIComponent(stationId)}/signal?range=${range}`);
      const base = {
        fromMs: Date.parse(r.from),
        toMs: Date.parse(r.to),
        bucketMs: r.bucketMs,
        outages: r.outages,
        tz,
      };
      const rx = r.receivers[0];
      const panels = rx
        ? [
            chartPanel(rx.marginDb, {
              ...base,
              key: 'margin',
              label: `${tt('chart.margin')} · ${rx.id}`,
              unit: ' dB',
              lines: [
                { y: 3, label: tt('chart.warnLine'), kind: 'warn' },
                { y: 1, label: tt('chart.alarmLine'), kind: 'bad' },
              ],
            }),
            rx.level
              ? chartPanel(rx.level.points, {
                  ...base,
                  key: 'level',
                  label: `${tt('chart.level')} (${rx.level.unit})`,
                })
              : null,
            chartPanel(rx.lockRatio, { ...base, key: 'lock', label: tt('chart.lock'), fixed: [0, 1] }),
            rx.bitrateBps.length
              ? chartPanel(rx.bitrateBps, {
                  ...base,
                  key: 'bitrate',
                  label: tt('chart.bitrate'),
                  scale: (v) => v / 1e6,
                })
              : null,
          ]
        : [h('p', { class: 'muted' }, tt('chart.empty'))];
      replace(body, ...panels);
      body.dataset.state = 'done';
    } catch (err) {
      replace(body, errorBox(err));
      body.dataset.state = 'failed';
    }
  };
  const switcher = h(
    'div',
    { class: 'range-switch', role: 'group' },
    ['24h', '7d'].map((r) =>
      h(
        'button',
        {
          type: 'button',
          'data-range': r,
          'aria-pressed': r === range ? 'true' : 'false',
          onclick: (ev) => {
            range = r;
            for (const b of ev.target.parentElement.children)
              b.setAttribute('aria-pressed', String(b === ev.target));
            load();
          },
        },
        tt(`chart.${r}`),
      ),
    ),
  );
  load();
  return {
    element: h('section', { class: 'signal' }, h('h2', null, tt('chart.title'), ' ', switcher), body),
    reload: load,
  };
}
