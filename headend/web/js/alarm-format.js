// How an alarm is shown (issue 8): what is wrong, the probable cause from the failure table (DOMAIN.md §6),
// the evidence behind it, what to do — in the UI's language (cause-i18n.js) —, who acknowledged it — and, next to it, the remote remedies that fit
// (retune, reset, LNB power cycle, retention), run through the audited diagnostics API.
import { post } from './api.js';
import { alarmTexts } from './cause-i18n.js';
import { runMethod } from './diagnostics-panel.js';
import { badge, h, stationHref } from './dom.js';
import { errorText } from './errors.js';
import { alarmLabel, locale } from './i18n.js';
import { tt } from './tech-i18n.js';
import { fmtDateTime } from './time.js';

const SEV = { critical: 'bad', warning: 'warn', info: 'muted' };

/** A text in the UI's language, or the engine's English marked as such (cause-i18n.js). */
function said(x) {
  return x.english
    ? h(
        'span',
        { lang: 'en', class: 'english' },
        x.text,
        h('small', { class: 'muted' }, ` ${tt('alarms.english')}`),
      )
    : x.text;
}

/** `http:tech` → `tech` (the audit actor names the channel too). */
const who = (actor) => (actor ?? '').replace(/^(http|token):/, '').replace(/:.*$/, '');

/**
 * One alarm. `opts`: `{tz, canAck, onChanged}`. Remedies come with the alarm (the API lists them only for
 * users who may run diagnostics).
 */
export function alarmCard(a, opts) {
  const out = h('div', { class: 'remedy-out', 'aria-live': 'polite' });
  const x = alarmTexts(a, opts.tz);
  const ack = async (ev) => {
    ev.target.disabled = true;
    try {
      await post(`/alarms/${encodeURIComponent(a.id)}/acknowledge`, {});
      opts.onChanged?.();
    } catch (err) {
      ev.target.disabled = false;
      ev.target.after(h('small', { class: 'bad' }, errorText(err)));
    }
  };
  return h(
    'article',
    {
      class: `alarm card sev-${a.severity}${a.clearedAt ? ' cleared' : ''}`,
      dataset: { alarm: a.id, kind: a.kind, severity: a.severity, acked: a.ackedBy ? 'yes' : 'no' },
    },
    h(
      'header',
      null,
      badge(tt(`alarms.sev.${a.severity}`), SEV[a.severity]),
      ' ',
      h('strong', { class: 'kind' }, alarmLabel(a.kind)),
      ' ',
      a.scope === 'fleet'
        ? badge(`${tt('alarms.fleet')} · ${tt('alarms.stations', { n: a.stations ?? 0 })}`, 'bad')
        : a.station
          ? h('a', { href: stationHref(a.station), class: 'mono' }, a.station)
          : null,
      a.subject && a.scope === 'station' ? h('span', { class: 'mono muted' }, ` ${a.subject}`) : null,
      ' ',
      h('small', { class: 'muted' }, tt('alarms.raised', { at: fmtDateTime(a.raisedAt, opts.tz, locale()) })),
      a.clearedAt
        ? h(
            'small',
            { class: 'ok' },
            ` · ${tt('alarms.cleared', { at: fmtDateTime(a.clearedAt, opts.tz, locale()) })}`,
          )
        : null,
    ),
    h(
      'dl',
      { class: 'alarm-facts' },
      h('dt', null, tt('alarms.cause')),
      h(
        'dd',
        { class: 'cause', 'data-row': a.cause.row },
        said(x.cause),
        h('small', { class: 'muted failure' }, ' · ', said(x.failure)),
      ),
      h('dt', null, tt('alarms.evidence')),
      h('dd', { class: 'evidence' }, said(x.evidence)),
      h('dt', null, tt('alarms.respond')),
      h('dd', { class: 'respond' }, said(x.respond)),
    ),
    a.ackedBy
      ? h(
          'p',
          { class: 'acked muted' },
          tt('alarms.acked', { by: who(a.ackedBy), at: fmtDateTime(a.ackedAt, opts.tz, locale()) }),
        )
      : null,
    a.linkedTo ? h('p', { class: 'muted' }, tt('alarms.linked')) : null,
    h(
      'div',
      { class: 'buttons' },
      !a.clearedAt && !a.ackedBy && opts.canAck
        ? h(
            'button',
            { type: 'button', class: 'primary', 'data-action': 'ack', onclick: ack },
            tt('alarms.ack'),
          )
        : null,
      (a.remedies ?? []).map((r) =>
        h(
          'button',
          {
            type: 'button',
            class: r.method.startsWith('receiver.') && r.method !== 'receiver.status' ? 'remedy' : '',
            title: r.why,
            'data-remedy': r.method,
            onclick: () =>
              runMethod(out, a.station, r.method, r.params, {
                sideEffects: [
                  'receiver.retune',
                  'receiver.reset',
                  'receiver.lnb',
                  'recordings.retention',
                ].includes(r.method),
                tz: opts.tz,
              }),
          },
          tt(`diag.m.${r.method}`),
        ),
      ),
    ),
    out,
  );
}
