/**
 * The one registry of names both sides use (DESIGN.md §4, last paragraph). Everything that crosses the
 * wire or reaches a user as a state, outcome, event type, RPC method or alarm kind is named here.
 */
import { z } from 'zod';

/** Planner outcome of one occurrence (DESIGN.md §5). */
export const PLAN_OUTCOMES = ['planned', 'shared', 'truncated', 'dropped'] as const;
export const PlanOutcome = z.enum(PLAN_OUTCOMES);
export type PlanOutcome = z.infer<typeof PlanOutcome>;

/** Priority classes, highest first (DESIGN.md §5): conference > mandated recording > operator recording. */
export const PRIORITY_CLASSES = ['conference', 'mandated', 'operator'] as const;
export const PriorityClass = z.enum(PRIORITY_CLASSES);
export type PriorityClass = z.infer<typeof PriorityClass>;

/** Rank of a class: higher wins. */
export function classRank(c: PriorityClass): number {
  return PRIORITY_CLASSES.length - PRIORITY_CLASSES.indexOf(c);
}
