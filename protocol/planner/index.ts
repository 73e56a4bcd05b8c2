/** The planner (DESIGN.md §5): schedule document + window → what the station does when. */

export { canonicalUtc } from './iso.js';
export { DAY_MS, HOUR_MS, isoWeekday, MINUTE_MS, parseLocalDate, ZoneClock } from './local-time.js';
export { MAX_CONTEXT_MS, MAX_WINDOW_MS, type PlanRequest, plan } from './plan.js';
export {
  describeOutcome,
  isPlannerVersionSupported,
  OccurrenceRef,
  occurrenceKey,
  PLAN_REASON_CODES,
  PLANNER_ERROR_CODES,
  PLANNER_VERSION,
  Plan,
  PlanCut,
  PlanInterval,
  PlannedOccurrence,
  PlannerError,
  type PlannerErrorCode,
  PlanReason,
  PlanReasonCode,
  PlanWindow,
} from './types.js';
