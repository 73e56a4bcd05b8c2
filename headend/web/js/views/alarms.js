// Alarms page (issue 8): the active alarms — fleet alarms first, then by severity — each with its probable
// cause, evidence, what to do, acknowledgement and the remedies that fit; and the history of the last
// days. Updates live (Server-Sent Events).

import { alarmCard } from '../alarm-format.js';
import { get, qs } from '../api.js';
import { techCss } from '../diagnostics-panel.js';
import { debounce, h, replace } from '../dom.js';
import { errorBox } from '../errors.js';
import { onLive } from '../live.js';
import { tt } from '../tech-i18n.js';

const RANK = { critical: 0, warning: 1, info: 2 };

export async function render(root, ctx) {
  techCss();
  const activeBox = h('div', { class: 'alarm-list', 'data-section': 'active-alarms' });
  const historyBox = h('div', { class: 'alarm-list', 'data-section': 'alarm-history' });
  let severity = '';
  const loadActive = async () => {
    try {
      const list = (await get('/alarms'))
        .filter((a) => a.linkedTo === null)
        .filter((a) => !severity || a.severity === severity)
        .sort(
          (a, b) =>
            (a.scope === b.scope ? 0 : a.scope === 'fleet' ? -1 : 1) || RANK[a.severity] - RANK[b.severity],
        );
      replace(
        activeBox,
        list.length === 0
          ? h('p', { class: 'muted' }, tt('alarms.none'))
          : list.map((a) => alarmCard(a, { tz: ctx.tz, canAck: ctx.can('alarms.ack'), onChanged: reload })),
      );
    } catch (err) {
      replace(activeBox, errorBox(err));
    }
  };
  const loadHistory = async () => {
    try {
      const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
      const list = (await get(`/alarms/history${qs({ from, limit: 200 })}`)).filter((a) => a.clearedAt);
      replace(
        historyBox,
        list.length === 0
          ? h('p', { class: 'muted' }, tt('alarms.none'))
          : list.map((a) => alarmCard(a, { tz: ctx.tz, canAck: false })),
      );
    } catch (err) {
      replace(historyBox, errorBox(err));
    }
  };
  const reload = () => Promise.all([loadActive(), loadHistory()]);
  const filter = h(
    'div',
    { class: 'range-switch', role: 'group' },
    ['', 'critical', 'warning', 'info'].map((s) =>
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': s === severity ? 'true' : 'false',
          'data-severity': s || 'all',
          onclick: (ev) => {
            severity = s;
            for (const b of ev.target.parentElement.children)
              b.setAttribute('aria-pressed', String(b === ev.target));
            loadActive();
          },
        },
        s ? tt(`alarms.sev.${s}`) : tt('alarms.filter.all'),
      ),
    ),
  );
  replace(
    root,
    h('h1', null, tt('alarms.title')),
    h('section', null, h('h2', null, tt('alarms.active'), ' ', filter), activeBox),
    h('section', null, h('details', null, h('summary', null, tt('alarms.history')), historyBox)),
  );
  await reload();
  const later = debounce(() => reload(), 300);
  const offs = [onLive('alarm', later), onLive('resync', later)];
  return () => {
    for (const off of offs) off();
  };
}
