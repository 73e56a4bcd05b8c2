// Conferences page (issue 7): the list (live, upcoming, past) and, for the control room, the form that
// pushes a new conference to all stations, some counties or a list of stations. Times are entered and shown
// in the headend's time zone (DOMAIN.md §1: China Standard Time).
import { get, post } from '../api.js';
import { ensureConferenceStyles, phaseBadge, targetText, whenText } from '../conference-format.js';
import { ct } from '../conference-i18n.js';
import { h, replace } from '../dom.js';
import { errorBox } from '../errors.js';
import { locale } from '../i18n.js';
import { onLive } from '../live.js';
import { localDate, localHm, zonedToUtc } from '../time.js';

const MIN = 60_000;

function countyName(g) {
  return locale() === 'en' ? g.name : (g.nameZh ?? g.name);
}

/** `HH:MM` or `HH:MM:SS` on `date` in `tz` → epoch ms. */
function localToUtc(date, time, tz) {
  const [hh = '00', mm = '00', ss = '0'] = time.split(':');
  return zonedToUtc(date, `${hh}:${mm}`, tz) + Number(ss) * 1000;
}

function createForm(ctx, data, onDone) {
  const { services, counties, stations } = data;
  const field = (label, input) => h('label', null, label, input);
  const title = h('input', { name: 'title', required: true, maxlength: 200 });
  const organiser = h('input', { name: 'organiser', required: true, maxlength: 120 });
  const service = h(
    'select',
    { name: 'service' },
    services.map((s) => h('option', { value: s.key }, `${s.name} (${s.key})`)),
  );
  const soon = Math.ceil((Date.now() + 10 * MIN) / (5 * MIN)) * 5 * MIN;
  const date = h('input', { name: 'date', type: 'date', required: true, value: localDate(soon, ctx.tz) });
  const time = h('input', {
    name: 'time',
    type: 'time',
    step: 1,
    required: true,
    value: localHm(soon, ctx.tz),
  });
  const startNow = h('input', { type: 'checkbox', name: 'startNow' });
  const duration = h('input', {
    name: 'duration',
    type: 'number',
    min: 1,
    max: 1440,
    value: 60,
    required: true,
  });
  const preRoll = h('input', { name: 'preRoll', type: 'number', min: 0, max: 120, step: 'any' });
  const record = h('input', { type: 'checkbox', name: 'record' });
  const notes = h('textarea', { name: 'notes', maxlength: 2000 });
  const kind = (value, key, checked) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'radio', name: 'targetType', value, checked }),
      ct(key),
    );
  const countyBoxes = counties.map((g) =>
    h('label', null, h('input', { type: 'checkbox', name: 'county', value: g.id }), countyName(g)),
  );
  const stationBoxes = stations.map((s) =>
    h(
      'label',
      { dataset: { text: `${s.id} ${s.name} ${s.county}`.toLowerCase() } },
      h('input', { type: 'checkbox', name: 'station', value: s.id }),
      `${s.name} (${s.id})`,
    ),
  );
  const filter = h('input', { type: 'search', placeholder: ct('conf.target.filter') });
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const b of stationBoxes) b.hidden = q !== '' && !b.dataset.text.includes(q);
  });
  const countyList = h(
    'div',
    { class: 'target-list', hidden: true, 'data-targets': 'counties' },
    countyBoxes,
  );
  const stationList = h(
    'div',
    { hidden: true, 'data-targets': 'stations' },
    filter,
    h('div', { class: 'target-list' }, stationBoxes),
  );
  const out = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'conf-form card', 'data-form': 'conference' },
    h('h2', null, ct('conf.new')),
    field(ct('conf.field.title'), title),
    field(ct('conf.field.organiser'), organiser),
    field(ct('conf.field.service'), service),
    h(
      'div',
      { class: 'row' },
      field(ct('conf.field.date'), date),
      field(ct('conf.field.start'), time),
      h('label', { class: 'check' }, startNow, ct('conf.startNow')),
      field(ct('conf.field.duration'), duration),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, ct('conf.field.targets')),
      h(
        'div',
        { class: 'row' },
        kind('all', 'conf.target.all', true),
        kind('counties', 'conf.target.counties'),
        kind('stations', 'conf.target.stations'),
      ),
      countyList,
      stationList,
    ),
    h('label', { class: 'check' }, record, ct('conf.field.record')),
    field(ct('conf.field.preRoll'), preRoll),
    field(ct('conf.field.notes'), notes),
    out,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary', 'data-action': 'create' }, ct('conf.create')),
      h('button', { type: 'button', onclick: () => onDone(null) }, ct('conf.cancelForm')),
    ),
  );
  const targetType = () => form.querySelector('input[name="targetType"]:checked')?.value ?? 'all';
  form.addEventListener('change', () => {
    countyList.hidden = targetType() !== 'counties';
    stationList.hidden = targetType() !== 'stations';
    date.disabled = startNow.checked;
    time.disabled = startNow.checked;
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const checked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((x) => x.value);
    const type = targetType();
    const target =
      type === 'counties'
        ? { type, counties: checked('county') }
        : type === 'stations'
          ? { type, stationIds: checked('station') }
          : { type: 'all' };
    const startMs = startNow.checked ? Date.now() : localToUtc(date.value, time.value, ctx.tz);
    const body = {
      title: title.value,
      organiser: organiser.value,
      service: service.value,
      start: new Date(startMs).toISOString(),
      end: new Date(startMs + Number(duration.value) * MIN).toISOString(),
      target,
      record: record.checked,
      notes: notes.value,
      ...(preRoll.value === '' ? {} : { preRollMs: Math.round(Number(preRoll.value) * MIN) }),
    };
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      const r = await post('/conferences', body);
      onDone(r.conference);
    } catch (err) {
      replace(out, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function table(ctx, list, counties) {
  if (list.length === 0) return h('p', { class: 'muted' }, ct('conf.none'));
  return h(
    'table',
    { class: 'board', 'data-list': 'conferences' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['conf.field.title', 'conf.col.organiser', 'conf.col.when', 'conf.col.targets', 'conf.col.phase'].map(
          (k) => h('th', null, ct(k)),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      list.map((c) =>
        h(
          'tr',
          { dataset: { conference: c.id, phase: c.phase } },
          h(
            'td',
            { 'data-label': ct('conf.field.title') },
            h('a', { href: `#/conference/${encodeURIComponent(c.id)}` }, c.title),
            h('small', { class: 'muted block' }, c.record ? ct('conf.recorded') : ct('conf.showOnly')),
          ),
          h('td', { 'data-label': ct('conf.col.organiser') }, c.organiser),
          h('td', { 'data-label': ct('conf.col.when') }, whenText(c, ctx.tz)),
          h('td', { 'data-label': ct('conf.col.targets') }, targetText(c, counties)),
          h('td', { 'data-label': ct('conf.col.phase') }, phaseBadge(c.phase)),
        ),
      ),
    ),
  );
}

export async function render(root, ctx) {
  ensureConferenceStyles();
  const groups = await get('/groups');
  const counties = groups.filter((g) => g.kind === 'county');
  const body = h('div');
  const formSlot = h('div');
  const load = async () => {
    try {
      replace(body, table(ctx, await get('/conferences?limit=200'), counties));
    } catch (err) {
      replace(body, errorBox(err));
    }
  };
  const openForm = async () => {
    try {
      const [lineup, stations] = await Promise.all([get('/lineup'), get('/stations')]);
      replace(
        formSlot,
        createForm(ctx, { services: lineup.services, counties, stations }, (created) => {
          replace(formSlot);
          if (created) ctx.navigate(`#/conference/${encodeURIComponent(created.id)}`);
        }),
      );
    } catch (err) {
      replace(formSlot, errorBox(err));
    }
  };
  replace(
    root,
    h(
      'div',
      { class: 'toolbar' },
      h('h1', null, ct('conf.title')),
      ctx.can('entries.control')
        ? h(
            'button',
            { type: 'button', class: 'primary', 'data-action': 'new-conference', onclick: openForm },
            ct('conf.new'),
          )
        : null,
    ),
    formSlot,
    body,
  );
  await load();
  if (ctx.params.new === '1' && ctx.can('entries.control')) await openForm();
  const offs = [
    onLive('conference', (m) => {
      if (m.op) load();
    }),
    onLive('resync', () => load()),
  ];
  return () => {
    for (const off of offs) off();
  };
}
