/**
 * What the planner returns (DESIGN.md §5). The shapes are zod schemas so a plan can travel (the
 * `plan.explain` RPC, the headend preview API) and golden vectors can be validated with the same types.
 */
import { z } from 'zod';
import { Id, ScheduleVersion, ServiceKey, UtcTimestamp } from '../messages/common.js';
import { PlanOutcome, PriorityClass } from '../registry.js';

/**
 * Bumped whenever the same document would plan differently. A document names the planner version it was
 * written for; a planner refuses documents written for a newer one (the station reports the rejection)
 * and plans older ones with its own rules, so the headend re-issues documents when it upgrades.
 */
export const PLANNER_VERSION = 1;

/** Can this planner plan a document written for `version`? */
export function isPlannerVersionSupported(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= PLANNER_VERSION;
}

/**
 * Why an occurrence is not plainly `planned`. Each reason names the occurrence holding the receiver:
 * - `shared-with`: rides on a receiver another occurrence tuned to the same sharing key;
 * - `truncated-by` / `dropped-by`: a higher-ranked occurrence with another key holds the receiver for
 *   part / all of this occurrence's nominal time;
 * - `padding-cut-by`: only padding (or a conference's pre-roll) was lost; the outcome stays `planned`
 *   because padding is soft (DESIGN.md §5).
 */
export const PLAN_REASON_CODES = ['shared-with', 'truncated-by', 'dropped-by', 'padding-cut-by'] as const;
export const PlanReasonCode = z.enum(PLAN_REASON_CODES);
export type PlanReasonCode = z.infer<typeof PlanReasonCode>;

/** An occurrence's identity `(entryId, nominalStart)` plus its title, for display. */
export const OccurrenceRef = z.strictObject({
  entryId: Id,
  nominalStart: UtcTimestamp,
  title: z.string(),
});
export type OccurrenceRef = z.infer<typeof OccurrenceRef>;

export const PlanReason = z.strictObject({ code: PlanReasonCode, by: OccurrenceRef });
export type PlanReason = z.infer<typeof PlanReason>;

/** A half-open UTC interval `[start, end)`. */
export const PlanInterval = z.strictObject({ start: UtcTimestamp, end: UtcTimestamp });
export type PlanInterval = z.infer<typeof PlanInterval>;

/** Time an occurrence lost, and who holds the receiver then. `padding`: only soft padding was lost. */
export const PlanCut = z.strictObject({
  start: UtcTimestamp,
  end: UtcTimestamp,
  by: OccurrenceRef,
  padding: z.boolean(),
});
export type PlanCut = z.infer<typeof PlanCut>;

/** One occurrence of one entry, as the station will execute it. */
export const PlannedOccurrence = z.strictObject({
  entryId: Id,
  rev: z.number().int().nonnegative(),
  kind: z.enum(['recording', 'conference']),
  class: PriorityClass,
  title: z.string(),
  programmeId: z.string().optional(),
  service: ServiceKey,
  /** Conferences may be shown only; recordings always record. */
  record: z.boolean(),
  nominalStart: UtcTimestamp,
  nominalEnd: UtcTimestamp,
  /** Nominal interval widened by padding (and, for conferences, pre-roll): what it asked for. */
  paddedStart: UtcTimestamp,
  paddedEnd: UtcTimestamp,
  /** The receiver it runs on (for `dropped`: the one whose holder is named in the reason). */
  receiverId: Id,
  /** `service:<key>` or `transponder:<transponderKey>`, by the receiver's sharing capability. */
  sharingKey: z.string(),
  /** The receiver-holding intervals it actually gets, in order; empty when dropped. */
  parts: z.array(PlanInterval),
  outcome: PlanOutcome,
  reason: PlanReason.nullable(),
  /** Every interval it lost (nominal time and padding), each naming the holder. */
  cuts: z.array(PlanCut),
});
export type PlannedOccurrence = z.infer<typeof PlannedOccurrence>;

export const PlanWindow = z.strictObject({ from: UtcTimestamp, to: UtcTimestamp });
export type PlanWindow = z.infer<typeof PlanWindow>;

/** The plan of one document over one window. */
export const Plan = z.strictObject({
  plannerVersion: z.number().int(),
  documentVersion: ScheduleVersion,
  timeZone: z.string(),
  window: PlanWindow,
  /**
   * What was actually planned to make the window exact: the window widened to every occurrence chained
   * to it by overlap, so a plan does not depend on the window it was asked for. A reason may name an
   * occurrence outside the window (one ending just before it still held the receiver); planning
   * `considered` lists every occurrence a reason can name.
   */
  considered: PlanWindow,
  /** Occurrences whose padded interval overlaps the window, by nominal start then entry id. */
  occurrences: z.array(PlannedOccurrence),
});
export type Plan = z.infer<typeof Plan>;

export const PLANNER_ERROR_CODES = [
  'invalid-window',
  'unsupported-planner-version',
  'unknown-service',
  'unknown-receiver',
  'invalid-time',
] as const;
export type PlannerErrorCode = (typeof PLANNER_ERROR_CODES)[number];

/** A document or window the planner cannot plan. Thrown, never a crash. */
export class PlannerError extends Error {
  readonly code: PlannerErrorCode;
  constructor(code: PlannerErrorCode, message: string) {
    super(message);
    this.name = 'PlannerError';
    this.code = code;
  }
}

/** The identity of an occurrence as one string, e.g. for journal keys and events. */
export function occurrenceKey(o: { entryId: string; nominalStart: string }): string {
  return `${o.entryId}@${o.nominalStart}`;
}

/** One line for logs and CLIs: `truncated (by "County meeting" at 2026-03-06T03:00:00Z)`. */
export function describeOutcome(o: Pick<PlannedOccurrence, 'outcome' | 'reason'>): string {
  const r = o.reason;
  if (r === null) return o.outcome;
  const who = `"${r.by.title}" at ${r.by.nominalStart}`;
  switch (r.code) {
    case 'shared-with':
      return `${o.outcome} (with ${who})`;
    case 'padding-cut-by':
      return `${o.outcome} (padding cut by ${who})`;
    default:
      return `${o.outcome} (by ${who})`;
  }
}
