/** The conference layer's one error type (STYLE.md guideline 12); the HTTP routes map `code` to a status. */

export type ConferenceErrorCode =
  /** The input failed validation; `issues` lists every field error. */
  | 'INVALID_INPUT'
  /** No such conference (or not one the caller may see). */
  | 'NOT_FOUND'
  /** Not possible in the conference's state (already started, ended, cancelled) or revision mismatch. */
  | 'CONFLICT';

export interface ConferenceIssue {
  path: string;
  message: string;
}

/** A conference operation that cannot be done; never a crash. */
export class ConferenceError extends Error {
  override readonly name = 'ConferenceError';
  constructor(
    readonly code: ConferenceErrorCode,
    message: string,
    readonly issues: ConferenceIssue[] = [],
  ) {
    super(message);
  }
}
