// An alarm's probable cause and evidence in the technician's language (issue 8). The engine speaks English:
// its cause carries a failure-table row (protocol/failures.ts, DOMAIN.md §6) with that row's failure and
// response verbatim, and a short cause text; the evidence carries a sentence and the figures behind it.
// Here: the failure and the response from a zh/en table keyed by row (failure-table-i18n.js), the engine's
// cause sentences said in Chinese (alarm-causes-zh.js), and the evidence rewritten from its facts
// (alarm-evidence-zh.js). Anything else is shown as the engine wrote it, marked as English, never dropped.

import { causeZh } from './alarm-causes-zh.js';
import { EVIDENCE_ZH } from './alarm-evidence-zh.js';
import { FAILURE_ROWS, KIND_SUMMARIES } from './failure-table-i18n.js';
import { alarmLabel, locale } from './i18n.js';

export { FAILURE_ROWS, KIND_SUMMARIES };

/**
 * The cause, failure, response and evidence of an alarm in the UI's locale. Each text comes with
 * `english: true` when it could only be shown as the engine wrote it (the UI marks it).
 */
export function alarmTexts(a, tz, loc = locale()) {
  const row = FAILURE_ROWS[a.cause?.row];
  const facts = a.evidence?.facts ?? {};
  if (loc === 'en') {
    return {
      failure: { text: row?.en.failure ?? a.cause.failure, english: false },
      respond: { text: row?.en.respond ?? a.cause.respond, english: false },
      cause: { text: a.cause.text, english: false },
      evidence: { text: a.evidence.text, english: false },
    };
  }
  const causeText = a.cause.text ?? '';
  const summary = KIND_SUMMARIES[a.kind];
  let cause = causeZh(a);
  // A kind's summary as cause; or a station-raised alarm, whose cause is its own message (= the evidence):
  // say it once, from the kind.
  if (!cause && summary && (causeText === summary[0] || causeText === a.evidence?.text)) cause = summary[1];
  let evidence = null;
  try {
    evidence = EVIDENCE_ZH[a.kind]?.(facts, tz, a) ?? null;
  } catch {
    evidence = null; // odd facts: the English sentence is shown instead
  }
  return {
    failure: row ? { text: row.zh.failure, english: false } : { text: a.cause.failure, english: true },
    respond: row ? { text: row.zh.respond, english: false } : { text: a.cause.respond, english: true },
    cause: cause ? { text: cause, english: false } : { text: causeText, english: true },
    evidence: evidence ? { text: evidence, english: false } : { text: a.evidence.text, english: true },
  };
}

/** One line for a fleet banner or a tooltip: "多站同时失锁 — 上游或卫星：… · 37 个站点…". */
export function alarmLine(a, tz, loc = locale()) {
  const x = alarmTexts(a, tz, loc);
  return `${alarmLabel(a.kind)} — ${x.cause.text} · ${x.evidence.text}`;
}
