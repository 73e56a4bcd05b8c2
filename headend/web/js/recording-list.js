// A list of recordings with quality and status, and protect / unprotect / delete forwarded to the station
// (shared by the recordings page and the station page).
import { del, post } from './api.js';
import { badge, h, replace, stationHref } from './dom.js';
import { errorText } from './errors.js';
import { locale, t } from './i18n.js';
import { fmtBytes, qualityCell } from './plan-format.js';
import { fmtDateTime } from './time.js';

const STATUS_KIND = {
  completed: 'ok',
  'completed-with-errors': 'warn',
  failed: 'bad',
  recording: 'rec',
  deleted: 'muted',
};

function requestNote(r) {
  if (!r) return null;
  if (r.status === 'pending')
    return h('small', { class: 'block warn' }, `${t(`rec.${r.action}`)}: ${t('rec.request.pending')}`);
  if (r.status === 'done')
    return h('small', { class: 'block muted' }, `${t(`rec.${r.action}`)}: ${t('rec.request.done')}`);
  if (r.status === 'failed')
    return h(
      'small',
      { class: 'block bad' },
      `${t(`rec.${r.action}`)}: ${t('rec.request.failed', { e: r.lastError ?? '' })}`,
    );
  return null;
}

/** Renders recordings into a table; `onChanged` reloads after an action. */
export function recordingTable(ctx, recordings, opts = {}) {
  if (recordings.length === 0) return h('p', { class: 'muted' }, t('rec.none'));
  const canManage = ctx.can('recordings.manage');
  const act = async (r, action, cell) => {
    if (action === 'delete' && !window.confirm(t('rec.confirmDelete'))) return;
    const base = `/stations/${encodeURIComponent(r.stationId)}/recordings/${encodeURIComponent(r.recordingId)}`;
    try {
      const req =
        action === 'delete'
          ? await del(base)
          : await post(`${base}/protect`, { protect: action === 'protect' });
      replace(cell, requestNote(req));
      opts.onChanged?.();
    } catch (err) {
      replace(cell, h('small', { class: 'bad' }, errorText(err)));
    }
  };
  return h(
    'table',
    { class: 'recordings' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, t('station.when')),
        opts.showStation ? h('th', null, t('fleet.station')) : null,
        h('th', null, t('station.what')),
        h('th', null, t('rec.status')),
        h('th', null, t('rec.quality')),
        h('th', null, t('rec.size')),
        canManage ? h('th', null, '') : null,
      ),
    ),
    h(
      'tbody',
      null,
      recordings.map((r) => {
        const note = h('div', null, requestNote(r.request));
        return h(
          'tr',
          { dataset: { recording: r.recordingId, station: r.stationId } },
          h(
            'td',
            { 'data-label': t('station.when') },
            fmtDateTime(r.startedAt ?? r.occurrenceStart, ctx.tz, locale()),
          ),
          opts.showStation
            ? h(
                'td',
                { 'data-label': t('fleet.station') },
                h('a', { href: stationHref(r.stationId) }, r.stationId),
              )
            : null,
          h(
            'td',
            { 'data-label': t('station.what') },
            r.title ?? r.entryId ?? r.recordingId,
            r.service ? h('small', { class: 'muted' }, ` · ${r.service}`) : null,
          ),
          h(
            'td',
            { 'data-label': t('rec.status') },
            badge(t(`rec.status.${r.status}`), STATUS_KIND[r.status] ?? ''),
            r.protected ? badge('🔒', 'muted') : null,
            r.reason ? h('small', { class: 'block muted' }, r.reason) : null,
          ),
          h('td', { 'data-label': t('rec.quality') }, qualityCell(r.quality)),
          h('td', { 'data-label': t('rec.size') }, fmtBytes(r.bytes)),
          canManage && r.status !== 'deleted'
            ? h(
                'td',
                { class: 'actions' },
                h(
                  'button',
                  { type: 'button', onclick: () => act(r, r.protected ? 'unprotect' : 'protect', note) },
                  r.protected ? t('rec.unprotect') : t('rec.protect'),
                ),
                h(
                  'button',
                  { type: 'button', class: 'danger', onclick: () => act(r, 'delete', note) },
                  t('rec.delete'),
                ),
                note,
              )
            : canManage
              ? h('td', null, note)
              : null,
        );
      }),
    ),
  );
}
