// Error messages shown to users: translated by the server's stable problem code, field errors listed.
import { ApiError } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

/** A translated error message. */
export function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 403) return `${t('common.forbidden')} (${err.problem?.message ?? err.code})`;
    const issues = err.problem?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    return t('common.error', { m: issues ? `${err.message} — ${issues}` : err.message });
  }
  return t('common.error', { m: String(err?.message ?? err) });
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, errorText(err));
}
