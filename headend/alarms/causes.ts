/**
 * Probable causes and evidence texts. Every cause names a row of the failure table (DOMAIN.md §6, copied as
 * data in protocol/failures.ts) and carries that row's failure and response verbatim, so the technician
 * reads the same words as the design, plus a short probable cause chosen from the evidence.
 */
import { FAILURES, type FailureId } from '../../protocol/failures.js';
import { ALARM_KINDS, type AlarmKind } from '../../protocol/registry.js';
import type { Cause, Evidence, EvidenceFacts } from './types.js';

/** A cause on failure-table row `row`. */
export function cause(row: FailureId, text: string): Cause {
  const r = FAILURES[row];
  return { row, failure: r.failure, respond: r.respond, text };
}

/** The cause of a kind on its own registry row; `text` defaults to the kind's summary. */
export function kindCause(kind: AlarmKind, text?: string): Cause {
  const k = ALARM_KINDS[kind];
  return cause(k.row, text ?? k.summary);
}

/** Evidence from a sentence and its figures (at most 32, PROTOCOL.md's evidence rule). */
export function evidence(text: string, facts: EvidenceFacts = {}): Evidence {
  const keys = Object.keys(facts);
  if (keys.length <= 32) return { text, facts };
  return { text, facts: Object.fromEntries(keys.slice(0, 32).map((k) => [k, facts[k] ?? null])) };
}

/** "1.4 dB", signed when asked ("−4.0 dB"). */
export function db(x: number, signed = false): string {
  const s = Math.abs(x).toFixed(1);
  if (!signed) return `${x < 0 ? '−' : ''}${s} dB`;
  return `${x < 0 ? '−' : '+'}${s} dB`;
}

/** A duration for people: "45 s", "12 min", "3.5 h", "3.0 days". */
export function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

/** UTC time for texts: "2026-03-06 04:21:07Z". */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** "47 %" */
export function pct(ratio: number): string {
  return `${Math.round(ratio * 100)} %`;
}

/** Up to `max` ids joined, with "+N more". */
export function listIds(ids: readonly string[], max = 10): string {
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown} +${ids.length - max} more` : shown;
}
