// The programme guide (issue 6): every channel × one local day as a grid (guide-grid.js) on a desk or wall
// screen, a per-channel list on a phone, one channel's day as a list (`?service=`), and a title search.
// Every programme can be recorded: this showing, the series, or this slot every weekday (record.js, which
// previews the planner's outcome before saving). Times are in the headend's zone (DOMAIN.md §1), never the
// browser's.
import { get, qs } from '../api.js';
import { badge, h, modal, replace } from '../dom.js';
import { errorBox } from '../errors.js';
import {
  airState,
  channelLists,
  dayBounds,
  guideGrid,
  marksFor,
  OUTCOME_KIND,
  orderServices,
  servicesByUse,
  worstOutcome,
} from '../guide-grid.js';
import { locale, t } from '../i18n.js';
import { onLive } from '../live.js';
import { outcomeCell } from '../plan-format.js';
import { recordDialog } from '../record.js';
import { addDays, fmtDateTime, fmtDay, fmtTime, localDate } from '../time.js';

/** Phones get lists: the same breakpoint as app.css's card tables. */
const NARROW = '(max-width: 720px)';
/** How far ahead the day picker goes (the guide is imported for 14 days; DESIGN.md §8). */
const DAYS_AHEAD = 13;

function recordButtons(ctx, p, pick) {
  if (!ctx.can('entries.write')) return null;
  const past = Date.parse(p.stop) <= Date.now();
  const b = (mode, action, key) =>
    h(
      'button',
      { type: 'button', 'data-action': action, disabled: mode === 'this' && past, onclick: () => pick(mode) },
      t(key),
    );
  return h(
    'div',
    { class: 'actions' },
    b('this', 'record-this', 'guide.recordThis'),
    b('series', 'record-series', 'guide.recordSeries'),
    b('weekdays', 'record-weekdays', 'guide.recordWeekdays'),
  );
}

/** One programme as a list row (channel list, search results, phone). */
function programmeRow(ctx, p, view, withService) {
  const marks = marksFor(p, view.occurrences);
  const outcome = worstOutcome(marks);
  const state = airState(p, Date.now());
  return h(
    'li',
    {
      class: `programme${state ? ` ${state}` : ''}`,
      dataset: { programme: p.programmeId, service: p.service, ...(outcome ? { outcome } : {}) },
    },
    h(
      'div',
      { class: 'time mono' },
      `${fmtTime(p.start, ctx.tz, locale())}–${fmtTime(p.stop, ctx.tz, locale())}`,
    ),
    h(
      'div',
      { class: 'info' },
      h('span', { class: 'title' }, p.title),
      withService ? h('small', { class: 'muted' }, ` · ${view.nameOf(p.service)}`) : null,
      p.subTitle || p.episode
        ? h('small', { class: 'block muted' }, [p.subTitle, p.episode].filter(Boolean).join(' · '))
        : null,
      state === 'now' ? h('span', { class: 'badge rec' }, t('guide.now')) : null,
      outcome ? badge(`● ${t(`outcome.${outcome}`)}`, OUTCOME_KIND[outcome]) : null,
    ),
    recordButtons(ctx, p, (mode) => view.record(p, mode)),
  );
}

/** The programme's details, what the station will make of it, and the three ways to record it. */
async function openProgramme(ctx, p, marks, view) {
  const mode = await modal(p.title, (close) =>
    h(
      'div',
      { class: 'programme-detail', dataset: { programme: p.programmeId } },
      h(
        'p',
        null,
        h('strong', null, view.nameOf(p.service)),
        ' · ',
        h(
          'span',
          { class: 'mono' },
          `${fmtDateTime(p.start, ctx.tz, locale())}–${fmtTime(p.stop, ctx.tz, locale())}`,
        ),
      ),
      p.subTitle || p.episode
        ? h('p', { class: 'muted' }, [p.subTitle, p.episode].filter(Boolean).join(' · '))
        : null,
      p.category ? h('p', null, badge(p.category, 'muted')) : null,
      p.description ? h('p', { class: 'desc' }, p.description) : null,
      marks.length > 0
        ? h(
            'div',
            { class: 'marks' },
            h('p', null, t('grid.willRecord', { station: view.stationName })),
            h(
              'ul',
              { class: 'plain' },
              marks.map((m) =>
                h(
                  'li',
                  null,
                  h(
                    'span',
                    { class: 'mono' },
                    `${fmtTime(m.nominalStart, ctx.tz, locale())}–${fmtTime(m.nominalEnd, ctx.tz, locale())}`,
                  ),
                  ` ${m.title} `,
                  outcomeCell(m, ctx.tz),
                ),
              ),
            ),
          )
        : null,
      recordButtons(ctx, p, close),
    ),
  );
  if (mode) await view.record(p, mode);
}

/** The operator's station: its plan for the window marks the grid; its entries' channels come first. */
async function homeOf(ctx, span) {
  const mine = ctx.me.user.stations;
  if (mine.length === 0 || !ctx.can('fleet.read')) return null;
  const id = mine.includes(ctx.params.station) ? ctx.params.station : mine[0];
  const enc = encodeURIComponent(id);
  const [station, entries, plan] = await Promise.all([
    get(`/stations/${enc}`),
    get(`/entries${qs({ station: id })}`),
    get(
      `/stations/${enc}/plan${qs({ from: new Date(span.from).toISOString(), to: new Date(span.to).toISOString() })}`,
    ),
  ]);
  const tuned = station.receivers.map((r) => r.service).filter(Boolean);
  return {
    id,
    name: station.name,
    preferred: [...servicesByUse(entries), ...tuned],
    occurrences: plan.occurrences,
  };
}

export async function render(root, ctx) {
  const lineup = await get('/lineup');
  const today = localDate(Date.now(), ctx.tz);
  const day = /^\d{4}-\d\d-\d\d$/.test(ctx.params.day ?? '') ? ctx.params.day : today;
  const service = ctx.params.service ?? '';
  const q = ctx.params.q ?? '';
  const narrow = window.matchMedia(NARROW);
  const go = (params) =>
    ctx.navigate(`#/guide${qs({ service, day, station: ctx.params.station, ...params })}`);

  const serviceSel = h(
    'select',
    {
      name: 'service',
      'aria-label': t('guide.service'),
      onchange: (e) => go({ service: e.target.value, q: undefined }),
    },
    h('option', { value: '' }, t('grid.allChannels')),
    lineup.services.map((s) => h('option', { value: s.key, selected: s.key === service }, s.name)),
  );
  const days = Array.from({ length: DAYS_AHEAD + 2 }, (_, i) => addDays(today, i - 1));
  const daySel = h(
    'select',
    { name: 'day', 'aria-label': t('guide.day'), onchange: (e) => go({ day: e.target.value, q: undefined }) },
    days.map((d) => h('option', { value: d, selected: d === day }, fmtDay(d, locale()))),
  );
  const step = (n, key, action) =>
    h(
      'button',
      {
        type: 'button',
        'data-action': action,
        'aria-label': t(key),
        title: t(key),
        onclick: () => go({ day: addDays(day, n), q: undefined }),
      },
      n < 0 ? '‹' : '›',
    );
  const search = h('input', { type: 'search', name: 'q', placeholder: t('guide.search'), value: q });
  const toolbar = h(
    'form',
    {
      class: 'toolbar guide-toolbar',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        go({ q: search.value.trim() || undefined });
      },
    },
    h('h1', null, t('guide.title')),
    serviceSel,
    h(
      'span',
      { class: 'day-step' },
      step(-1, 'grid.prevDay', 'day-prev'),
      daySel,
      step(1, 'grid.nextDay', 'day-next'),
    ),
    day !== today
      ? h(
          'button',
          { type: 'button', 'data-action': 'today', onclick: () => go({ day: today, q: undefined }) },
          t('grid.today'),
        )
      : null,
    search,
  );
  const body = h('div', { class: 'guide-body' });
  replace(root, toolbar, body);

  const nameOf = (key) => lineup.services.find((s) => s.key === key)?.name ?? key;
  let grid = null;
  let view = null;
  let preferredOnce = null;
  const iso = (ms) => new Date(ms).toISOString();
  /** Channels open in the phone list, kept across reloads (a recording made from it reloads the page). */
  const openChannels = new Set();
  const load = async () => {
    const mode = q ? 'search' : service ? 'channel' : narrow.matches ? 'list' : 'grid';
    const span = q ? { from: Date.now(), to: Date.now() + 48 * 3_600_000 } : dayBounds(day, ctx.tz);
    // A phone on a township's slow link fetches what is on now for the channel summaries, and one
    // channel's day when it is opened — not every channel's day up front.
    const query = {
      search: { q, from: iso(span.from), to: iso(span.to) },
      channel: { service, from: iso(span.from), to: iso(span.to) },
      list: day === today ? { from: iso(Date.now()), to: iso(Date.now() + 60_000) } : null,
      grid: { from: iso(span.from), to: iso(span.to) },
    }[mode];
    const keepScroll = grid?.el.scrollLeft;
    try {
      const [data, home] = await Promise.all([
        query ? get(`/guide${qs(query)}`) : { programmes: [] },
        homeOf(ctx, span),
      ]);
      // The order is fixed for the page's life: rows do not jump under the user after a recording.
      preferredOnce ??= home?.preferred ?? [];
      const order = orderServices(lineup.services, preferredOnce);
      view = {
        nameOf,
        preferred: order.preferred,
        occurrences: home?.occurrences ?? [],
        stationName: home?.name ?? '',
        open: (p, marks) => openProgramme(ctx, p, marks, view),
        record: async (p, mode) => {
          await recordDialog(ctx, p, mode);
          // The dialog may have navigated away (its link to the station): then there is nothing to refresh.
          if (body.isConnected) await load();
        },
      };
      grid = null;
      if (mode === 'search' || mode === 'channel') {
        replace(
          body,
          h(
            'ul',
            { class: 'guide', 'data-guide-mode': mode },
            data.programmes.length === 0
              ? h('li', { class: 'muted' }, t('guide.none'))
              : data.programmes.map((p) => programmeRow(ctx, p, view, Boolean(q))),
          ),
        );
        body.querySelector('li.programme.now')?.scrollIntoView({ block: 'center' });
      } else if (mode === 'list') {
        const dayOf = async (key) =>
          (await get(`/guide${qs({ service: key, from: iso(span.from), to: iso(span.to) })}`)).programmes;
        replace(
          body,
          channelLists(ctx, view, order.services, { onNow: data.programmes, dayOf, open: openChannels }),
        );
      } else {
        grid = guideGrid(ctx, {
          ...order,
          day,
          from: span.from,
          to: span.to,
          now: Date.now(),
          programmes: data.programmes,
          occurrences: view.occurrences,
          onPick: view.open,
        });
        replace(
          body,
          grid.el,
          h(
            'p',
            { class: 'legend muted' },
            view.stationName
              ? [
                  h('span', { class: 'gg-mark planned' }, '●'),
                  ` ${t('grid.legendMark', { station: view.stationName })} · `,
                ]
              : null,
            h('span', { class: 'gg-legend-now' }, '│'),
            ` ${t('grid.legendNow')}`,
          ),
        );
        if (keepScroll !== undefined) grid.el.scrollLeft = keepScroll;
        else
          grid.scrollToTime(
            dayBounds(day, ctx.tz).from + ((Date.now() - dayBounds(today, ctx.tz).from) % 86_400_000),
          );
      }
    } catch (err) {
      replace(body, errorBox(err));
    }
  };
  await load();

  const onWidth = () => load();
  narrow.addEventListener('change', onWidth);
  const timer = setInterval(() => grid?.tick(Date.now()), 30_000);
  const offs = [
    onLive('guide', () => load()),
    onLive('schedule', (m) => {
      if (ctx.me.user.stations.some((s) => m.stations.includes(s))) load();
    }),
    onLive('resync', () => load()),
  ];
  return () => {
    clearInterval(timer);
    narrow.removeEventListener('change', onWidth);
    for (const off of offs) off();
  };
}
