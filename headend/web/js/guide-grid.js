// The multi-channel guide grid (issue 6 "guide grid"): channels as rows, one local day across, the current
// time marked, the operator's station's channels first, and what that station will record marked on the
// programme itself (with the planner's outcome: DESIGN.md §5 "truncated (by X)"), as TVHeadend's and
// MythTV's EPG grids do; and its phone fallback, one list per channel. Positions are set through the CSSOM
// (`el.style`), which the headend's Content-Security-Policy (style-src 'self': no inline style attributes)
// allows.
import { badge, h, replace } from './dom.js';
import { errorBox } from './errors.js';
import { locale, t } from './i18n.js';
import { addDays, fmtTime, localHm, zonedToUtc } from './time.js';

/** Horizontal scale: pixels per minute (an hour is 240 px: a 30-min programme shows its title). */
export const PX_PER_MIN = 4;
/** Width of the sticky channel column, px. */
export const CHANNEL_PX = 148;

const MIN = 60_000;
const HOUR = 3_600_000;

/** The UTC bounds of a local day in a zone (23 or 25 h long across a DST change; China has none). */
export function dayBounds(day, tz) {
  return { from: zonedToUtc(day, '00:00', tz), to: zonedToUtc(addDays(day, 1), '00:00', tz) };
}

/**
 * Channels in line-up order, with `preferred` (the services the operator's station records or has tuned,
 * most used first) moved to the top.
 * @returns {{ services: object[], preferred: Set<string> }}
 */
export function orderServices(services, preferredKeys) {
  const known = new Set(services.map((s) => s.key));
  const pref = [...new Set(preferredKeys)].filter((k) => known.has(k));
  const rank = new Map(pref.map((k, i) => [k, i]));
  const ordered = [
    ...pref.map((k) => services.find((s) => s.key === k)),
    ...services.filter((s) => !rank.has(s.key)),
  ];
  return { services: ordered, preferred: new Set(pref) };
}

/** Services ranked by how often they appear in `items` (`{service}` objects), most frequent first. */
export function servicesByUse(items) {
  const count = new Map();
  for (const i of items) if (i?.service) count.set(i.service, (count.get(i.service) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

/**
 * Recording occurrences of a station's plan that overlap programme `p` on its service (what will be recorded
 * of it). A conference that is only shown, not recorded, is not a mark.
 */
export function marksFor(p, occurrences) {
  const s = Date.parse(p.start);
  const e = Date.parse(p.stop);
  return occurrences.filter(
    (o) =>
      o.service === p.service &&
      (o.kind === 'recording' || o.record === true) &&
      Date.parse(o.nominalStart) < e &&
      Date.parse(o.nominalEnd) > s,
  );
}

/** Badge kind of a planner outcome. */
export const OUTCOME_KIND = { planned: 'ok', shared: 'ok', truncated: 'warn', dropped: 'bad' };

const SEVERITY = { dropped: 3, truncated: 2, shared: 1, planned: 0 };

/** The worst outcome among marks (a programme half-dropped reads as dropped). */
export function worstOutcome(marks) {
  let worst = null;
  for (const m of marks)
    if (worst === null || (SEVERITY[m.outcome] ?? 0) > SEVERITY[worst]) worst = m.outcome;
  return worst;
}

/** Where a programme sits on the day's axis: px from the left of the time axis, and width; clipped. */
export function placement(p, from, to) {
  const s = Math.max(Date.parse(p.start), from);
  const e = Math.min(Date.parse(p.stop), to);
  return {
    left: ((s - from) / MIN) * PX_PER_MIN,
    width: Math.max(((e - s) / MIN) * PX_PER_MIN, 2),
    clippedStart: Date.parse(p.start) < from,
    clippedEnd: Date.parse(p.stop) > to,
  };
}

/** `now` | `past` | `` for a programme at instant `now`. */
export function airState(p, now) {
  if (Date.parse(p.stop) <= now) return 'past';
  if (Date.parse(p.start) <= now) return 'now';
  return '';
}

function cell(ctx, p, place, opts) {
  const marks = marksFor(p, opts.occurrences);
  const outcome = worstOutcome(marks);
  const state = airState(p, opts.now);
  const time = `${fmtTime(p.start, ctx.tz, locale())}–${fmtTime(p.stop, ctx.tz, locale())}`;
  const el = h(
    'button',
    {
      type: 'button',
      class: ['gg-cell', state, outcome ? 'scheduled' : '', place.clippedStart ? 'cont-before' : '']
        .filter(Boolean)
        .join(' '),
      title: `${time} ${p.title}`,
      'aria-label': `${p.title}, ${time}${outcome ? `, ${t('grid.scheduled')}` : ''}`,
      dataset: {
        programme: p.programmeId,
        service: p.service,
        start: p.start,
        stop: p.stop,
        ...(outcome ? { outcome } : {}),
      },
      onclick: () => opts.onPick(p, marks),
    },
    outcome ? h('span', { class: `gg-mark ${outcome}`, 'aria-hidden': 'true' }, '●') : null,
    h('span', { class: 'gg-title' }, p.title),
    h('small', { class: 'gg-time' }, time),
  );
  el.style.left = `${place.left}px`;
  el.style.width = `${place.width}px`;
  return el;
}

/**
 * Builds the grid. `programmes` are the guide's for the window (any services); `occurrences` the plan of
 * the operator's station for it (may be empty); `onPick(programme, marks)` opens a programme.
 * @returns {{ el: HTMLElement, tick(now: number): void, scrollToTime(ms: number): void }}
 */
export function guideGrid(ctx, opts) {
  const { from, to, services, preferred } = opts;
  const axisPx = ((to - from) / MIN) * PX_PER_MIN;
  const byService = new Map(services.map((s) => [s.key, []]));
  for (const p of opts.programmes) byService.get(p.service)?.push(p);
  let now = opts.now;

  const hours = [];
  for (let ms = from; ms < to; ms += HOUR) {
    const label = h('span', { class: 'gg-hour mono' }, localHm(ms, ctx.tz));
    label.style.left = `${((ms - from) / MIN) * PX_PER_MIN}px`;
    hours.push(label);
  }
  const head = h(
    'div',
    { class: 'gg-head', role: 'row' },
    h('div', { class: 'gg-corner', role: 'columnheader' }, t('guide.service')),
    h('div', { class: 'gg-axis', role: 'columnheader' }, hours),
  );
  const rows = services.map((s) => {
    const list = byService.get(s.key) ?? [];
    const track = h(
      'div',
      { class: 'gg-track', role: 'gridcell' },
      list.length === 0 ? h('span', { class: 'gg-empty muted' }, t('grid.noGuide')) : null,
      list.map((p) => cell(ctx, p, placement(p, from, to), { ...opts, now })),
    );
    return h(
      'div',
      {
        class: `gg-row${preferred.has(s.key) ? ' preferred' : ''}`,
        role: 'row',
        dataset: { service: s.key },
      },
      h(
        'div',
        { class: 'gg-chan', role: 'rowheader' },
        h(
          'a',
          { class: 'gg-chan-name', href: `#/guide?service=${encodeURIComponent(s.key)}&day=${opts.day}` },
          s.name,
        ),
        preferred.has(s.key) ? h('small', { class: 'block muted' }, t('grid.myChannel')) : null,
      ),
      track,
    );
  });
  const nowLine = h('div', { class: 'gg-now', 'aria-hidden': 'true' });
  const inner = h(
    'div',
    { class: 'gg-inner', role: 'grid', 'aria-label': t('guide.title') },
    head,
    rows,
    nowLine,
  );
  inner.style.setProperty('--gg-chan', `${CHANNEL_PX}px`);
  inner.style.setProperty('--gg-hour', `${60 * PX_PER_MIN}px`);
  inner.style.width = `${CHANNEL_PX + axisPx}px`;
  const el = h(
    'div',
    { class: 'guide-grid', tabindex: '0', dataset: { from: new Date(from).toISOString() } },
    inner,
  );

  const tick = (ms) => {
    now = ms;
    const inDay = ms >= from && ms < to;
    nowLine.hidden = !inDay;
    if (inDay) nowLine.style.left = `${CHANNEL_PX + ((ms - from) / MIN) * PX_PER_MIN}px`;
    for (const c of el.querySelectorAll('.gg-cell')) {
      const state = airState({ start: c.dataset.start, stop: c.dataset.stop }, ms);
      c.classList.toggle('now', state === 'now');
      c.classList.toggle('past', state === 'past');
    }
  };
  tick(now);
  return {
    el,
    tick,
    /** Scrolls so that `ms` is an hour in from the left edge of the time axis. */
    scrollToTime(ms) {
      el.scrollLeft = Math.max(0, ((ms - from) / MIN - 60) * PX_PER_MIN);
    },
  };
}

/** A compact row for a phone: time and title; a tap opens the programme with its record choices. */
function compactRow(ctx, p, view) {
  const marks = marksFor(p, view.occurrences);
  const outcome = worstOutcome(marks);
  const state = airState(p, Date.now());
  return h(
    'li',
    {
      class: `programme compact${state ? ` ${state}` : ''}`,
      dataset: { programme: p.programmeId, service: p.service, ...(outcome ? { outcome } : {}) },
    },
    h(
      'button',
      { type: 'button', class: 'programme-open', onclick: () => view.open(p, marks) },
      h('span', { class: 'time mono' }, fmtTime(p.start, ctx.tz, locale())),
      h(
        'span',
        { class: 'info' },
        h('span', { class: 'title' }, p.title),
        state === 'now' ? [' ', h('span', { class: 'badge rec' }, t('guide.now'))] : null,
        outcome ? [' ', badge(`● ${t(`outcome.${outcome}`)}`, OUTCOME_KIND[outcome])] : null,
      ),
    ),
  );
}

/**
 * The phone's guide, the grid's fallback on a narrow screen: one collapsible list per channel (the
 * station's first), each starting at what is on now — what aired earlier today is folded behind one button.
 * `view`: `occurrences` (the station's plan), `preferred` (a Set of service keys), `open(programme, marks)`.
 * `opts`: `onNow` (programmes airing now, for the summaries), `dayOf(service)` (resolves a channel's
 * programmes for the day, fetched when it is first opened), `open` (a Set of the open channels' keys, kept
 * by the caller across reloads; the first channel opens when it is empty).
 */
export function channelLists(ctx, view, services, opts) {
  if (opts.open.size === 0 && services[0]) opts.open.add(services[0].key);
  return h(
    'div',
    { class: 'channel-lists', 'data-guide-mode': 'list' },
    services.map((s) => {
      const onNow = opts.onNow.find((p) => p.service === s.key && airState(p, Date.now()) === 'now');
      const ul = h('ul', { class: 'guide' });
      let loaded = false;
      const fill = async () => {
        if (loaded) return;
        loaded = true;
        replace(ul, h('li', { class: 'muted' }, t('common.loading')));
        let list;
        try {
          list = await opts.dayOf(s.key);
        } catch (err) {
          loaded = false;
          replace(ul, h('li', null, errorBox(err)));
          return;
        }
        const now = Date.now();
        // Fold what already aired only when something is still to come (a past day shows in full).
        const fold = list.some((p) => airState(p, now) !== 'past');
        const earlier = fold ? list.filter((p) => airState(p, now) === 'past') : [];
        const rest = fold ? list.filter((p) => airState(p, now) !== 'past') : list;
        const more =
          earlier.length > 0
            ? h(
                'li',
                { class: 'earlier' },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    'data-action': 'show-earlier',
                    onclick: () => more.replaceWith(...earlier.map((p) => compactRow(ctx, p, view))),
                  },
                  t('grid.earlier', { n: earlier.length }),
                ),
              )
            : null;
        replace(
          ul,
          list.length === 0 ? h('li', { class: 'muted' }, t('guide.none')) : null,
          more,
          rest.map((p) => compactRow(ctx, p, view)),
        );
      };
      const details = h(
        'details',
        {
          class: `channel${view.preferred.has(s.key) ? ' preferred' : ''}`,
          dataset: { service: s.key },
          open: opts.open.has(s.key),
        },
        h(
          'summary',
          null,
          h('span', { class: 'title' }, s.name),
          onNow ? h('small', { class: 'block muted' }, `${t('guide.now')}: ${onNow.title}`) : null,
        ),
        ul,
      );
      details.addEventListener('toggle', () => {
        if (details.open) {
          opts.open.add(s.key);
          fill();
        } else opts.open.delete(s.key);
      });
      if (details.open) fill();
      return details;
    }),
  );
}
