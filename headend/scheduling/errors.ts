/** Scheduling's one error type (STYLE.md guideline 12): a stable `code` the HTTP layer maps to a status. */

/** Codes of `SchedulingError`. */
export type SchedulingErrorCode =
  /** The input failed validation; `issues` lists every field error. */
  | 'INVALID_INPUT'
  /** No such entry, station, group or guide programme. */
  | 'NOT_FOUND'
  /** The entry changed since the caller read it (`expectedRev` mismatch), or it is deleted. */
  | 'CONFLICT'
  /** A station's document would exceed the payload cap or the entry limit (DESIGN.md §4). */
  | 'DOCUMENT_TOO_LARGE'
  /** The target resolves to no station. */
  | 'NO_STATIONS';

/** One field problem, as zod reports it. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** A scheduling operation that cannot be done; never a crash. */
export class SchedulingError extends Error {
  override readonly name = 'SchedulingError';
  constructor(
    readonly code: SchedulingErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}
