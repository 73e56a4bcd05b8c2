// The manual recording form (issue 6 "entries"): a one-off or weekly recording not tied to the guide —
// service, date or weekdays, local start and duration (or end), from/until, padding, keep-N — targeted at
// one's own station (operators) or any station, a list, a county or all (control room, optionally mandated).
// Nothing is saved before the planner's preview of the exact form contents has been shown (DESIGN.md §5:
// each occurrence's outcome and the occurrence that cuts it); edits carry `expectedRev`, so two people
// editing one entry never overwrite each other silently. Times are the headend's zone (DOMAIN.md §1).
import { ApiError, del, patch, post } from './api.js';
import { h, replace } from './dom.js';
import {
  addMinutesHm,
  describeWhen,
  minutesBetween,
  previewWindow,
  WEEKDAY_PRESETS,
  weekdayName,
} from './entry-format.js';
import { renderPreview } from './entry-preview.js';
import { targetPicker } from './entry-target.js';
import { errorBox } from './errors.js';
import { t } from './i18n.js';
import { localDate, localHm, zonedToUtc } from './time.js';

const MIN = 60_000;

const field = (label, input, extra) => h('label', extra ?? null, label, input);
const num = (name, attrs) => h('input', { type: 'number', name, inputmode: 'numeric', step: 1, ...attrs });

/**
 * The form. `opts`: `entry` (edit) or `defaults` ({service, station}) for a new one; `services` (line-up),
 * `stations` (those the user may see), `groups`; `onSaved(result)`, `onDeleted()`, `onCancel()`, and
 * `onReload()` (after a conflicting edit: show the entry afresh).
 */
export function entryForm(ctx, opts) {
  const { entry, services, stations, groups } = opts;
  const control = ctx.can('entries.control');
  const tz = ctx.tz;
  const w = entry?.when;
  const whenEditable = !w || w.type === 'once' || w.type === 'weekly';
  const soon = Math.ceil((Date.now() + 30 * MIN) / (30 * MIN)) * 30 * MIN;
  const initial = {
    type: w?.type === 'weekly' ? 'weekly' : 'once',
    date: w?.type === 'once' ? localDate(Date.parse(w.start), tz) : localDate(soon, tz),
    start:
      w?.type === 'once'
        ? localHm(Date.parse(w.start), tz)
        : w?.type === 'weekly'
          ? w.startLocal
          : localHm(soon, tz),
    duration:
      w?.type === 'once'
        ? Math.round((Date.parse(w.end) - Date.parse(w.start)) / MIN)
        : w?.type === 'weekly'
          ? w.durationMin
          : 30,
    weekdays: w?.type === 'weekly' ? w.weekdays : WEEKDAY_PRESETS.weekdays,
    from: w?.type === 'weekly' ? w.from : localDate(Date.now(), tz),
    until: w?.type === 'weekly' ? (w.until ?? '') : '',
  };

  const title = h('input', { name: 'title', required: true, maxlength: 200, value: entry?.title ?? '' });
  const service = h(
    'select',
    { name: 'service' },
    services.map((s) =>
      h('option', { value: s.key, selected: s.key === (entry?.service ?? opts.defaults?.service) }, s.name),
    ),
  );
  const whenRadio = (value) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'radio', name: 'whenType', value, checked: initial.type === value }),
      t(`entry.when.${value}`),
    );
  const date = h('input', { type: 'date', name: 'date', value: initial.date });
  const start = h('input', { type: 'time', name: 'start', value: initial.start, required: true });
  const end = h('input', { type: 'time', name: 'end', value: addMinutesHm(initial.start, initial.duration) });
  const duration = num('duration', { min: 1, max: 1440, value: initial.duration, required: true });
  const nextDay = h('small', { class: 'muted next-day', hidden: true }, t('entry.nextDay'));
  const weekdayBoxes = [1, 2, 3, 4, 5, 6, 7].map((d) =>
    h(
      'label',
      { class: 'check day' },
      h('input', { type: 'checkbox', name: 'weekday', value: d, checked: initial.weekdays.includes(d) }),
      weekdayName(d),
    ),
  );
  const preset = (name) =>
    h(
      'button',
      {
        type: 'button',
        class: 'small',
        'data-preset': name,
        onclick: () => {
          for (const b of weekdayBoxes) {
            const box = b.querySelector('input');
            box.checked = WEEKDAY_PRESETS[name].includes(Number(box.value));
          }
          form.dispatchEvent(new Event('input'));
        },
      },
      t(`entry.days.${name}`),
    );
  const from = h('input', { type: 'date', name: 'from', value: initial.from });
  const until = h('input', { type: 'date', name: 'until', value: initial.until });
  const onceBox = h('div', { class: 'row', 'data-when': 'once' }, field(t('entry.date'), date));
  const weeklyBox = h(
    'div',
    { 'data-when': 'weekly' },
    h('div', { class: 'weekdays', role: 'group', 'aria-label': t('entry.weekdays') }, weekdayBoxes),
    h('div', { class: 'buttons' }, preset('weekdays'), preset('daily'), preset('weekend')),
    h('div', { class: 'row' }, field(t('entry.from'), from), field(t('entry.until'), until)),
  );
  const whenSet = whenEditable
    ? h(
        'fieldset',
        { class: 'when' },
        h('legend', null, t('entry.when')),
        h('div', { class: 'row' }, whenRadio('once'), whenRadio('weekly')),
        onceBox,
        weeklyBox,
        h(
          'div',
          { class: 'row' },
          field(t('entry.start'), start),
          field(t('entry.end'), end, { class: 'end' }),
          field(t('entry.duration'), duration),
        ),
        nextDay,
      )
    : h('fieldset', { class: 'when' }, h('legend', null, t('entry.when')), h('p', null, describeWhen(w, tz)));

  const minutesOf = (ms) => (ms === undefined ? '' : String(Math.round(ms / MIN)));
  const padBefore = num('padBefore', {
    min: 0,
    max: 120,
    value: minutesOf(entry?.padBeforeMs),
    placeholder: t('entry.default'),
  });
  const padAfter = num('padAfter', {
    min: 0,
    max: 120,
    value: minutesOf(entry?.padAfterMs),
    placeholder: t('entry.default'),
  });
  const keep = num('keep', { min: 1, max: 1000, value: entry?.keep ?? '', placeholder: t('entry.keepAll') });
  const priority = num('priority', { min: -1000, max: 1000, value: entry?.priority ?? 0 });

  const target = targetPicker(ctx, {
    stations,
    groups,
    target: entry?.target,
    station: opts.defaults?.station,
  });
  const stationName = (id) => stations.find((x) => x.id === id)?.name ?? id;
  const mandated = h('input', { type: 'checkbox', name: 'mandated', checked: entry?.class === 'mandated' });

  const out = h('div', { class: 'preview', 'aria-live': 'polite' });
  const previewBtn = h('button', { type: 'button', 'data-action': 'preview' }, t('record.preview'));
  const saveBtn = h(
    'button',
    { type: 'submit', class: 'primary', 'data-action': 'save', disabled: true },
    t('entry.save'),
  );
  const deleteBtn = entry
    ? h('button', { type: 'button', class: 'danger', 'data-action': 'delete' }, t('entry.delete'))
    : null;
  const form = h(
    'form',
    { class: 'entry-form card', 'data-form': entry ? 'edit' : 'new', novalidate: true },
    h('h2', null, entry ? t('entry.editTitle', { rev: entry.rev }) : t('entry.newTitle')),
    field(t('entry.title'), title),
    field(t('guide.service'), service),
    whenSet,
    h(
      'fieldset',
      { class: 'options' },
      h('legend', null, t('entry.options')),
      h(
        'div',
        { class: 'row' },
        field(t('entry.padBefore'), padBefore),
        field(t('entry.padAfter'), padAfter),
      ),
      h('div', { class: 'row' }, field(t('entry.keep'), keep), field(t('entry.priority'), priority)),
    ),
    h(
      'fieldset',
      { class: 'target' },
      h('legend', null, t('record.target')),
      target.el,
      control ? h('label', { class: 'check' }, mandated, t('record.mandated')) : null,
    ),
    h(
      'div',
      { class: 'buttons' },
      previewBtn,
      saveBtn,
      deleteBtn,
      h(
        'button',
        { type: 'button', 'data-action': 'cancel', onclick: () => opts.onCancel() },
        t('record.cancel'),
      ),
    ),
    out,
  );

  const whenType = () => form.querySelector('input[name=whenType]:checked')?.value ?? 'once';
  const sync = (changed) => {
    if (changed === end && start.value && end.value)
      duration.value = String(minutesBetween(start.value, end.value));
    else if (start.value && Number(duration.value) > 0)
      end.value = addMinutesHm(start.value, Number(duration.value));
    const [sh, sm] = start.value.split(':').map(Number);
    nextDay.hidden = !(sh * 60 + sm + Number(duration.value) > 1440);
    onceBox.hidden = whenType() !== 'once';
    weeklyBox.hidden = whenType() !== 'weekly';
  };

  /** The form as an API body, or a message saying what is missing. */
  const collect = () => {
    const minutes = (input) => (input.value === '' ? undefined : Math.round(Number(input.value)) * MIN);
    if (!title.value.trim()) return { error: t('entry.err.title') };
    let when;
    let windowWhen = null;
    if (whenEditable) {
      const dur = Number(duration.value);
      if (!start.value || !(dur >= 1 && dur <= 1440)) return { error: t('entry.err.time') };
      if (whenType() === 'once') {
        if (!date.value) return { error: t('entry.err.date') };
        const s = zonedToUtc(date.value, start.value, tz);
        when = { type: 'once', start: new Date(s).toISOString(), end: new Date(s + dur * MIN).toISOString() };
        windowWhen = when;
      } else {
        const days = weekdayBoxes
          .map((b) => b.querySelector('input'))
          .filter((b) => b.checked)
          .map((b) => Number(b.value));
        if (days.length === 0) return { error: t('entry.err.weekdays') };
        if (!from.value) return { error: t('entry.err.date') };
        if (until.value && until.value < from.value) return { error: t('entry.err.until') };
        when = {
          type: 'weekly',
          weekdays: days,
          startLocal: start.value,
          durationMin: dur,
          from: from.value,
        };
        if (until.value) when.until = until.value;
        windowWhen = { ...when, fromMs: zonedToUtc(from.value, start.value, tz) };
      }
    }
    const picked = target.read();
    if (picked.error) return { error: picked.error };
    const body = { title: title.value.trim(), service: service.value, target: picked.target };
    if (when) body.when = when;
    if (control) body.class = mandated.checked ? 'mandated' : 'operator';
    for (const [k, input] of [
      ['padBeforeMs', padBefore],
      ['padAfterMs', padAfter],
    ]) {
      const v = minutes(input);
      if (v !== undefined) body[k] = v;
    }
    if (keep.value !== '') body.keep = Math.round(Number(keep.value));
    else if (entry) body.keep = null;
    body.priority = Math.round(Number(priority.value) || 0);
    if (entry) body.expectedRev = entry.rev;
    else body.kind = 'recording';
    return { body, window: windowWhen ? previewWindow(windowWhen) : {} };
  };

  let previewed = null;
  const stale = () => {
    const c = collect();
    saveBtn.disabled = !(previewed !== null && c.body && JSON.stringify(c.body) === previewed);
    out.classList.toggle('stale', previewed !== null && saveBtn.disabled);
  };
  const fail = (err) => {
    const conflict = err instanceof ApiError && err.status === 409;
    replace(
      out,
      errorBox(err),
      conflict
        ? h(
            'p',
            null,
            t('entry.conflict'),
            ' ',
            h(
              'button',
              { type: 'button', 'data-action': 'reload', onclick: () => opts.onReload() },
              t('entry.reload'),
            ),
          )
        : null,
    );
  };
  const base = entry ? `/entries/${encodeURIComponent(entry.id)}` : '/entries';

  previewBtn.addEventListener('click', async () => {
    const c = collect();
    if (c.error) {
      replace(out, h('p', { class: 'error', role: 'alert' }, c.error));
      return;
    }
    previewBtn.disabled = true;
    try {
      const q = new URLSearchParams(c.window).toString();
      const r = await post(`${base}/preview${q ? `?${q}` : ''}`, c.body);
      replace(out, renderPreview(r, { tz, stationName }));
      previewed = JSON.stringify(c.body);
    } catch (err) {
      previewed = null;
      fail(err);
    } finally {
      previewBtn.disabled = false;
      stale();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = collect();
    if (saveBtn.disabled || !c.body) return;
    saveBtn.disabled = true;
    try {
      const r = entry ? await patch(base, c.body) : await post(base, c.body);
      opts.onSaved(r);
    } catch (err) {
      saveBtn.disabled = false;
      fail(err);
    }
  });
  deleteBtn?.addEventListener('click', async () => {
    if (!window.confirm(t('station.confirmDelete', { title: entry.title }))) return;
    deleteBtn.disabled = true;
    try {
      await del(`${base}?expectedRev=${entry.rev}`);
      opts.onDeleted();
    } catch (err) {
      deleteBtn.disabled = false;
      fail(err);
    }
  });
  form.addEventListener('input', (e) => {
    sync(e.target);
    stale();
  });
  form.addEventListener('change', (e) => {
    sync(e.target);
    stale();
  });
  sync(null);
  return form;
}
