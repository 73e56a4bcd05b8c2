/**
 * The conference pages' texts (issue 7: Chinese by default, English switchable): both languages have the
 * same keys and placeholders, and every attendance status and reason the headend can send has its words.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { ATTENDANCE_STATUSES, REASON_CODES } from '../../headend/conferences/index.js';

t.test('the conference dictionaries match and cover every status and reason', async (t) => {
  const file = pathToFileURL(path.resolve('headend/web/js/conference-i18n.js')).href;
  const mod = (await import(file)) as { CONFERENCE_DICTIONARIES: Record<string, Record<string, string>> };
  const zh = mod.CONFERENCE_DICTIONARIES['zh-CN'] ?? {};
  const en = mod.CONFERENCE_DICTIONARIES.en ?? {};
  t.same(Object.keys(en).sort(), Object.keys(zh).sort(), 'every Chinese text has its English one and back');
  for (const [k, v] of Object.entries(en)) {
    const want = (zh[k]?.match(/\{\w+\}/g) ?? []).sort();
    t.same((v.match(/\{\w+\}/g) ?? []).sort(), want, `${k}: same placeholders`);
  }
  for (const s of ATTENDANCE_STATUSES) t.ok(zh[`st.${s}`] && en[`st.${s}`], `status ${s} has its words`);
  for (const r of REASON_CODES) t.ok(zh[`rc.${r}`] && en[`rc.${r}`], `reason ${r} has its words`);
});
